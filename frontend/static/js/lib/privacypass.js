// Privacy Pass token type 0x0002 (RFC 9578 §6) and its HTTP encodings (RFC 9577),
// browser client side. Wire layouts are documented in crypto/tokens.py.

import { BlindRsaError, blind, concat, finalize, verify } from "./blindrsa.js";

export const TOKEN_TYPE = 0x0002;
export const NK = 256;
export const NID = 32;
const NONCE_LEN = 32;

export class TokenFormatError extends Error {
  constructor(message) {
    super(message);
    this.name = "TokenFormatError";
  }
}

const utf8 = new TextEncoder();

function u16(x) {
  return Uint8Array.of(x >> 8, x & 0xff);
}

async function sha256(data) {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", data));
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// --- base64url (RFC 4648 §5) ------------------------------------------------------

export function base64urlEncode(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_");
}

export function base64urlDecode(text) {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new TokenFormatError("not base64url");
  const body = text.replace(/=+$/, "");
  if (body.length % 4 === 1) throw new TokenFormatError("bad base64url length");
  const bin = atob(body.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (body.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

// --- structures ------------------------------------------------------------------------

/** TokenChallenge (RFC 9577 §2.1.1) to bytes. */
export function encodeTokenChallenge({ tokenType = TOKEN_TYPE, issuerName, redemptionContext = new Uint8Array(0), originInfo = "" }) {
  const issuer = utf8.encode(issuerName);
  const origin = utf8.encode(originInfo);
  if (issuer.length < 1 || issuer.length > 0xffff) throw new TokenFormatError("issuer_name length");
  if (redemptionContext.length !== 0 && redemptionContext.length !== 32) throw new TokenFormatError("redemption_context length");
  return concat(u16(tokenType), u16(issuer.length), issuer, Uint8Array.of(redemptionContext.length), redemptionContext, u16(origin.length), origin);
}

/** Parse TokenChallenge bytes; throws TokenFormatError. */
export function decodeTokenChallenge(bytes) {
  bytes = new Uint8Array(bytes);
  let pos = 0;
  const take = (n) => {
    if (pos + n > bytes.length) throw new TokenFormatError("TokenChallenge is truncated");
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const read16 = () => {
    const b = take(2);
    return (b[0] << 8) | b[1];
  };
  const tokenType = read16();
  const issuerLen = read16();
  if (issuerLen === 0) throw new TokenFormatError("empty issuer_name");
  const issuerName = new TextDecoder().decode(take(issuerLen));
  const ctxLen = take(1)[0];
  if (ctxLen !== 0 && ctxLen !== 32) throw new TokenFormatError("redemption_context length");
  const redemptionContext = take(ctxLen).slice();
  const originInfo = new TextDecoder().decode(take(read16()));
  if (pos !== bytes.length) throw new TokenFormatError("trailing bytes after TokenChallenge");
  return { tokenType, issuerName, redemptionContext, originInfo };
}

/** token_key_id = SHA-256(RSASSA-PSS SPKI) (RFC 9578 §6.5). */
export async function tokenKeyId(spki) {
  return sha256(new Uint8Array(spki));
}

/**
 * Client: build a TokenRequest (RFC 9578 §6.1) for a challenge.
 * options.expectedKeyId: refuse a key whose id differs from the one published for the wave.
 * options.nonce / salt / r: injected randomness, for test vectors only.
 * Returns {request: Uint8Array, state}; keep state (it holds the secret inv) until finalizeToken.
 */
export async function createTokenRequest(spki, challenge, options = {}) {
  spki = new Uint8Array(spki);
  challenge = new Uint8Array(challenge);
  decodeTokenChallenge(challenge); // validates
  const keyId = await tokenKeyId(spki);
  if (options.expectedKeyId && !equal(keyId, new Uint8Array(options.expectedKeyId))) {
    throw new TokenFormatError("issuer key differs from the published key");
  }
  const nonce = options.nonce ? new Uint8Array(options.nonce) : globalThis.crypto.getRandomValues(new Uint8Array(NONCE_LEN));
  if (nonce.length !== NONCE_LEN) throw new TokenFormatError("nonce must be 32 bytes");
  const challengeDigest = await sha256(challenge);
  const tokenInput = concat(u16(TOKEN_TYPE), nonce, challengeDigest, keyId);
  const { blindedMsg, inv } = await blind(spki, tokenInput, { salt: options.salt, r: options.r });
  if (blindedMsg.length !== NK) throw new TokenFormatError("token type 2 needs a 2048-bit key");
  const request = concat(u16(TOKEN_TYPE), Uint8Array.of(keyId[NID - 1]), blindedMsg);
  return { request, state: { spki, tokenInput, inv } };
}

/** Client: TokenResponse bytes + state -> Token bytes (RFC 9578 §6.3). Throws if the issuer's signature is invalid. */
export async function finalizeToken(state, response) {
  response = new Uint8Array(response);
  if (response.length !== NK) throw new TokenFormatError("TokenResponse must be 256 bytes");
  const authenticator = await finalize(state.spki, state.tokenInput, response, state.inv);
  return concat(state.tokenInput, authenticator);
}

/** Check a Token against a key and the expected challenge (RFC 9578 §6.4). Returns true or false. */
export async function verifyToken(token, spki, challenge) {
  token = new Uint8Array(token);
  if (token.length !== 2 + NONCE_LEN + 32 + NID + NK) return false;
  if (token[0] !== 0 || token[1] !== TOKEN_TYPE) return false;
  const digest = token.subarray(34, 66);
  const keyId = token.subarray(66, 98);
  if (!equal(digest, await sha256(new Uint8Array(challenge)))) return false;
  if (!equal(keyId, await tokenKeyId(spki))) return false;
  try {
    return await verify(spki, token.subarray(0, 98), token.subarray(98));
  } catch (err) {
    if (err instanceof BlindRsaError) return false;
    throw err;
  }
}

// --- HTTP headers (RFC 9577) ---------------------------------------------------------

/** Authorization header value: PrivateToken token="<base64url>". */
export function formatAuthorization(token) {
  return `PrivateToken token="${base64urlEncode(token)}"`;
}

/**
 * Parse the PrivateToken challenges of a WWW-Authenticate value (RFC 9577 §2.1).
 * Returns [{challenge: Uint8Array, tokenKey: Uint8Array, maxAge: number|null}].
 */
export function parseWwwAuthenticate(header) {
  const out = [];
  // scheme, then name=value pairs; a bare token not followed by "=" starts a new challenge.
  const re = /\s*,?\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+))?/gy;
  let current = null;
  let pos = 0;
  for (;;) {
    re.lastIndex = pos;
    const m = re.exec(header);
    if (!m) break;
    pos = re.lastIndex;
    if (m[2] === undefined) {
      current = { scheme: m[1].toLowerCase(), params: {} };
      out.push(current);
    } else if (current) {
      let value = m[2];
      if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, "$1");
      current.params[m[1].toLowerCase()] = value;
    } else {
      throw new TokenFormatError("malformed WWW-Authenticate");
    }
  }
  if (!/^[\s,]*$/.test(header.slice(pos))) throw new TokenFormatError("malformed WWW-Authenticate");
  return out
    .filter((c) => c.scheme === "privatetoken")
    .map(({ params }) => {
      if (!params.challenge || !params["token-key"]) throw new TokenFormatError("PrivateToken needs challenge and token-key");
      const challenge = base64urlDecode(params.challenge);
      decodeTokenChallenge(challenge);
      const maxAge = params["max-age"] !== undefined && /^\d+$/.test(params["max-age"]) ? Number(params["max-age"]) : null;
      return { challenge, tokenKey: base64urlDecode(params["token-key"]), maxAge };
    });
}
