//! Why a job did not deliver its app (SPEC J5, D9, D10): the troubleshooting
//! tables of seeds 003 and 004 as data, and [`diagnose`], which picks the rows
//! that fit a job's status, the ErrorChain the device sent and what the server
//! knows about the device, the app and its license.
//!
//! Pure: no storage, no HTTP, no clock. The caller gathers [`ServerFacts`]
//! (including the time they were gathered) and the job detail API returns the
//! [`Diagnosis`] as it is.

mod diagnose;
mod facts;
mod rows;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::jobs::JobStatus;

pub use diagnose::{Diagnosis, MatchedBy, RowMatch, diagnose};
pub use facts::{
    CELLULAR_LIMIT_BYTES_BEFORE_IOS13, CELLULAR_LIMIT_BYTES_IOS13, Finding, FindingKind, LicenseState,
    SILENT_AFTER_MILLIS, ServerFacts, cellular_limit_bytes,
};
pub use rows::ROWS;

/// The same text in both console languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Text {
    #[schema(value_type = String)]
    pub ja: &'static str,
    #[schema(value_type = String)]
    pub en: &'static str,
}

/// Where a row's text comes from, so a reviewer can tell the seeds' own
/// wording from what haishin added where the seed is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// The Japanese is the seed's own sentences, verbatim up to whitespace and
    /// the seed's Kangxi-radical look-alikes (NFKC).
    Seed,
    /// The seed is silent here (seed 004 names causes only); the Japanese is haishin's.
    Haishin,
}

/// The seed document a row was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub enum Seed {
    /// `003_1dca3fcdf5d87fd8.txt`: VPP delivery troubleshooting.
    #[serde(rename = "003")]
    S003,
    /// `004_70599e9ce79fa07f.txt`: job management and the device error table.
    #[serde(rename = "004")]
    S004,
}

/// The table (or section) of a seed a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeedTable {
    /// 003 §1 管理画面でエラーメッセージが表示される場合
    ConsoleErrors,
    /// 003 §2 ステータス:PUSH送信中 / PUSHタイムアウト
    PushPending,
    /// 003 §2 ステータス:ライセンス割り当て失敗
    LicenseFailed,
    /// 003 §2 ステータス:端末エラー
    DeviceError,
    /// 003 §3 アプリ配信のジョブのステータスは成功になっている場合
    SuccessWithoutApp,
    /// 003 §4 その他の場合
    Other,
    /// 003 ネットワーク状況の確認
    NetworkCheck,
    /// 003 上記項目についてご確認いただいても、アプリ配信ができない場合
    StillFailing,
    /// 004 端末エラーについて (the error code table)
    DeviceErrorCodes,
    /// 004 ライセンスが割り当たっているのに端末エラーになる場合(VPPユーザー利用)
    LicensedButError,
    /// 004 VPPユーザー利用時のApple IDの確認方法
    AppleIdHash,
}

impl SeedTable {
    pub const ALL: [SeedTable; 11] = [
        SeedTable::ConsoleErrors,
        SeedTable::PushPending,
        SeedTable::LicenseFailed,
        SeedTable::DeviceError,
        SeedTable::SuccessWithoutApp,
        SeedTable::Other,
        SeedTable::NetworkCheck,
        SeedTable::StillFailing,
        SeedTable::DeviceErrorCodes,
        SeedTable::LicensedButError,
        SeedTable::AppleIdHash,
    ];

    pub fn seed(self) -> Seed {
        match self {
            SeedTable::DeviceErrorCodes | SeedTable::LicensedButError | SeedTable::AppleIdHash => Seed::S004,
            _ => Seed::S003,
        }
    }

    /// The seed's heading, and its translation.
    pub fn heading(self) -> Text {
        let (ja, en) = match self {
            SeedTable::ConsoleErrors => (
                "管理画面でエラーメッセージが表示される場合",
                "The console shows an error message",
            ),
            SeedTable::PushPending => (
                "ステータス:PUSH送信中 / PUSHタイムアウト",
                "Status: push sent / push timeout",
            ),
            SeedTable::LicenseFailed => ("ステータス:ライセンス割り当て失敗", "Status: license assignment failed"),
            SeedTable::DeviceError => ("ステータス:端末エラー", "Status: device error"),
            SeedTable::SuccessWithoutApp => (
                "アプリ配信のジョブのステータスは成功になっている場合",
                "The install job succeeded but the app is not there",
            ),
            SeedTable::Other => ("その他の場合", "Other cases"),
            SeedTable::NetworkCheck => ("ネットワーク状況の確認", "Checking the network"),
            SeedTable::StillFailing => (
                "上記項目についてご確認いただいても、アプリ配信ができない場合",
                "If the app still cannot be delivered after these checks",
            ),
            SeedTable::DeviceErrorCodes => ("端末エラーについて", "Device error codes"),
            SeedTable::LicensedButError => (
                "ライセンスが割り当たっているのに端末エラーになる場合(VPPユーザー利用)",
                "Device error although a license is assigned (VPP users)",
            ),
            SeedTable::AppleIdHash => (
                "VPPユーザー利用時のApple IDの確認方法",
                "Checking the Apple ID of a VPP user",
            ),
        };
        Text { ja, en }
    }
}

