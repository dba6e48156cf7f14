// The one Privacy Pass issuance client, for both kinds of token: fetch the issuer's
// published key, check its key id against the one announced elsewhere and that it is the
// key the transparency log holds for this wave or month (lib/transparency.js), blind, ask,
// finalize. Wave tokens: right after sign-in and on every member page the browser gets
// one token for each open wave it has none for. Thread tokens: the rest of this month's
// allowance, in one batch. Both are fetched whether or not the member will answer or
// write, so that getting a token says nothing about using it.

import { NK, base64urlDecode, createTokenRequest, finalizeToken } from "./privacypass.js";
import { csrfToken, fetchJson, hexToBytes, today } from "./base.js";
import { threadTokens, waveTokens } from "./store.js";
import { TransparencyError, verifyKeyInLog } from "./transparency.js";

const REQUEST_LEN = 2 + 1 + NK; // RFC 9578 §6.1: token_type, truncated_token_key_id, blinded_msg
const RESPONSE_LEN = NK; // RFC 9578 §6.2: blind_sig

export class KeyMismatchError extends Error {
  constructor(message) {
    super(message);
    this.name = "KeyMismatchError";
  }
}

/**
 * The key an issuer publishes at `url`: {result, keyId, spki, challenge, period}, or just
 * {result} when it could not be fetched. Throws KeyMismatchError when `expectedKeyId` is
 * given and the published key id differs: a key made for one person would single them out.
 */
export async function publishedKey(url, expectedKeyId) {
  const result = await fetchJson(url, { credentials: "omit" });
  if (!result.ok) return { result };
  const body = result.body;
  if (expectedKeyId && body["token-key-id"] !== expectedKeyId) {
    throw new KeyMismatchError("The published key id changed");
  }
  return {
    result, keyId: body["token-key-id"], period: body.period,
    spki: base64urlDecode(body["token-key"]), challenge: base64urlDecode(body.challenge),
  };
}

export const waveKeyUrl = (campaignId) => `/api/campaigns/${campaignId}/token-key`;

/**
 * Blind `count` token requests under `key`, send them to `url` in one request (so that
 * leaving the page half-way cannot lose some), and hand each finalized token to `keep`.
 * Returns {issued: count}, {offline: true}, {response} for an HTTP refusal, or
 * {malformed: true} when the issuer's answer has the wrong length.
 */
export async function requestTokens(url, key, count, keep) {
  const pending = [];
  for (let i = 0; i < count; i++) {
    if (i) await new Promise((resolve) => setTimeout(resolve, 0)); // let the page's other work run between blindings
    pending.push(await createTokenRequest(key.spki, key.challenge, { expectedKeyId: hexToBytes(key.keyId) }));
  }
  const body = new Uint8Array(REQUEST_LEN * count);
  pending.forEach((p, i) => body.set(p.request, i * REQUEST_LEN));
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/private-token-request", "x-csrf-token": csrfToken() },
      body,
    });
  } catch {
    return { offline: true };
  }
  if (!response.ok) return { response };
  const signed = new Uint8Array(await response.arrayBuffer());
  if (signed.length !== RESPONSE_LEN * count) return { malformed: true };
  for (let i = 0; i < count; i++) {
    await keep(await finalizeToken(pending[i].state, signed.subarray(i * RESPONSE_LEN, (i + 1) * RESPONSE_LEN)));
  }
  return { issued: count };
}

// --- wave tokens ---------------------------------------------------------------------------

/** Issue and store the token for one wave. Returns the stored record, or {state: "..."} when none. */
async function issueWaveToken(wave) {
  const key = await publishedKey(waveKeyUrl(wave.id), wave.token_key_id);
  if (!key.spki) return { state: "unavailable" };
  await verifyKeyInLog({ kind: "wave", id: wave.id, tokenKeyId: key.keyId, spki: key.spki });
  let record = null;
  const got = await requestTokens(`/api/campaigns/${wave.id}/token-requests`, key, 1, async (token) => {
    record = { campaignId: wave.id, state: "ready", token, keyId: wave.token_key_id, issuedOn: today(), title: wave.title };
    await waveTokens.put(record);
  });
  if (got.offline) return { state: "offline" };
  if (got.response && got.response.status === 409) {
    let type = "";
    try {
      type = (await got.response.json()).type || "";
    } catch {}
    if (type.endsWith("/token-issued")) {
      // Issued before, to this account: in another browser, or this one lost its storage.
      const elsewhere = { campaignId: wave.id, state: "issued-elsewhere", keyId: wave.token_key_id };
      await waveTokens.add(elsewhere);
      return (await waveTokens.get(wave.id)) || elsewhere;
    }
    return { state: "closed" };
  }
  return record || { state: "unavailable" };
}

async function withLock(name, fn) {
  // One tab at a time: two tabs asking at once would get one token and one "already issued".
  if (navigator.locks) return navigator.locks.request(name, fn);
  return fn();
}

/**
 * Make sure this browser holds a token for every open wave the member may answer.
 * Returns {waves, tokens: Map(campaignId -> record), error}. A wave whose key the log does
 * not vouch for gets {state: "log-failure", error} (not stored: the next page checks again).
 */
export async function ensureTokens() {
  const list = await fetchJson("/api/campaigns");
  if (!list.ok) return { waves: [], tokens: new Map(), error: list };
  const waves = (list.body || []).filter((w) => w.status === "open" && w.token_key_id);
  const tokens = new Map();
  await withLock("candor-token-issuance", async () => {
    for (const wave of waves) {
      let record = await waveTokens.get(wave.id);
      if (!record) {
        try {
          record = await issueWaveToken(wave);
        } catch (err) {
          if (err instanceof TransparencyError) record = { state: "log-failure", error: err };
          else record = { state: err instanceof KeyMismatchError ? "key-mismatch" : "unavailable" };
        }
      }
      tokens.set(wave.id, record);
    }
  });
  return { waves, tokens };
}

// --- thread tokens -------------------------------------------------------------------------

/** The period ("YYYY-MM") before `period`. */
export function previousPeriod(period) {
  const [y, m] = period.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

/**
 * Fetch what is left of the month's allowance; tokens of months before last are dropped.
 * Returns {held, allowance, key}, or {error} (with `logFailure`, a TransparencyError, when
 * the log does not vouch for the month's key: then nothing was asked for).
 */
export async function ensureThreadTokens() {
  const allowance = await fetchJson("/api/threads/allowance");
  if (!allowance.ok) return { error: allowance };
  // The key must be the one the allowance (fetched with the session) names.
  const key = await publishedKey("/api/threads/token-key");
  if (!key.spki || key.keyId !== allowance.body.token_key_id) return { error: { status: 0 } };
  try {
    await withLock("candor-thread-tokens", async () => {
      await threadTokens.keepOnly([key.period, previousPeriod(key.period)]);
      const fresh = await fetchJson("/api/threads/allowance");
      if (fresh.ok && fresh.body.remaining > 0) {
        await verifyKeyInLog({ kind: "thread-period", id: key.period, tokenKeyId: key.keyId, spki: key.spki });
        await requestTokens("/api/threads/token-requests", key, fresh.body.remaining,
          (token) => threadTokens.add({ keyId: key.keyId, period: key.period, token }));
      }
    });
  } catch (err) {
    if (err instanceof TransparencyError) return { error: { status: 0 }, logFailure: err };
    throw err;
  }
  const held = (await threadTokens.all()).length;
  return { held, allowance: allowance.body, key };
}
