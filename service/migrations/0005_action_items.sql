-- Action items: what staff do about a ranked gap or a feedback thread, who owns it,
-- by when, what effect it is declared to have, and an activity log of every change.
--
-- Staff-side data: every row names identified staff and precise times (what staff
-- do is not anonymous). Nothing here references a response, a spent token or any
-- respondent; a thread is referenced only by its id, as staff see it.

create table action_items (
    id              uuid primary key default gen_random_uuid(),
    title           text not null check (length(title) between 1 and 200),
    description     text not null default '' check (length(description) <= 4000),
    -- Staff-only working notes: never shown on the members' "you said, we did" page.
    internal_notes  text not null default '' check (length(internal_notes) <= 4000),
    service_id      uuid not null references services (id),
    owner_id        uuid not null references accounts (id),
    -- Where it came from: a wave's ranked candidate (campaign + item/dimension key) or a thread.
    source          text not null check (source in ('candidate', 'thread')),
    campaign_id     uuid references campaigns (id),
    thread_id       uuid references threads (id) on delete set null,
    target_level    text not null check (target_level in ('item', 'dimension', 'thread')),
    target_key      text check (target_key is null or length(target_key) between 1 and 100),
    -- The candidate as the report ranked it when the item was created (gap, interval,
    -- priority, reason): a copy, so a later report cannot rewrite why the item exists.
    candidate       jsonb,
    due_on          date not null,
    status          text not null default 'proposed'
                    check (status in ('proposed', 'accepted', 'in_progress', 'done', 'wont_do')),
    wont_do_reason  text check (wont_do_reason is null or length(wont_do_reason) between 1 and 2000),
    -- The declared expected effect: which item's or dimension's gap of the baseline wave
    -- (campaign_id) should change, by how much (after - before, e.g. +0.5).
    expected_level  text check (expected_level in ('item', 'dimension')),
    expected_key    text check (expected_key is null or length(expected_key) between 1 and 100),
    expected_change double precision check (expected_change is null or expected_change between -20 and 20),
    created_by      uuid not null references accounts (id),
    created_at      timestamptz not null default clock_timestamp(),
    updated_at      timestamptz not null default clock_timestamp(),
    -- Set by the trigger below when the status moves, never by the application.
    accepted_at     timestamptz,
    started_at      timestamptz,
    done_at         timestamptz,
    closed_at       timestamptz,  -- done or won't do
    constraint action_items_source check (
        (source = 'candidate' and campaign_id is not null and target_level in ('item', 'dimension')
         and target_key is not null and candidate is not null)
        or (source = 'thread' and target_level = 'thread' and target_key is null)
    ),
    constraint action_items_wont_do check ((status = 'wont_do') = (wont_do_reason is not null)),
    constraint action_items_expected_whole check (
        (expected_level is null) = (expected_key is null) and (expected_level is null) = (expected_change is null)
    ),
    constraint action_items_expected_needs_wave check (expected_level is null or campaign_id is not null),
    -- An item measured against a wave cannot be accepted without saying what success is.
    constraint action_items_accept_declared check (
        status in ('proposed', 'wont_do') or campaign_id is null or expected_level is not null
    )
);
create index action_items_service_idx on action_items (service_id, status);
create index action_items_owner_idx on action_items (owner_id, status);
create index action_items_campaign_idx on action_items (campaign_id);
create index action_items_thread_idx on action_items (thread_id);

-- The workflow and its locks, enforced here whatever the application does:
-- proposed -> accepted -> in_progress -> done, or -> wont_do (with a reason) from any
-- open status; done and wont_do are final. Once an item leaves 'proposed', its declared
-- expected effect, its source and its baseline wave are frozen, so success cannot be
-- redefined after the fact.
create function action_items_workflow() returns trigger language plpgsql as $$
begin
    if old.status <> 'proposed' then
        if (new.expected_level, new.expected_key, new.expected_change, new.source, new.campaign_id,
            new.target_level, new.target_key, new.candidate, new.service_id)
           is distinct from
           (old.expected_level, old.expected_key, old.expected_change, old.source, old.campaign_id,
            old.target_level, old.target_key, old.candidate, old.service_id) then
            raise exception 'the expected effect and target of an accepted action item cannot change'
                using errcode = 'integrity_constraint_violation';
        end if;
    end if;
    if new.status is distinct from old.status then
        if not ((old.status = 'proposed' and new.status in ('accepted', 'wont_do'))
                or (old.status = 'accepted' and new.status in ('in_progress', 'wont_do'))
                or (old.status = 'in_progress' and new.status in ('done', 'wont_do'))) then
            raise exception 'an action item cannot go from % to %', old.status, new.status
                using errcode = 'integrity_constraint_violation';
        end if;
        if new.status = 'accepted' then new.accepted_at := clock_timestamp(); end if;
        if new.status = 'in_progress' then new.started_at := clock_timestamp(); end if;
        if new.status = 'done' then new.done_at := clock_timestamp(); end if;
        if new.status in ('done', 'wont_do') then new.closed_at := clock_timestamp(); end if;
    elsif (new.accepted_at, new.started_at, new.done_at, new.closed_at)
          is distinct from (old.accepted_at, old.started_at, old.done_at, old.closed_at) then
        raise exception 'status times are set only by status changes'
            using errcode = 'integrity_constraint_violation';
    end if;
    if old.status in ('done', 'wont_do') and (new.title, new.description, new.owner_id, new.due_on, new.wont_do_reason)
            is distinct from (old.title, old.description, old.owner_id, old.due_on, old.wont_do_reason) then
        raise exception 'a closed action item cannot change' using errcode = 'integrity_constraint_violation';
    end if;
    new.updated_at := clock_timestamp();
    return new;
end $$;

create trigger action_items_workflow before update on action_items
    for each row execute function action_items_workflow();

-- Every change: who (a staff account), the precise moment, what changed (old and new
-- values of each field) and the note given. Append-only.
create table action_activity (
    id          uuid primary key default gen_random_uuid(),
    action_id   uuid not null references action_items (id) on delete cascade,
    actor_id    uuid not null references accounts (id),
    at          timestamptz not null default clock_timestamp(),
    kind        text not null check (kind in ('create', 'edit', 'status')),
    from_status text,
    to_status   text,
    changes     jsonb not null default '{}'::jsonb,
    note        text not null default '' check (length(note) <= 2000)
);
create index action_activity_action_idx on action_activity (action_id, at);

create function action_activity_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the action activity log is append-only' using errcode = 'integrity_constraint_violation';
end $$;

create trigger action_activity_append_only before update on action_activity
    for each row execute function action_activity_append_only();
