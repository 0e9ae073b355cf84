-- The till gateway (docs/pasteque.md): what the box sends to the shop's Pastèque server.

-- One row: the server's ids as last read, the ticket counter, and how the last rounds went.
CREATE TABLE pasteque_gateway (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    mapping TEXT NOT NULL DEFAULT '',
    mapped_at TEXT NOT NULL DEFAULT '',
    next_number INTEGER NOT NULL DEFAULT 1 CHECK (next_number >= 1),
    last_attempt_at TEXT NOT NULL DEFAULT '',
    last_success_at TEXT NOT NULL DEFAULT '',
    last_failure_at TEXT NOT NULL DEFAULT '',
    last_failure TEXT NOT NULL DEFAULT '',
    failures_in_row INTEGER NOT NULL DEFAULT 0,
    retry_at TEXT NOT NULL DEFAULT '',
    stopped TEXT NOT NULL DEFAULT ''
);
INSERT INTO pasteque_gateway (id) VALUES (1);

-- Cash sessions, one per business day of the box that has tickets. The sequence is the
-- server's, given when the session is opened; the open and close are sent exactly as frozen.
CREATE TABLE pasteque_sessions (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,
    sequence INTEGER UNIQUE,
    continuous INTEGER NOT NULL DEFAULT 1 CHECK (continuous IN (0, 1)),
    open_body TEXT,
    opened_at TEXT,
    closing TEXT,
    close_body TEXT,
    closed_at TEXT,
    z TEXT,
    created_at TEXT NOT NULL
);

-- Tickets, numbered once by the box: a number is never given twice, and a ticket's content
-- never changes once frozen (resending it is harmless; changing it would be refused).
CREATE TABLE pasteque_tickets (
    number INTEGER PRIMARY KEY CHECK (number >= 1),
    session_id INTEGER NOT NULL REFERENCES pasteque_sessions (id),
    source TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'order')),
    date_s INTEGER NOT NULL,
    content TEXT NOT NULL,
    figures TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'refused')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    queued_at TEXT NOT NULL,
    sent_at TEXT
);
CREATE INDEX pasteque_tickets_session ON pasteque_tickets (session_id, state, number);
CREATE TRIGGER pasteque_tickets_frozen BEFORE UPDATE OF number, session_id, source, kind, date_s,
    content, figures ON pasteque_tickets
BEGIN SELECT RAISE(ABORT, 'a Pastèque ticket is frozen once numbered'); END;
CREATE TRIGGER pasteque_tickets_kept BEFORE DELETE ON pasteque_tickets
BEGIN SELECT RAISE(ABORT, 'Pastèque tickets are never deleted'); END;
