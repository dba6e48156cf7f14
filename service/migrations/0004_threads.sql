-- Two-way anonymous conversations: feedback threads, staff replies, moderation, the
-- public board, per-month thread tokens and outgoing service-desk webhooks.
--
-- As for waves, the two sides never meet. Issuance rows name an account, a month and
-- a count. Anonymous rows (thread_spent_tokens, threads, author messages) carry a
-- random UUID, a date at most, a per-thread sequence number and no account. Staff
-- rows (staff messages, thread_audit, webhooks) name the staff account and a precise
-- time: what staff do is not anonymous.

-- One issuer key per calendar month, generated on first use; private key wrapped
-- with CANDOR_KEY_ENCRYPTION_KEY and bound to its month (AES-GCM associated data).
create table thread_periods (
    period       date primary key check (extract(day from period) = 1),
    token_key    bytea not null,          -- RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 §6.5)
    token_key_id bytea not null unique,   -- SHA-256 of token_key
    challenge    bytea not null,          -- TokenChallenge with a random redemption context
    private_key  bytea not null
);

-- Issuance side: how many thread tokens an account got in a month. Nothing finer.
create table thread_token_issuances (
    period     date not null references thread_periods (period),
    account_id uuid not null references accounts (id) on delete cascade,
    issued     integer not null check (issued > 0),
    primary key (period, account_id)
);

-- Anonymous side. A spent nonce carries nothing but its month.
create table thread_spent_tokens (
    period date not null references thread_periods (period),
    nonce  bytea not null check (length(nonce) = 32),
    primary key (period, nonce)
);

create table threads (
    id              uuid primary key default gen_random_uuid(),
    service_id      uuid not null references services (id),
    -- HMAC-SHA256(CANDOR_SECRET_KEY, normalised thread secret): a dump alone cannot be
    -- turned back into secrets, even by trying every phrase, without the key.
    secret_hash     bytea not null unique check (length(secret_hash) = 32),
    category        text not null check (category in ('problem', 'idea', 'question', 'praise')),
    title           text not null check (length(title) between 1 and 200),
    opened_on       date not null default current_date,
    staff_status    text not null default 'new' check (staff_status in ('new', 'acknowledged', 'answered')),
    resolved        boolean not null default false,
    -- Read marker: the author has read up to this message number (never a time).
    author_read_seq integer not null default 0 check (author_read_seq >= 0),
    -- Public board: a request (by staff), a moderator's decision and the author's consent.
    -- Public exactly when approved and consented.
    publish_requested boolean not null default false,
    publish_approved  boolean not null default false,
    author_consent    boolean not null default false,
    search          tsvector generated always as (to_tsvector('english', title)) stored
);
create index threads_service_idx on threads (service_id);
create index threads_search_idx on threads using gin (search);

-- Messages in a thread, numbered 1, 2, … per thread (no global order). An author's
-- message has no account and no time but the date; a staff message names its writer
-- and the moment. A hidden message keeps its text (never edited); the reason is shown.
create table thread_messages (
    id            uuid primary key default gen_random_uuid(),
    thread_id     uuid not null references threads (id) on delete cascade,
    seq           integer not null check (seq >= 1),
    from_staff    boolean not null,
    staff_id      uuid references accounts (id),
    body          text not null check (length(body) between 1 and 10000),
    posted_on     date not null default current_date,
    posted_at     timestamptz,
    hidden_reason text check (hidden_reason is null or length(hidden_reason) between 1 and 1000),
    search        tsvector generated always as (to_tsvector('english', body)) stored,
    unique (thread_id, seq),
    constraint thread_messages_sides check (
        (from_staff and staff_id is not null and posted_at is not null)
        or (not from_staff and staff_id is null and posted_at is null)
    )
);
create index thread_messages_search_idx on thread_messages using gin (search);

-- Every staff action on a thread (status changes, publication decisions, hiding,
-- tickets): who, what, when, why. Moderation actions are the moderation audit log.
create table thread_audit (
    id         uuid primary key default gen_random_uuid(),
    thread_id  uuid not null references threads (id) on delete cascade,
    message_id uuid references thread_messages (id) on delete cascade,
    actor_id   uuid not null references accounts (id),
    action     text not null check (action in (
        'acknowledge', 'answer', 'request-publication', 'approve-publication', 'reject-publication',
        'withdraw-publication', 'hide-message', 'send-ticket')),
    reason     text not null default '',
    at         timestamptz not null default now()
);
create index thread_audit_thread_idx on thread_audit (thread_id, at);
create index thread_audit_at_idx on thread_audit (at);

-- Guessing thread secrets: failed look-ups per minute, for the whole service. No
-- address, no thread (it is unknown), nothing but a count.
create table thread_secret_failures (
    minute   timestamptz primary key,
    failures integer not null
);

-- Outgoing service-desk webhook per service; the signing secret is wrapped with
-- CANDOR_KEY_ENCRYPTION_KEY like issuer keys.
create table service_webhooks (
    service_id uuid primary key references services (id) on delete cascade,
    url        text not null check (url ~ '^https?://'),
    secret     bytea not null,
    active     boolean not null default true,
    updated_by uuid references accounts (id) on delete set null,
    updated_at timestamptz not null default now()
);

create table webhook_deliveries (
    id              uuid primary key default gen_random_uuid(),
    service_id      uuid not null references services (id) on delete cascade,
    thread_id       uuid not null references threads (id) on delete cascade,
    requested_by    uuid references accounts (id) on delete set null,
    payload         jsonb not null,
    state           text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
    attempts        integer not null default 0,
    last_status     integer,
    last_error      text not null default '',
    next_attempt_at timestamptz not null default now(),
    created_at      timestamptz not null default now(),
    delivered_at    timestamptz
);
create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where state = 'pending';
create index webhook_deliveries_service_idx on webhook_deliveries (service_id, created_at);
