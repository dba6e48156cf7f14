// The browser's key transparency check (frontend/static/js/lib/transparency.js): RFC 9162
// hashes and proofs against the shared vectors (tests/vectors/transparency.json, made by the
// Python test's naive tree) and against a second, deliberately naive JS tree written here
// from the RFC's recursive definitions; then the whole check against an in-test log server,
// with each way a dishonest server could hand one browser a key of its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";

import {
  TransparencyError, canonicalJson, leafHash, describeHead, logAlarm, nodeHash, verifyConsistency, verifyInclusion,
  verifyKeyInLog, verifyTreeHead,
} from "../../frontend/static/js/lib/transparency.js";

const vectors = JSON.parse(readFileSync(new URL("../vectors/transparency.json", import.meta.url)));
const b64 = (s) => Uint8Array.from(Buffer.from(s, "base64"));
const toB64 = (b) => Buffer.from(b).toString("base64");
const toB64url = (b) => Buffer.from(b).toString("base64url");
const sha = (...parts) => Uint8Array.from(createHash("sha256").update(Buffer.concat(parts.map((p) => Buffer.from(p)))).digest());

// --- a naive tree: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, recursion as written there --------

const naiveLeaf = (entry) => sha([0], Buffer.from(entry, "utf8"));
const naiveNode = (l, r) => sha([1], l, r);
/** k: the largest power of two smaller than n (n > 1). */
const split = (n) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
/** MTH(D[n]): SHA-256() for no leaves, the leaf for one, else MTH(D[0:k]) and MTH(D[k:n]). */
function mth(leaves) {
  if (leaves.length === 0) return sha([]);
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return naiveNode(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
/** PATH(m, D[n]). */
function path(m, leaves) {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}
/** SUBPROOF(m, D[n], b); PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
function subproof(m, leaves, b) {
  const n = leaves.length;
  if (m === n) return b ? [] : [mth(leaves)];
  const k = split(n);
  return m <= k ? [...subproof(m, leaves.slice(0, k), b), mth(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

// --- the shared vectors -------------------------------------------------------------------

test("canonical JSON of each vector entry is the logged byte string, and hashes to its leaf", async () => {
  assert.equal(vectors.entries.length, 8);
  for (const [i, entry] of vectors.entries.entries()) {
    assert.equal(canonicalJson(entry), vectors.entry_bytes[i]);
    assert.deepEqual(await leafHash(new TextEncoder().encode(vectors.entry_bytes[i])), b64(vectors.leaf_hashes[i]));
    assert.deepEqual(naiveLeaf(vectors.entry_bytes[i]), b64(vectors.leaf_hashes[i]));
  }
  assert.equal(canonicalJson({ tree_size: 3, root_hash: "x", issued_on: "2026-01-01" }), '{"issued_on":"2026-01-01","root_hash":"x","tree_size":3}');
});

test("the vectors' roots, inclusion and consistency proofs match the naive tree and verify", async () => {
  const leaves = vectors.leaf_hashes.map(b64);
  for (const head of vectors.tree_heads) assert.deepEqual(mth(leaves.slice(0, head.tree_size)), b64(head.root_hash));
  const roots = new Map(vectors.tree_heads.map((h) => [h.tree_size, b64(h.root_hash)]));
  assert.equal(vectors.inclusion.length, 36);
  for (const { tree_size: n, leaf_index: m, audit_path } of vectors.inclusion) {
    assert.deepEqual(path(m, leaves.slice(0, n)), audit_path.map(b64));
    assert.equal(await verifyInclusion(leaves[m], m, n, audit_path.map(b64), roots.get(n)), true, `${m} in ${n}`);
  }
  for (const { first, second, proof } of vectors.consistency) {
    assert.deepEqual(subproof(first, leaves.slice(0, second), true), proof.map(b64));
    if (first < second) assert.equal(await verifyConsistency(first, second, roots.get(first), roots.get(second), proof.map(b64)), true, `${first}→${second}`);
  }
  assert.deepEqual(await nodeHash(leaves[0], leaves[1]), naiveNode(leaves[0], leaves[1]));
});

test("every vector tree head verifies under the vector log key; a changed one does not", async () => {
  const key = b64(vectors.log_key.public_key);
  for (const head of vectors.tree_heads) await verifyTreeHead(key, head);
  const head = vectors.tree_heads[5];
  await assert.rejects(verifyTreeHead(key, { ...head, tree_size: 4 }), { reason: "bad-signature" });
  await assert.rejects(verifyTreeHead(key, { ...head, signature: "" }), { reason: "unsigned-head" });
});

test("proofs that are off by anything fail: a sibling, the index, the size, the root, the length", async () => {
  const leaves = Array.from({ length: 14 }, (_, i) => naiveLeaf(`{"i":${i}}`));
  for (let n = 1; n <= 13; n++) {
    const root = mth(leaves.slice(0, n));
    for (let m = 0; m < n; m++) {
      const p = path(m, leaves.slice(0, n));
      assert.equal(await verifyInclusion(leaves[m], m, n, p, root), true, `${m} in ${n}`);
      if (n > 1) {
        assert.equal(await verifyInclusion(leaves[m], (m + 1) % n, n, p, root), false, "another index");
        const bent = p.map((h, i) => (i === p.length - 1 ? Uint8Array.from(h, (b, j) => (j ? b : b ^ 1)) : h));
        assert.equal(await verifyInclusion(leaves[m], m, n, bent, root), false, "a changed sibling");
        assert.equal(await verifyInclusion(leaves[m], m, n, p.slice(1), root), false, "a short path");
      }
      assert.equal(await verifyInclusion(leaves[m], m, n + 1, p, mth(leaves.slice(0, n + 1))), false, "another size");
      assert.equal(await verifyInclusion(leaves[m + 1], m, n, p, root), false, "another leaf");
    }
    if ((n & (n - 1)) === 0 && n > 1) {
      // A path that stops at the left half's root proves nothing about the whole tree.
      const half = leaves.slice(0, n / 2);
      assert.equal(await verifyInclusion(leaves[0], 0, n, path(0, half), mth(half)), false, "a path cut short");
    }
    for (let first = 1; first < n; first++) {
      const proof = subproof(first, leaves.slice(0, n), true);
      const oldRoot = mth(leaves.slice(0, first));
      assert.equal(await verifyConsistency(first, n, oldRoot, root, proof), true, `${first}→${n}`);
      assert.equal(await verifyConsistency(first, n, root, root, proof), false, "another old root");
      assert.equal(await verifyConsistency(first, n, oldRoot, oldRoot, proof), false, "another new root");
      assert.equal(await verifyConsistency(first, n, oldRoot, root, proof.slice(0, -1)), false, "a short proof");
      assert.equal(await verifyConsistency(first, n, oldRoot, root, []), false, "no proof");
    }
  }
});

// --- the whole check against an in-test log ----------------------------------------------

function logKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, raw: Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url") };
}
const VECTOR_KEY = {
  privateKey: createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), b64(vectors.log_key.private_seed)]), format: "der", type: "pkcs8" }),
  raw: b64(vectors.log_key.public_key),
};

function issuerKey() {
  const spki = Uint8Array.from(randomBytes(300));
  return { spki, tokenKeyId: Buffer.from(sha(spki)).toString("hex") };
}

/** A log that hands out what its `entries` are, signed by `key`; `tamper` may alter any answer. */
class FakeLog {
  constructor(key = VECTOR_KEY) {
    this.key = key;
    this.entries = [];
    this.tamper = {};
    this.seen = [];
  }

  add(kind, id, issuer, openedOn = "2026-09-01") {
    this.entries.push({ kind, id, token_key_id: issuer.tokenKeyId, token_key: toB64url(issuer.spki), opened_on: openedOn });
  }

  head(entries = this.entries, key = this.key) {
    const body = { issued_on: "2026-09-02", root_hash: toB64(mth(entries.map((e) => naiveLeaf(canonicalJson(e))))), tree_size: entries.length };
    return { ...body, signature: toB64(sign(null, Buffer.from(canonicalJson(body)), key.privateKey)) };
  }

  answer(url) {
    const { pathname, searchParams: q } = new URL(url, "http://log.test");
    const leaves = this.entries.map((e) => naiveLeaf(canonicalJson(e)));
    if (pathname === "/api/transparency/log-key") return { public_key: toB64(this.key.raw) };
    if (pathname === "/api/transparency/tree-head") return this.head();
    if (pathname === "/api/transparency/inclusion") {
      const size = Number(q.get("tree_size"));
      const index = this.entries.slice(0, size).findIndex((e) => e.token_key_id === q.get("token_key_id"));
      if (index < 0) return null;
      return { leaf_index: index, audit_path: path(index, leaves.slice(0, size)).map(toB64), entry: this.entries[index] };
    }
    if (pathname === "/api/transparency/consistency") {
      return { proof: subproof(Number(q.get("first")), leaves.slice(0, Number(q.get("second"))), true).map(toB64) };
    }
    return null;
  }

  fetch = async (url, init = {}) => {
    this.seen.push({ url, credentials: init.credentials });
    const path = new URL(url, "http://log.test").pathname;
    const body = (this.tamper[path] || ((x) => x))(this.answer(url));
    return body === null ? Response.json({ type: "/problems/not-found" }, { status: 404 }) : Response.json(body);
  };
}

/** What IndexedDB would keep, in memory. */
function memoryStore(record) {
  return { record, get: async function () { return this.record; }, put: async function (r) { this.record = structuredClone(r); } };
}

async function withLog(log, fn) {
  const saved = globalThis.fetch;
  globalThis.fetch = log.fetch;
  try {
    return await fn();
  } finally {
    globalThis.fetch = saved;
  }
}

/** A log of three keys (a wave, a month, another wave) that a browser has checked once. */
async function arrange() {
  const log = new FakeLog();
  const keys = { w1: issuerKey(), p1: issuerKey(), w2: issuerKey() };
  log.add("wave", "wave-1", keys.w1);
  log.add("thread-period", "2026-09", keys.p1);
  log.add("wave", "wave-2", keys.w2);
  const store = memoryStore();
  await withLog(log, () => verifyKeyInLog({ kind: "wave", id: "wave-1", ...keys.w1 }, store));
  return { log, keys, store, kept: structuredClone(store.record) };
}

async function refused(log, store, key, reason) {
  const before = structuredClone(store.record);
  await withLog(log, () => assert.rejects(verifyKeyInLog(key, store), (err) => {
    assert.ok(err instanceof TransparencyError, err);
    assert.equal(err.reason, reason, err.message);
    return true;
  }));
  assert.deepEqual(store.record, before, "a failed check keeps the head it had");
}

test("first use pins the log key and keeps the head; a grown log is accepted with a consistency proof", async () => {
  const { log, keys, store, kept } = await arrange();
  assert.equal(kept.publicKey, vectors.log_key.public_key);
  assert.equal(kept.head.tree_size, 3);
  assert.ok(log.seen.every((r) => r.credentials === "omit"), "the log is asked without cookies");
  const w3 = issuerKey();
  log.add("wave", "wave-3", w3);
  log.add("thread-period", "2026-10", issuerKey());
  const head = await withLog(log, () => verifyKeyInLog({ kind: "wave", id: "wave-3", ...w3 }, store));
  assert.equal(head.tree_size, 5);
  assert.equal(store.record.head.tree_size, 5);
  assert.ok(log.seen.some((r) => r.url === "/api/transparency/consistency?first=3&second=5"));
  // The same head again needs no proof; a thread key is found the same way.
  await withLog(log, () => verifyKeyInLog({ kind: "thread-period", id: "2026-09", ...keys.p1 }, store));
  assert.equal(describeHead(store.record.head), `tree_size=5 root_hash=${log.head().root_hash}`);
});

test("a key that is not in the log is refused, and the grown head that did not show it is not kept", async () => {
  const { log, store, kept } = await arrange();
  log.add("wave", "wave-3", issuerKey());
  await refused(log, store, { kind: "wave", id: "wave-1", ...issuerKey() }, "not-in-log");
  assert.equal(store.record.head.tree_size, kept.head.tree_size);
});

test("a second key for one wave: the log's entry for the wave holds another key", async () => {
  const { log, keys, store } = await arrange();
  const mine = issuerKey();
  // The server serves `mine` for wave-1, and answers the inclusion query with the logged entry.
  log.tamper["/api/transparency/inclusion"] = () => {
    const leaves = log.entries.map((e) => naiveLeaf(canonicalJson(e)));
    return { leaf_index: 0, audit_path: path(0, leaves).map(toB64), entry: log.entries[0] };
  };
  await refused(log, store, { kind: "wave", id: "wave-1", ...mine }, "key-differs");
  // Or with an entry claiming `mine` over the real tree: the leaf is not in it.
  log.tamper["/api/transparency/inclusion"] = (proof) => proof ?? {
    leaf_index: 0, audit_path: path(0, log.entries.map((e) => naiveLeaf(canonicalJson(e)))).map(toB64),
    entry: { ...log.entries[0], token_key_id: mine.tokenKeyId, token_key: toB64url(mine.spki) },
  };
  await refused(log, store, { kind: "wave", id: "wave-1", ...mine }, "not-in-log");
  // Another wave's logged key served for this wave is refused too.
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w2 }, "not-in-log");
});

