//! What the server knows about a job's device, app and license, and the
//! findings it draws from that on its own (SPEC J5, D9, D10, U5, L5).

use apple_mdm::ErrorChain;
use apple_mdm::error_chain::domain;
use serde::{Deserialize, Serialize};

use super::Fact;
use crate::org::{EnrollmentState, Platform};
use crate::time_util::{Timestamp, millis_to_rfc3339};
use crate::vpp::TokenStatus;

/// Largest app iOS 13 and later download over cellular data (seed 003: 200MB以上
/// needs Wi-Fi). Decimal megabytes, as the App Store states sizes.
pub const CELLULAR_LIMIT_BYTES_IOS13: u64 = 200_000_000;
/// The same limit before iOS 13 (seed 003: 150MB以上).
pub const CELLULAR_LIMIT_BYTES_BEFORE_IOS13: u64 = 150_000_000;
/// Silence longer than this makes "switched off" a likely cause: a device that
/// is on and online answers a push within minutes.
pub const SILENT_AFTER_MILLIS: i64 = 60 * 60 * 1000;

const MB: u64 = 1_000_000;

/// The license of the job's app for this device (or its VPP user).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum LicenseState {
    Assigned,
    NotAssigned,
    /// Not assigned, and the token has fewer left than the deployment needs.
    Shortage {
        available: u32,
        needed: u32,
    },
}

/// Everything is optional: the caller fills in what it has, and unknown facts
/// neither confirm nor rule out a cause.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ServerFacts {
    pub license: Option<LicenseState>,
    /// The content token the app's license comes from.
    pub token_status: Option<TokenStatus>,
    /// No content token serves the device's group (VPPトークンが登録されていません).
    pub no_token_for_group: bool,
    /// The device reported the App Store disabled by a restriction.
    pub app_store_restricted: bool,
    /// The device's iTunesStoreAccountHash from its last DeviceInformation.
    pub device_itunes_store_account_hash: Option<String>,
    /// The idHash Apple gave the device's VPP user (user-based licensing).
    pub vpp_user_id_hash: Option<String>,
    pub shared_ipad: bool,
    /// The user logged in to the shared iPad; `Some("")` when the name is unknown.
    pub shared_ipad_logged_in_user: Option<String>,
    pub app_size_bytes: Option<u64>,
    pub device_free_bytes: Option<u64>,
    /// The device's OS version, e.g. "13.1.2".
    pub os_version: Option<String>,
    pub app_minimum_os: Option<String>,
    pub platform: Option<Platform>,
    pub enrollment: Option<EnrollmentState>,
    /// The device's last check-in or command poll.
    pub last_contact_at: Option<Timestamp>,
    /// When these facts were gathered; silence is measured up to it.
    pub as_of: Option<Timestamp>,
    /// The job installs the app from the App Store without a VPP license.
    pub distributed_without_vpp: bool,
    /// The device accepted the install but its managed app list never
    /// showed the app installed (J7): what the seeds' products report as
    /// 成功 without the app, so those rows apply.
    pub install_not_confirmed: bool,
}

/// Something the server found on its own, in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Finding {
    pub kind: Fact,
    pub ja: String,
    pub en: String,
}

/// The finding kinds are the facts rows are confirmed by.
pub type FindingKind = Fact;

/// The cellular download limit for an iOS major version; unknown versions get
/// the lower limit so a possibly-too-large app is still flagged.
pub fn cellular_limit_bytes(os_major: Option<u32>) -> u64 {
    match os_major {
        Some(major) if major >= 13 => CELLULAR_LIMIT_BYTES_IOS13,
        _ => CELLULAR_LIMIT_BYTES_BEFORE_IOS13,
    }
}

fn is_network_domain(name: &str) -> bool {
    name == domain::NSURL || name == domain::CF_NETWORK
}

impl ServerFacts {
    fn os_major(&self) -> Option<u32> {
        self.os_version.as_deref().and_then(crate::version::major)
    }

    /// (app size, limit) when the app is too large for cellular data.
    fn wifi_needed(&self) -> Option<(u64, u64)> {
        if matches!(self.platform, Some(Platform::MacOs)) {
            return None;
        }
        let size = self.app_size_bytes?;
        let limit = cellular_limit_bytes(self.os_major());
        (size >= limit).then_some((size, limit))
    }

    fn apple_id_hashes_differ(&self) -> Option<(&str, &str)> {
        let device = self.device_itunes_store_account_hash.as_deref()?.trim();
        let user = self.vpp_user_id_hash.as_deref()?.trim();
        (!device.is_empty() && !user.is_empty() && device != user).then_some((device, user))
    }

