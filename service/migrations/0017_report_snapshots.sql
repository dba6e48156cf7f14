-- A closed wave's report per language, computed once (service.report_snapshots): the
-- statistics a reader of the report sees anyway, msgpack-encoded. `version` hashes the
-- code and catalogs that made it, `context` the previous wave and audience it used; a
-- snapshot that matches neither is made again. No time and no order: nothing here is
-- finer than the wave it belongs to, and it goes with its wave.
create table report_snapshots (
    campaign_id uuid not null references campaigns (id) on delete cascade,
    language text not null check (language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
    version text not null,
    context text not null,
    body bytea not null,
    primary key (campaign_id, language)
);
