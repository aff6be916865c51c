-- Apps that go to devices without an admin's deployment (SPEC D5): an
-- auto-install rule (自動インストールアプリケーション) deploys an app to every
-- device that enrolls into, or joins, its group; a self-service rule offers
-- it in the device's portal. Options are the wizard's, as JSON.
CREATE TABLE app_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    adam_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    target_os TEXT NOT NULL,
    group_id BIGINT REFERENCES org_groups(id) ON DELETE CASCADE,
    include_subgroups BIGINT NOT NULL,
    options TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX app_rules_account ON app_rules(account_id, id);

-- Which device a rule or an automatic update has already been applied to,
-- written in the transaction that registers the deployment: two passes (or
-- two servers) can never deploy the same thing to a device twice.
-- claim_key: 'rule:<id>' or 'update:<token>:<adamId>:<version>'.
CREATE TABLE deployment_claims (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    claim_key TEXT NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    deployment_id BIGINT REFERENCES deployments(id) ON DELETE SET NULL,
    claimed_at BIGINT NOT NULL,
    PRIMARY KEY (claim_key, device_id)
);
CREATE INDEX deployment_claims_device ON deployment_claims(device_id);

-- Automatic updates are on for every app; an admin opts one out here.
CREATE TABLE app_update_opt_outs (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    adam_id TEXT NOT NULL,
    PRIMARY KEY (token_id, adam_id)
);

-- Why a deployment exists when no admin made it (JSON; NULL: an admin).
ALTER TABLE deployments ADD COLUMN origin TEXT;

-- The job console over millions of jobs (bench console): a past month is
-- read by creation time, a deployment's and a status's jobs by id.
CREATE INDEX jobs_account_created_id ON jobs(account_id, created_at, id);
CREATE INDEX jobs_deployment_id ON jobs(deployment_id, id) WHERE deployment_id IS NOT NULL;
CREATE INDEX jobs_account_status ON jobs(account_id, status, id);
-- Per-deployment counts (progress, the deployments list) read this index
-- alone; it replaces 0009's (deployment_id, status).
DROP INDEX jobs_deployment;
CREATE INDEX jobs_deployment_counts ON jobs(deployment_id, status, hold) WHERE deployment_id IS NOT NULL;

-- L3: a device deleted with "remove auto-installed apps" stays until its
-- RemoveApplication jobs are finished, or until this time at the latest.
ALTER TABLE devices ADD COLUMN delete_at BIGINT;
CREATE INDEX devices_delete_at ON devices(delete_at) WHERE delete_at IS NOT NULL;
