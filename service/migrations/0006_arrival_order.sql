-- No time finer than the wave, and no arrival order older than the scrub window.
--
-- 1. Anonymous and issuance rows of waves lose their dates: on a quiet day one
--    issuance and one response on the same date linked them. A receipt names the wave.
--    Threads keep their opening date and messages their posting date (SLA metrics);
--    thread issuance keeps only its month, the budget's key.
-- 2. Every anonymous and issuance row starts out "not scrubbed". The housekeeping pass
--    (service/scrub.py) rewrites those rows in random order in one transaction and
--    marks them scrubbed, so their transaction id (xmin) and physical position (ctid)
--    no longer say in which order they arrived; an update (a thread's status, a month's
--    issuance count) gives a row a fresh xmin, so it marks the row for the next pass too.
-- 3. Rows that point at threads and author messages are checked at commit during that
--    pass (deferrable, no cascade), because it deletes and re-inserts them in one transaction.
-- 4. Sessions keep times in 5-minute steps, so sign-ins cannot map transaction ids to
--    wall time finer than that.

alter table responses drop column submitted_on;
alter table token_issuances drop column issued_on;

alter table responses add column scrubbed boolean not null default false;
alter table spent_tokens add column scrubbed boolean not null default false;
alter table token_issuances add column scrubbed boolean not null default false;
alter table threads add column scrubbed boolean not null default false;
alter table thread_messages add column scrubbed boolean not null default false;
alter table thread_spent_tokens add column scrubbed boolean not null default false;
alter table thread_token_issuances add column scrubbed boolean not null default false;

-- Small: only what arrived since the previous pass is in them.
create index responses_unscrubbed_idx on responses (campaign_id) where not scrubbed;
create index spent_tokens_unscrubbed_idx on spent_tokens (campaign_id) where not scrubbed;
create index token_issuances_unscrubbed_idx on token_issuances (campaign_id) where not scrubbed;
create index threads_unscrubbed_idx on threads (service_id) where not scrubbed;
create index thread_messages_unscrubbed_idx on thread_messages (thread_id) where not scrubbed;
create index thread_spent_tokens_unscrubbed_idx on thread_spent_tokens (period) where not scrubbed;
create index thread_token_issuances_unscrubbed_idx on thread_token_issuances (period) where not scrubbed;

create function arrival_unscrubbed() returns trigger language plpgsql as $$
begin
    -- A new row version carries the updating transaction's id: it joins the next pass.
    new.scrubbed := false;
    return new;
end $$;

create trigger responses_unscrubbed before update on responses
    for each row execute function arrival_unscrubbed();
create trigger spent_tokens_unscrubbed before update on spent_tokens
    for each row execute function arrival_unscrubbed();
create trigger token_issuances_unscrubbed before update on token_issuances
    for each row execute function arrival_unscrubbed();
create trigger threads_unscrubbed before update on threads
    for each row execute function arrival_unscrubbed();
create trigger thread_messages_unscrubbed before update on thread_messages
    for each row execute function arrival_unscrubbed();
create trigger thread_spent_tokens_unscrubbed before update on thread_spent_tokens
    for each row execute function arrival_unscrubbed();
create trigger thread_token_issuances_unscrubbed before update on thread_token_issuances
    for each row execute function arrival_unscrubbed();

-- A cascade would fire on the pass's delete; "no action", checked at commit when the
-- pass defers it, only asks that the thread (or message) exists again by then.
-- Threads and messages are never deleted by the application.
alter table thread_messages drop constraint thread_messages_thread_id_fkey,
    add constraint thread_messages_thread_id_fkey foreign key (thread_id) references threads (id)
        deferrable initially immediate;
alter table thread_audit drop constraint thread_audit_thread_id_fkey,
    add constraint thread_audit_thread_id_fkey foreign key (thread_id) references threads (id)
        deferrable initially immediate;
alter table thread_audit drop constraint thread_audit_message_id_fkey,
    add constraint thread_audit_message_id_fkey foreign key (message_id) references thread_messages (id)
        deferrable initially immediate;
alter table webhook_deliveries drop constraint webhook_deliveries_thread_id_fkey,
    add constraint webhook_deliveries_thread_id_fkey foreign key (thread_id) references threads (id)
        deferrable initially immediate;
alter table action_items drop constraint action_items_thread_id_fkey,
    add constraint action_items_thread_id_fkey foreign key (thread_id) references threads (id)
        deferrable initially immediate;

-- Sessions: created and last seen in 5-minute steps, whatever writes them (a trigger,
-- so no code path can store a finer time). A step counts from its start.
create function coarse_time(t timestamptz) returns timestamptz language sql immutable parallel safe
    return date_bin('5 minutes', t, timestamptz '1970-01-01 00:00:00+00');

create function sessions_coarse() returns trigger language plpgsql as $$
begin
    new.created_at := coarse_time(new.created_at);
    new.last_seen_at := coarse_time(new.last_seen_at);
    return new;
end $$;

create trigger sessions_coarse before insert or update on sessions
    for each row execute function sessions_coarse();

update sessions set created_at = created_at, last_seen_at = last_seen_at;
