//! The knowledge base: every cause/remedy row of the troubleshooting tables of
//! seeds 003 and 004, in the seeds' order.
//!
//! Japanese marked [`TextSource::Seed`] is the seed's own wording (our product's
//! source documents), kept verbatim so administrators recognise it; the seed's
//! Kangxi-radical look-alikes (⽤, ⼤, ...) are written as the ordinary kanji so
//! the text can be searched. Product names in that wording (mobiconnect,
//! mobiApps, UIバージョン) are the seed's too. Seed 004's table names causes
//! only; the remedies for those rows are haishin's ([`TextSource::Haishin`]).
//!
//! Ids are stable: the console links to them. Never renumber; add new ids.

use apple_mdm::error_chain::domain;

use super::TextSource::{Haishin, Seed as FromSeed};
use super::{CodeMatch, Fact, KnowledgeRow, MatchRule, Seed, SeedTable, Situation, Text, Trigger};

const fn t(ja: &'static str, en: &'static str) -> Text {
    Text { ja, en }
}

const fn on(trigger: Trigger, confirmed_by: Option<Fact>) -> MatchRule {
    MatchRule { trigger, confirmed_by }
}

const MCMDM: &[&str] = &[domain::MCMDM];
const DM: &[&str] = &[domain::DEVICE_MANAGEMENT];
// Apple reports the same timeout under either domain depending on the layer.
const NETWORK: &[&str] = &[domain::NSURL, domain::CF_NETWORK];

const fn mcmdm(code: i64) -> CodeMatch {
    CodeMatch { domains: MCMDM, code }
}

const C12064_2605: &[CodeMatch] = &[
    mcmdm(12064),
    CodeMatch {
        domains: DM,
        code: 2605,
    },
];
const C12064: &[CodeMatch] = &[mcmdm(12064)];
const C12023: &[CodeMatch] = &[mcmdm(12023)];
const C12023_TIMEOUT: &[CodeMatch] = &[
    mcmdm(12023),
    CodeMatch {
        domains: NETWORK,
        code: -1001,
    },
];
const C12031: &[CodeMatch] = &[mcmdm(12031)];
const C12025: &[CodeMatch] = &[mcmdm(12025)];
const C12026: &[CodeMatch] = &[mcmdm(12026)];
const C12063: &[CodeMatch] = &[mcmdm(12063)];
const C12040: &[CodeMatch] = &[mcmdm(12040)];
const C12029: &[CodeMatch] = &[mcmdm(12029)];

const STATUS: MatchRule = on(Trigger::Status, None);

const CHECK_DEVICE: Text = t("端末の状況をご確認ください。", "Check the state of the device.");
const CHECK_NETWORK: Text = t(
    "該当端末のネットワーク状況について、ご確認ください。",
    "Check the device's network.",
);
const CHECK_NETWORK_LARGE_APP: Text = t(
    "該当端末のネットワーク状況について、ご確認ください。 ※サイズの大きなアプリを配信する場合は、端末がWi-Fiに接続されている必要があります。(iOS13以降は200MB以上、iOS13未満は150MB以上)",
    "Check the device's network. Note: a large app needs the device on Wi-Fi (200 MB or more on iOS 13 and later, 150 MB or more before iOS 13).",
);
const POWER_OFF: Text = t("端末の電源が入っていない。", "The device is switched off.");
const NO_NETWORK: Text = t(
    "アクティブなネットワークに接続されていない。",
    "The device is not connected to a working network.",
);
const APPLE_BLOCKED: Text = t(
    "Apple社のサーバーへの接続が制限されている。",
    "Connections to Apple's servers are blocked.",
);
const AUTO_ASSIGN_TOKEN: Text = t(
    "ライセンス自動割当のVPPトークンが正しく登録されていない。",
    "The VPP token used for automatic license assignment is not registered correctly.",
);
const AUTO_ASSIGN_TOKEN_REMEDY: Text = t(
    "対象端末に適用される、ライセンス自動割当用に登録しているVPPトークンをご確認の上、正しく登録されていない場合は、登録をし直してください。 なお、上位グループにライセンスの自動割り当ての設定がされている状況で、下位グループにおいて、自動割当用に登録しているVPPトークンとは別のVPPトークンでライセンス割当を行う場合は、自動割り当てでのみ、ライセンスの割り当てが可能です。",
    "Check the VPP token registered for automatic license assignment that applies to the device, and register it again if it is not registered correctly. Where a parent group has automatic assignment set up and a subgroup assigns licenses from a different VPP token than the one registered for automatic assignment, licenses can be assigned only automatically.",
);
const NOT_ASSIGNED: Text = t("ライセンスの割り当てがされていない。", "No license is assigned.");
const REQUIREMENTS: Text = t(
    "アプリの要件を端末が満たしていない。",
    "The device does not meet the app's requirements.",
);

