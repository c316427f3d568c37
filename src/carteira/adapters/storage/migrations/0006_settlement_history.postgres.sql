-- carteira schema version 6, PostgreSQL dialect: the receipt's history code on each settlement (#13; decision 0346).

-- The ERP's history code the receipt was recorded under (the gateway account's receipt history for a
-- payment the gateway notified); NULL for the settlements stored before, and for those nobody gave one.
-- Adding a nullable column without a default rewrites no row: instant on a large table.
ALTER TABLE settlements ADD COLUMN history TEXT;
