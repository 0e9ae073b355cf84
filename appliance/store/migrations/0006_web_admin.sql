-- The LAN web admin: its users (producers and installers) and the failed logins in a row that
-- slow down password guessing. Passwords are stored as salted scrypt hashes only.

CREATE TABLE web_users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('producer', 'installer')),
    -- scrypt$N$r$p$salt$key (hex); changing it also changes password_changed_at, which ends
    -- every session opened with the old password.
    password_hash TEXT NOT NULL,
    password_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- One row per user name tried (known or not) since its last successful login.
CREATE TABLE web_login_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT NOT NULL DEFAULT ''
);
