-- The key transparency log (issue 15): every issuer key ever used, appended once, never
-- changed, in an RFC 9162 Merkle tree whose heads the log key signs.
--
-- Keys are public and so is the log: an entry names a wave (its id) or a thread month,
-- the key and the day it was first used, nothing about any person. Rows here are
-- appended by service.transparency under a table lock in the same transaction that
-- opens the wave or stores the month's key, so the log and the keys never disagree.

-- The log's Ed25519 key: one row. The private half is AES-256-GCM under
-- CANDOR_KEY_ENCRYPTION_KEY with associated data naming this row (as the issuer keys).
create table transparency_log_key (
    singleton   boolean primary key default true check (singleton),
    public_key  bytea not null check (length(public_key) = 32),
    private_key bytea not null,
    created_on  date not null default current_date
);

-- One entry per issuer key. `entry` is the canonical JSON the leaf hash covers; the
-- columns beside it are for look-ups. No foreign keys: the log outlives whatever it
-- names, and a cascade would be a delete, which the trigger below refuses.
create table transparency_entries (
    leaf_index   bigint primary key check (leaf_index >= 0),
    token_key_id bytea not null unique check (length(token_key_id) = 32),
    kind         text not null check (kind in ('wave', 'thread-period')),
    campaign_id  uuid unique,
    period       date unique check (extract(day from period) = 1),
    entry        bytea not null,
    leaf_hash    bytea not null check (leaf_hash = sha256('\x00'::bytea || entry)),
    -- One key per wave and per month, enforced here whatever the application does.
    constraint transparency_entries_owner check (
        (kind = 'wave' and campaign_id is not null and period is null)
        or (kind = 'thread-period' and period is not null and campaign_id is null)
    )
);

-- Signed tree heads, one per size the log has had (size 0: the empty log).
create table transparency_tree_heads (
    tree_size bigint primary key check (tree_size >= 0),
    root_hash bytea not null check (length(root_hash) = 32),
    issued_on date not null default current_date,
    signature bytea not null check (length(signature) = 64)
);

-- Appending only at the end: the next leaf index, and a head for the size the log has.
create function transparency_entries_next() returns trigger language plpgsql as $$
begin
    if new.leaf_index <> coalesce((select max(leaf_index) + 1 from transparency_entries), 0) then
        raise exception 'transparency log entries are appended at the end (index % refused)', new.leaf_index
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end $$;

create trigger transparency_entries_next before insert on transparency_entries
    for each row execute function transparency_entries_next();

create function transparency_heads_size() returns trigger language plpgsql as $$
begin
    if new.tree_size <> (select count(*) from transparency_entries) then
        raise exception 'a tree head of size % does not match the log', new.tree_size
            using errcode = 'integrity_constraint_violation';
    end if;
    return new;
end $$;

create trigger transparency_heads_size before insert on transparency_tree_heads
    for each row execute function transparency_heads_size();

create function transparency_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'the transparency log is append-only (% on % refused)', tg_op, tg_table_name
        using errcode = 'insufficient_privilege';
end $$;

create trigger transparency_log_key_frozen before update or delete on transparency_log_key
    for each row execute function transparency_append_only();
create trigger transparency_log_key_no_truncate before truncate on transparency_log_key
    for each statement execute function transparency_append_only();
create trigger transparency_entries_append_only before update or delete on transparency_entries
    for each row execute function transparency_append_only();
create trigger transparency_entries_no_truncate before truncate on transparency_entries
    for each statement execute function transparency_append_only();
create trigger transparency_heads_append_only before update or delete on transparency_tree_heads
    for each row execute function transparency_append_only();
create trigger transparency_heads_no_truncate before truncate on transparency_tree_heads
    for each statement execute function transparency_append_only();
