-- carteira schema version 2, SQLite dialect: return batches (B2-B10), the fields they add to
-- installments and settlements, and indexed normalized title numbers (decision 0321).

-- What a return file names an installment by, normalized as normalize_title_number does (leading
-- zeros and blanks, trailing blanks, gone; NULL when nothing is left), so the finders use an index.
-- carteira fills them on every write; here they are filled for the rows already stored.
ALTER TABLE installments ADD COLUMN bank_transmission TEXT;
ALTER TABLE installments ADD COLUMN bank_title_number_key TEXT;
ALTER TABLE installments ADD COLUMN document_number_key TEXT;
UPDATE installments SET
    bank_title_number_key = NULLIF(rtrim(ltrim(bank_title_number, '0' || char(32, 9, 13, 10, 11, 12)),
                                         char(32, 9, 13, 10, 11, 12)), ''),
    document_number_key = NULLIF(rtrim(ltrim(document_number, '0' || char(32, 9, 13, 10, 11, 12)),
                                       char(32, 9, 13, 10, 11, 12)), '');
DROP INDEX installments_bank_title;
DROP INDEX installments_document;
CREATE INDEX installments_bank_title_key ON installments (bank_title_number_key);
CREATE INDEX installments_document_key ON installments (document_number_key);

CREATE INDEX customers_tax_id ON customers (tax_id);

ALTER TABLE settlements ADD COLUMN batch_id TEXT;
ALTER TABLE settlements ADD COLUMN batch_line INTEGER;

-- One imported file. The digest and the file key (bank, agreement, file sequence, when the header
-- has all three) are unique keys: two units adding the same file at once leave one batch (decision 0320).
CREATE TABLE return_batches (
    id TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    process_date TEXT NOT NULL,
    source TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    layout_id TEXT NOT NULL,
    bank_code TEXT NOT NULL,
    agreement TEXT,
    file_sequence INTEGER,
    record_count INTEGER NOT NULL,
    status TEXT NOT NULL,
    warnings TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE UNIQUE INDEX return_batches_file_key ON return_batches (bank_code, agreement, file_sequence)
    WHERE agreement IS NOT NULL AND file_sequence IS NOT NULL;
CREATE INDEX return_batches_process_date ON return_batches (process_date, id);

-- One record of a batch: the file's side, then the clerk's (origin, confirmed_once, note).
CREATE TABLE batch_records (
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    movement_code TEXT NOT NULL,
    category TEXT NOT NULL,
    is_settlement INTEGER NOT NULL,
    is_rejection INTEGER NOT NULL,
    bank_title_number TEXT,
    document_number TEXT,
    due_date TEXT,
    face_value_cents INTEGER,
    paid_cents INTEGER,
    discount_cents INTEGER,
    abatement_cents INTEGER,
    interest_and_fine_cents INTEGER,
    tariff_cents INTEGER,
    other_credits_cents INTEGER,
    occurrence_date TEXT,
    credit_date TEXT,
    anticipation_id TEXT,
    anticipation_rate TEXT,
    payer_tax_id TEXT,
    origin TEXT,
    confirmed_once INTEGER NOT NULL,
    note TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    PRIMARY KEY (batch_id, line)
);

-- A record's links, in order, and the settlements confirming it made: rows of their own, so that
-- records_linked_to and record_of_settlement are index lookups (decision 0321).
CREATE TABLE batch_record_links (
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    position INTEGER NOT NULL,
    installment_id TEXT NOT NULL,
    PRIMARY KEY (batch_id, line, position)
);
CREATE INDEX batch_record_links_installment ON batch_record_links (installment_id);

CREATE TABLE batch_record_settlements (
    settlement_id TEXT PRIMARY KEY,
    batch_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX batch_record_settlements_record ON batch_record_settlements (batch_id, line);