/// When a row can apply, in terms of the job's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Situation {
    /// A console error, whatever the job's status: only server facts bring it up.
    ConsoleError,
    /// PUSH送信中 or PUSHタイムアウト.
    PushPending,
    /// ライセンス割り当て失敗.
    LicenseFailed,
    /// 端末エラー.
    DeviceError,
    /// 成功, yet the app is missing or unusable.
    SuccessWithoutApp,
    /// A shared iPad, whatever the job's status: only the logged-in user fact brings it up.
    SharedIpad,
    /// 成功 after the device was restored from a backup.
    RestoredBackup,
    /// Any job that did not end with a usable app: the seed's general checks.
    AnyFailure,
}

impl Situation {
    /// The job statuses this situation covers.
    pub fn statuses(self) -> &'static [JobStatus] {
        use JobStatus::*;
        match self {
            Situation::ConsoleError | Situation::SharedIpad => &JobStatus::ALL,
            Situation::PushPending => &[PushSent, PushTimeout],
            Situation::LicenseFailed => &[LicenseFailed],
            Situation::DeviceError => &[DeviceError],
            Situation::SuccessWithoutApp | Situation::RestoredBackup => &[Success],
            Situation::AnyFailure => &[PushSent, PushTimeout, Running, LicenseFailed, DeviceError, Success],
        }
    }

    pub fn applies_to(self, status: JobStatus) -> bool {
        self.statuses().contains(&status)
    }
}

/// One ErrorChain item a row looks for, at any depth of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CodeMatch {
    /// Any of these domains; several when Apple reports the same error under
    /// more than one (NSURLErrorDomain and kCFErrorDomainCFNetwork).
    #[schema(value_type = Vec<String>)]
    pub domains: &'static [&'static str],
    pub code: i64,
}

impl CodeMatch {
    pub fn matches(&self, item: &apple_mdm::ErrorChainItem) -> bool {
        item.code == self.code && self.domains.contains(&item.domain.as_str())
    }
}

/// Something the server knows (or reads from the ErrorChain) that points at a
/// cause. Derived from [`ServerFacts`] by [`ServerFacts::holds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// The content token has expired or Apple revoked it.
    TokenExpired,
    /// The token cannot assign licenses: expired, revoked, or claimed by another MDM or account.
    TokenUnusable,
    /// No content token serves the device's group.
    NoTokenForGroup,
    /// No license of the app is assigned to the device (or its VPP user).
    LicenseNotAssigned,
    /// Fewer licenses are left than the deployment needs.
    LicenseShortage,
    /// A license is assigned, yet the device reports none.
    LicenseAssigned,
    /// A restriction disables the App Store on the device.
    AppStoreRestricted,
    /// The device's iTunes Store account hash differs from the VPP user's idHash.
    AppleIdMismatch,
    /// A user is logged in to the shared iPad.
    SharedIpadUserLoggedIn,
    /// The app is over the cellular download limit for the device's OS.
    LargeAppNeedsWifi,
    /// The device has less free space than the app needs.
    InsufficientStorage,
    /// The device's OS is older than the app's minimum.
    OsBelowAppMinimum,
    /// The device has not contacted the server for a while.
    DeviceSilent,
    /// The device is not (or no longer) enrolled.
    NotEnrolled,
    /// The ErrorChain holds a networking error.
    NetworkErrorInChain,
    /// The job installs the app as a plain App Store app, without a VPP license.
    DistributedWithoutVpp,
}

/// What lists a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Trigger {
    /// Every job in the situation: the seed offers it as a possible cause.
    Status,
    /// All these items occur somewhere in the ErrorChain.
    Chain(&'static [CodeMatch]),
    /// A device error whose chain no `Chain` row recognises (the seed's
    /// "エラー内容その他" and the rows whose error text the seed cuts off).
    UnlistedDeviceError,
    /// Only when the server knows this.
    Fact(Fact),
    /// The seed's general advice, listed last for every failed job.
    Advice,
}

/// How a row is matched: what lists it, and what confirms it for this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MatchRule {
    pub trigger: Trigger,
    /// Evidence that this cause is the one: lists the row even without its
    /// trigger and ranks it above unconfirmed rows.
    pub confirmed_by: Option<Fact>,
}

/// One cause and its remedy from the seeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct KnowledgeRow {
    /// Stable: the console and saved links refer to it.
    #[schema(value_type = String)]
    pub id: &'static str,
    pub seed: Seed,
    pub table: SeedTable,
    pub situation: Situation,
    pub rule: MatchRule,
    /// Seed 004's ジョブの種類 column: which kind of job reports the error.
    pub job_type: Option<Text>,
    /// The error as the seed prints it (device and console errors).
    #[schema(value_type = Option<String>)]
    pub error_text: Option<&'static str>,
    pub cause: Text,
    pub cause_source: TextSource,
    pub remedy: Text,
    pub remedy_source: TextSource,
}

/// Looks a row up by id.
pub fn row(id: &str) -> Option<&'static KnowledgeRow> {
    ROWS.iter().find(|row| row.id == id)
}
