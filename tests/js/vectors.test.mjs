// RFC 9474 (PSS-Deterministic) and RFC 9578 type-2 vectors against the browser client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { BlindRsaError, blind, emsaPssEncode, finalize, parseRsaSpki, verify } from "../../frontend/static/js/lib/blindrsa.js";
import {
  base64urlDecode,
  base64urlEncode,
  createTokenRequest,
  decodeTokenChallenge,
  encodeTokenChallenge,
  finalizeToken,
  formatAuthorization,
  parseWwwAuthenticate,
  tokenKeyId,
  verifyToken,
  TokenFormatError,
} from "../../frontend/static/js/lib/privacypass.js";

const vectorsDir = new URL("../vectors/", import.meta.url);
const rfc9474 = JSON.parse(readFileSync(new URL("rfc9474-vectors.json", vectorsDir))).vectors;
const rfc9578 = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(new URL("rfc9578-type2-vector.json", vectorsDir))))
    .filter(([k]) => k !== "source")
    .map(([k, v]) => [k, Uint8Array.from(Buffer.from(v, "hex"))]),
);
const H = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const hex = (b) => Buffer.from(b).toString("hex");

// A minimal DER SPKI (rsaEncryption) for the 4096-bit RFC 9474 key; blindrsa.js accepts both OIDs.
function derLen(n) {
  if (n < 0x80) return [n];
  const out = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) out.unshift(x & 0xff);
  return [0x80 | out.length, ...out];
}
const tlv = (tag, body) => Uint8Array.from([tag, ...derLen(body.length), ...body]);
function spkiFor(nHex, eHex) {
  const int = (h) => { const b = H(h); return tlv(0x02, b[0] & 0x80 ? [0, ...b] : [...b]); };
  const rsaPub = tlv(0x30, [...int(nHex), ...int(eHex)]);
  const alg = H("300d06092a864886f70d0101010500");
  return tlv(0x30, [...alg, ...tlv(0x03, [0, ...rsaPub])]);
}

const det = rfc9474.find((v) => v.variant === "RSABSSA-SHA384-PSS-Deterministic");

test("RFC 9474 PSS-Deterministic: EMSA-PSS encoding", async () => {
  const spki = spkiFor(det.n, det.e);
  const { modulusBits } = parseRsaSpki(spki);
  assert.equal(modulusBits, 4096);
  assert.equal(hex(await emsaPssEncode(H(det.msg), modulusBits - 1, H(det.salt))), det.encoded_msg);
});

test("RFC 9474 PSS-Deterministic: blind with injected inv, finalize", async () => {
  const spki = spkiFor(det.n, det.e);
  const { blindedMsg, inv } = await blind(spki, H(det.msg), { salt: H(det.salt), inv: H(det.inv) });
  assert.equal(hex(blindedMsg), det.blinded_msg);
  assert.equal(hex(inv), det.inv);
  const sig = await finalize(spki, H(det.msg), H(det.blind_sig), inv);
  assert.equal(hex(sig), det.sig);
  assert.equal(await verify(spki, H(det.msg), sig), true);
});

test("RFC 9474: a corrupted blind signature is rejected by finalize", async () => {
  const spki = spkiFor(det.n, det.e);
  const bad = H(det.blind_sig);
  bad[100] ^= 1;
  await assert.rejects(finalize(spki, H(det.msg), bad, H(det.inv)), BlindRsaError);
  const sig = H(det.sig);
  sig[511] ^= 0x80;
  assert.equal(await verify(spki, H(det.msg), sig), false);
});

test("random blinding differs per call", async () => {
  const spki = spkiFor(det.n, det.e);
  const a = await blind(spki, H(det.msg));
  const b = await blind(spki, H(det.msg));
  assert.notEqual(hex(a.blindedMsg), hex(b.blindedMsg));
  assert.notEqual(hex(a.inv), hex(b.inv));
});

test("RFC 9578: token key id of the RSASSA-PSS SPKI", async () => {
  assert.equal(hex(await tokenKeyId(rfc9578.pkS)), hex(rfc9578.token_key_id));
  assert.equal(parseRsaSpki(rfc9578.pkS).modulusLen, 256);
});

test("RFC 9578: TokenChallenge decodes and re-encodes", () => {
  const ch = decodeTokenChallenge(rfc9578.token_challenge);
  assert.equal(ch.tokenType, 2);
  assert.equal(ch.issuerName, "issuer.example");
  assert.equal(ch.redemptionContext.length, 32);
  assert.equal(hex(encodeTokenChallenge(ch)), hex(rfc9578.token_challenge));
  assert.throws(() => decodeTokenChallenge(rfc9578.token_challenge.subarray(0, 20)), TokenFormatError);
});

test("RFC 9578: TokenRequest, then Token from the TokenResponse", async () => {
  const { request, state } = await createTokenRequest(rfc9578.pkS, rfc9578.token_challenge, {
    nonce: rfc9578.nonce,
    salt: rfc9578.salt,
    r: rfc9578.blind,
    expectedKeyId: rfc9578.token_key_id,
  });
  assert.equal(hex(request), hex(rfc9578.token_request));
  const token = await finalizeToken(state, rfc9578.token_response);
  assert.equal(hex(token), hex(rfc9578.token));
  assert.equal(await verifyToken(token, rfc9578.pkS, rfc9578.token_challenge), true);
  const bad = token.slice();
  bad[40] ^= 1;
  assert.equal(await verifyToken(bad, rfc9578.pkS, rfc9578.token_challenge), false);
});

test("a key other than the published one is refused", async () => {
  const wrong = rfc9578.token_key_id.slice();
  wrong[0] ^= 1;
  await assert.rejects(createTokenRequest(rfc9578.pkS, rfc9578.token_challenge, { expectedKeyId: wrong }), TokenFormatError);
});

test("headers: Authorization and WWW-Authenticate", () => {
  const padded = (b) => Buffer.from(b).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
  assert.equal(formatAuthorization(rfc9578.token), `PrivateToken token="${padded(rfc9578.token)}"`);
  assert.equal(base64urlEncode(rfc9578.token_challenge), padded(rfc9578.token_challenge)); // 53 bytes: padded
  const header = `Basic realm="a, b", PrivateToken challenge="${base64urlEncode(rfc9578.token_challenge)}", token-key="${base64urlEncode(rfc9578.pkS)}", max-age=10`;
  const [parsed] = parseWwwAuthenticate(header);
  assert.equal(hex(parsed.challenge), hex(rfc9578.token_challenge));
  assert.equal(hex(parsed.tokenKey), hex(rfc9578.pkS));
  assert.equal(parsed.maxAge, 10);
  assert.equal(hex(base64urlDecode(Buffer.from(rfc9578.pkS).toString("base64url"))), hex(rfc9578.pkS));
  assert.throws(() => base64urlDecode("a+b/"), TokenFormatError);
  assert.throws(() => parseWwwAuthenticate('PrivateToken challenge="AAAA"'), TokenFormatError);
});
