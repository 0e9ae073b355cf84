-- Pickup lockers: what each compartment holds, deposits, pickup codes (hashed, never in clear),
-- every code attempt, door events, producers who refill, and the cold-chain temperature log.
-- Alarms are rows of `alerts` (0002) plus an outbox event.

CREATE TABLE compartments (
    number INTEGER PRIMARY KEY,
    use TEXT NOT NULL DEFAULT 'free'
        CHECK (use IN ('free', 'order', 'walkin', 'out_of_order')),
    order_number TEXT REFERENCES orders (number),
    walkin_name TEXT NOT NULL DEFAULT '',
    walkin_sku TEXT NOT NULL DEFAULT '',
    walkin_price_cents INTEGER NOT NULL DEFAULT 0 CHECK (walkin_price_cents >= 0),
    walkin_producer TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    CHECK ((use = 'order') = (order_number IS NOT NULL))
);

CREATE TABLE deposits (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL REFERENCES orders (number),
    compartment INTEGER NOT NULL,
    producer TEXT NOT NULL DEFAULT '',
    deposited_at TEXT NOT NULL,
    collected_at TEXT
);
CREATE INDEX deposits_order ON deposits (order_number);

-- `lookup` is an HMAC of the code with the device key (a file); `code_hash` a salted scrypt.
CREATE TABLE pickup_codes (
    id INTEGER PRIMARY KEY,
    order_number TEXT NOT NULL REFERENCES orders (number),
    lookup TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX pickup_codes_lookup ON pickup_codes (lookup);
CREATE INDEX pickup_codes_order ON pickup_codes (order_number);

-- Every typed or scanned code and producer PIN, right or wrong (never the code itself).
CREATE TABLE code_attempts (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    keypad TEXT NOT NULL CHECK (keypad IN ('customer', 'producer')),
    method TEXT NOT NULL CHECK (method IN ('code', 'qr', 'pin', 'badge')),
    verdict TEXT NOT NULL,
    order_number TEXT,
    producer_id INTEGER
);
CREATE INDEX code_attempts_keypad ON code_attempts (keypad, id);

CREATE TABLE door_events (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    compartment INTEGER NOT NULL,
    kind TEXT NOT NULL,
    order_number TEXT,
    requested_by TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX door_events_ts ON door_events (ts);

-- Producers who refill: a PIN (keyed lookup + salted scrypt, like pickup codes) or a badge.
CREATE TABLE producers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    pin_lookup TEXT UNIQUE,
    pin_hash TEXT,
    badge_lookup TEXT UNIQUE,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
);

-- One row per sensor and reading: half a million rows a year per sensor, so time is Unix
-- seconds (UTC) and the temperature integer millidegrees Celsius, as the DS18B20 reports it.
CREATE TABLE temperature_readings (
    zone TEXT NOT NULL,
    ts INTEGER NOT NULL,
    sensor TEXT NOT NULL,
    temp_mc INTEGER NOT NULL,
    PRIMARY KEY (zone, ts, sensor)
) WITHOUT ROWID;
