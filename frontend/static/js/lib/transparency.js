// Key transparency, checked before blinding (issue 15, design invariant 8). A server that
// gave one member a wave key of their own could recognise that member's answer (RFC 9576
// §6), and a browser that only compares a key with what the same server publishes cannot
// tell. So every issuer key is an entry of an append-only log (RFC 9162 §2.1 hashing) that
// monitors outside the operator's reach also check, and before blinding this browser checks:
//   1. the log key is the one it saw first (trust on first use, kept in IndexedDB);
//   2. the tree head is signed by that key (Ed25519 over canonical JSON);
//   3. the head extends the last head this browser saw (same size: same root; larger: a
//      consistency proof; smaller: refused), so the server cannot show it a forked log;
//   4. this wave's (or month's) entry holds exactly the key served, and is in that tree.
// Only then is the head kept. The log is public: it is asked without cookies.

import { el, fetchJson } from "./base.js";
import { base64urlDecode, base64urlEncode } from "./privacypass.js";
import { logState } from "./store.js";
import { t } from "./i18n.js";

export class TransparencyError extends Error {
  /** `reason`: log-key-changed, unsigned-head, bad-signature, rolled-back, forked, no-log, not-in-log, key-differs, malformed. */
  constructor(reason, message) {
    super(message);
    this.name = "TransparencyError";
    this.reason = reason;
  }
}

const fail = (reason, message) => { throw new TransparencyError(reason, message); };
const utf8 = (text) => new TextEncoder().encode(text);
const MAX_SIZE = 2 ** 31 - 1; // the proof algorithms below shift with 32-bit operators

/** Canonical JSON: sorted keys, no whitespace. Python's json.dumps(sort_keys=True,
 * separators=(",", ":"), ensure_ascii=False) gives the same bytes for ASCII strings and integers. */
export function canonicalJson(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}

/** Standard base64 (RFC 4648 §4) to bytes, `length` of them when given. */
export function base64Decode(text, what, length) {
  if (typeof text !== "string" || text.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) fail("malformed", `${what} is not base64`);
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  if (length !== undefined && bytes.length !== length) fail("malformed", `${what} is not ${length} bytes`);
  return bytes;
}

const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function sha256(...parts) {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { all.set(p, at); return at + p.length; }, 0);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

/** RFC 9162 §2.1.1: a leaf is SHA-256(0x00 ‖ entry), an interior node SHA-256(0x01 ‖ left ‖ right). */
export const leafHash = (entry) => sha256(Uint8Array.of(0), entry);
export const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

/** Whether `path` proves `leaf` is leaf `index` of the tree of `size` with `root` (RFC 9162 §2.1.3.2). */
export async function verifyInclusion(leaf, index, size, path, root) {
  if (!(index >= 0 && index < size && size <= MAX_SIZE)) return false;
  let [fn, sn, r] = [index, size - 1, leaf];
  for (const p of path) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = await nodeHash(p, r);
      while (fn && !(fn & 1)) [fn, sn] = [fn >> 1, sn >> 1];
    } else {
      r = await nodeHash(r, p);
    }
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 && same(r, root);
}

/** Whether `proof` shows the tree (`first`, `firstRoot`) is a prefix of (`second`, `secondRoot`),
 * for 1 ≤ first < second (RFC 9162 §2.1.4.2). */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (!(first >= 1 && first < second && second <= MAX_SIZE) || !proof.length) return false;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  let [fn, sn] = [first - 1, second - 1];
  while (fn & 1) [fn, sn] = [fn >> 1, sn >> 1];
  let [fr, sr] = [path[0], path[0]];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      [fr, sr] = [await nodeHash(c, fr), await nodeHash(c, sr)];
      while (fn && !(fn & 1)) [fn, sn] = [fn >> 1, sn >> 1];
    } else {
      sr = await nodeHash(sr, c);
    }
    [fn, sn] = [fn >> 1, sn >> 1];
  }
  return sn === 0 && same(fr, firstRoot) && same(sr, secondRoot);
}

/** Throws unless `head` is signed by `publicKey` (raw Ed25519) over canonical JSON of its other fields. */
export async function verifyTreeHead(publicKey, head) {
  if (!head.signature) fail("unsigned-head", "The log's tree head is not signed");
  const { issued_on, root_hash, tree_size } = head;
  const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  const signature = base64Decode(head.signature, "The tree head's signature", 64);
  if (!(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, utf8(canonicalJson({ issued_on, root_hash, tree_size }))))) {
    fail("bad-signature", "The log's tree head is not signed by the log key");
  }
}

/** A log endpoint's JSON. An unreachable log is not an alarm (a plain Error: issuance waits);
 * any other refusal is (`reason`). */
async function get(url, reason) {
  const got = await fetchJson(url, { credentials: "omit" });
  if (got.networkError || got.status >= 500) throw new Error(`The key log could not be reached (${url})`);
  if (!got.ok || !got.body) fail(reason, `${url} answered HTTP ${got.status}`);
  return got.body;
}

