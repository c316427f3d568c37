-- carteira schema version 1, SQLite dialect.
-- Money is integer cents (INTEGER), dates ISO text (YYYY-MM-DD), rates exact decimal text.
-- No foreign keys between aggregates: references are checked by the services, so that bulk
-- loads need no ordering and an ERP may keep its customers elsewhere (decision 0303).

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    tax_id TEXT,
    email TEXT,
    phone TEXT,
    version INTEGER NOT NULL CHECK (version >= 1)
);

CREATE TABLE contracts (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    description TEXT NOT NULL,
    bank_contract TEXT,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX contracts_customer ON contracts (customer_id);

CREATE TABLE installments (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    contract_id TEXT,
    due TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    number INTEGER NOT NULL,
    description TEXT NOT NULL,
    bank_title_number TEXT,
    document_number TEXT,
    bank_contract TEXT,
    fine_rate TEXT NOT NULL,
    monthly_interest_rate TEXT NOT NULL,
    grace_days INTEGER NOT NULL,
    interest_mode TEXT NOT NULL,
    imputation TEXT NOT NULL,
    principal_open_cents INTEGER NOT NULL,
    fine_open_cents INTEGER NOT NULL,
    interest_open_cents INTEGER NOT NULL,
    fine_charged INTEGER NOT NULL,
    interest_from TEXT,
    status TEXT NOT NULL,
    latest_settlement_id TEXT,
    settlements_made INTEGER NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX installments_customer ON installments (customer_id);
CREATE INDEX installments_contract ON installments (contract_id);
CREATE INDEX installments_bank_title ON installments (bank_title_number);
CREATE INDEX installments_document ON installments (document_number);
CREATE INDEX installments_due_amount ON installments (due, amount_cents);

CREATE TABLE settlements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    installment_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    paid_cents INTEGER NOT NULL,
    paid_on TEXT NOT NULL,
    credited_on TEXT,
    principal_cents INTEGER NOT NULL,
    interest_cents INTEGER NOT NULL,
    fine_cents INTEGER NOT NULL,
    extra_charge_cents INTEGER NOT NULL,
    extra_discount_cents INTEGER NOT NULL,
    discount_cents INTEGER NOT NULL,
    abatement_cents INTEGER NOT NULL,
    credit_letter_amount_cents INTEGER NOT NULL,
    bank_charges_cents INTEGER NOT NULL,
    other_cents INTEGER NOT NULL,
    fine_accrued_cents INTEGER NOT NULL,
    interest_accrued_cents INTEGER NOT NULL,
    revenue_kind TEXT NOT NULL,
    before_principal_open_cents INTEGER NOT NULL,
    before_fine_open_cents INTEGER NOT NULL,
    before_interest_open_cents INTEGER NOT NULL,
    before_fine_charged INTEGER NOT NULL,
    before_interest_from TEXT,
    before_status TEXT NOT NULL,
    before_latest_settlement_id TEXT,
    credit_letter_id TEXT,
    source_letter_id TEXT,
    reversed_on TEXT,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX settlements_installment ON settlements (installment_id, seq);

CREATE TABLE credit_letters (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    origin_settlement_id TEXT NOT NULL,
    created_on TEXT NOT NULL,
    balance_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX credit_letters_customer ON credit_letters (customer_id);

CREATE TABLE anticipations (
    id TEXT PRIMARY KEY,
    monthly_rate TEXT NOT NULL,
    anticipated_on TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
CREATE INDEX anticipations_status ON anticipations (status);

CREATE TABLE anticipated_installments (
    anticipation_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    installment_id TEXT NOT NULL,
    face_value_cents INTEGER NOT NULL,
    due TEXT NOT NULL,
    present_value_cents INTEGER NOT NULL,
    PRIMARY KEY (anticipation_id, position)
);

CREATE TABLE observations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    installment_id TEXT NOT NULL,
    written_on TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX observations_installment ON observations (installment_id, seq);

CREATE TABLE portfolio_settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    over_amount_cents INTEGER,
    over_rate TEXT,
    under_amount_cents INTEGER,
    under_rate TEXT,
    settle_beyond_tolerance INTEGER NOT NULL,
    closing_date TEXT,
    generate_anticipations_as_approved INTEGER NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1)
);