test("a changed entry (the logged bytes differ from what the tree holds) is refused", async () => {
  const { log, keys, store } = await arrange();
  log.tamper["/api/transparency/inclusion"] = (proof) => ({ ...proof, entry: { ...proof.entry, opened_on: "2026-09-03" } });
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w1 }, "not-in-log");
  // An entry with a member of its own is not the canonical entry every checker hashes.
  log.tamper = {};
  const w3 = issuerKey();
  log.add("wave", "wave-3", w3);
  log.entries[3].note = "for one member";
  await refused(log, store, { kind: "wave", id: "wave-3", ...w3 }, "not-in-log");
});

test("a forked tree is refused: same size with another root, a grown tree that drops an entry, a shrunk one", async () => {
  const { log, keys, store } = await arrange();
  const real = structuredClone(log.entries);
  // A fork of the same size: wave-2's key replaced, properly signed.
  log.entries[2] = { ...log.entries[2], token_key: toB64url(issuerKey().spki) };
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w1 }, "forked");
  // A larger fork: the consistency proof the server can give does not connect the heads.
  log.add("wave", "wave-3", issuerKey());
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w1 }, "forked");
  // A forged proof does no better.
  log.tamper["/api/transparency/consistency"] = () => ({ proof: [toB64(randomBytes(32)), toB64(randomBytes(32))] });
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w1 }, "forked");
  // Rolled back to fewer entries than this browser saw.
  log.tamper = {};
  log.entries = real.slice(0, 2);
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w1 }, "rolled-back");
  // The real log, grown honestly, is still accepted.
  log.entries = real;
  log.add("wave", "wave-4", issuerKey());
  await withLog(log, () => verifyKeyInLog({ kind: "wave", id: "wave-1", ...keys.w1 }, store));
  assert.equal(store.record.head.tree_size, 4);
});

