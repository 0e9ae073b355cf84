-- Marketplace (Open Food Network) sync: how far each direction got, the variants seen, the
-- orders read, and the pickups and on-site sales still to report. The API key is never stored.

-- One row per direction: catalogue, orders (down); pickups, stock (up).
CREATE TABLE marketplace_sync (
    direction TEXT PRIMARY KEY,
    cursor TEXT NOT NULL DEFAULT '',
    full_sweep_at TEXT NOT NULL DEFAULT '',
    last_attempt_at TEXT NOT NULL DEFAULT '',
    last_success_at TEXT NOT NULL DEFAULT '',
    last_error TEXT NOT NULL DEFAULT '',
    last_error_at TEXT NOT NULL DEFAULT ''
);

-- The marketplace variants mapped to local products (products.sku), and their stock.
CREATE TABLE marketplace_variants (
    variant_id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL,
    sku TEXT NOT NULL,
    producer_id INTEGER,
    unit_grams INTEGER,
    on_demand INTEGER NOT NULL DEFAULT 0 CHECK (on_demand IN (0, 1)),
    on_hand INTEGER NOT NULL DEFAULT 0,
    weighed TEXT CHECK (weighed IN ('pieces', 'small_units', 'remainder', 'on_demand')),
    remainder_g INTEGER NOT NULL DEFAULT 0,
    reported_on_hand INTEGER,
    reported_at TEXT,
    seen_at TEXT NOT NULL
);

-- What the marketplace said about each order last time it was read.
CREATE TABLE marketplace_orders (
    number TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    order_cycle_id INTEGER,
    shipping_method_id INTEGER,
    read_at TEXT NOT NULL
);

-- Pickups to report with `ship`: one per order, whatever the number of collected events.
CREATE TABLE marketplace_pickups (
    number TEXT PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    collected_at TEXT NOT NULL,
    compartment INTEGER,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'reported', 'refused')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    reported_at TEXT
);

-- On-site sale lines of marketplace variants, until their stock has been written.
CREATE TABLE marketplace_sales (
    event_id TEXT NOT NULL,
    line_no INTEGER NOT NULL,
    variant_id INTEGER NOT NULL,
    quantity INTEGER NOT NULL,
    weight_g INTEGER,
    reported_at TEXT,
    PRIMARY KEY (event_id, line_no)
);
CREATE INDEX marketplace_sales_unreported ON marketplace_sales (variant_id)
    WHERE reported_at IS NULL;
