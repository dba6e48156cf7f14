"""OpenID Connect sign-in: the relying party's half of the authorization code flow.

Identity is used for one thing in Candor, deciding who may be issued tokens, so the
provider only ever replaces the password: a callback that passes every check below
opens a session exactly as a password sign-in does, and anonymous endpoints never see
any of it.

What is checked, and why:

* The flow (authorization code with PKCE S256, ``state`` and ``nonce``) is bound to the
  browser that started it: ``state`` is a random value in a short-lived HttpOnly,
  SameSite=Lax cookie scoped to ``/auth/oidc/`` and must come back in the callback; only
  its hash is stored, with the nonce and the PKCE verifier, and the row is deleted when
  the callback arrives (one use) or after ``FLOW_MINUTES``. So a callback URL carried to
  another browser, replayed, or an authorization code injected into someone else's
  flow (the verifier does not match its challenge) signs nobody in.
* Discovery must name exactly the configured issuer (OpenID Connect Discovery §4.3).
  Keys come from its ``jwks_uri``, cached; a token signed with a key id the cache does
  not know makes one refetch (key rotation), at most once per ``JWKS_REFETCH_SECONDS``,
  so forged key ids cannot make Candor hammer the provider.
* The ID token is verified with joserfc, never by hand: the signature under an
  algorithm of ``ALGORITHMS`` only (no ``none``, no HMAC: a public key used as an HMAC
  secret would verify anything), then ``iss``, ``aud`` (and ``azp`` when there are
  several audiences), ``exp``/``iat``/``nbf`` with ``LEEWAY_SECONDS``, the ``nonce`` of
  this flow, and ``at_hash`` when present (OpenID Connect Core §3.1.3.7, §3.1.3.8).
* Accounts are matched by (issuer, ``sub``). An e-mail links an existing local account
  once, and only when the provider says the address is verified; after that only the
  pair matches, so an address that changes hands at the provider cannot take over an
  account.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode
from uuid import UUID

import asyncpg
import httpx
import msgspec
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from service.queries import accounts as accounts_q
from service.queries import groups as groups_q
from service.queries import oidc as q
from service.queries.accounts import Account
from service.settings import Settings

CALLBACK_PATH = "/auth/oidc/callback"
FLOW_COOKIE = "candor_oidc_flow"
FLOW_COOKIE_PATH = "/auth/oidc/"
FLOW_MINUTES = 10
# Asymmetric signatures only. "EdDSA" is the RFC 8037 name, "Ed25519" the RFC 9864 one.
ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA", "Ed25519")
LEEWAY_SECONDS = 60
METADATA_SECONDS = 3600
JWKS_REFETCH_SECONDS = 60
HTTP_TIMEOUT_SECONDS = 10.0
# Claims are the provider's, but bounded all the same.
MAX_CLAIM_VALUES = 200
MAX_CLAIM_LENGTH = 256


class OidcError(Exception):
    """A sign-in through the provider refused: ``reason`` says which check, ``detail``
    says it to the person (never with a token in it)."""

    def __init__(self, reason: str, detail: str, *, status: int = 401) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.status = status


class ProviderMetadata(msgspec.Struct, frozen=True):
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None = None
    token_endpoint_auth_methods_supported: list[str] = msgspec.field(
        default_factory=lambda: ["client_secret_basic"]
    )


class TokenResponse(msgspec.Struct, frozen=True):
    id_token: str
    access_token: str | None = None


@dataclass(frozen=True, slots=True)
class Flow:
    state: str
    nonce: str
    code_verifier: str


def new_flow() -> Flow:
    # RFC 7636 §4.1: 32 random octets, base64url, is the recommended verifier.
    return Flow(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(32))


def state_hash(state: str) -> bytes:
    return hashlib.sha256(state.encode()).digest()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def code_challenge(verifier: str) -> str:
    """RFC 7636 §4.2, S256: BASE64URL(SHA256(ASCII(code_verifier)))."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def left_half_hash(value: str, alg: str) -> str:
    """``at_hash`` (OpenID Connect Core §3.1.3.6): the left half of the hash of the access
    token, with the hash of the signature algorithm (SHA-512 for Ed25519)."""
    digest = hashlib.sha512 if alg in ("EdDSA", "Ed25519") else hashlib.sha256
    full = digest(value.encode("ascii")).digest()
    return _b64url(full[: len(full) // 2])


def redirect_uri(settings: Settings) -> str:
    return settings.origin + CALLBACK_PATH


class Provider:
    """One identity provider: its discovery document and keys, cached per process."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._clock = clock
        self._lock = asyncio.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False, transport=self._transport)

    async def _get_json(self, url: str) -> bytes:
        try:
            async with self._client() as http:
                response = await http.get(url, headers={"accept": "application/json"})
        except httpx.HTTPError:
            raise OidcError("provider", "The identity provider cannot be reached right now; try again shortly",
                            status=502) from None
        if response.status_code != 200:
            raise OidcError("provider", f"The identity provider answered {response.status_code} for {url}",
                            status=502)
        return response.content

    async def metadata(self) -> ProviderMetadata:
        async with self._lock:
            if self._metadata is None or self._clock() - self._metadata_at > METADATA_SECONDS:
                url = self.settings.oidc_issuer + "/.well-known/openid-configuration"
                try:
                    meta = msgspec.json.decode(await self._get_json(url), type=ProviderMetadata)
                except msgspec.ValidationError as exc:
                    raise OidcError("provider", f"The identity provider's discovery document is unusable: {exc}",
                                    status=502) from None
                if meta.issuer != self.settings.oidc_issuer:
                    raise OidcError("provider", "The identity provider's discovery document names another issuer",
                                    status=502)
                self._metadata, self._metadata_at = meta, self._clock()
            return self._metadata

    async def _key_set(self, *, refetch: bool) -> KeySet:
        """The cached keys; fetched again when stale, or on ``refetch`` (an unknown key
        id) unless the last fetch was less than ``JWKS_REFETCH_SECONDS`` ago."""
        meta = await self.metadata()
        async with self._lock:
            age = self._clock() - self._keys_at
            if self._keys is None or age > METADATA_SECONDS or (refetch and age > JWKS_REFETCH_SECONDS):
                try:
                    self._keys = KeySet.import_key_set(msgspec.json.decode(await self._get_json(meta.jwks_uri)))
                except (JoseError, msgspec.DecodeError, KeyError, TypeError, ValueError):
                    raise OidcError("provider", "The identity provider's keys (JWKS) are unusable",
                                    status=502) from None
                self._keys_at = self._clock()
            return self._keys

    async def authorization_url(self, flow: Flow) -> str:
        meta = await self.metadata()
        query = urlencode({
            "response_type": "code",
            "client_id": self.settings.oidc_client_id,
            "redirect_uri": redirect_uri(self.settings),
            "scope": self.settings.oidc_scopes,
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": code_challenge(flow.code_verifier),
            "code_challenge_method": "S256",
        })
        separator = "&" if "?" in meta.authorization_endpoint else "?"
        return meta.authorization_endpoint + separator + query

    async def exchange_code(self, *, code: str, code_verifier: str) -> TokenResponse:
        """The token endpoint's answer for ``code`` (RFC 6749 §4.1.3, RFC 7636 §4.5),
        authenticating with the client secret as the provider says it accepts it."""
        meta = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(self.settings),
                "code_verifier": code_verifier}
        headers = {"accept": "application/json"}
        methods = meta.token_endpoint_auth_methods_supported
        if "client_secret_basic" in methods:
            # RFC 6749 §2.3.1: both halves form-encoded before the Basic encoding.
            pair = f"{quote_plus(self.settings.oidc_client_id)}:{quote_plus(self.settings.oidc_client_secret)}"
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif "client_secret_post" in methods:
            form |= {"client_id": self.settings.oidc_client_id, "client_secret": self.settings.oidc_client_secret}
        else:
            raise OidcError("provider", "The identity provider accepts no client secret at its token endpoint",
                            status=502)
        try:
            async with self._client() as http:
                response = await http.post(meta.token_endpoint, data=form, headers=headers)
        except httpx.HTTPError:
            raise OidcError("provider", "The identity provider cannot be reached right now; try again shortly",
                            status=502) from None
        if response.status_code != 200:
            error = _error_code(response.content)
            raise OidcError("code", f"The identity provider refused the sign-in code ({error}); sign in again")
        try:
            return msgspec.json.decode(response.content, type=TokenResponse)
        except msgspec.DecodeError:
            raise OidcError("provider", "The identity provider's token answer has no ID token", status=502) from None

    async def verify_id_token(self, id_token: str, *, nonce: str, access_token: str | None) -> dict[str, Any]:
        """The ID token's claims, once every check of the module docstring passed."""
        keys = await self._key_set(refetch=False)
        try:
            token = _decode(id_token, keys)
        except InvalidKeyIdError:
            try:
                token = _decode(id_token, await self._key_set(refetch=True))
            except InvalidKeyIdError:
                raise OidcError("signature", "The ID token is signed with a key the provider does not publish") from None
        claims = token.claims
        settings = self.settings
        registry = jwt.JWTClaimsRegistry(
            now=int(self._clock()),
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": settings.oidc_issuer},
            sub={"essential": True},
            aud={"essential": True, "value": settings.oidc_client_id},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise OidcError("expired", "The ID token has expired; sign in again") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            claim = getattr(exc, "claim", "") or str(exc)
            raise OidcError("claims", f"The ID token's {claim} claim is wrong or missing") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        azp = claims.get("azp")
        if (len(audiences) > 1 or azp is not None) and azp != settings.oidc_client_id:
            raise OidcError("claims", "The ID token was issued to another client (azp)")
        sent_nonce = claims.get("nonce")
        if not isinstance(sent_nonce, str) or not hmac.compare_digest(sent_nonce.encode(), nonce.encode()):
            raise OidcError("nonce", "The ID token does not belong to this sign-in (nonce); sign in again")
        at_hash = claims.get("at_hash")
        if at_hash is not None and access_token is not None:
            expected = left_half_hash(access_token, str(token.header.get("alg")))
            if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash.encode(), expected.encode()):
                raise OidcError("claims", "The ID token does not match its access token (at_hash)")
        return claims

    async def end_session_url(self, id_token: str) -> str | None:
        """RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0 §2), when the
        provider offers it; back to the sign-in page afterwards."""
        try:
            meta = await self.metadata()
        except OidcError:
            return None
        if not meta.end_session_endpoint:
            return None
        query = urlencode({"id_token_hint": id_token, "client_id": self.settings.oidc_client_id,
                           "post_logout_redirect_uri": self.settings.origin + "/login"})
        separator = "&" if "?" in meta.end_session_endpoint else "?"
        return meta.end_session_endpoint + separator + query


def _decode(id_token: str, keys: KeySet) -> jwt.Token:
    try:
        with warnings.catch_warnings():
            # joserfc warns that RFC 9864 deprecates the name "EdDSA"; providers still use it.
            warnings.simplefilter("ignore")
            return jwt.decode(id_token, keys, algorithms=list(ALGORITHMS))
    except InvalidKeyIdError:
        raise
    except BadSignatureError:
        raise OidcError("signature", "The ID token's signature does not verify") from None
    except JoseError as exc:
        raise OidcError("signature", f"The ID token is not acceptable: {exc.description or exc.error}") from None
    except (ValueError, TypeError):
        raise OidcError("signature", "The ID token is not a well-formed signed token") from None


def _error_code(body: bytes) -> str:
    try:
        error = msgspec.json.decode(body).get("error", "no reason given")
    except (msgspec.DecodeError, AttributeError):
        return "no reason given"
    return str(error)[:80]


# Accounts, roles and groups from the claims ------------------------------------------------


def _strings(value: Any) -> list[str]:
    """A claim as a list of strings (a provider may send one string or a list)."""
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return [v for v in values if isinstance(v, str) and 0 < len(v) <= MAX_CLAIM_LENGTH][:MAX_CLAIM_VALUES]


def _verified_email(settings: Settings, claims: dict[str, Any]) -> tuple[str | None, bool]:
    email = claims.get(settings.oidc_email_claim)
    if not isinstance(email, str) or "@" not in email[1:] or len(email) > 254:
        return None, False
    verified = claims.get("email_verified")
    return email.strip().lower(), verified is True or (verified is None and settings.oidc_trust_email)


def mapped_roles(settings: Settings, claims: dict[str, Any]) -> list[str] | None:
    """The roles the claims give (member always), or ``None`` when no role map is set
    (then roles are the admins' to set)."""
    if not settings.oidc_role_map or not settings.oidc_roles_claim:
        return None
    values = set(_strings(claims.get(settings.oidc_roles_claim)))
    return sorted({"member"} | {role for value, role in settings.oidc_role_map if value in values})


async def resolve_account(conn: asyncpg.Connection, settings: Settings, claims: dict[str, Any]) -> Account:
    """The account the claims sign in: by (issuer, sub); else the local account with the
    verified e-mail, linked now; else a new member account when sign-up is allowed."""
    issuer, subject = settings.oidc_issuer, claims["sub"]
    account = await q.select_account_by_subject(conn, issuer=issuer, subject=subject)
    email, verified = _verified_email(settings, claims)
    roles = mapped_roles(settings, claims)
    if account is None and email is not None and verified:
        account = await q.link_account(conn, email=email, issuer=issuer, subject=subject)
    if account is None:
        if email is None:
            raise OidcError("account", "The identity provider sent no e-mail address for you", status=403)
        if not settings.oidc_allow_signup:
            raise OidcError("account", "There is no Candor account for you; ask an administrator", status=403)
        name = claims.get(settings.oidc_name_claim)
        display_name = name.strip()[:200] if isinstance(name, str) and name.strip() else email
        account = await q.insert_account(conn, email=email, display_name=display_name, issuer=issuer,
                                         subject=subject, roles=roles or ["member"])
        if account is None:
            # The address is a local account's: linking needs the provider to vouch for it,
            # and an account already tied to another subject is never re-linked.
            raise OidcError("account", "Your e-mail address belongs to another Candor account; "
                                       "ask an administrator", status=403)
        return account
    if not account.active:
        raise OidcError("account", "Your Candor account is deactivated", status=403)
    if roles is not None and roles != sorted(account.roles):
        account = await accounts_q.update_account(conn, account_id=account.id, roles=roles) or account
    return account


async def sync_groups(conn: asyncpg.Connection, settings: Settings, account_id: UUID, claims: dict[str, Any]) -> None:
    """Make the account's groups follow the groups claim: added to each group it names,
    removed from those it no longer names that the claims (not an admin or the directory)
    put it in. Every change goes through service.queries.groups with source 'oidc', so
    it lands in the append-only audit trail."""
    if not settings.oidc_groups_claim or settings.oidc_groups_claim not in claims:
        return
    names = _strings(claims.get(settings.oidc_groups_claim))
    named = await q.select_groups_named(conn, names=names)
    if settings.oidc_create_groups:
        for name in names:
            if name.lower() not in named:
                group_id = await groups_q.insert_group(conn, name=name, description="From sign-in claims")
                if group_id is not None:
                    named[name.lower()] = group_id
    wanted = set(named.values())
    current, by_claims = await q.select_memberships(conn, account_id=account_id)
    changes = {g: True for g in wanted - current} | {g: False for g in by_claims - wanted}
    for group_id in sorted(changes, key=str):  # one lock order for every sign-in
        if not await q.lock_group(conn, group_id=group_id):
            continue
        members = {m.id for m in await groups_q.select_members(conn, group_id=group_id)}
        members = members | {account_id} if changes[group_id] else members - {account_id}
        await groups_q.replace_members(conn, group_id=group_id, account_ids=sorted(members, key=str),
                                       actor_id=None, source="oidc")


async def end_session_url(state: Any, conn: asyncpg.Connection, *, session_hash: bytes) -> str | None:
    """Where to send a browser signing out of a session the provider signed in, so it
    signs out there too; ``None`` for a password session or a provider without logout."""
    provider: Provider | None = state.oidc
    if provider is None:
        return None
    id_token = await q.select_session_token(conn, session_hash=session_hash)
    return None if id_token is None else await provider.end_session_url(id_token)
