-- VPP users (SPEC U1-U6): one row per clientUserId of a token, with the
-- organisation user it belongs to when haishin created it.
CREATE TABLE vpp_users (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_user_id TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    email TEXT,
    status TEXT NOT NULL,
    invite_code TEXT,
    id_hash TEXT,
    invited_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, client_user_id)
);
CREATE INDEX vpp_users_user ON vpp_users(user_id);
CREATE INDEX devices_apple_account ON devices(account_id, itunes_store_account_hash);

-- License auto-assignment token per group (T7), inherited by subgroups.
CREATE TABLE vpp_group_auto_assign (
    group_id BIGINT PRIMARY KEY REFERENCES org_groups(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE
);
CREATE INDEX vpp_group_auto_assign_account ON vpp_group_auto_assign(account_id);
