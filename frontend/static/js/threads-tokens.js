// Thread tokens: at sign-in (and on every member page) the browser fetches the rest of
// this month's allowance, whether or not it will open a thread, so that getting tokens
// says nothing about writing. Tokens of months before last are dropped.

import { base64urlDecode, createTokenRequest, finalizeToken } from "./privacypass.js";
import { csrfToken, fetchJson, hexToBytes } from "./lib.js";
import * as store from "./threads-store.js";

/** This month's published thread key. */
export async function threadKey() {
  const result = await fetchJson("/api/threads/token-key", { credentials: "omit" });
  if (!result.ok) return null;
  const body = result.body;
  return { keyId: body["token-key-id"], period: body.period, spki: base64urlDecode(body["token-key"]), challenge: base64urlDecode(body.challenge) };
}

const REQUEST_LEN = 2 + 1 + 256; // RFC 9578 §6.1
const RESPONSE_LEN = 256;

/** Ask for `count` tokens in one request, so that leaving the page half-way cannot lose some. */
async function issue(key, count) {
  const pending = [];
  for (let i = 0; i < count; i++) {
    pending.push(await createTokenRequest(key.spki, key.challenge, { expectedKeyId: hexToBytes(key.keyId) }));
    await new Promise((resolve) => setTimeout(resolve, 0)); // let the page's other work run between blindings
  }
  const body = new Uint8Array(REQUEST_LEN * count);
  pending.forEach((p, i) => body.set(p.request, i * REQUEST_LEN));
  const response = await fetch("/api/threads/token-requests", {
    method: "POST",
    credentials: "same-origin",
    cache: "no-store",
    headers: { "content-type": "application/private-token-request", "x-csrf-token": csrfToken() },
    body,
  });
  if (!response.ok) return false;
  const signed = new Uint8Array(await response.arrayBuffer());
  if (signed.length !== RESPONSE_LEN * count) return false;
  for (let i = 0; i < count; i++) {
    const token = await finalizeToken(pending[i].state, signed.subarray(i * RESPONSE_LEN, (i + 1) * RESPONSE_LEN));
    await store.addToken({ keyId: key.keyId, period: key.period, token });
  }
  return true;
}

function previousPeriod(period) {
  const [y, m] = period.split("-").map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

/** Fetch what is left of the month's allowance. Returns {held, allowance} or {error}. */
export async function ensureThreadTokens() {
  const allowance = await fetchJson("/api/threads/allowance");
  if (!allowance.ok) return { error: allowance };
  const key = await threadKey();
  if (!key || key.keyId !== allowance.body.token_key_id) return { error: { status: 0 } };
  const run = async () => {
    const keep = [key.period, previousPeriod(key.period)];
    for (const t of await store.allTokens()) if (!keep.includes(t.period)) await store.removeToken(t.id);
    const fresh = await fetchJson("/api/threads/allowance");
    if (fresh.ok && fresh.body.remaining > 0) await issue(key, fresh.body.remaining);
  };
  if (navigator.locks) await navigator.locks.request("candor-thread-tokens", run);
  else await run();
  const held = (await store.allTokens()).length;
  return { held, allowance: allowance.body, key };
}
