-- SCIM 2.0 provisioning (RFC 7643/7644): the organisation's directory creates,
-- updates and deactivates accounts and manages groups that can be wave audiences.
--
-- What SCIM adds lives beside accounts and groups, not in them: an account or group
-- that SCIM manages has a row here, and one without a row is managed by hand. Staff-side
-- data only; nothing here refers to anything anonymous.

-- Bearer tokens an admin hands to the directory. A token is 32 random bytes, so its
-- SHA-256 is enough to store (no slow hash needed); it is shown once, when created.
-- Dates only: when a token was last used is worth knowing, the minute is not.
create table scim_tokens (
    id           uuid primary key default gen_random_uuid(),
    name         text not null check (length(name) between 1 and 200),
    token_hash   bytea not null unique check (length(token_hash) = 32),
    created_by   uuid references accounts (id) on delete set null,
    created_on   date not null default current_date,
    last_used_on date,
    revoked_on   date
);

-- A SCIM User is an account plus what the directory said about it, kept as the
-- directory sent it (so a read returns what was written). The account's own email,
-- display name and active flag are derived from these when the directory writes.
create table scim_users (
    account_id    uuid primary key references accounts (id) on delete cascade,
    user_name     text not null check (length(user_name) between 1 and 320),
    external_id   text,
    display_name  text,
    name          jsonb,
    emails        jsonb not null default '[]',
    active        boolean,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
-- userName is unique and compared without regard to case (RFC 7643 §4.1.1).
create unique index scim_users_user_name_key on scim_users (lower(user_name));

-- A group with a row here is managed by the directory: the admin API refuses to edit it.
create table scim_groups (
    group_id    uuid primary key references groups (id) on delete cascade,
    external_id text,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);
