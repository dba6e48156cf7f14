// The browser's one issuance client (frontend/static/js/lib/tokens.js) against a small
// in-test issuer that signs with the RFC 9578 type-2 key: key fetch and key-id check,
// one batched request, finalization, and what the client does when the issuer misbehaves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";

import { base64urlEncode, encodeTokenChallenge, verifyToken } from "../../frontend/static/js/lib/privacypass.js";
import { KeyMismatchError, previousPeriod, publishedKey, requestTokens } from "../../frontend/static/js/lib/tokens.js";

const vector = JSON.parse(readFileSync(new URL("../vectors/rfc9578-type2-vector.json", import.meta.url)));
const H = (s) => Uint8Array.from(Buffer.from(s, "hex"));
const hex = (b) => Buffer.from(b).toString("hex");
const spki = H(vector.pkS);
const keyId = vector.token_key_id;
const challenge = encodeTokenChallenge({ issuerName: "issuer.test" });

// The page's CSRF meta tag, as lib/base.js reads it.
globalThis.document = { querySelector: (q) => (q === 'meta[name="csrf-token"]' ? { content: "csrf-1" } : null) };

const skPem = Buffer.from(vector.skS, "hex").toString();
const jwk = createPrivateKey(skPem.includes("BEGIN") ? skPem : { key: Buffer.from(vector.skS, "hex"), format: "der", type: "pkcs8" }).export({ format: "jwk" });
const big = (b64) => BigInt(`0x${Buffer.from(b64, "base64url").toString("hex")}`);
const [n, d] = [big(jwk.n), big(jwk.d)];

function modPow(base, exp, mod) {
  let result = 1n;
  for (base %= mod; exp > 0n; exp >>= 1n, base = (base * base) % mod) if (exp & 1n) result = (result * base) % mod;
  return result;
}

/** RSABSSA BlindSign (RFC 9474 §4.2): blind_sig = blinded_msg^d mod n. */
function blindSign(blinded) {
  return H(modPow(BigInt(`0x${hex(blinded)}`), d, n).toString(16).padStart(512, "0"));
}

/** A fetch that plays the issuer. `misbehave(signed)` may alter its answer. */
function issuer({ misbehave = (x) => x, status = 200, published = keyId } = {}) {
  const seen = [];
  const fetch = async (url, init = {}) => {
    seen.push({ url, init });
    if (!init.method || init.method === "GET") {
      return Response.json({ "token-key-id": published, "token-key": base64urlEncode(spki), challenge: base64urlEncode(challenge), period: "2025-03" });
    }
    if (status !== 200) return Response.json({ type: "/problems/token-issued" }, { status });
    assert.equal(init.headers["content-type"], "application/private-token-request");
    assert.equal(init.headers["x-csrf-token"], "csrf-1");
    const body = init.body;
    assert.equal(body.length % 259, 0);
    const parts = [];
    for (let i = 0; i < body.length; i += 259) {
      const request = body.subarray(i, i + 259);
      assert.deepEqual([...request.subarray(0, 3)], [0, 2, H(keyId)[31]], "token type 2, truncated key id");
      parts.push(blindSign(request.subarray(3)));
    }
    return new Response(misbehave(Buffer.concat(parts)), { headers: { "content-type": "application/private-token-response" } });
  };
  return { fetch, seen };
}

async function withIssuer(options, fn) {
  const fake = issuer(options);
  const saved = globalThis.fetch;
  globalThis.fetch = fake.fetch;
  try {
    return await fn(fake);
  } finally {
    globalThis.fetch = saved;
  }
}

test("a batch of thread tokens: one request, every token valid under the published key", async () => {
  await withIssuer({}, async ({ seen }) => {
    const key = await publishedKey("/api/threads/token-key", keyId);
    assert.equal(key.keyId, keyId);
    assert.equal(key.period, "2025-03");
    const kept = [];
    const got = await requestTokens("/api/threads/token-requests", key, 3, (token) => kept.push(token));
    assert.deepEqual(got, { issued: 3 });
    assert.equal(seen.filter((r) => r.init.method === "POST").length, 1, "one request for the whole batch");
    assert.equal(kept.length, 3);
    for (const token of kept) assert.equal(await verifyToken(token, spki, challenge), true);
    assert.equal(new Set(kept.map(hex)).size, 3, "each token has its own nonce");
  });
});

test("a single wave token goes through the same client", async () => {
  await withIssuer({}, async () => {
    const key = await publishedKey("/api/campaigns/w1/token-key", keyId);
    const kept = [];
    assert.deepEqual(await requestTokens("/api/campaigns/w1/token-requests", key, 1, (t) => kept.push(t)), { issued: 1 });
    assert.equal(await verifyToken(kept[0], spki, challenge), true);
  });
});

test("a published key id other than the announced one is refused before anything is sent", async () => {
  await withIssuer({ published: "00".repeat(32) }, async ({ seen }) => {
    await assert.rejects(publishedKey("/api/campaigns/w1/token-key", keyId), KeyMismatchError);
    assert.equal(seen.filter((r) => r.init.method === "POST").length, 0);
  });
  // A key whose bytes do not hash to the id it claims is not blinded under.
  await withIssuer({}, async ({ seen }) => {
    const key = { ...(await publishedKey("/api/threads/token-key")), keyId: "11".repeat(32) };
    await assert.rejects(requestTokens("/api/threads/token-requests", key, 2, () => {}));
    assert.equal(seen.filter((r) => r.init.method === "POST").length, 0);
  });
});

test("an answer of the wrong length keeps nothing", async () => {
  await withIssuer({ misbehave: (signed) => signed.subarray(0, 256) }, async () => {
    const key = await publishedKey("/api/threads/token-key", keyId);
    const kept = [];
    assert.deepEqual(await requestTokens("/api/threads/token-requests", key, 2, (t) => kept.push(t)), { malformed: true });
    assert.equal(kept.length, 0);
  });
});

test("a forged signature is refused at finalization, not stored", async () => {
  const forge = (signed) => { const copy = Uint8Array.from(signed); copy[10] ^= 1; return copy; };
  await withIssuer({ misbehave: forge }, async () => {
    const key = await publishedKey("/api/threads/token-key", keyId);
    const kept = [];
    await assert.rejects(requestTokens("/api/threads/token-requests", key, 1, (t) => kept.push(t)));
    assert.equal(kept.length, 0);
  });
});

test("a refusal and a network failure are reported, not thrown", async () => {
  await withIssuer({ status: 409 }, async () => {
    const key = await publishedKey("/api/campaigns/w1/token-key", keyId);
    const got = await requestTokens("/api/campaigns/w1/token-requests", key, 1, () => assert.fail("kept"));
    assert.equal(got.response.status, 409);
    assert.equal((await got.response.json()).type, "/problems/token-issued");
  });
  await withIssuer({}, async () => {
    const key = await publishedKey("/api/campaigns/w1/token-key", keyId);
    globalThis.fetch = async () => { throw new TypeError("offline"); };
    assert.deepEqual(await requestTokens("/api/campaigns/w1/token-requests", key, 1, () => assert.fail("kept")), { offline: true });
  });
});

test("the period before a month", () => {
  assert.equal(previousPeriod("2025-03"), "2025-02");
  assert.equal(previousPeriod("2025-01"), "2024-12");
  assert.equal(previousPeriod("2025-10"), "2025-09");
});
