-- The fleet agent: MQTT session counter, executed remote commands, live config overrides, and
-- process heartbeats (each process says it is alive; telemetry tells a wedged kiosk apart).

-- One row per counter; `mqtt_session` grows at every connection (birth and will carry it).
CREATE TABLE agent_counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Every remote command received, with its recorded answer: a redelivered id is answered from
-- here and never executed twice.
CREATE TABLE agent_commands (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    args TEXT NOT NULL DEFAULT '{}',
    requested_by TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('running', 'done')),
    session INTEGER NOT NULL,
    ok INTEGER CHECK (ok IN (0, 1)),
    answer TEXT,
    received_at TEXT NOT NULL,
    finished_at TEXT
);

-- Settings changed remotely (config/desired) and applied live, with the desired version.
CREATE TABLE agent_overrides (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    version INTEGER NOT NULL,
    applied_at TEXT NOT NULL
);

-- Last desired version seen, so a retained desired document is applied once.
INSERT INTO agent_counters (name, value) VALUES ('mqtt_session', 0), ('desired_version', 0);

-- Each process (kiosk, agent, web, sync) writes its row every few seconds.
CREATE TABLE process_heartbeats (
    process TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    beat_at TEXT NOT NULL,
    stale_after_s INTEGER NOT NULL,
    detail TEXT NOT NULL DEFAULT '{}'
);
