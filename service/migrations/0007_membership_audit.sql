-- Audience subtraction and sock puppets.
--
-- Two waves of one service whose audiences differ by fewer than k people can be
-- subtracted to single those people out, so opening a wave looks back at the waves of
-- its service opened recently; that needs the day each wave opened. And whoever pads
-- a group with accounts they control can shrink that difference at will, so every
-- membership change lands in an append-only trail that admins can read.

-- Staff-side wave metadata, a date only. Set by the trigger below when a wave opens.
alter table campaigns add column opened_on date;

-- Waves opened before this migration: the day they were meant to open is the best
-- estimate left (the old trigger does not freeze this new column, so this passes).
update campaigns set opened_on = opens_on where status <> 'draft';

alter table campaigns add constraint campaigns_opened_on check (status = 'draft' or opened_on is not null);

-- As in 0003, plus: opening stamps opened_on (whoever opens the wave, the API, the demo
-- seed or the benchmark), and it is frozen afterwards like the rest of the manifest.
create or replace function campaigns_freeze() returns trigger language plpgsql as $$
begin
    if old.status = 'draft' then
        if new.status <> 'draft' then
            new.opened_on := current_date;
        else
            new.opened_on := null;
        end if;
    else
        if (new.title, new.description, new.service_id, new.instrument_hash, new.audience_group_id,
            new.opens_on, new.closes_on, new.k_scores, new.k_comments, new.manifest, new.manifest_hash,
            new.token_key, new.token_key_id, new.challenge, new.private_key, new.audience_size, new.opened_on)
           is distinct from
           (old.title, old.description, old.service_id, old.instrument_hash, old.audience_group_id,
            old.opens_on, old.closes_on, old.k_scores, old.k_comments, old.manifest, old.manifest_hash,
            old.token_key, old.token_key_id, old.challenge, old.private_key, old.audience_size, old.opened_on) then
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

-- A wave inserted as already open (nothing does this today) gets its day too.
create function campaigns_opened_on() returns trigger language plpgsql as $$
begin
    new.opened_on := case when new.status = 'draft' then null else current_date end;
    return new;
end $$;

create trigger campaigns_opened_on before insert on campaigns
    for each row execute function campaigns_opened_on();

create index campaigns_service_opened_idx on campaigns (service_id, opened_on);

-- Who changed which group's membership, how, where from, and on what day (no finer
-- time). No foreign keys: the trail outlives the groups and accounts it names, and a
-- cascade would be a delete, which the trigger below refuses. `seq` only orders the
-- changes of one day as they happened (staff-side, never near anonymous rows).
create table group_membership_audit (
    seq        bigint generated always as identity primary key,
    changed_on date not null default current_date,
    group_id   uuid not null,
    account_id uuid not null,
    change     text not null check (change in ('added', 'removed')),
    actor_id   uuid,            -- the acting account; null for the demo seed
    source     text not null check (source in ('admin', 'scim', 'oidc', 'demo'))
);
create index group_membership_audit_group_idx on group_membership_audit (group_id, seq);

create function group_membership_audit_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the group membership audit trail is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
end $$;

create trigger group_membership_audit_append_only before update or delete on group_membership_audit
    for each row execute function group_membership_audit_append_only();
create trigger group_membership_audit_no_truncate before truncate on group_membership_audit
    for each statement execute function group_membership_audit_append_only();
