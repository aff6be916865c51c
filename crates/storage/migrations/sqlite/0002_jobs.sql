-- The durable per-device command queue (SPEC J1, J2). A job is unfinished
-- while finished_at IS NULL; the partial indexes keep the head lookup and the
-- push sweep fast however much history is kept.
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    command_uuid TEXT NOT NULL UNIQUE,
    request_type TEXT NOT NULL,
    command TEXT NOT NULL,
    status TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    created_by BIGINT,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    pushed_at BIGINT,
    push_count BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    finished_at BIGINT,
    not_now_count BIGINT NOT NULL DEFAULT 0,
    last_not_now_at BIGINT,
    error_chain TEXT
);
CREATE INDEX jobs_device_head ON jobs(device_id, id) WHERE finished_at IS NULL;
CREATE INDEX jobs_unfinished ON jobs(run_at, id) WHERE finished_at IS NULL;
CREATE INDEX jobs_account ON jobs(account_id, id);
CREATE INDEX jobs_created ON jobs(created_at) WHERE finished_at IS NOT NULL;
