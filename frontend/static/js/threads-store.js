// This browser's thread records, in their own IndexedDB database ("candor-threads"):
// unused thread tokens (one month's allowance) and the threads opened or followed here,
// with their secrets. Nothing here is sent anywhere except a token (once, to open a
// thread) and a secret (in the Authorization header of its own thread's requests).

import { database } from "./idb.js";

const open = database("candor-threads", 1, (db) => {
  db.createObjectStore("tokens", { keyPath: "id", autoIncrement: true });
  db.createObjectStore("threads", { keyPath: "threadId" });
});

function finished(tx, value) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(value);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

async function run(store, mode, fn) {
  const db = await open();
  const tx = db.transaction(store, mode);
  const result = fn(tx.objectStore(store));
  let value;
  if (result && "onsuccess" in result) result.onsuccess = () => { value = result.result; };
  await finished(tx);
  return value;
}

export const allTokens = () => run("tokens", "readonly", (s) => s.getAll());
export const addToken = (record) => run("tokens", "readwrite", (s) => s.add(record));
export const removeToken = (id) => run("tokens", "readwrite", (s) => s.delete(id));
export const allThreads = () => run("threads", "readonly", (s) => s.getAll());
export const getThread = (id) => run("threads", "readonly", (s) => s.get(id));
export const putThread = (record) => run("threads", "readwrite", (s) => s.put(record));
export const removeThread = (id) => run("threads", "readwrite", (s) => s.delete(id));

/** Take one usable token (of an accepted key id) out of the store; null when none. */
export async function takeToken(keyIds) {
  const db = await open();
  const tx = db.transaction("tokens", "readwrite");
  const store = tx.objectStore("tokens");
  let taken = null;
  store.getAll().onsuccess = (event) => {
    const usable = event.target.result.filter((t) => keyIds.includes(t.keyId));
    if (usable.length) {
      taken = usable[Math.floor(Math.random() * usable.length)];
      store.delete(taken.id);
    }
  };
  return finished(tx, null).then(() => taken);
}
