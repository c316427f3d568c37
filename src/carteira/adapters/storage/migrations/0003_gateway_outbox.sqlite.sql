-- carteira schema version 3, SQLite dialect: the gateway account, the operations log (an outbox)
-- and which gateway charge each installment is (G1, G8, G2-G3; decision 0343).
-- Instants are ISO text in UTC, always 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00' (32 characters), so
-- comparing the text compares the instants and an index orders them.

-- The portfolio's one account at the gateway (id = 1); its secret is never stored.
CREATE TABLE gateway_account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    client_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    agreement_id TEXT NOT NULL,
    agreement_bank_code TEXT NOT NULL,
    bank_account TEXT NOT NULL,
    payment_fee_cents INTEGER NOT NULL,
    receipt_history TEXT NOT NULL,
    entries_history TEXT NOT NULL,
    fees_history TEXT NOT NULL,
    active INTEGER NOT NULL,
    notify TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);

-- One operation. Its error is four columns (error_message NULL: no error); the gateway's code is
-- kept as text with error_code_is_number saying whether it was a number. arguments and warnings
-- are JSON text; flagged is Operation.flagged, written with every row, so the panel's filter is SQL.
CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    response TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    error_message TEXT,
    error_code TEXT,
    error_code_is_number INTEGER,
    error_field TEXT,
    error_retryable INTEGER,
    sent_at TEXT,
    next_attempt_at TEXT,
    unknown_since TEXT,
    customer_id TEXT,
    arguments TEXT NOT NULL,
    warnings TEXT NOT NULL,
    document_reversed INTEGER NOT NULL,
    flagged INTEGER NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    CHECK ((error_code IS NULL) = (error_code_is_number IS NULL)),
    CHECK ((error_message IS NULL) = (error_retryable IS NULL)),
    CHECK (error_message IS NOT NULL OR (error_code IS NULL AND error_field IS NULL))
);
-- due(): the few operations still to send or look up, in the order workers take them.
CREATE INDEX operations_due ON operations (created_at, id, next_attempt_at)
    WHERE status IN ('pending', 'unknown');
-- find(): newest first.
CREATE INDEX operations_created ON operations (created_at DESC, id DESC);
CREATE INDEX operations_customer ON operations (customer_id, created_at);
-- count_sent_since(): the gateway's daily limit (G11).
CREATE INDEX operations_sent ON operations (kind, sent_at);

-- An operation's documents in order, rows of their own so that of_documents is an index lookup.
CREATE TABLE operation_documents (
    operation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    installment_id TEXT NOT NULL,
    PRIMARY KEY (operation_id, position)
);
CREATE INDEX operation_documents_installment ON operation_documents (installment_id);

-- Which charge at the gateway each installment is: a billet, or a carnet's parcel.
CREATE TABLE gateway_charges (
    installment_id TEXT PRIMARY KEY,
    operation_id TEXT NOT NULL,
    charge_id TEXT NOT NULL,
    due TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    state TEXT NOT NULL,
    carnet_id TEXT,
    parcel INTEGER,
    barcode TEXT NOT NULL,
    link TEXT,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX gateway_charges_charge ON gateway_charges (charge_id);
CREATE INDEX gateway_charges_carnet ON gateway_charges (carnet_id, parcel);