test("an unsigned head and a wrongly signed head are refused", async () => {
  const { log, keys, store } = await arrange();
  const key = { kind: "wave", id: "wave-1", ...keys.w1 };
  log.tamper["/api/transparency/tree-head"] = (head) => ({ ...head, signature: "" });
  await refused(log, store, key, "unsigned-head");
  log.tamper["/api/transparency/tree-head"] = (head) => { const { signature, ...rest } = head; return rest; };
  await refused(log, store, key, "unsigned-head");
  log.tamper["/api/transparency/tree-head"] = () => log.head(log.entries, logKey());
  await refused(log, store, key, "bad-signature");
  log.tamper["/api/transparency/tree-head"] = (head) => ({ ...head, issued_on: "2026-09-03" });
  await refused(log, store, key, "bad-signature");
  // Even on first use (nothing pinned yet) a head not signed by the served key is refused.
  const fresh = memoryStore();
  await refused(log, fresh, key, "bad-signature");
  assert.equal(fresh.record, undefined);
});

test("a changed log key is refused, even with heads it signed correctly", async () => {
  const { log, keys, store } = await arrange();
  log.key = logKey();
  await refused(log, store, { kind: "wave", id: "wave-1", ...keys.w1 }, "log-key-changed");
});

test("a missing log is an alarm; an unreachable one only waits", async () => {
  const { log, keys, store } = await arrange();
  const key = { kind: "wave", id: "wave-1", ...keys.w1 };
  log.tamper["/api/transparency/tree-head"] = () => null;
  await refused(log, store, key, "no-log");
  await withLog({ fetch: async () => { throw new TypeError("offline"); } }, async () => {
    await assert.rejects(verifyKeyInLog(key, store), (err) => !(err instanceof TransparencyError));
  });
  await withLog({ fetch: async () => new Response("", { status: 503 }) }, async () => {
    await assert.rejects(verifyKeyInLog(key, store), (err) => !(err instanceof TransparencyError));
  });
});

test("the alarm names the reason and links the privacy page", () => {
  const made = [];
  globalThis.document = {
    createElement: (tag) => { const node = { tag, attrs: {}, children: [], setAttribute(n, v) { this.attrs[n] = v; }, append(c) { this.children.push(c); }, addEventListener() {} }; made.push(node); return node; },
    createTextNode: (text) => ({ text }),
  };
  globalThis.Node = Object;
  try {
    const alarm = logAlarm(new TransparencyError("forked", "The log's new tree does not extend the one this browser saw before"));
    assert.equal(alarm.attrs.role, "alert");
    assert.ok(made.some((n) => n.tag === "a" && n.attrs.href === "/privacy#key-log-check"));
    const text = JSON.stringify(alarm);
    assert.match(text, /works council or the data-protection officer/);
    assert.match(text, /forked: The log's new tree/);
  } finally {
    delete globalThis.document;
    delete globalThis.Node;
  }
});
