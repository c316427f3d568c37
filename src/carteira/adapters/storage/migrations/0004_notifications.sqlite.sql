-- carteira schema version 4, SQLite dialect: the gateway's notification tokens (G6, G6a; decision 0344).

-- Instants are ISO text in UTC, always 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' (32 characters), as in
-- schema 3, so comparing the text compares the instants and an index orders them.

-- One token, stored the moment the gateway calls with it, before its events are fetched; text keys
-- compare as bytes (BINARY), so tokens order by code point, as in Python.
CREATE TABLE notifications (
    token TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL,
    deliveries INTEGER NOT NULL CHECK (deliveries >= 1),
    attempts INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at TEXT,
    processed_at TEXT,
    error TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
-- due(): the few tokens still pending, in the order workers take them.
CREATE INDEX notifications_due ON notifications (received_at, token, next_attempt_at)
    WHERE status = 'pending';
-- with_status(): newest first.
CREATE INDEX notifications_received ON notifications (status, received_at DESC, token DESC);
