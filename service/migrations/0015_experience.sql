-- The IT experience measures (instruments.schema.Measure): satisfaction (CSAT), customer
-- effort (CES), minutes lost and likelihood to recommend, one value per measure in the
-- instrument's order, null where a respondent left an optional measure out; the column
-- is null for instruments without measures. integer, not smallint like the other
-- arrays: minutes lost may go up to the instrument's bound (10,000 in the library).
-- Like every answer column it carries no time and no order (the scrub pass rewrites it).
alter table responses add column measures integer[];
