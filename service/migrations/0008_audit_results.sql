-- The latest `candor audit` result, stored by the app at start-up and shown on the
-- privacy page. One row, replaced each time: a history of audits is not needed (anyone
-- can run the audit again) and the date is a day, like everything else near anonymous rows.
create table audit_results (
    singleton  boolean primary key default true check (singleton),
    checked_on date not null,
    ok         boolean not null,
    -- The whole report as `candor audit --format json` prints it.
    result     jsonb not null
);
