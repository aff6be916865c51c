//! Row shapes as the database returns them, and their domain form.

use haishin_domain::audit::AuditEntry;
use haishin_domain::auth::{Account, Admin, ApiToken, Role};
use haishin_domain::ids::*;
use haishin_domain::org::{Device, EnrollmentState, Group, Platform, User};
use haishin_domain::time_util::Timestamp;

#[derive(sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

impl From<AccountRow> for Account {
    fn from(r: AccountRow) -> Self {
        Account {
            id: AccountId(r.id),
            name: r.name,
            created_at: Timestamp(r.created_at),
        }
    }
}

/// Admin columns qualified by the alias `a`, for selects that join.
pub const ADMIN_COLUMNS: &str = "a.id, a.account_id, a.login, a.display_name, a.role, a.created_at";
/// The same columns unqualified, for `RETURNING` (SQLite allows no alias there).
pub const ADMIN_RETURNING: &str = "id, account_id, login, display_name, role, created_at";

#[derive(sqlx::FromRow)]
pub struct AdminRow {
    pub id: i64,
    pub account_id: i64,
    pub login: String,
    pub display_name: String,
    pub role: String,
    pub created_at: i64,
}

impl From<AdminRow> for Admin {
    fn from(r: AdminRow) -> Self {
        Admin {
            id: AdminId(r.id),
            account_id: AccountId(r.account_id),
            login: r.login,
            display_name: r.display_name,
            // Roles are written only from the Role enum; an unknown one can
            // only come from hand-edited data, and gets the least power.
            role: Role::parse(&r.role).unwrap_or(Role::ReadOnly),
            created_at: Timestamp(r.created_at),
        }
    }
}

pub const TOKEN_COLUMNS: &str = "id, admin_id, name, prefix, created_at, last_used_at";

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub admin_id: i64,
    pub name: String,
    pub prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl From<TokenRow> for ApiToken {
    fn from(r: TokenRow) -> Self {
        ApiToken {
            id: ApiTokenId(r.id),
            admin_id: AdminId(r.admin_id),
            name: r.name,
            prefix: r.prefix,
            created_at: Timestamp(r.created_at),
            last_used_at: r.last_used_at.map(Timestamp),
        }
    }
}

pub const GROUP_COLUMNS: &str = "id, account_id, parent_id, name, id_path, created_at";

#[derive(sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub account_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub id_path: String,
    pub created_at: i64,
}

impl From<GroupRow> for Group {
    fn from(r: GroupRow) -> Self {
        Group {
            id: GroupId(r.id),
            account_id: AccountId(r.account_id),
            parent_id: r.parent_id.map(GroupId),
            name: r.name,
            id_path: r.id_path,
            created_at: Timestamp(r.created_at),
        }
    }
}

pub const USER_COLUMNS: &str = "u.id, u.account_id, u.group_id, u.employee_number, u.name, u.email, u.phone1, u.phone2, u.created_at, u.updated_at";

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub account_id: i64,
    pub group_id: i64,
    pub employee_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone1: Option<String>,
    pub phone2: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: UserId(r.id),
            account_id: AccountId(r.account_id),
            group_id: GroupId(r.group_id),
            employee_number: r.employee_number,
            name: r.name,
            email: r.email,
            phone1: r.phone1,
            phone2: r.phone2,
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

/// Devices are always read with their owner's name and employee number.
pub const DEVICE_SELECT: &str = "SELECT d.id, d.account_id, d.group_id, d.owner_id, d.device_number, \
    d.display_name, d.udid, d.serial_number, d.wifi_mac, d.model, d.product_name, d.platform, \
    d.os_version, d.notes1, d.notes2, d.notes3, d.supervised, d.shared_ipad, \
    d.itunes_store_account_hash, d.imei, d.build_version, d.capacity_mb, d.available_capacity_mb, d.enrollment_state, d.last_checkin_at, d.inventory_fetched_at, \
    d.created_at, d.updated_at, u.name AS owner_name, u.employee_number AS owner_employee_number \
    FROM devices d LEFT JOIN users u ON u.id = d.owner_id";

#[derive(sqlx::FromRow)]
pub struct DeviceRow {
    pub id: i64,
    pub account_id: i64,
    pub group_id: i64,
    pub owner_id: Option<i64>,
    pub device_number: String,
    pub display_name: String,
    pub udid: Option<String>,
    pub serial_number: Option<String>,
    pub wifi_mac: Option<String>,
    pub model: Option<String>,
    pub product_name: Option<String>,
    pub platform: Option<String>,
    pub os_version: Option<String>,
    pub notes1: String,
    pub notes2: String,
    pub notes3: String,
    pub supervised: i64,
    pub shared_ipad: i64,
    pub itunes_store_account_hash: Option<String>,
    pub imei: Option<String>,
    pub build_version: Option<String>,
    pub capacity_mb: Option<i64>,
    pub available_capacity_mb: Option<i64>,
    pub enrollment_state: String,
    pub last_checkin_at: Option<i64>,
    pub inventory_fetched_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub owner_name: Option<String>,
    pub owner_employee_number: Option<String>,
}

impl From<DeviceRow> for Device {
    fn from(r: DeviceRow) -> Self {
        Device {
            id: DeviceId(r.id),
            account_id: AccountId(r.account_id),
            group_id: GroupId(r.group_id),
            device_number: r.device_number,
            display_name: r.display_name,
            udid: r.udid,
            serial_number: r.serial_number,
            wifi_mac: r.wifi_mac,
            model: r.model,
            product_name: r.product_name,
            platform: r.platform.and_then(|p| Platform::parse(&p).ok().flatten()),
            os_version: r.os_version,
            owner_id: r.owner_id.map(UserId),
            owner_name: r.owner_name,
            owner_employee_number: r.owner_employee_number,
            notes1: r.notes1,
            notes2: r.notes2,
            notes3: r.notes3,
            supervised: r.supervised != 0,
            shared_ipad: r.shared_ipad != 0,
            itunes_store_account_hash: r.itunes_store_account_hash,
            imei: r.imei,
            build_version: r.build_version,
            capacity_mb: r.capacity_mb,
            available_capacity_mb: r.available_capacity_mb,
            enrollment_state: EnrollmentState::parse(&r.enrollment_state),
            last_checkin_at: r.last_checkin_at.map(Timestamp),
            inventory_fetched_at: r.inventory_fetched_at.map(Timestamp),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub account_id: i64,
    pub at: i64,
    pub actor_admin_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        let parse = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        AuditEntry {
            id: r.id,
            account_id: AccountId(r.account_id),
            at: Timestamp(r.at),
            actor_admin_id: r.actor_admin_id.map(AdminId),
            actor_name: r.actor_name,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            before: parse(r.before_json),
            after: parse(r.after_json),
        }
    }
}
