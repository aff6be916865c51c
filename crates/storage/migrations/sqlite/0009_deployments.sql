-- Deployments (SPEC D1-D10): the wizard's request, the plan's summary
-- (skips and license counts) and where the worker is. Their jobs point
-- back at them; a held job (hold) is unfinished but never delivered: it
-- waits for its license, or for the managed app list to confirm it (J7).
CREATE TABLE deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    summary TEXT NOT NULL,
    run_at BIGINT NOT NULL,
    created_by BIGINT,
    created_by_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX deployments_account ON deployments(account_id, id);
CREATE INDEX deployments_due ON deployments(run_at) WHERE status IN ('scheduled', 'licensing');

ALTER TABLE jobs ADD COLUMN deployment_id BIGINT REFERENCES deployments(id) ON DELETE SET NULL;
ALTER TABLE jobs ADD COLUMN content_id TEXT;
ALTER TABLE jobs ADD COLUMN hold TEXT;
ALTER TABLE jobs ADD COLUMN license_target TEXT;
ALTER TABLE jobs ADD COLUMN verify_identifier TEXT;
ALTER TABLE jobs ADD COLUMN verify_checks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN detail TEXT;
CREATE INDEX jobs_deployment ON jobs(deployment_id, status) WHERE deployment_id IS NOT NULL;
CREATE INDEX jobs_held ON jobs(deployment_id) WHERE hold IS NOT NULL AND finished_at IS NULL;
CREATE INDEX jobs_verifying ON jobs(updated_at) WHERE hold = 'verifying' AND finished_at IS NULL;

-- The license operations a deployment wrote, found again after a restart.
ALTER TABLE vpp_operations ADD COLUMN deployment_id BIGINT REFERENCES deployments(id) ON DELETE SET NULL;
CREATE INDEX vpp_operations_deployment ON vpp_operations(deployment_id) WHERE deployment_id IS NOT NULL;
