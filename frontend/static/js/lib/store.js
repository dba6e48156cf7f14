// The browser's own records, in IndexedDB, behind one idiom (`transact`): wave tokens (one
// per wave, by wave id), thread tokens (a month's allowance, by period), receipts, and the
// threads opened or followed here with their secrets. Nothing here is ever sent to the
// server except a token (once, with an answer or a new thread) and a thread's secret (in
// the Authorization header of its own thread's requests).
//
// Two databases, as browsers already hold them: "candor" (tokens by campaignId, receipts)
// and "candor-threads" (tokens with an autoincrement id, threads). Merging them would mean
// a migration that, if interrupted, loses wave tokens, and a wave token is issued once.

/**
 * One opener per database: opened once per page at whatever version it has, created or
 * upgraded by `upgrade(db)` when any of `stores` is missing (a database another script
 * created empty, or one from before a store was added, is upgraded rather than used broken).
 */
function database(name, stores, upgrade) {
  let opening = null;
  const attempt = (version, resolve, reject) => {
    const request = version ? indexedDB.open(name, version) : indexedDB.open(name);
    request.onupgradeneeded = () => upgrade(request.result);
    request.onsuccess = () => {
      const db = request.result;
      if (stores.every((store) => db.objectStoreNames.contains(store))) {
        db.onversionchange = () => { db.close(); opening = null; }; // another page upgrades it: let go, reopen later
        return resolve(db);
      }
      const next = db.version + 1;
      db.close();
      attempt(next, resolve, reject);
    };
    request.onerror = () => reject(request.error);
  };
  return function open() {
    if (!opening) opening = new Promise((resolve, reject) => attempt(null, resolve, reject));
    return opening;
  };
}

const waves = database("candor", ["tokens", "receipts"], (db) => {
  if (!db.objectStoreNames.contains("tokens")) db.createObjectStore("tokens", { keyPath: "campaignId" });
  if (!db.objectStoreNames.contains("receipts")) db.createObjectStore("receipts", { keyPath: "receipt" });
});

const threads = database("candor-threads", ["tokens", "threads"], (db) => {
  if (!db.objectStoreNames.contains("tokens")) db.createObjectStore("tokens", { keyPath: "id", autoIncrement: true });
  if (!db.objectStoreNames.contains("threads")) db.createObjectStore("threads", { keyPath: "threadId" });
});

// The key transparency log as this browser last verified it (lib/transparency.js), in a
// database of its own: adding a store to "candor" would mean a version upgrade, which
// waits until every other open tab lets go of the database.
const log = database("candor-log", ["state"], (db) => {
  if (!db.objectStoreNames.contains("state")) db.createObjectStore("state", { keyPath: "log" });
});

/**
 * Run `work(objectStore, settle)` in one transaction and resolve, once it has committed,
 * with the result of the request `work` returns, or with what it passed to `settle`.
 * Resolving on commit (not on the request's success) means a caller never acts on a
 * write that was then rolled back.
 */
async function transact(open, name, mode, work) {
  const db = await open();
  const tx = db.transaction(name, mode);
  let value;
  const request = work(tx.objectStore(name), (settled) => { value = settled; });
  if (request instanceof IDBRequest) request.addEventListener("success", () => { value = request.result; });
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve(value);
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

/** Wave tokens, one record per wave: {campaignId, state, keyId, token?, issuedOn?, title?, receipt?}. */
export const waveTokens = {
  get: (campaignId) => transact(waves, "tokens", "readonly", (s) => s.get(campaignId)),
  put: (record) => transact(waves, "tokens", "readwrite", (s) => { s.put(record); }),
  /** Store only when this wave has no record yet; resolves whether it was stored. */
  add: (record) => transact(waves, "tokens", "readwrite", (s, settle) => {
    settle(true);
    s.add(record).onerror = (event) => {
      settle(false); // the key exists: keep what is there, and let the transaction finish
      event.preventDefault();
    };
  }).catch(() => false),
};

export const receipts = {
  all: () => transact(waves, "receipts", "readonly", (s) => s.getAll()),
  put: (record) => transact(waves, "receipts", "readwrite", (s) => { s.put(record); }),
};

/** Thread tokens, many per period ("YYYY-MM"): {id, keyId, period, token}. */
export const threadTokens = {
  all: () => transact(threads, "tokens", "readonly", (s) => s.getAll()),
  add: (record) => transact(threads, "tokens", "readwrite", (s) => s.add(record)),
  /** Drop every token of a period not in `periods` (one transaction). */
  keepOnly: (periods) => transact(threads, "tokens", "readwrite", (s) => {
    s.getAll().onsuccess = (event) => {
      for (const t of event.target.result) if (!periods.includes(t.period)) s.delete(t.id);
    };
  }),
  /** Take one token of an accepted key id out of the store (one transaction); null when none. */
  take: (keyIds) => transact(threads, "tokens", "readwrite", (s, settle) => {
    settle(null);
    s.getAll().onsuccess = (event) => {
      const usable = event.target.result.filter((t) => keyIds.includes(t.keyId));
      if (!usable.length) return;
      const taken = usable[Math.floor(Math.random() * usable.length)];
      s.delete(taken.id);
      settle(taken);
    };
  }),
};

/** The pinned log key and the last verified tree head: one record, {publicKey, head}. */
export const logState = {
  get: () => transact(log, "state", "readonly", (s) => s.get("candor")),
  put: (record) => transact(log, "state", "readwrite", (s) => { s.put({ ...record, log: "candor" }); }),
};

// Answers in progress (the survey form's save and resume), in a database of their own for
// the same reason as the log's: adding a store to "candor" would upgrade the database that
// holds the wave tokens. Never sent anywhere; deleted on submit and on sign-out.
const draftsDb = database("candor-drafts", ["drafts"], (db) => {
  if (!db.objectStoreNames.contains("drafts")) db.createObjectStore("drafts", { keyPath: "campaignId" });
});

/** One draft per wave: {campaignId, lang, part, values: {field name: value}}. */
export const drafts = {
  get: (campaignId) => transact(draftsDb, "drafts", "readonly", (s) => s.get(campaignId)),
  put: (record) => transact(draftsDb, "drafts", "readwrite", (s) => { s.put(record); }),
  remove: (campaignId) => transact(draftsDb, "drafts", "readwrite", (s) => { s.delete(campaignId); }),
  clear: () => transact(draftsDb, "drafts", "readwrite", (s) => { s.clear(); }),
};

/** Threads opened or followed here: {threadId, secret, title, service, openedOn}. */
export const keptThreads = {
  all: () => transact(threads, "threads", "readonly", (s) => s.getAll()),
  get: (threadId) => transact(threads, "threads", "readonly", (s) => s.get(threadId)),
  put: (record) => transact(threads, "threads", "readwrite", (s) => { s.put(record); }),
  remove: (threadId) => transact(threads, "threads", "readwrite", (s) => { s.delete(threadId); }),
};
