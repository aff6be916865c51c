-- Accounts (tenants), admins, credentials, the organisation and the audit log.
-- Timestamps are unix milliseconds; flags are 0/1 integers (portable with PostgreSQL).

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    next_device_number BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE admins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    login TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    admin_id BIGINT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

CREATE TABLE sessions (
    digest TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    admin_id BIGINT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE org_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES org_groups(id),
    name TEXT NOT NULL,
    id_path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX org_groups_sibling_name ON org_groups(account_id, parent_id, name);
CREATE INDEX org_groups_id_path ON org_groups(account_id, id_path);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES org_groups(id),
    employee_number TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    phone1 TEXT,
    phone2 TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_employee_number ON users(account_id, employee_number);
CREATE INDEX users_group ON users(account_id, group_id);

CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    group_id BIGINT NOT NULL REFERENCES org_groups(id),
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    device_number TEXT NOT NULL,
    display_name TEXT NOT NULL,
    udid TEXT,
    serial_number TEXT,
    wifi_mac TEXT,
    model TEXT,
    product_name TEXT,
    platform TEXT,
    os_version TEXT,
    notes1 TEXT NOT NULL DEFAULT '',
    notes2 TEXT NOT NULL DEFAULT '',
    notes3 TEXT NOT NULL DEFAULT '',
    supervised BIGINT NOT NULL DEFAULT 0,
    shared_ipad BIGINT NOT NULL DEFAULT 0,
    itunes_store_account_hash TEXT,
    enrollment_state TEXT NOT NULL DEFAULT 'registered',
    last_checkin_at BIGINT,
    inventory_fetched_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX devices_device_number ON devices(account_id, device_number);
CREATE UNIQUE INDEX devices_serial_number ON devices(account_id, serial_number) WHERE serial_number IS NOT NULL;
CREATE UNIQUE INDEX devices_udid ON devices(account_id, udid) WHERE udid IS NOT NULL;
CREATE INDEX devices_group ON devices(account_id, group_id);
CREATE INDEX devices_owner ON devices(owner_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    at BIGINT NOT NULL,
    actor_admin_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id BIGINT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_log_account ON audit_log(account_id, id);
CREATE INDEX audit_log_target ON audit_log(account_id, target_type, target_id);