    fn silent_for(&self) -> Option<i64> {
        let since = self.last_contact_at?.0;
        let silence = self.as_of?.0 - since;
        (silence >= SILENT_AFTER_MILLIS).then_some(silence)
    }

    fn os_below_minimum(&self) -> bool {
        match (&self.os_version, &self.app_minimum_os) {
            (Some(os), Some(min)) => crate::version::lt(os, min).unwrap_or(false),
            _ => false,
        }
    }

    /// Whether the fact holds for this job; the chain is where the device's
    /// own evidence (networking errors) comes from.
    pub fn holds(&self, fact: Fact, chain: Option<&ErrorChain>) -> bool {
        match fact {
            Fact::TokenExpired => matches!(self.token_status, Some(TokenStatus::Expired | TokenStatus::Revoked)),
            Fact::TokenUnusable => matches!(self.token_status, Some(s) if s != TokenStatus::Active),
            Fact::NoTokenForGroup => self.no_token_for_group,
            // A shortage means this device got no license either.
            Fact::LicenseNotAssigned => {
                matches!(
                    self.license,
                    Some(LicenseState::NotAssigned | LicenseState::Shortage { .. })
                )
            }
            Fact::LicenseShortage => matches!(self.license, Some(LicenseState::Shortage { .. })),
            Fact::LicenseAssigned => self.license == Some(LicenseState::Assigned),
            Fact::AppStoreRestricted => self.app_store_restricted,
            Fact::AppleIdMismatch => self.apple_id_hashes_differ().is_some(),
            Fact::SharedIpadUserLoggedIn => self.shared_ipad && self.shared_ipad_logged_in_user.is_some(),
            Fact::LargeAppNeedsWifi => self.wifi_needed().is_some(),
            Fact::InsufficientStorage => matches!(
                (self.device_free_bytes, self.app_size_bytes),
                (Some(free), Some(size)) if free < size
            ),
            Fact::OsBelowAppMinimum => self.os_below_minimum(),
            Fact::DeviceSilent => self.silent_for().is_some(),
            Fact::NotEnrolled => matches!(
                self.enrollment,
                Some(EnrollmentState::Registered | EnrollmentState::Unenrolled)
            ),
            Fact::NetworkErrorInChain => {
                chain.is_some_and(|chain| chain.iter().any(|item| is_network_domain(&item.domain)))
            }
            Fact::DistributedWithoutVpp => self.distributed_without_vpp,
        }
    }

    /// What the server can tell the admin without the knowledge base, most
    /// actionable first.
    pub fn findings(&self, chain: Option<&ErrorChain>) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut push = |kind: Fact, ja: String, en: String| out.push(Finding { kind, ja, en });

