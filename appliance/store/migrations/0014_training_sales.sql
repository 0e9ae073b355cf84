-- Sales made in training mode ([shop] mode = "training", docs/fiscal.md): their own receipt
-- numbers, kept apart from the real sales so that no total, report, export, stock or till ever
-- counts them. Same columns as `sales` and `sale_lines`; never changed, never deleted either.
CREATE TABLE training_sales (
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
CREATE INDEX training_sales_by_time ON training_sales (device_id, created_at);
CREATE TRIGGER training_sales_no_update BEFORE UPDATE ON training_sales
BEGIN SELECT RAISE(ABORT, 'a recorded training sale is never changed'); END;
CREATE TRIGGER training_sales_no_delete BEFORE DELETE ON training_sales
BEGIN SELECT RAISE(ABORT, 'a recorded training sale is never deleted'); END;

CREATE TABLE training_sale_lines (
    sale_id INTEGER NOT NULL REFERENCES training_sales (id),
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
CREATE TRIGGER training_sale_lines_no_update BEFORE UPDATE ON training_sale_lines
BEGIN SELECT RAISE(ABORT, 'a recorded training sale is never changed'); END;
CREATE TRIGGER training_sale_lines_no_delete BEFORE DELETE ON training_sale_lines
BEGIN SELECT RAISE(ABORT, 'a recorded training sale is never deleted'); END;