/** Throws unless `head` extends `seen`, the last head this browser verified. */
async function checkExtends(seen, head, root) {
  const seenRoot = base64Decode(seen.root_hash, "The kept root hash", 32);
  if (head.tree_size < seen.tree_size) fail("rolled-back", `The log shrank from ${seen.tree_size} to ${head.tree_size} entries`);
  if (head.tree_size === seen.tree_size) {
    if (!same(seenRoot, root)) fail("forked", "The log shows this browser a different tree of the same size");
    return;
  }
  const { proof } = await get(`/api/transparency/consistency?first=${seen.tree_size}&second=${head.tree_size}`, "forked");
  const hashes = Array.isArray(proof) ? proof.map((p) => base64Decode(p, "A consistency proof hash", 32)) : fail("malformed", "No consistency proof");
  if (!(await verifyConsistency(seen.tree_size, head.tree_size, seenRoot, root, hashes))) {
    fail("forked", "The log's new tree does not extend the one this browser saw before");
  }
}

/** Throws unless the log holds `spki` as the key of this wave/period, byte for byte. Returns the leaf. */
async function checkEntry(entry, { kind, id, tokenKeyId, spki }) {
  if (!entry || entry.kind !== kind || entry.id !== id) fail("not-in-log", `The log has no ${kind} entry for ${id} with this key id`);
  let logged;
  try {
    logged = base64urlDecode(entry.token_key);
  } catch {
    fail("malformed", "The logged key is not base64url");
  }
  if (entry.token_key_id !== tokenKeyId || !same(logged, spki)) fail("key-differs", `The key served for ${kind} ${id} is not the one in the log`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(entry.opened_on)) fail("malformed", "The logged entry has no date");
  // The leaf is hashed from what was served, not from what the log said it holds.
  const token_key = base64urlEncode(spki).replace(/=+$/, "");
  return leafHash(utf8(canonicalJson({ kind, id, token_key_id: tokenKeyId, token_key, opened_on: entry.opened_on })));
}

async function verify(key, store) {
  if (!/^[0-9a-f]{64}$/.test(key.tokenKeyId)) fail("malformed", "The served key id is not 64 hex digits");
  const kept = await store.get();
  const publicKey = base64Decode((await get("/api/transparency/log-key", "no-log")).public_key, "The log key", 32);
  if (kept && !same(base64Decode(kept.publicKey, "The pinned log key", 32), publicKey)) {
    fail("log-key-changed", "The log key differs from the one this browser saw first");
  }
  const head = await get("/api/transparency/tree-head", "no-log");
  if (!Number.isInteger(head.tree_size) || head.tree_size < 1 || head.tree_size > MAX_SIZE) fail("not-in-log", "The log is empty");
  const root = base64Decode(head.root_hash, "The root hash", 32);
  await verifyTreeHead(publicKey, head);
  if (kept) await checkExtends(kept.head, head, root);
  const proof = await get(`/api/transparency/inclusion?token_key_id=${key.tokenKeyId}&tree_size=${head.tree_size}`, "not-in-log");
  const leaf = await checkEntry(proof.entry, key);
  const path = Array.isArray(proof.audit_path) ? proof.audit_path.map((p) => base64Decode(p, "An audit path hash", 32)) : [];
  if (!(await verifyInclusion(leaf, proof.leaf_index, head.tree_size, path, root))) {
    fail("not-in-log", `The key served for ${key.kind} ${key.id} is not in the signed log`);
  }
  const { tree_size, root_hash, issued_on, signature } = head;
  await store.put({ publicKey: base64Encode(publicKey), head: { tree_size, root_hash, issued_on, signature } });
  return head;
}

const base64Encode = (bytes) => btoa(String.fromCharCode(...bytes));

/**
 * Check that the issuer key `spki` (id `tokenKeyId`, hex), served for `kind` ("wave" or
 * "thread-period") `id`, is the logged one; resolves with the verified tree head. Throws
 * TransparencyError (do not blind; tell someone) or, when the log cannot be reached, Error.
 */
export async function verifyKeyInLog(key, store = logState) {
  // One check at a time per browser, so a slower tab cannot put back an older head.
  const locks = globalThis.navigator?.locks;
  return locks ? locks.request("candor-transparency", () => verify(key, store)) : verify(key, store);
}

/** A head as the monitor prints it for the works council to publish (tree_size, root_hash). */
export const describeHead = (head) => `tree_size=${head.tree_size} root_hash=${head.root_hash}`;

/** What every page that issues tokens shows when the check fails: the one text for it. */
export function logAlarm(error) {
  return el("div", { class: "alert", role: "alert", id: "log-alarm" },
    el("h2", {}, t("Stop: do not answer surveys or open threads from this browser")),
    el("p", {}, t("This browser could not confirm that the key it was given is the same key everyone else gets, as the public key log must show. A key made for you alone could tell your answers apart from everyone else's. No token was requested, and none will be until this is resolved.")),
    el("p", {}, t("Please tell the works council or the data-protection officer ("),
      el("a", { href: "/privacy#key-log-check" }, t("see the privacy page")), t("), and show them this reason: "),
      el("code", {}, `${error.reason}: ${error.message}`)));
}
