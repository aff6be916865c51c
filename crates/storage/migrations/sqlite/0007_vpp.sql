-- Apps and Books (VPP): content tokens, their assets and licenses, and the
-- license operations sent to Apple (SPEC §3, §4).

-- One row per location this server holds a token of, per account. The
-- token and the notification secret are sealed with the master key.
CREATE TABLE vpp_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    location_uid TEXT NOT NULL,
    location_name TEXT NOT NULL,
    org_name TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    other_manager TEXT,
    country TEXT NOT NULL,
    default_platform TEXT NOT NULL,
    notifications BIGINT NOT NULL DEFAULT 0,
    notice_enabled BIGINT NOT NULL DEFAULT 0,
    notice_addresses TEXT NOT NULL DEFAULT '[]',
    last_sync_at BIGINT,
    last_sync_error TEXT,
    registered_at BIGINT NOT NULL,
    registered_by TEXT NOT NULL,
    renewed_at BIGINT,
    sealed_token BLOB NOT NULL,
    mdm_id TEXT NOT NULL UNIQUE,
    sealed_notification_secret BLOB,
    assignments_version TEXT,
    UNIQUE (account_id, location_uid)
);
CREATE INDEX vpp_tokens_location ON vpp_tokens(location_uid);

-- License sharing (T6): the groups that use a token.
CREATE TABLE vpp_token_groups (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES org_groups(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    PRIMARY KEY (token_id, group_id)
);
CREATE INDEX vpp_token_groups_group ON vpp_token_groups(group_id);

CREATE TABLE vpp_assets (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    adam_id TEXT NOT NULL,
    pricing_param TEXT NOT NULL,
    product_type TEXT NOT NULL,
    revocable BIGINT NOT NULL,
    device_assignable BIGINT NOT NULL,
    platforms TEXT NOT NULL,
    total_count BIGINT NOT NULL,
    assigned_count BIGINT NOT NULL,
    available_count BIGINT NOT NULL,
    retired_count BIGINT NOT NULL,
    metadata TEXT,
    metadata_fetched_at BIGINT,
    PRIMARY KEY (token_id, adam_id, pricing_param)
);

-- Licenses as Apple confirmed them. auto_assigned marks those haishin
-- reclaims by itself (L3); a license found at Apple is never marked.
CREATE TABLE vpp_licenses (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    adam_id TEXT NOT NULL,
    pricing_param TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    auto_assigned BIGINT NOT NULL,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, adam_id, pricing_param, target_kind, target_id)
);
CREATE INDEX vpp_licenses_target ON vpp_licenses(account_id, target_kind, target_id);

-- Assign/revoke operations. The body holds the batches, events and
-- failures (JSON); the columns are what the worker selects on.
CREATE TABLE vpp_operations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    next_check_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    leased_at BIGINT NOT NULL DEFAULT 0,
    notified_at BIGINT
);
CREATE INDEX vpp_operations_due ON vpp_operations(next_check_at) WHERE status IN ('pending', 'submitted');
CREATE INDEX vpp_operations_token ON vpp_operations(token_id, id);

CREATE TABLE vpp_operation_events (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    operation_id BIGINT NOT NULL REFERENCES vpp_operations(id) ON DELETE CASCADE,
    PRIMARY KEY (token_id, event_id)
);

-- Apple delivers a notification up to three times.
CREATE TABLE vpp_notifications_seen (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    notification_id TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (token_id, notification_id)
);

-- Expiry notice mails (T4): a row claims (token, threshold, expiry) for one
-- server process; sent_at marks it done. A renewal moves expires_at, so
-- the renewed token gets its own notices.
CREATE TABLE vpp_expiry_notices (
    token_id BIGINT NOT NULL REFERENCES vpp_tokens(id) ON DELETE CASCADE,
    threshold TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    claimed_at BIGINT NOT NULL,
    sent_at BIGINT,
    PRIMARY KEY (token_id, threshold, expires_at)
);