        match self.license {
            Some(LicenseState::Shortage { available, needed }) => push(
                Fact::LicenseShortage,
                format!("ライセンスが不足しています(必要 {needed} / 残り {available})"),
                format!("Not enough licenses (needed {needed}, available {available})."),
            ),
            Some(LicenseState::NotAssigned) => push(
                Fact::LicenseNotAssigned,
                "この端末(またはVPPユーザー)にアプリのライセンスが割り当てられていません。".into(),
                "No license of the app is assigned to this device (or its VPP user).".into(),
            ),
            Some(LicenseState::Assigned) => push(
                Fact::LicenseAssigned,
                "ライセンスは割り当て済みです。".into(),
                "A license is assigned.".into(),
            ),
            None => {}
        }
        match self.token_status {
            Some(TokenStatus::Expired) => push(
                Fact::TokenExpired,
                "VPPトークンの有効期限が切れています。".into(),
                "The VPP token has expired.".into(),
            ),
            Some(TokenStatus::Revoked) => push(
                Fact::TokenExpired,
                "VPPトークンが失効しています(Appleが無効にしました)。".into(),
                "The VPP token was revoked by Apple.".into(),
            ),
            Some(TokenStatus::OtherMdm | TokenStatus::OtherAccount) => push(
                Fact::TokenUnusable,
                "VPPトークンは他のMDMまたは他のアカウントが管理しているため、ライセンスを割り当てられません。".into(),
                "Another MDM or account manages the VPP token, so it cannot assign licenses.".into(),
            ),
            Some(TokenStatus::Active) | None => {}
        }
        if self.no_token_for_group {
            push(
                Fact::NoTokenForGroup,
                "端末のグループで利用できるVPPトークンが登録されていません。".into(),
                "No VPP token serves the device's group.".into(),
            );
        }
        if self.app_store_restricted {
            push(
                Fact::AppStoreRestricted,
                "端末でApp Storeが制限されています。".into(),
                "The App Store is restricted on the device.".into(),
            );
        }
        if let Some((device, user)) = self.apple_id_hashes_differ() {
            push(
                Fact::AppleIdMismatch,
                format!(
                    "端末のiTunesストアアカウントハッシュ({device})がVPPユーザーのハッシュ({user})と一致しません。ライセンスが割り当てられたApple IDとは別のApple IDでサインインしています。"
                ),
                format!(
                    "The device's iTunes Store account hash ({device}) differs from the VPP user's ({user}): it is signed in with another Apple ID than the one holding the license."
                ),
            );
        }
        if self.holds(Fact::SharedIpadUserLoggedIn, chain) {
            let user = self.shared_ipad_logged_in_user.as_deref().unwrap_or_default();
            let (ja_who, en_who) = if user.is_empty() {
                ("ユーザー".to_string(), "A user".to_string())
            } else {
                (format!("ユーザー「{user}」"), format!("User \"{user}\""))
            };
            push(
                Fact::SharedIpadUserLoggedIn,
                format!(
                    "共有iPadに{ja_who}がログインしています。全てのユーザーがログアウトするまでインストールは行われません。"
                ),
                format!("{en_who} is logged in to the shared iPad; the install waits until every user has logged out."),
            );
        }
        if let Some((size, limit)) = self.wifi_needed() {
            let os = match self.os_version.as_deref() {
                Some(v) => format!("iOS {v}"),
                None => "iOS".into(),
            };
            push(
                Fact::LargeAppNeedsWifi,
                format!(
                    "アプリのサイズ({} MB)が{os}のモバイルデータ通信の上限({} MB)以上のため、端末をWi-Fiに接続する必要があります。",
                    size / MB,
                    limit / MB
                ),
                format!(
                    "The app ({} MB) is at or over the cellular download limit of {os} ({} MB): the device must be on Wi-Fi.",
                    size / MB,
                    limit / MB
                ),
            );
        }
        if let (true, Some(free), Some(size)) = (
            self.holds(Fact::InsufficientStorage, chain),
            self.device_free_bytes,
            self.app_size_bytes,
        ) {
            push(
                Fact::InsufficientStorage,
                format!(
                    "端末の空き容量({} MB)がアプリのサイズ({} MB)より少なくなっています。",
                    free / MB,
                    size / MB
                ),
                format!(
                    "The device has {} MB free, less than the app's {} MB.",
                    free / MB,
                    size / MB
                ),
            );
        }
        if let (true, Some(os), Some(min)) = (self.os_below_minimum(), &self.os_version, &self.app_minimum_os) {
            push(
                Fact::OsBelowAppMinimum,
                format!("端末のOS({os})がアプリの対象OS({min}以降)を満たしていません。"),
                format!("The device runs {os}; the app needs {min} or later."),
            );
        }
        if let (Some(silence), Some(since)) = (self.silent_for(), self.last_contact_at) {
            let hours = silence / (60 * 60 * 1000);
            let (ja_for, en_for) = if hours >= 48 {
                (format!("{}日", hours / 24), format!("{} days", hours / 24))
            } else {
                (format!("{hours}時間"), format!("{hours} hours"))
            };
            let at = millis_to_rfc3339(since.0);
            push(
                Fact::DeviceSilent,
                format!("端末は{at}から{ja_for}以上サーバーと通信していません。"),
                format!("The device has not contacted the server for {en_for} or more, since {at}."),
            );
        }
        match self.enrollment {
            Some(EnrollmentState::Registered) => push(
                Fact::NotEnrolled,
                "端末はまだMDMに登録されていません。".into(),
                "The device has not enrolled in MDM yet.".into(),
            ),
            Some(EnrollmentState::Unenrolled) => push(
                Fact::NotEnrolled,
                "端末はMDMから離脱しています(MDMプロファイルが削除されました)。".into(),
                "The device has left MDM (its MDM profile was removed).".into(),
            ),
            Some(EnrollmentState::Enrolled) | None => {}
        }
        if let Some(item) = chain.and_then(|chain| chain.iter().find(|item| is_network_domain(&item.domain))) {
            push(
                Fact::NetworkErrorInChain,
                format!("端末が通信エラーを報告しています({} {})。", item.domain, item.code),
                format!("The device reports a network error ({} {}).", item.domain, item.code),
            );
        }
        if self.distributed_without_vpp {
            push(
                Fact::DistributedWithoutVpp,
                "アプリがVPPライセンスなしのApp Storeアプリとして配信されています。".into(),
                "The app was sent as a plain App Store app, without a VPP license.".into(),
            );
        }
        out
    }
}
