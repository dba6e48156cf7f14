// RFC 9474 RSA blind signatures, client side, variant RSABSSA-SHA384-PSS-Deterministic
// (the one RFC 9578 uses for Privacy Pass token type 2). BigInt arithmetic and WebCrypto;
// no dependency, no build step. Works in browsers and in Node >= 20.
//
// The client never holds a secret key: modular exponentiation here only uses the public
// exponent, so a plain square-and-multiply is fine. The blinding factor r is secret and
// comes from crypto.getRandomValues; it can be injected only to replay test vectors.

const subtle = globalThis.crypto.subtle;
const HASH_LEN = 48; // SHA-384
export const SALT_LEN = 48; // PSS-Deterministic: salt length = hash length
export const MIN_MODULUS_BITS = 2048;

export class BlindRsaError extends Error {
  constructor(message) {
    super(message);
    this.name = "BlindRsaError";
  }
}

// --- integers and bytes -------------------------------------------------------

export function bytesToBigInt(bytes) {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex ? BigInt("0x" + hex) : 0n;
}

export function bigIntToBytes(x, length) {
  let hex = x.toString(16);
  if (hex.length > length * 2) throw new BlindRsaError("integer too large");
  hex = hex.padStart(length * 2, "0");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

function bitLength(x) {
  return x === 0n ? 0 : x.toString(2).length;
}

function modPow(base, exp, mod) {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

function gcd(a, b) {
  while (b) [a, b] = [b, a % b];
  return a;
}

function modInverse(a, n) {
  let [oldR, r] = [a % n, n];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new BlindRsaError("invalid blind: not invertible modulo n");
  return ((oldS % n) + n) % n;
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((k, p) => k + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

async function sha384(data) {
  return new Uint8Array(await subtle.digest("SHA-384", data));
}

// --- DER: just enough to read a SubjectPublicKeyInfo ----------------------------

function readTlv(buf, pos, tag) {
  if (pos + 2 > buf.length || buf[pos] !== tag) throw new BlindRsaError("malformed public key");
  let len = buf[pos + 1];
  pos += 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4 || pos + count > buf.length) throw new BlindRsaError("malformed public key");
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + buf[pos + i];
    pos += count;
  }
  if (pos + len > buf.length) throw new BlindRsaError("malformed public key");
  return { body: buf.subarray(pos, pos + len), end: pos + len };
}

function derLength(n) {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function derTlv(tag, body) {
  return concat(Uint8Array.of(tag), derLength(body.length), body);
}

// AlgorithmIdentifier { rsaEncryption, NULL }: the form every WebCrypto imports.
const RSA_ENCRYPTION_ALG = Uint8Array.from([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]);
const OID_RSA_ENCRYPTION = "2a864886f70d010101";
const OID_RSASSA_PSS = "2a864886f70d01010a";

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Read an RSA SubjectPublicKeyInfo (id-RSASSA-PSS as in RFC 9578 §6.5, or rsaEncryption).
 * Returns {n, e, modulusLen, webCryptoSpki}: webCryptoSpki is the same key as an
 * rsaEncryption SPKI, because WebCrypto implementations do not all import the PSS OID.
 */
export function parseRsaSpki(spki) {
  spki = new Uint8Array(spki);
  const outer = readTlv(spki, 0, 0x30);
  if (outer.end !== spki.length) throw new BlindRsaError("trailing bytes after public key");
  const alg = readTlv(outer.body, 0, 0x30);
  const oid = readTlv(alg.body, 0, 0x06);
  const oidHex = hex(oid.body);
  if (oidHex !== OID_RSASSA_PSS && oidHex !== OID_RSA_ENCRYPTION) throw new BlindRsaError("not an RSA public key");
  const bits = readTlv(outer.body, alg.end, 0x03);
  if (bits.end !== outer.body.length || bits.body[0] !== 0) throw new BlindRsaError("malformed public key");
  const seq = readTlv(bits.body, 1, 0x30);
  const nTlv = readTlv(seq.body, 0, 0x02);
  const eTlv = readTlv(seq.body, nTlv.end, 0x02);
  const n = bytesToBigInt(nTlv.body);
  const e = bytesToBigInt(eTlv.body);
  const modulusBits = bitLength(n);
  if (modulusBits < MIN_MODULUS_BITS) throw new BlindRsaError("RSA key shorter than 2048 bits");
  const webCryptoSpki = derTlv(0x30, concat(RSA_ENCRYPTION_ALG, derTlv(0x03, bits.body)));
  return { n, e, modulusBits, modulusLen: Math.ceil(modulusBits / 8), webCryptoSpki };
}

// --- EMSA-PSS (RFC 8017 §9.1.1) with SHA-384 and MGF1-SHA-384 -------------------

async function mgf1(seed, length) {
  const blocks = [];
  for (let counter = 0, have = 0; have < length; counter++, have += HASH_LEN) {
    const c = Uint8Array.of(counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff);
    blocks.push(await sha384(concat(seed, c)));
  }
  return concat(...blocks).subarray(0, length);
}

export async function emsaPssEncode(msg, emBits, salt) {
  const emLen = Math.ceil(emBits / 8);
  if (emLen < HASH_LEN + salt.length + 2) throw new BlindRsaError("encoding error");
  const mHash = await sha384(msg);
  const h = await sha384(concat(new Uint8Array(8), mHash, salt));
  const db = new Uint8Array(emLen - HASH_LEN - 1);
  db[db.length - salt.length - 1] = 0x01;
  db.set(salt, db.length - salt.length);
  const mask = await mgf1(h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
  db[0] &= 0xff >> (8 * emLen - emBits);
  return concat(db, h, Uint8Array.of(0xbc));
}

// --- RFC 9474 client operations -------------------------------------------------

function randomBelow(n, byteLength) {
  // 64 extra bits make the reduction statistically uniform.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(byteLength + 8));
  return bytesToBigInt(bytes) % n;
}

function toBigInt(x) {
  return typeof x === "bigint" ? x : bytesToBigInt(x);
}

/**
 * Blind(pkS, msg) for RSABSSA-SHA384-PSS-Deterministic (RFC 9474 §4.2, PrepareIdentity).
 * options.salt / options.r / options.inv inject randomness for test vectors only.
 * Returns {blindedMsg, inv} (both modulusLen bytes); keep inv secret until finalize.
 */
export async function blind(spki, msg, options = {}) {
  const key = parseRsaSpki(spki);
  const salt = options.salt ? new Uint8Array(options.salt) : globalThis.crypto.getRandomValues(new Uint8Array(SALT_LEN));
  if (salt.length !== SALT_LEN) throw new BlindRsaError("salt must be 48 bytes");
  const encoded = await emsaPssEncode(new Uint8Array(msg), key.modulusBits - 1, salt);
  const m = bytesToBigInt(encoded);
  if (gcd(m, key.n) !== 1n) throw new BlindRsaError("invalid input");
  let r;
  let inv;
  if (options.r !== undefined) {
    r = toBigInt(options.r);
    inv = modInverse(r, key.n);
  } else if (options.inv !== undefined) {
    inv = toBigInt(options.inv);
    r = modInverse(inv, key.n);
  } else {
    do r = randomBelow(key.n, key.modulusLen);
    while (r < 2n || gcd(r, key.n) !== 1n);
    inv = modInverse(r, key.n);
  }
  if (r <= 0n || r >= key.n) throw new BlindRsaError("invalid blind");
  const blinded = (m * modPow(r, key.e, key.n)) % key.n;
  return { blindedMsg: bigIntToBytes(blinded, key.modulusLen), inv: bigIntToBytes(inv, key.modulusLen) };
}

/** RSASSA-PSS verification (SHA-384, MGF1-SHA-384, salt 48) by WebCrypto. */
export async function verify(spki, msg, sig) {
  const key = parseRsaSpki(spki);
  if (sig.length !== key.modulusLen) return false;
  const cryptoKey = await subtle.importKey(
    "spki",
    key.webCryptoSpki,
    { name: "RSA-PSS", hash: "SHA-384" },
    false,
    ["verify"],
  );
  return subtle.verify({ name: "RSA-PSS", saltLength: SALT_LEN }, cryptoKey, sig, msg);
}

/**
 * Finalize(pkS, msg, blind_sig, inv) (RFC 9474 §4.4): unblind, then verify.
 * Throws BlindRsaError when the server's answer does not yield a valid signature.
 */
export async function finalize(spki, msg, blindSig, inv) {
  const key = parseRsaSpki(spki);
  blindSig = new Uint8Array(blindSig);
  if (blindSig.length !== key.modulusLen) throw new BlindRsaError("blind signature has the wrong length");
  const z = bytesToBigInt(blindSig);
  if (z >= key.n) throw new BlindRsaError("blind signature out of range");
  const sig = bigIntToBytes((z * toBigInt(inv)) % key.n, key.modulusLen);
  if (!(await verify(spki, msg, sig))) throw new BlindRsaError("invalid signature");
  return sig;
}
