-- Reports at a million responses (issue 19): what a report reads of each response,
-- compact and ready to copy.
--
-- Sending a smallint[] goes through the array output function element by element: for
-- a million responses that alone took the server seconds. answer_codes holds the same
-- answers as big-endian int16 values (items, then importance, then satisfaction, in the
-- instrument's order; -32768 for null, never a stored answer), two bytes each, so a
-- wave's answers leave the server as one binary COPY of equal-length byte strings
-- (service/queries/reports.py copy_answer_codes). It is a generated column: computed
-- from the arrays on every insert (submissions, the scrub pass's re-insert, imports),
-- so it can never disagree with them, and it carries nothing the arrays do not: no
-- time, no order.
create function answer_codes(item_values smallint[], importance smallint[], satisfaction smallint[])
    returns bytea language sql immutable parallel safe
return (
    select coalesce(string_agg(int2send(coalesce(x, (-32768)::smallint)), ''::bytea order by i), ''::bytea)
    from unnest(item_values || coalesce(importance, '{}') || coalesce(satisfaction, '{}')) with ordinality as u (x, i)
);

alter table responses add column answer_codes bytea
    generated always as (answer_codes(item_values, importance, satisfaction)) stored;

-- The comments are read apart from the answers, through this partial index: a wave
-- with few comments reads only those rows instead of scanning every response's jsonb
-- again. Like responses_campaign_idx it keys on the wave alone.
create index responses_commented_idx on responses (campaign_id) where comments <> '{}'::jsonb;