const ERR_003_12064: &str = "\"Exec\", \"4010\", \"500\", \"\" . ErrorChain=ErrorCode[0]=12064, ErrorDomain[0]=MCMDMErrorDomain, LocalizedDescription[0]=iTunes Store ID “(アプリのストアID)”でAppのライセンスを取得できませんでした。, USEnglishDescription[0]=Could not retrieve license for the app with iTunes Store ID 1020208655., ErrorCode[1]=2605, ErrorDomain[1]=DeviceManagement.error, LocalizedDescription[1]=App “(アプリ名)”のライセンスが見つかりません。, USEnglishDescription[1]=null";
// The seed cuts these two errors off after their first word.
const ERR_003_EXEC: &str = "\"Exec\",";
const ERR_003_OTHER: &str = "エラー内容その他";
const ERR_004_12023: &str = "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12023, USEnglishDescription[0]=The iTunes Store ID of the application could not be validated.";
const ERR_004_12064: &str = "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12064, USEnglishDescription[0]=License for app “xxxxxxxx(アプリ名)” could not be found.";

const VPP_APP: Option<Text> = Some(t("VPPアプリ", "VPP app"));
const ANY_INSTALL: Option<Text> = Some(t("アプリ配信 (共通)", "App install (any)"));
const REMOVE_APP: Option<Text> = Some(t("アプリ削除", "App removal"));

const REMEDY_ASSIGN: Text = t(
    "ライセンスを割り当ててから、再度アプリ配信を実行してください。",
    "Assign a license, then run the install again.",
);
const REMEDY_INVITE: Text = t(
    "VPPユーザーをVPPサービスへ招待し、端末の利用者に招待へ同意してもらってから、再度アプリ配信を実行してください。",
    "Invite the VPP user to the VPP service, have the device's user accept the invitation, then run the install again.",
);
const REMEDY_SIGN_IN_RIGHT_ID: Text = t(
    "端末のApp Storeで、VPP招待に同意したApple IDにサインインし直してから、再度アプリ配信を実行してください。iTunesストアアカウントハッシュで照合できます。",
    "On the device, sign in to the App Store with the Apple ID that accepted the VPP invitation, then run the install again. Compare the iTunes Store account hashes to check.",
);
const REMEDY_SIGN_IN: Text = t(
    "端末でApp Storeにサインインしてから、再度アプリ配信を実行してください。",
    "Sign in to the App Store on the device, then run the install again.",
);
const NOT_SIGNED_IN: Text = t(
    "App Storeにサインインしていない。",
    "The device is not signed in to the App Store.",
);

