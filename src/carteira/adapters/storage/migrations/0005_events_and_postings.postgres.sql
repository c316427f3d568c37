-- carteira schema version 5, PostgreSQL dialect: seen notification events and postings (#13; decision 0345).

-- One event behind a notification token, recorded once it was processed. The primary key is what
-- makes processing exactly-once: two workers recording one event leave one row. COLLATE "C": keys
-- order by code point, as in Python, SQLite and MemoryStore (decision 0343).
CREATE TABLE seen_events (
    token TEXT COLLATE "C" NOT NULL,
    event_id BIGINT NOT NULL CHECK (event_id >= 0),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    seen_at TIMESTAMPTZ NOT NULL,
    charge_id TEXT COLLATE "C",
    installment_id TEXT COLLATE "C",
    settlement_id TEXT COLLATE "C",
    flagged BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    PRIMARY KEY (token, event_id)
);
-- of_charges(): the panel's events of a few charges.
CREATE INDEX seen_events_charge ON seen_events (charge_id);
-- flagged(): the few events a person must look at, newest first.
CREATE INDEX seen_events_flagged ON seen_events (seen_at DESC, token DESC, event_id DESC) WHERE flagged;

-- Postings are append-only; seq keeps the order they were recorded in (of_settlement), id is the key.
CREATE TABLE postings (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT COLLATE "C" NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    on_date DATE NOT NULL,
    amount_cents BIGINT NOT NULL CHECK (amount_cents > 0),
    account TEXT COLLATE "C" NOT NULL,
    history TEXT COLLATE "C" NOT NULL,
    settlement_id TEXT COLLATE "C" NOT NULL,
    charge_id TEXT COLLATE "C",
    reverses TEXT COLLATE "C"
);
-- of_settlement(): a settlement's postings in the order recorded.
CREATE INDEX postings_settlement ON postings (settlement_id, seq);
-- find(): a range of dates, ordered by (date, id).
CREATE INDEX postings_on ON postings (on_date, id);
