-- Sessions of the LAN web admin, kept here so that logging out, a password or role change and
-- "log out everywhere" end them at once. The browser holds a random token; only its SHA-256 is
-- stored, so a copy of the database opens no session.

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES web_users (username) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX web_sessions_by_user ON web_sessions (username);

-- The language a user chose for the admin ('' follows the browser).
ALTER TABLE web_users ADD COLUMN language TEXT NOT NULL DEFAULT '';
