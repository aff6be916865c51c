-- One MDM push certificate per account. The private key is sealed with the
-- master key (AES-256-GCM, bound to the account); the certificate is public.
CREATE TABLE push_certificates (
    account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    sealed_key BLOB NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL
);
