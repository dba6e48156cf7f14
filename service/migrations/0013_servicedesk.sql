-- The service-desk connector (Request Tracker 5): which queue each service's tickets go
-- to, and one ticket per thread, created from an outbox by the housekeeping worker.
--
-- Staff-side data, like webhook_deliveries: a ticket row is made by an owner's action and
-- names that owner and the moment. What goes to the desk (payload) is the thread's title,
-- visible text and link, nothing else. The row's own random id is the idempotency key kept
-- in the ticket's subject, so a retry after a crash finds the ticket instead of making a
-- second one.

create table servicedesk_queues (
    service_id uuid primary key references services (id) on delete cascade,
    queue      text not null check (length(queue) between 1 and 200),
    updated_by uuid references accounts (id) on delete set null,
    updated_at timestamptz not null default now()
);

create table servicedesk_tickets (
    id              uuid primary key default gen_random_uuid(),
    -- One ticket per thread, however often staff press the button.
    thread_id       uuid not null unique references threads (id) on delete cascade,
    service_id      uuid not null references services (id) on delete cascade,
    queue           text not null,
    requested_by    uuid references accounts (id) on delete set null,
    payload         jsonb not null,
    -- pending: to be created; created: the desk has it; failed: given up (an owner may send again).
    state           text not null default 'pending' check (state in ('pending', 'created', 'failed')),
    attempts        integer not null default 0 check (attempts >= 0),
    last_error      text not null default '',
    next_attempt_at timestamptz not null default now(),
    ticket_ref      text,
    ticket_url      text,
    -- The desk's status as last seen (polled, or reported by the desk's signed callback),
    -- and the desk's transaction number of the last callback applied (older ones are replays).
    status          text,
    status_seq      bigint not null default 0,
    next_poll_at    timestamptz,
    created_at      timestamptz not null default now(),
    constraint servicedesk_tickets_created check ((state = 'created') = (ticket_ref is not null))
);
create index servicedesk_tickets_due_idx on servicedesk_tickets (next_attempt_at) where state = 'pending';
create index servicedesk_tickets_poll_idx on servicedesk_tickets (next_poll_at) where state = 'created';
create index servicedesk_tickets_ref_idx on servicedesk_tickets (ticket_ref) where ticket_ref is not null;
