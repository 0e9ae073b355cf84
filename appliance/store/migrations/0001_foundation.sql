-- The foundation: catalogue, journal, outbox, device command queue, orders to hand out.
-- Numbers reserved for later migrations: 0002 sales and payments (kiosk), 0003 lockers and
-- pickups, 0004 marketplace sync, 0005 fleet agent.

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    sold_by TEXT NOT NULL CHECK (sold_by IN ('weight', 'piece')),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0),
    vat_rate_bp INTEGER NOT NULL CHECK (vat_rate_bp BETWEEN 0 AND 10000),
    producer TEXT NOT NULL DEFAULT '',
    plu INTEGER NOT NULL DEFAULT 0 CHECK (plu >= 0),
    tare_g INTEGER NOT NULL DEFAULT 0 CHECK (tare_g >= 0),
    barcode_layout TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL DEFAULT '',
    photo TEXT NOT NULL DEFAULT '',
    stock INTEGER,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    updated_at TEXT NOT NULL
);

-- Append-only, hash-chained audit trail (metrology and fiscal): never updated, never deleted.
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

-- Events the world must hear about, written in the same transaction as the change.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    ts TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL
);
CREATE TRIGGER outbox_no_update BEFORE UPDATE ON outbox
BEGIN SELECT RAISE(ABORT, 'outbox events are never changed'); END;

-- How far each destination (mqtt, marketplace) has delivered the outbox.
CREATE TABLE outbox_cursors (
    destination TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);

-- Device commands: other processes ask, the kiosk (owner of the hardware) executes.
CREATE TABLE device_commands (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}',
    requested_by TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed', 'refused')),
    result TEXT,
    finished_at TEXT
);
CREATE INDEX device_commands_queued ON device_commands (state, created_at);

-- Orders paid online, to hand out here.
CREATE TABLE orders (
    number TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'in_locker', 'collected', 'cancelled')),
    customer_name TEXT NOT NULL,
    customer_email TEXT NOT NULL DEFAULT '',
    customer_phone TEXT NOT NULL DEFAULT '',
    total_cents INTEGER NOT NULL DEFAULT 0,
    paid INTEGER NOT NULL DEFAULT 1 CHECK (paid IN (0, 1)),
    compartment INTEGER,
    source TEXT NOT NULL DEFAULT 'import',
    remote_id INTEGER,
    remote_updated_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX orders_state ON orders (state);

CREATE TABLE order_lines (
    order_number TEXT NOT NULL REFERENCES orders (number) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    price_cents INTEGER NOT NULL DEFAULT 0,
    producer TEXT NOT NULL DEFAULT '',
    variant_id INTEGER,
    PRIMARY KEY (order_number, line_no)
);
