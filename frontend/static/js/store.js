// The browser's own records, in IndexedDB: tokens (one per wave) and receipts.
// Nothing here is ever sent to the server except a token, once, with an answer.

import { database } from "./idb.js";

const open = database("candor", 1, (db) => {
  if (!db.objectStoreNames.contains("tokens")) db.createObjectStore("tokens", { keyPath: "campaignId" });
  if (!db.objectStoreNames.contains("receipts")) db.createObjectStore("receipts", { keyPath: "receipt" });
});

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export async function get(store, key) {
  const db = await open();
  return done(db.transaction(store).objectStore(store).get(key));
}

export async function getAll(store) {
  const db = await open();
  return done(db.transaction(store).objectStore(store).getAll());
}

export async function put(store, value) {
  const db = await open();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).put(value);
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

/** Put only when nothing is stored under the key yet (one transaction). */
export async function add(store, value) {
  const db = await open();
  const tx = db.transaction(store, "readwrite");
  let added = true;
  tx.objectStore(store).add(value).onerror = (event) => {
    added = false; // the key exists: keep what is there, and let the transaction finish
    event.preventDefault();
  };
  return new Promise((resolve) => {
    tx.oncomplete = () => resolve(added);
    tx.onerror = tx.onabort = () => resolve(false);
  });
}

export async function remove(store, key) {
  const db = await open();
  const tx = db.transaction(store, "readwrite");
  tx.objectStore(store).delete(key);
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}
