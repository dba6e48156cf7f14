-- Instrument versions, content-addressed: the primary key is the SHA-256 of the
-- instrument's canonical encoding, so a changed instrument is a new row, and a row,
-- once written, is never updated (waves reference it by hash).

create table instruments (
    hash        text primary key check (hash ~ '^[0-9a-f]{64}$'),
    id          text not null,
    version     text not null,
    title       text not null,
    format      text not null,
    builtin     boolean not null,
    document    jsonb not null,
    uploaded_by uuid references accounts (id) on delete set null,
    created_at  timestamptz not null default now(),
    unique (id, version)
);

create function instruments_immutable() returns trigger language plpgsql as $$
begin
    raise exception 'instrument versions are immutable; upload a new version instead'
        using errcode = 'integrity_constraint_violation';
end $$;

create trigger instruments_no_update before update on instruments
    for each row execute function instruments_immutable();
