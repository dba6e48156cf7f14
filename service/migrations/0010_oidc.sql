-- OpenID Connect sign-in (issue 16): accounts an identity provider vouches for.
--
-- An account signed in through the provider is known by the pair (issuer, subject): the
-- `sub` claim is unique and never reassigned within one issuer, while an e-mail address
-- can change hands. The e-mail links an existing local account once, the first time;
-- from then on only the pair matches. Staff-side data only; nothing here refers to
-- anything anonymous.

alter table accounts
    add column oidc_issuer  text,
    add column oidc_subject text,
    add constraint accounts_oidc_pair check ((oidc_issuer is null) = (oidc_subject is null));
create unique index accounts_oidc_key on accounts (oidc_issuer, oidc_subject);

-- Sign-in flows under way: the browser holds `state` in a short-lived cookie bound to
-- the flow; only its SHA-256 is stored with the flow's nonce and PKCE verifier. A row
-- is deleted when its callback arrives (so a state works once) or after ten minutes.
-- Nothing here says who is signing in.
create table oidc_flows (
    state_hash    bytea primary key check (length(state_hash) = 32),
    nonce         text not null,
    code_verifier text not null,
    created_at    timestamptz not null default now()
);

-- The ID token of a session signed in through the provider: sent back as id_token_hint
-- when the person signs out (RP-initiated logout). Goes with its session.
create table oidc_sessions (
    session_hash bytea primary key references sessions (token_hash) on delete cascade,
    id_token     text not null
);
