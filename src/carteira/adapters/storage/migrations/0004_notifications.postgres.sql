-- carteira schema version 4, PostgreSQL dialect: the gateway's notification tokens (G6, G6a; decision 0344).

-- One token, stored the moment the gateway calls with it, before its events are fetched. COLLATE "C":
-- tokens order by code point, as in Python, SQLite and MemoryStore, whatever the database's collation.
CREATE TABLE notifications (
    token TEXT COLLATE "C" PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    deliveries INTEGER NOT NULL CHECK (deliveries >= 1),
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at TIMESTAMPTZ,
    processed_at TIMESTAMPTZ,
    error TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
-- due(): the few tokens still pending, in the order workers take them.
CREATE INDEX notifications_due ON notifications (received_at, token, next_attempt_at)
    WHERE status = 'pending';
-- with_status(): newest first.
CREATE INDEX notifications_received ON notifications (status, received_at DESC, token DESC);

-- Decision 0343 orders operations and gateway charges by id under COLLATE "C" (code points, as in
-- Python, SQLite and MemoryStore); schema 3 declared them with the database's collation.
ALTER TABLE operations ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE gateway_charges ALTER COLUMN installment_id TYPE TEXT COLLATE "C";
