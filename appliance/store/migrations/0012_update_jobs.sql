-- Software updates sent by the fleet admin (docs/updates.md): one row per update job, its
-- state as the box publishes it on comptoir/v1/<id>/update. Written by the agent's update job
-- and by the updater (comptoir release apply), read by the agent to publish.
CREATE TABLE update_jobs (
    job TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    from_version TEXT NOT NULL,
    url TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    requested_by TEXT NOT NULL DEFAULT '',
    -- the order's health gate and switch window, to go on after an agent restart
    health_s INTEGER NOT NULL DEFAULT 120,
    switch_window TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    percent INTEGER,
    reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX update_jobs_updated ON update_jobs (updated_at);