/// Every row; `tests::row_counts` pins how many each table has.
pub static ROWS: &[KnowledgeRow] = &[
    // ---- 003 §1 管理画面でエラーメッセージが表示される場合 ----
    KnowledgeRow {
        id: "003-console-token-expired",
        seed: Seed::S003,
        table: SeedTable::ConsoleErrors,
        situation: Situation::ConsoleError,
        rule: on(Trigger::Fact(Fact::TokenExpired), None),
        job_type: None,
        error_text: Some(
            "「選択中のVPPトークンは有効期限が切れています。再ダウンロードして登録したVPPトークンを選択し、再度お試しください。」",
        ),
        cause: t("VPPトークンの有効期限が切れている。", "The VPP token has expired."),
        cause_source: FromSeed,
        remedy: t(
            "VPPトークンが失効しています。更新を行ってください。 ※VPPトークンを更新した場合、ライセンス自動割当用に登録しているVPPトークンも登録し直す必要があります。",
            "The VPP token is no longer valid. Renew it. Note: after renewing a VPP token, the VPP token registered for automatic license assignment must be registered again too.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-console-token-not-migrated",
        seed: Seed::S003,
        table: SeedTable::ConsoleErrors,
        situation: Situation::ConsoleError,
        rule: on(Trigger::Fact(Fact::NoTokenForGroup), None),
        job_type: None,
        error_text: Some("VPPアプリとブックの画面で「VPPトークンが登録されていません」と表示される"),
        cause: t(
            "UIバージョン2からVPPトークンの移行ができていない",
            "The VPP token was not migrated from UI version 2.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "UIバージョン2で登録したVPPトークンをUIバージョン3で利用するには、VPPトークンを移行する必要があります。",
            "To use a VPP token registered in UI version 2 from UI version 3, migrate the VPP token.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-console-token-not-shared",
        seed: Seed::S003,
        table: SeedTable::ConsoleErrors,
        situation: Situation::ConsoleError,
        rule: on(Trigger::Fact(Fact::NoTokenForGroup), None),
        job_type: None,
        error_text: Some("VPPアプリとブックの画面で「VPPトークンが登録されていません」と表示される"),
        cause: t(
            "ライセンス共有ができていない",
            "The token's licenses are not shared with this group.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "同じVPPトークンを複数のグループで利用する場合、トークンを共有する(ライセンス共有)という仕様に変更になりました。",
            "To use one VPP token in several groups, share the token with them (license sharing).",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-console-no-token",
        seed: Seed::S003,
        table: SeedTable::ConsoleErrors,
        situation: Situation::ConsoleError,
        rule: on(Trigger::Fact(Fact::NoTokenForGroup), None),
        job_type: None,
        error_text: Some("VPPアプリとブックの画面で「VPPトークンが登録されていません」と表示される"),
        cause: t("VPPトークンの登録がそもそもない", "No VPP token is registered at all."),
        cause_source: FromSeed,
        remedy: t("VPPトークンを登録してください。", "Register a VPP token."),
        remedy_source: FromSeed,
    },
    // ---- 003 §2 ステータス:PUSH送信中 / PUSHタイムアウト ----
    KnowledgeRow {
        id: "003-push-power-off",
        seed: Seed::S003,
        table: SeedTable::PushPending,
        situation: Situation::PushPending,
        rule: on(Trigger::Status, Some(Fact::DeviceSilent)),
        job_type: None,
        error_text: None,
        cause: POWER_OFF,
        cause_source: FromSeed,
        remedy: CHECK_DEVICE,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-push-left-mdm",
        seed: Seed::S003,
        table: SeedTable::PushPending,
        situation: Situation::PushPending,
        rule: on(Trigger::Status, Some(Fact::NotEnrolled)),
        job_type: None,
        error_text: None,
        cause: t("mobiconnectから離脱している。", "The device has left MDM management."),
        cause_source: FromSeed,
        remedy: t(
            "端末がmobiconnectに登録されていない場合は、mobiconnectに登録してください。管理画面上では、登録されていて「有効」となっている端末でも、端末側でMDMプロファイルが削除され、離脱している場合もあります。",
            "If the device is not enrolled, enroll it. A device the console shows as enrolled and active may still have left: its MDM profile can have been removed on the device.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-push-network",
        seed: Seed::S003,
        table: SeedTable::PushPending,
        situation: Situation::PushPending,
        rule: on(Trigger::Status, Some(Fact::LargeAppNeedsWifi)),
        job_type: None,
        error_text: None,
        cause: NO_NETWORK,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK_LARGE_APP,
        remedy_source: FromSeed,
    },
    // ---- 003 §2 ステータス:ライセンス割り当て失敗 ----
    KnowledgeRow {
        id: "003-license-auto-assign-token",
        seed: Seed::S003,
        table: SeedTable::LicenseFailed,
        situation: Situation::LicenseFailed,
        rule: on(Trigger::Status, Some(Fact::TokenUnusable)),
        job_type: None,
        error_text: None,
        cause: AUTO_ASSIGN_TOKEN,
        cause_source: FromSeed,
        remedy: AUTO_ASSIGN_TOKEN_REMEDY,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-license-not-assigned",
        seed: Seed::S003,
        table: SeedTable::LicenseFailed,
        situation: Situation::LicenseFailed,
        rule: on(Trigger::Status, Some(Fact::LicenseNotAssigned)),
        job_type: None,
        error_text: None,
        cause: NOT_ASSIGNED,
        cause_source: FromSeed,
        remedy: t(
            "VPPライセンスの自動割当を利用されていない場合は、アプリ配信の前に、ライセンスの割当を行ってください。",
            "Without automatic VPP license assignment, assign a license before installing the app.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-license-shortage",
        seed: Seed::S003,
        table: SeedTable::LicenseFailed,
        situation: Situation::LicenseFailed,
        rule: on(Trigger::Status, Some(Fact::LicenseShortage)),
        job_type: None,
        error_text: None,
        cause: t("ライセンスが不足している。", "There are not enough licenses."),
        cause_source: FromSeed,
        remedy: t(
            "ライセンス数が不足している場合は、VPPアプリの追加購入、もしくはライセンスの回収を行い、ライセンス数を増やしてください。",
            "Buy more of the VPP app or reclaim licenses to raise the number available.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-license-parent-group-auto-assign",
        seed: Seed::S003,
        table: SeedTable::LicenseFailed,
        situation: Situation::LicenseFailed,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t(
            "【UIバージョン2のみ】 VPPライセンス自動割り当ての設定が上位グループにされ、対象グループには設定されていない",
            "[UI version 2 only] Automatic VPP license assignment is set up on a parent group but not on the target group.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "【UIバージョン2のみ】 上位グループでのみVPPライセンス自動割り当ての設定がされている場合は、その下位グループでアプリ配信時には、上位グループのライセンス自動割当のVPPトークンを参照しVPPライセンス割当を実行します。 下記どちらかで対応ください。 ・上位グループのVPPライセンス自動割当設定を解除 ・下位グループでもVPPライセンス自動割当を設定",
            "[UI version 2 only] When only a parent group has automatic VPP license assignment, installs in its subgroups assign licenses from the parent group's automatic-assignment VPP token. Either: remove automatic assignment from the parent group, or set up automatic assignment on the subgroup too.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-license-network",
        seed: Seed::S003,
        table: SeedTable::LicenseFailed,
        situation: Situation::LicenseFailed,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: NO_NETWORK,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK,
        remedy_source: FromSeed,
    },
    // ---- 003 §2 ステータス:端末エラー ----
    KnowledgeRow {
        id: "003-device-12064-power-off",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064_2605), Some(Fact::DeviceSilent)),
        job_type: None,
        error_text: Some(ERR_003_12064),
        cause: POWER_OFF,
        cause_source: FromSeed,
        remedy: CHECK_DEVICE,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-12064-network",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064_2605), Some(Fact::NetworkErrorInChain)),
        job_type: None,
        error_text: Some(ERR_003_12064),
        cause: NO_NETWORK,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-12064-auto-assign-token",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064_2605), Some(Fact::TokenUnusable)),
        job_type: None,
        error_text: Some(ERR_003_12064),
        cause: AUTO_ASSIGN_TOKEN,
        cause_source: FromSeed,
        remedy: AUTO_ASSIGN_TOKEN_REMEDY,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-12064-license-not-assigned",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064_2605), Some(Fact::LicenseNotAssigned)),
        job_type: None,
        error_text: Some(ERR_003_12064),
        cause: NOT_ASSIGNED,
        cause_source: FromSeed,
        remedy: t(
            "VPPアプリの自動割当を利用されていない場合は、アプリ配信の都度、ライセンスの割当を行ってください。",
            "Without automatic assignment of the VPP app, assign a license each time you install the app.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-exec-network",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::UnlistedDeviceError, Some(Fact::NetworkErrorInChain)),
        job_type: None,
        error_text: Some(ERR_003_EXEC),
        cause: NO_NETWORK,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-exec-app-store-app",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::UnlistedDeviceError, Some(Fact::DistributedWithoutVpp)),
        job_type: None,
        error_text: Some(ERR_003_EXEC),
        cause: t(
            "アプリをApp Storeアプリとして配信している",
            "The app was sent as a plain App Store app.",
        ),
        cause_source: FromSeed,
        remedy: t("「VPPアプリ」から配信してください", "Install it as a VPP app."),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-other-requirements",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::UnlistedDeviceError, Some(Fact::OsBelowAppMinimum)),
        job_type: None,
        error_text: Some(ERR_003_OTHER),
        cause: REQUIREMENTS,
        cause_source: FromSeed,
        remedy: t(
            "アプリの要件をご確認いただき、端末がその要件を満たしていない場合、配信するアプリの見直しを行なってください。対象OS、Apple IDの必要有無、SIMカードの必要有無など、アプリの要件をご確認ください。",
            "Check the app's requirements; if the device does not meet them, reconsider which app to install. Check the supported OS, whether an Apple ID is needed, whether a SIM card is needed, and so on.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-other-apple-blocked",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::UnlistedDeviceError, Some(Fact::NetworkErrorInChain)),
        job_type: None,
        error_text: Some(ERR_003_OTHER),
        cause: APPLE_BLOCKED,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-device-other-network",
        seed: Seed::S003,
        table: SeedTable::DeviceError,
        situation: Situation::DeviceError,
        rule: on(Trigger::UnlistedDeviceError, Some(Fact::LargeAppNeedsWifi)),
        job_type: None,
        error_text: Some(ERR_003_OTHER),
        cause: NO_NETWORK,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK_LARGE_APP,
        remedy_source: FromSeed,
    },
    // ---- 003 §3 アプリ配信のジョブのステータスは成功になっている場合 ----
    KnowledgeRow {
        id: "003-success-storage",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: on(Trigger::Status, Some(Fact::InsufficientStorage)),
        job_type: None,
        error_text: None,
        cause: t("端末の空き容量が不足している。", "The device is short of free space."),
        cause_source: FromSeed,
        remedy: CHECK_DEVICE,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-app-status-policy",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t(
            "監視ポリシー「アプリ状況」が制限されている。",
            "The monitoring policy \"App status\" restricts the app.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "監視ポリシー「アプリ状況」にて、選択した監視方式にて差分を検出した場合の動作について、「アプリの実行を禁止する」を選択している場合は、許可していないアプリのアイコンが、端末で非表示となりますので、監視ポリシーを変更してください。",
            "If the monitoring policy \"App status\" is set to \"Prohibit running the app\" when the chosen monitoring method detects a difference, the icons of apps that are not allowed are hidden on the device. Change the monitoring policy.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-content-rating",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t(
            "デバイス利用制限「コンテンツレーティングの制限(App)」で制限されている。",
            "The device restriction \"Content rating restrictions (Apps)\" hides the app.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "Appに適用する最大許容レーティングを選択し設定すると、対象のアプリが非表示になります。設定を変更してくだい。",
            "Setting a maximum allowed rating for apps hides the apps above it. Change the setting.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-requirements",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: on(Trigger::Status, Some(Fact::OsBelowAppMinimum)),
        job_type: None,
        error_text: None,
        cause: REQUIREMENTS,
        cause_source: FromSeed,
        remedy: t(
            "端末がアプリの要件を満たしていない場合、配信するアプリの見直しを行なってください。対象OS、Apple IDの必要有無、SIMカードの必要有無など、アプリの要件をご確認ください。",
            "If the device does not meet the app's requirements, reconsider which app to install. Check the supported OS, whether an Apple ID is needed, whether a SIM card is needed, and so on.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-apple-builtin",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t(
            "Appleの標準搭載アプリである。",
            "The app is one of Apple's built-in apps.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "Appleの標準搭載アプリの場合は、VPPアプリとして配信はできませんので、端末でApp Storeからインストールしてください。Apple ID不要でインストールが可能です。デバイス利用制限でApp Storeの利用制限をしている場合は、一時的に解除が必要です。",
            "Apple's built-in apps cannot be installed as VPP apps: install them from the App Store on the device, which needs no Apple ID. If a device restriction blocks the App Store, lift it temporarily.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-iwork",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t(
            "KeynoteなどのiWorks系のアプリである。",
            "The app is an iWork app such as Keynote.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "端末の開梱後(初回のアクティベーション)、プリインストールされているAppleのアプリをmobiconnectから配信したい場合は、端末で対象アプリを削除してから、アプリ配信を行ってください。",
            "To install, through MDM, an Apple app that came preinstalled when the device was unboxed (first activation), delete the app on the device first, then install it.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-filtering",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t("フィルタリングが影響している。", "Web filtering interferes."),
        cause_source: FromSeed,
        remedy: t(
            "ご利用中のフィルタリングサービスについてご確認ください。",
            "Check the filtering service in use.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-apple-blocked",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: APPLE_BLOCKED,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK,
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-success-network",
        seed: Seed::S003,
        table: SeedTable::SuccessWithoutApp,
        situation: Situation::SuccessWithoutApp,
        rule: on(Trigger::Status, Some(Fact::LargeAppNeedsWifi)),
        job_type: None,
        error_text: None,
        cause: NO_NETWORK,
        cause_source: FromSeed,
        remedy: CHECK_NETWORK_LARGE_APP,
        remedy_source: FromSeed,
    },
    // ---- 003 §4 その他の場合 ----
    KnowledgeRow {
        id: "003-shared-ipad",
        seed: Seed::S003,
        table: SeedTable::Other,
        situation: Situation::SharedIpad,
        rule: on(Trigger::Fact(Fact::SharedIpadUserLoggedIn), None),
        job_type: None,
        error_text: None,
        cause: t(
            "全てのユーザーがログアウトしている必要があります。",
            "On a shared iPad, every user must be logged out.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "全てのユーザーをログアウトしてから、アプリ配信を行ってください。",
            "Log every user out, then install the app.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-restored-backup",
        seed: Seed::S003,
        table: SeedTable::Other,
        situation: Situation::RestoredBackup,
        rule: STATUS,
        job_type: None,
        error_text: None,
        cause: t(
            "mobiconnectから配信されたアプリ(管理対象アプリ)を含む状態で、バックアップからの復元を実施した場合、iOSの仕様により、管理対象アプリには雲マークが付され、mobiconnectから再配信しなければ利用できない状態になります。",
            "After a device is restored from a backup that held apps installed through MDM (managed apps), iOS marks those apps with a cloud icon and they cannot be used until MDM installs them again.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "mobiconnectから再配信するには、端末での対象アプリの削除が必要になりますので、端末で対象アプリを削除してから再配信してください。",
            "Installing again needs the app deleted on the device first: delete it on the device, then install it again.",
        ),
        remedy_source: FromSeed,
    },
    // ---- 003 ネットワーク状況の確認 ----
    KnowledgeRow {
        id: "003-network-same-as-working-device",
        seed: Seed::S003,
        table: SeedTable::NetworkCheck,
        situation: Situation::AnyFailure,
        rule: on(Trigger::Advice, None),
        job_type: None,
        error_text: None,
        cause: t(
            "配信が成功する他の端末と同じネットワーク環境に接続されているか。",
            "Is the device on the same network as other devices that install successfully?",
        ),
        cause_source: FromSeed,
        remedy: t(
            "他端末と同じネットワーク環境に接続した場合に、ジョブが実行されるかご確認ください。",
            "Connect it to the same network as the other devices and see whether the job runs.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-network-wifi-restrictions",
        seed: Seed::S003,
        table: SeedTable::NetworkCheck,
        situation: Situation::AnyFailure,
        rule: on(Trigger::Advice, None),
        job_type: None,
        error_text: None,
        cause: t(
            "接続中のWi-Fiにネットワークの制限等は設定されているか。",
            "Does the Wi-Fi network the device is on have restrictions?",
        ),
        cause_source: FromSeed,
        remedy: t(
            "制限が適用されていないネットワークに接続し、ジョブが実行されるかご確認ください。",
            "Connect to a network without restrictions and see whether the job runs.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-network-mdm-ports",
        seed: Seed::S003,
        table: SeedTable::NetworkCheck,
        situation: Situation::AnyFailure,
        rule: on(Trigger::Advice, None),
        job_type: None,
        error_text: None,
        cause: t(
            "MDMの利用に必要な通信先が開放されていない。",
            "The network does not allow what the MDM server needs.",
        ),
        cause_source: Haishin,
        remedy: t(
            "※mobiconnectを利用するにあたって開放が必要なネットワーク設定がされているか、ご確認ください。",
            "Check that the network allows the connections the MDM server needs.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-network-apple-servers",
        seed: Seed::S003,
        table: SeedTable::NetworkCheck,
        situation: Situation::AnyFailure,
        rule: on(Trigger::Advice, None),
        job_type: None,
        error_text: None,
        cause: t(
            "Apple社が利用するサーバへの接続ができない。",
            "The device cannot reach the servers Apple uses.",
        ),
        cause_source: Haishin,
        remedy: t(
            "※VPPアプリを配信するにあたってApple社が利用するサーバへの接続がされているか、Apple社のサイトをご参照いただき、ご確認ください。",
            "Check, with Apple's published list, that the device can reach the servers Apple uses to deliver VPP apps (including Apple push notifications).",
        ),
        remedy_source: FromSeed,
    },
    // ---- 003 上記項目についてご確認いただいても、アプリ配信ができない場合 ----
    KnowledgeRow {
        id: "003-still-failing-retry",
        seed: Seed::S003,
        table: SeedTable::StillFailing,
        situation: Situation::AnyFailure,
        rule: on(Trigger::Advice, None),
        job_type: None,
        error_text: None,
        cause: t(
            "上記項目についてご確認いただいても、アプリ配信ができない場合",
            "The app still cannot be delivered after the checks above.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "登録されているジョブを1度キャンセルしていただき、端末の電源の切り替えや、Wi-Fi接続のオンオフを実行した上で、再度アプリ配信を行っていただくと、配信が成功する場合があります。",
            "Cancel the registered job, restart the device or turn Wi-Fi off and on, then install again: that sometimes succeeds.",
        ),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "003-still-failing-reassign",
        seed: Seed::S003,
        table: SeedTable::StillFailing,
        situation: Situation::AnyFailure,
        rule: on(Trigger::Advice, None),
        job_type: None,
        error_text: None,
        cause: t(
            "上記項目についてご確認いただいても、アプリ配信ができない場合",
            "The app still cannot be delivered after the checks above.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "一度明示的に該当端末の該当アプリのVPPライセンスを回収し、その後、再度VPPライセンスを割り当てし、アプリ配信を行っていただくと、配信が成功する場合があります。",
            "Explicitly reclaim the device's VPP license for the app, assign it again, then install again: that sometimes succeeds.",
        ),
        remedy_source: FromSeed,
    },
    // ---- 004 端末エラーについて ----
    KnowledgeRow {
        id: "004-12023-vpp-not-assigned",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), Some(Fact::LicenseNotAssigned)),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12023),
        cause: t("①ライセンス未割り当て", "(1) No license is assigned."),
        cause_source: FromSeed,
        remedy: REMEDY_ASSIGN,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-vpp-not-invited",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), None),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12023),
        cause: t(
            "②VPP未招待、VPP招待に同意していない",
            "(2) The user was not invited to VPP, or has not accepted the invitation.",
        ),
        cause_source: FromSeed,
        remedy: REMEDY_INVITE,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-vpp-other-apple-id",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), Some(Fact::AppleIdMismatch)),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12023),
        cause: t(
            "③VPP招待に同意したApple IDとは別のIDにてサインインしている",
            "(3) The device is signed in with an Apple ID other than the one that accepted the VPP invitation.",
        ),
        cause_source: FromSeed,
        remedy: REMEDY_SIGN_IN_RIGHT_ID,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-vpp-not-signed-in",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), None),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12023),
        cause: t(
            "④App Storeにサインインしていない",
            "(4) The device is not signed in to the App Store.",
        ),
        cause_source: FromSeed,
        remedy: REMEDY_SIGN_IN,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12064-not-assigned",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064), Some(Fact::LicenseNotAssigned)),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12064),
        cause: t("①ライセンス未割り当て", "(1) No license is assigned."),
        cause_source: FromSeed,
        remedy: REMEDY_ASSIGN,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12064-not-invited",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064), None),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12064),
        cause: t(
            "②VPP未招待、VPP招待に同意していない",
            "(2) The user was not invited to VPP, or has not accepted the invitation.",
        ),
        cause_source: FromSeed,
        remedy: REMEDY_INVITE,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12064-other-apple-id",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064), Some(Fact::AppleIdMismatch)),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12064),
        cause: t(
            "③VPP招待に同意したApple IDとは別のIDにてサインインしている",
            "(3) The device is signed in with an Apple ID other than the one that accepted the VPP invitation.",
        ),
        cause_source: FromSeed,
        remedy: REMEDY_SIGN_IN_RIGHT_ID,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12031-app-store-disabled",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12031), Some(Fact::AppStoreRestricted)),
        job_type: ANY_INSTALL,
        error_text: Some(
            "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12031, USEnglishDescription[0]=The App Store is disabled.",
        ),
        cause: t(
            "遠隔設定フィーチャーセット(デバイス利用制限)、構成プロファイル、端末側の機能制限にてApp Storeが制限されている。",
            "The App Store is restricted by a remote settings feature set (device restrictions), a configuration profile, or the restrictions set on the device.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "App Storeの制限を解除してから、再度アプリ配信を実行してください。",
            "Lift the App Store restriction, then run the install again.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-cellular-data-off",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), None),
        job_type: ANY_INSTALL,
        error_text: Some(ERR_004_12023),
        cause: t(
            "①端末側「設定」>「iTunes&App Store」にて\"モバイルデータ通信\"がオフになっている※3G/LTE接続端末",
            "(1) \"Cellular data\" is off under Settings > iTunes & App Store on the device (devices on 3G/LTE).",
        ),
        cause_source: FromSeed,
        remedy: t(
            "端末をWi-Fiに接続するか、「モバイルデータ通信」をオンにしてから、再度アプリ配信を実行してください。",
            "Connect the device to Wi-Fi or turn \"Cellular data\" on, then run the install again.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-unsupported-app",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), Some(Fact::OsBelowAppMinimum)),
        job_type: ANY_INSTALL,
        error_text: Some(ERR_004_12023),
        cause: t(
            "②非対応アプリ(iPad専用アプリをiPhoneに配信した場合など)",
            "(2) The app does not support the device (e.g. an iPad-only app sent to an iPhone).",
        ),
        cause_source: FromSeed,
        remedy: t(
            "アプリの対応機種と対応OSを確認し、配信するアプリまたは配信先の端末を見直してください。",
            "Check the devices and OS versions the app supports, and change the app or the target devices.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-not-signed-in",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023), None),
        job_type: ANY_INSTALL,
        error_text: Some(ERR_004_12023),
        cause: t(
            "③App Storeにサインインしていない",
            "(3) The device is not signed in to the App Store.",
        ),
        cause_source: FromSeed,
        remedy: REMEDY_SIGN_IN,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12025-already-installed",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12025), None),
        job_type: ANY_INSTALL,
        error_text: Some(
            "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12025, USEnglishDescription[0]=The app “xxxxxxxx(アプリ名)” is already installed.",
        ),
        cause: t(
            "端末側で、配信したアプリがすでにApp Storeにてインストールされている。",
            "The user already installed the app from the App Store on the device.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "インストール済みのアプリを管理対象に変更するか、端末で対象アプリを削除してから、再度アプリ配信を実行してください。",
            "Take management of the installed app, or delete it on the device and run the install again.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12023-network-timeout",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12023_TIMEOUT), None),
        job_type: ANY_INSTALL,
        error_text: Some(
            "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12023, USEnglishDescription[0]=The iTunes Store ID of the application could not be validated., ErrorCode[1]=-1001,USEnglishDescription[1]=null, ErrorCode[2]=-1001,USEnglishDescription[2]=null",
        ),
        cause: t(
            "アプリをダウンロードする際にサーバーとの接続が通信エラーとなった。",
            "The connection to the server failed while the app was downloading.",
        ),
        cause_source: FromSeed,
        remedy: t("再度アプリ配信を実行してください。", "Run the install again."),
        remedy_source: FromSeed,
    },
    KnowledgeRow {
        id: "004-12026-already-scheduled",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12026), None),
        job_type: ANY_INSTALL,
        error_text: Some(
            "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12026, USEnglishDescription[0]=The app “アプリパッケージ名” is already scheduled for management.",
        ),
        cause: t(
            "配信したアプリがすでに配信済みのアプリで、端末側でダウンロード中、またはインストールが完了していない。",
            "The app was already sent and is still downloading, or its install has not finished, on the device.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "端末でのダウンロードとインストールの完了を待ち、アプリ一覧を取得して状況を確認してください。",
            "Wait for the download and install to finish on the device, then fetch the app list to check.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12063-user-rejected",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12063), None),
        job_type: ANY_INSTALL,
        error_text: Some(
            "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\", \"\" . ErrorChain=ErrorCode[0]=12063, USEnglishDescription[0]=The item was rejected by the user.",
        ),
        cause: t(
            "端末側に表示されたポップアップにて\"戻る\"や\"キャンセル\"をタップし、配信自体がキャンセルされた。",
            "The user tapped \"Back\" or \"Cancel\" in the prompt on the device, which canceled the install.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "端末の利用者に、表示されるポップアップで「インストール」をタップするよう依頼してから、再度アプリ配信を実行してください。",
            "Ask the device's user to tap \"Install\" in the prompt, then run the install again.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12040-not-signed-in",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12040), None),
        job_type: ANY_INSTALL,
        error_text: Some(
            "\"Exec\",\"4010\",\"500\",\"\" \"Exec\",\"4010\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12040, USEnglishDescription[0]=Please log in to your iTunes Store account.",
        ),
        cause: NOT_SIGNED_IN,
        cause_source: FromSeed,
        remedy: REMEDY_SIGN_IN,
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12029-not-managed",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12029), None),
        job_type: REMOVE_APP,
        error_text: Some(
            "\"Exec\",\"4001\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12029, USEnglishDescription[0]=The app “xxxxxxxx(アプリ名)” is not managed.",
        ),
        cause: t(
            "①アプリ削除ジョブを登録したアプリがManaged Appではない場合 (mobiAppsで配信したアプリではない)",
            "(1) The app the removal job names is not a managed app (it was not installed through MDM).",
        ),
        cause_source: FromSeed,
        remedy: t(
            "管理対象ではないアプリはMDMから削除できません。必要であれば端末の利用者が削除してください。",
            "MDM cannot remove an unmanaged app; if it must go, the device's user removes it.",
        ),
        remedy_source: Haishin,
    },
    KnowledgeRow {
        id: "004-12029-already-removed",
        seed: Seed::S004,
        table: SeedTable::DeviceErrorCodes,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12029), None),
        job_type: REMOVE_APP,
        error_text: Some(
            "\"Exec\",\"4001\",\"500\",\"\" . ErrorChain=ErrorCode[0]=12029, USEnglishDescription[0]=The app “xxxxxxxx(アプリ名)” is not managed.",
        ),
        cause: t(
            "②すでに端末よりアンインストール、削除されている場合",
            "(2) The app was already uninstalled or deleted from the device.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "対応は不要です。アプリ一覧を取得して端末の状態を更新してください。",
            "Nothing to do: fetch the app list to bring the device's state up to date.",
        ),
        remedy_source: Haishin,
    },
    // ---- 004 ライセンスが割り当たっているのに端末エラーになる場合(VPPユーザー利用) ----
    KnowledgeRow {
        id: "004-licensed-but-12064",
        seed: Seed::S004,
        table: SeedTable::LicensedButError,
        situation: Situation::DeviceError,
        rule: on(Trigger::Chain(C12064), Some(Fact::LicenseAssigned)),
        job_type: VPP_APP,
        error_text: Some(ERR_004_12064),
        cause: t(
            "ライセンスを割り当ててからVPP招待を実施した場合に、以下を満たしていてもVPPアプリ配信時に端末エラーになる場合があります。",
            "When the license was assigned before the VPP invitation, installing the VPP app can end in a device error even though the license is assigned, the invitation is complete and the Apple ID is right.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "この場合は、割り当て済みのライセンスを一度回収し、もう一度ライセンスを割り当ててから、再度VPPアプリ配信を実行してください。",
            "Reclaim the assigned license, assign it again, then run the VPP app install again.",
        ),
        remedy_source: FromSeed,
    },
    // ---- 004 VPPユーザー利用時のApple IDの確認方法 ----
    KnowledgeRow {
        id: "004-apple-id-hash-mismatch",
        seed: Seed::S004,
        table: SeedTable::AppleIdHash,
        situation: Situation::DeviceError,
        rule: on(Trigger::Fact(Fact::AppleIdMismatch), None),
        job_type: VPP_APP,
        error_text: None,
        cause: t(
            "VPP招待時にサインインしていたApple IDと、端末側App StoreでサインインしているApple IDが異なる場合、ライセンスが割り当てられているApple IDではないため、ステータスが端末エラーとなることがあります。",
            "If the Apple ID signed in to the App Store on the device differs from the one signed in when the VPP invitation was accepted, it is not the Apple ID holding the license, and the job can end in a device error.",
        ),
        cause_source: FromSeed,
        remedy: t(
            "iTunesストアアカウントのハッシュ値を照合することで、Apple IDが一致しているかどうかを確認することができます。 ※端末情報に表示されるハッシュ値は、端末基本情報取得にて最後に取得した際の情報が表示されます。 最新情報を確認したい場合は、確認する前に端末基本情報取得を実行してください。",
            "Compare the iTunes Store account hashes to see whether the Apple IDs match. The hash shown for the device is the one from its last device information query: run one first for the latest value.",
        ),
        remedy_source: FromSeed,
    },
];
