-- Accounts, roles, sessions, login throttling, groups and the IT service catalogue.
-- Staff-side data: these tables are about identified people and never reference
-- anything anonymous (responses, spent tokens, threads).

create table accounts (
    id            uuid primary key default gen_random_uuid(),
    email         text not null,
    display_name  text not null,
    password_hash text not null,
    roles         text[] not null default '{member}',
    active        boolean not null default true,
    created_at    timestamptz not null default now(),
    constraint accounts_roles_known check (
        roles <@ array['member', 'owner', 'manager', 'moderator', 'admin']::text[]
    ),
    constraint accounts_email_shape check (email = lower(email) and position('@' in email) > 1)
);
create unique index accounts_email_key on accounts (email);

-- The cookie holds a random token; only its SHA-256 is stored, so a database dump
-- cannot be replayed as a live session.
create table sessions (
    token_hash   bytea primary key,
    account_id   uuid not null references accounts (id) on delete cascade,
    csrf_token   text not null,
    created_at   timestamptz not null default now(),
    last_seen_at timestamptz not null default now()
);
create index sessions_account_idx on sessions (account_id);

-- Failed logins per HMAC(email): the same row for an unknown address and a wrong
-- password, so throttling does not reveal which accounts exist.
create table login_throttle (
    email_key      bytea primary key,
    failures       integer not null,
    window_started timestamptz not null
);

create table groups (
    id          uuid primary key default gen_random_uuid(),
    name        text not null,
    description text not null default '',
    created_at  timestamptz not null default now()
);
create unique index groups_name_key on groups (lower(name));

create table group_members (
    group_id   uuid not null references groups (id) on delete cascade,
    account_id uuid not null references accounts (id) on delete cascade,
    primary key (group_id, account_id)
);
create index group_members_account_idx on group_members (account_id);

create table services (
    id                     uuid primary key default gen_random_uuid(),
    name                   text not null,
    description            text not null default '',
    sla_first_answer_hours integer not null default 24 check (sla_first_answer_hours > 0),
    sla_action_days        integer not null default 30 check (sla_action_days > 0),
    archived               boolean not null default false,
    created_at             timestamptz not null default now()
);
create unique index services_name_key on services (lower(name));

create table service_owners (
    service_id uuid not null references services (id) on delete cascade,
    account_id uuid not null references accounts (id) on delete cascade,
    primary key (service_id, account_id)
);
create index service_owners_account_idx on service_owners (account_id);

-- Set once when `make run` seeds the demo organisation into an empty database.
create table demo_seed (
    singleton boolean primary key default true check (singleton),
    seeded_on date not null default current_date
);
