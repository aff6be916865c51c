-- What a device reports about itself beyond the admin's fields (SPEC §2).
ALTER TABLE devices ADD COLUMN imei TEXT;
ALTER TABLE devices ADD COLUMN build_version TEXT;
ALTER TABLE devices ADD COLUMN capacity_mb BIGINT;
ALTER TABLE devices ADD COLUMN available_capacity_mb BIGINT;

-- An identity is bound to the device that first authenticated with it; a
-- second device presenting it is refused.
ALTER TABLE enrollment_identities ADD COLUMN device_id BIGINT REFERENCES devices(id) ON DELETE SET NULL;
CREATE INDEX enrollment_identities_device ON enrollment_identities(device_id);

-- One enrollment record per device (the reference's advice), overwritten by
-- every Authenticate and TokenUpdate. The push token is hex, as APNs wants it.
CREATE TABLE mdm_enrollments (
    device_id BIGINT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    enrollment_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    push_token TEXT,
    push_magic TEXT,
    sealed_unlock_token BYTEA,
    awaiting_configuration BIGINT NOT NULL DEFAULT 0,
    push_failed_at BIGINT,
    push_failure TEXT,
    authenticated_at BIGINT NOT NULL,
    token_updated_at BIGINT,
    checked_out_at BIGINT
);

-- User channels (Shared iPad users, macOS users) each have their own push
-- token and PushMagic, kept apart from the device channel.
CREATE TABLE mdm_user_channels (
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    user_guid TEXT NOT NULL,
    short_name TEXT NOT NULL,
    long_name TEXT NOT NULL,
    push_token TEXT NOT NULL,
    push_magic TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, user_guid)
);

-- The device's last answer to each inventory command, as JSON, with its time.
CREATE TABLE device_inventory (
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    items TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, kind)
);
