-- carteira schema version 7, SQLite dialect: a return record's flags and who acknowledged them, when (#14;
-- decision 0718).

-- flags: what the file's own checks found odd about the record (a JSON list of texts such as "sum:paid"),
-- written at import and never changed; '[]' for the records stored before, which were never checked.
-- acknowledged_by / acknowledged_at: the person who acknowledged the flags and when, both NULL until then;
-- confirm settles a flagged record only once they are set.
ALTER TABLE batch_records ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE batch_records ADD COLUMN acknowledged_by TEXT;
ALTER TABLE batch_records ADD COLUMN acknowledged_at TEXT;
