-- The journal's seal: the last entry's number and hash, kept by a trigger in the same
-- transaction as every append, so deleting entries at the end of the chain (which the chain
-- alone cannot show) is caught by `comptoir journal verify`.
CREATE TABLE journal_seal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO journal_seal (id, seq, hash)
    SELECT 1, seq, hash FROM journal ORDER BY seq DESC LIMIT 1;
CREATE TRIGGER journal_sealed AFTER INSERT ON journal
BEGIN
    INSERT INTO journal_seal (id, seq, hash) VALUES (1, NEW.seq, NEW.hash)
    ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash;
END;

-- How far the chain was last verified, so a screen can check only what came since.
CREATE TABLE journal_checks (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    checked_at TEXT NOT NULL
);
