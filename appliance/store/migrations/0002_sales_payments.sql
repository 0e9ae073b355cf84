-- Card payments (write-ahead attempts), recorded sales with gap-free receipt numbers, and alerts
-- that staff must resolve (an unknown payment outcome first of all).

-- Every payment attempt, written PENDING before anything is sent to the terminal.
CREATE TABLE payment_attempts (
    id TEXT PRIMARY KEY,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    basket TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN (
        'pending', 'approved', 'declined', 'abandoned', 'timeout', 'error', 'unknown',
        'charged', 'not_charged')),
    result_code TEXT NOT NULL DEFAULT '',
    reason_code TEXT NOT NULL DEFAULT '',
    authorisation TEXT NOT NULL DEFAULT '',
    card_application TEXT NOT NULL DEFAULT '',
    masked_pan TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    finished_at TEXT
);
-- One request in flight per terminal: at most one PENDING attempt at any time.
CREATE UNIQUE INDEX payment_attempts_one_pending ON payment_attempts (state)
    WHERE state = 'pending';

-- A sale exists only for an approved (or staff-confirmed) payment, written in the same
-- transaction as the attempt's result. Never changed, never deleted (fiscal record).
CREATE TABLE sales (
    id INTEGER PRIMARY KEY,
    device_id TEXT NOT NULL,
    receipt_number INTEGER NOT NULL CHECK (receipt_number > 0),
    token TEXT NOT NULL UNIQUE,
    attempt_id TEXT NOT NULL UNIQUE REFERENCES payment_attempts (id),
    total_cents INTEGER NOT NULL,
    payment_reference TEXT NOT NULL,
    card_application TEXT NOT NULL DEFAULT '',
    masked_pan TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (device_id, receipt_number)
);
CREATE TRIGGER sales_no_update BEFORE UPDATE ON sales
BEGIN SELECT RAISE(ABORT, 'a recorded sale is never changed'); END;
CREATE TRIGGER sales_no_delete BEFORE DELETE ON sales
BEGIN SELECT RAISE(ABORT, 'a recorded sale is never deleted'); END;

CREATE TABLE sale_lines (
    sale_id INTEGER NOT NULL REFERENCES sales (id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    sold_by TEXT NOT NULL CHECK (sold_by IN ('weight', 'piece')),
    weight_g INTEGER,
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    price_cents INTEGER NOT NULL,
    vat_rate_bp INTEGER NOT NULL,
    tare_g INTEGER NOT NULL DEFAULT 0,
    barcode TEXT NOT NULL DEFAULT '',
    scale_computed INTEGER NOT NULL DEFAULT 0 CHECK (scale_computed IN (0, 1)),
    PRIMARY KEY (sale_id, line_no)
);
CREATE TRIGGER sale_lines_no_update BEFORE UPDATE ON sale_lines
BEGIN SELECT RAISE(ABORT, 'a recorded sale is never changed'); END;
CREATE TRIGGER sale_lines_no_delete BEFORE DELETE ON sale_lines
BEGIN SELECT RAISE(ABORT, 'a recorded sale is never deleted'); END;

-- Things a person must look at and close (shown on the admin side until resolved).
-- `subject` names what the alert is about (a payment attempt id, a door number...).
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT,
    resolution TEXT
);
CREATE INDEX alerts_open ON alerts (resolved_at, created_at);
