-- Survey waves (campaigns), their frozen manifests and issuer keys, token issuance,
-- and the anonymous side: spent token nonces and responses.
--
-- The two sides never meet. Issuance rows name an account and a date; anonymous
-- rows (spent_tokens, responses) name a wave and at most a date, use random UUIDs,
-- and have no column, foreign key or ordering that points back to an account.

create table campaigns (
    id                uuid primary key default gen_random_uuid(),
    title             text not null,
    description       text not null default '',
    service_id        uuid not null references services (id),
    instrument_hash   text not null references instruments (hash),
    audience_group_id uuid not null references groups (id),
    opens_on          date not null,
    closes_on         date not null,
    k_scores          integer not null default 5 check (k_scores >= 3),
    k_comments        integer not null default 10 check (k_comments >= 3),
    status            text not null default 'draft' check (status in ('draft', 'open', 'closed')),
    created_by        uuid references accounts (id) on delete set null,
    created_at        timestamptz not null default now(),
    -- Set when the wave opens, never changed afterwards (see the trigger below).
    manifest          jsonb,
    manifest_hash     text,
    token_key         bytea,          -- RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 §6.5)
    token_key_id      bytea unique,   -- SHA-256 of token_key
    challenge         bytea,          -- encoded TokenChallenge (RFC 9577 §2.1.1)
    private_key       bytea,          -- AES-256-GCM under CANDOR_KEY_ENCRYPTION_KEY
    audience_size     integer,
    constraint campaigns_dates check (closes_on >= opens_on),
    constraint campaigns_opened_complete check (
        status = 'draft' or (manifest is not null and manifest_hash is not null and token_key is not null
                             and token_key_id is not null and challenge is not null
                             and private_key is not null and audience_size >= k_scores)
    )
);
create index campaigns_service_idx on campaigns (service_id);

-- Once a wave leaves draft, its manifest and keys are frozen; only draft → open →
-- closed moves are allowed, never back.
create function campaigns_freeze() returns trigger language plpgsql as $$
begin
    if old.status <> 'draft' then
        if (new.title, new.description, new.service_id, new.instrument_hash, new.audience_group_id,
            new.opens_on, new.closes_on, new.k_scores, new.k_comments, new.manifest, new.manifest_hash,
            new.token_key, new.token_key_id, new.challenge, new.private_key, new.audience_size)
           is distinct from
           (old.title, old.description, old.service_id, old.instrument_hash, old.audience_group_id,
            old.opens_on, old.closes_on, old.k_scores, old.k_comments, old.manifest, old.manifest_hash,
            old.token_key, old.token_key_id, old.challenge, old.private_key, old.audience_size) then
            raise exception 'the manifest of an opened wave cannot change'
                using errcode = 'integrity_constraint_violation';
        end if;
        if not (old.status = new.status or (old.status = 'open' and new.status = 'closed')) then
            raise exception 'a wave cannot go from % to %', old.status, new.status
                using errcode = 'integrity_constraint_violation';
        end if;
    end if;
    return new;
end $$;

create trigger campaigns_frozen before update on campaigns
    for each row execute function campaigns_freeze();

-- The audience as it was when the wave opened: eligibility does not drift with the group.
create table campaign_audience (
    campaign_id uuid not null references campaigns (id) on delete cascade,
    account_id  uuid not null references accounts (id) on delete cascade,
    primary key (campaign_id, account_id)
);

-- Issuance side: only *that* an account was issued its token for a wave, and the day.
create table token_issuances (
    campaign_id uuid not null references campaigns (id) on delete cascade,
    account_id  uuid not null references accounts (id) on delete cascade,
    issued_on   date not null default current_date,
    primary key (campaign_id, account_id)
);

-- Anonymous side. A spent nonce carries nothing but the wave it was spent in.
create table spent_tokens (
    campaign_id uuid not null references campaigns (id) on delete cascade,
    nonce       bytea not null check (length(nonce) = 32),
    primary key (campaign_id, nonce)
);

-- One row per response; answers as arrays in the instrument's item order so a report
-- over 100,000 responses is one sequential read. Missing/N-A answers are null.
create table responses (
    id           uuid primary key default gen_random_uuid(),
    campaign_id  uuid not null references campaigns (id) on delete cascade,
    submitted_on date not null default current_date,
    receipt      text not null unique check (receipt ~ '^[0-9a-f]{64}$'),
    -- [item][column] in the instrument's order, columns as FORMAT_COLUMNS lists them.
    item_values  smallint[] not null,
    importance   smallint[],
    satisfaction smallint[],
    comments     jsonb not null default '{}'::jsonb
);
create index responses_campaign_idx on responses (campaign_id);
