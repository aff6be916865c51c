-- Each account's device CA (key sealed with the master key) and the device
-- identities handed out in enrollment profiles, with the group they enroll into.
CREATE TABLE device_cas (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    certificate_pem TEXT NOT NULL,
    sealed_key BLOB NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE enrollment_identities (
    enrollment_id TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    serial_hex TEXT NOT NULL,
    sha256_fingerprint TEXT NOT NULL UNIQUE,
    group_id BIGINT NOT NULL REFERENCES org_groups(id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    issued_by TEXT NOT NULL
);
CREATE INDEX enrollment_identities_account ON enrollment_identities(account_id, issued_at);
