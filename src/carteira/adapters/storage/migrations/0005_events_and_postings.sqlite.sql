-- carteira schema version 5, SQLite dialect: seen notification events and postings (#13; decision 0345).

-- Instants are ISO text in UTC, always 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' (32 characters), as in
-- schema 3, so comparing the text compares the instants and an index orders them; text keys compare
-- as bytes (BINARY), so they order by code point, as in Python.

-- One event behind a notification token, recorded once it was processed. The primary key is what
-- makes processing exactly-once: two workers recording one event leave one row.
CREATE TABLE seen_events (
    token TEXT NOT NULL,
    event_id INTEGER NOT NULL CHECK (event_id >= 0),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    charge_id TEXT,
    installment_id TEXT,
    settlement_id TEXT,
    flagged INTEGER NOT NULL CHECK (flagged IN (0, 1)),
    note TEXT NOT NULL,
    PRIMARY KEY (token, event_id)
);
-- of_charges(): the panel's events of a few charges.
CREATE INDEX seen_events_charge ON seen_events (charge_id);
-- flagged(): the few events a person must look at, newest first (the query says "WHERE flagged" too).
CREATE INDEX seen_events_flagged ON seen_events (seen_at DESC, token DESC, event_id DESC) WHERE flagged;

-- Postings are append-only; seq keeps the order they were recorded in (of_settlement), id is the key.
CREATE TABLE postings (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    on_date TEXT NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    account TEXT NOT NULL,
    history TEXT NOT NULL,
    settlement_id TEXT NOT NULL,
    charge_id TEXT,
    reverses TEXT
);
-- of_settlement(): a settlement's postings in the order recorded.
CREATE INDEX postings_settlement ON postings (settlement_id, seq);
-- find(): a range of dates, ordered by (date, id).
CREATE INDEX postings_on ON postings (on_date, id);
