// Token issuance: right after sign-in, and on every member page, the browser gets one
// Privacy Pass token for each open wave it has none for — whether or not it will answer,
// so that getting a token says nothing about answering.

import { base64urlDecode, createTokenRequest, finalizeToken } from "./privacypass.js";
import { csrfToken, fetchJson, hexToBytes, today } from "./lib.js";
import * as store from "./store.js";

export class KeyMismatchError extends Error {
  constructor(message) {
    super(message);
    this.name = "KeyMismatchError";
  }
}

/** The wave's published key, checked against the key id the wave list announced. */
export async function publishedKey(campaignId, expectedKeyId) {
  const result = await fetchJson(`/api/campaigns/${campaignId}/token-key`, { credentials: "omit" });
  if (!result.ok) return { result };
  const body = result.body;
  if (expectedKeyId && body["token-key-id"] !== expectedKeyId) {
    throw new KeyMismatchError("The wave's published key id changed");
  }
  return { result, keyId: body["token-key-id"], spki: base64urlDecode(body["token-key"]), challenge: base64urlDecode(body.challenge) };
}

/** Issue and store the token for one wave. Returns the stored record, or {state: "..."} when none. */
async function issue(wave) {
  const key = await publishedKey(wave.id, wave.token_key_id);
  if (!key.spki) return { state: "unavailable" };
  const { request, state } = await createTokenRequest(key.spki, key.challenge, { expectedKeyId: hexToBytes(wave.token_key_id) });
  let response;
  try {
    response = await fetch(`/api/campaigns/${wave.id}/token-requests`, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "content-type": "application/private-token-request", "x-csrf-token": csrfToken() },
      body: request,
    });
  } catch {
    return { state: "offline" };
  }
  if (response.status === 409) {
    let type = "";
    try {
      type = (await response.json()).type || "";
    } catch {}
    if (type.endsWith("/token-issued")) {
      // Issued before, to this account: in another browser, or this one lost its storage.
      const record = { campaignId: wave.id, state: "issued-elsewhere", keyId: wave.token_key_id };
      await store.add("tokens", record);
      return (await store.get("tokens", wave.id)) || record;
    }
    return { state: "closed" };
  }
  if (!response.ok) return { state: "unavailable" };
  const token = await finalizeToken(state, new Uint8Array(await response.arrayBuffer()));
  const record = { campaignId: wave.id, state: "ready", token, keyId: wave.token_key_id, issuedOn: today(), title: wave.title };
  await store.put("tokens", record);
  return record;
}

async function withLock(fn) {
  // One tab at a time: two tabs asking at once would get one token and one "already issued".
  if (navigator.locks) return navigator.locks.request("candor-token-issuance", fn);
  return fn();
}

/**
 * Make sure this browser holds a token for every open wave the member may answer.
 * Returns {waves, tokens: Map(campaignId -> record), error}.
 */
export async function ensureTokens() {
  const list = await fetchJson("/api/campaigns");
  if (!list.ok) return { waves: [], tokens: new Map(), error: list };
  const waves = (list.body || []).filter((w) => w.status === "open" && w.token_key_id);
  const tokens = new Map();
  await withLock(async () => {
    for (const wave of waves) {
      let record = await store.get("tokens", wave.id);
      if (!record) {
        try {
          record = await issue(wave);
        } catch (err) {
          record = { state: err instanceof KeyMismatchError ? "key-mismatch" : "unavailable" };
        }
      }
      tokens.set(wave.id, record);
    }
  });
  return { waves, tokens };
}
