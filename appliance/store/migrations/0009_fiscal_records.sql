-- Signed fiscal records (docs/fiscal.md): one gap-free chain per record type, each record the
-- exact canonical text that the box's Ed25519 key signed. Never changed, never deleted.
CREATE TABLE fiscal_records (
    type TEXT NOT NULL,
    number INTEGER NOT NULL CHECK (number > 0),
    ts TEXT NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    signature TEXT NOT NULL,
    PRIMARY KEY (type, number)
);
CREATE INDEX fiscal_records_ts ON fiscal_records (type, ts);
CREATE TRIGGER fiscal_records_no_update BEFORE UPDATE ON fiscal_records
BEGIN SELECT RAISE(ABORT, 'a fiscal record is never changed: correct it with a new record'); END;
CREATE TRIGGER fiscal_records_no_delete BEFORE DELETE ON fiscal_records
BEGIN SELECT RAISE(ABORT, 'a fiscal record is never deleted'); END;

-- The signed end of each chain (its last number and hash), re-signed at every write, so
-- records cut off at the end of a chain show.
CREATE TABLE fiscal_tails (
    type TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- What the box last recorded about itself, to notice changes at start: the shop mode, the
-- software version and the configuration (secrets masked).
CREATE TABLE fiscal_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
