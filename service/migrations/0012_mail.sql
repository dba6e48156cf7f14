-- E-mail: the outbox the housekeeping worker sends from, members' reminder opt-outs,
-- and the bookkeeping that makes every notice go out once however many replicas run.
--
-- Identity-side data only. A mail names its recipient (an account's address) and says
-- what a wave or a thread is about; nothing here names an answer, a spent token, a
-- thread's author or a message's text. Days where a day is enough; the retry schedule
-- keeps a time (it is not next to anything anonymous), and sent mail is purged after a
-- retention period.

create table mail_outbox (
    id              uuid primary key default gen_random_uuid(),
    recipient       text not null check (position('@' in recipient) > 1),
    kind            text not null check (kind in ('invitation', 'reminder', 'thread-notice')),
    subject         text not null,
    text_body       text not null,
    html_body       text not null,
    -- pending: to be sent; held: kept for the development mailbox (no SMTP configured),
    -- never sent; sent; failed: given up after the last attempt or a permanent refusal.
    state           text not null default 'pending' check (state in ('pending', 'held', 'sent', 'failed')),
    attempts        integer not null default 0 check (attempts >= 0),
    next_attempt_at timestamptz not null default now(),
    last_error      text not null default '',
    queued_on       date not null default current_date,
    sent_on         date
);
create index mail_outbox_due_idx on mail_outbox (next_attempt_at) where state = 'pending';
create index mail_outbox_queued_idx on mail_outbox (queued_on);

-- Members who want no reminders (invitations still go out). Presence is the opt-out.
create table mail_reminder_opt_outs (
    account_id uuid primary key references accounts (id) on delete cascade
);

-- The day a wave's invitations were queued: reminders count from it and never come
-- before it.
create table mail_wave_invitations (
    campaign_id uuid primary key references campaigns (id) on delete cascade,
    queued_on   date not null
);

-- One row per wave and reminder offset (CANDOR_MAIL_REMINDER_DAYS): the transaction that
-- inserts it queues that reminder's mail, so a second run or replica finds it and sends
-- nothing. Which members were reminded is not kept: the outbox row says it until purged.
create table mail_wave_reminders (
    campaign_id uuid not null references campaigns (id) on delete cascade,
    day_offset  integer not null,
    queued_on   date not null,
    primary key (campaign_id, day_offset)
);

-- Thread notices: up to which message each thread's owners were told about. Filled by
-- the periodic notice job, never by the author's request, so no row here is written in
-- an author's transaction or carries a time finer than that job's interval.
create table mail_thread_notices (
    thread_id    uuid primary key references threads (id) on delete cascade,
    notified_seq integer not null check (notified_seq >= 1)
);
-- When the thread-notice job last ran, whichever replica ran it: notices go out at most
-- once per scrub window across all replicas, not once per replica.
create table mail_notice_rounds (
    singleton boolean primary key default true check (singleton),
    last_run  timestamptz not null
);

-- Threads that exist when mail arrives are not news.
insert into mail_thread_notices (thread_id, notified_seq)
select thread_id, max(seq) from thread_messages group by thread_id;
