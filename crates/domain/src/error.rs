//! The errors an administrator can meet, each with a stable machine code and
//! a message in Japanese and English. HTTP maps [`ErrorKind`] to a status; the
//! CLI prints the message.

use crate::Lang;

/// What class of failure this is, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Invalid,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Internal,
}

/// One problem found in a line of an imported CSV file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line number in the file, counting the header as line 1.
    pub line: usize,
    /// The column the problem is in, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

/// A bilingual explanation of one line problem; rendered into [`LineError`]
/// in the request's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub column: Option<String>,
    pub ja: String,
    pub en: String,
}

impl LineProblem {
    pub fn new(line: usize, column: Option<&str>, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            line,
            column: column.map(str::to_owned),
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn render(&self, lang: Lang) -> LineError {
        LineError {
            line: self.line,
            column: self.column.clone(),
            message: lang.pick(&self.ja, &self.en).to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("not authenticated")]
    Unauthenticated,
    #[error("wrong login or password")]
    BadCredentials,
    #[error("role {role} may not {action}")]
    Forbidden { role: &'static str, action: &'static str },
    #[error("{entity} not found")]
    NotFound { entity: Entity },
    #[error("invalid {field}: {en}")]
    InvalidField {
        field: &'static str,
        ja: String,
        en: String,
    },
    #[error("{en}")]
    Conflict { code: &'static str, ja: String, en: String },
    #[error("group is not empty")]
    GroupNotEmpty { subgroups: i64, users: i64, devices: i64 },
    #[error("a group cannot be moved under itself or its own subgroup")]
    GroupCycle,
    #[error("the top group of an account cannot be deleted or moved")]
    RootGroup,
    #[error("CSV import refused: {} problem(s)", problems.len())]
    CsvRejected { problems: Vec<LineProblem> },
    #[error("{en}")]
    BadRequest { code: &'static str, ja: String, en: String },
    #[error("request body over {limit_bytes} bytes")]
    TooLarge { limit_bytes: usize },
    #[error("internal error: {0}")]
    Internal(String),
}

/// The kinds of object an error can be about, named in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Account,
    Admin,
    ApiToken,
    Group,
    User,
    Device,
    PushCertificate,
    VppToken,
    VppOperation,
    Job,
    Deployment,
    AppRule,
    VppAsset,
}

impl Entity {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Entity::Account => ("アカウント", "account"),
            Entity::Admin => ("管理者", "admin"),
            Entity::ApiToken => ("APIトークン", "API token"),
            Entity::Group => ("グループ", "group"),
            Entity::User => ("ユーザー", "user"),
            Entity::Device => ("端末", "device"),
            Entity::PushCertificate => ("MDMプッシュ証明書", "MDM push certificate"),
            Entity::VppToken => ("VPPトークン", "VPP token"),
            Entity::VppOperation => ("ライセンス操作", "license operation"),
            Entity::Job => ("ジョブ", "job"),
            Entity::Deployment => ("配信", "deployment"),
            Entity::AppRule => ("自動配信の設定", "app rule"),
            Entity::VppAsset => ("アプリ/ブック", "app or book"),
        }
    }
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.names().1)
    }
}

impl DomainError {
    pub fn not_found(entity: Entity) -> Self {
        Self::NotFound { entity }
    }

    pub fn invalid(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::InvalidField {
            field,
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn conflict(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn bad_request(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            ja: ja.into(),
            en: en.into(),
        }
    }

    pub fn internal(err: impl std::fmt::Display) -> Self {
        Self::Internal(err.to_string())
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthenticated | Self::BadCredentials => ErrorKind::Unauthenticated,
            Self::Forbidden { .. } => ErrorKind::Forbidden,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::InvalidField { .. } | Self::CsvRejected { .. } | Self::BadRequest { .. } => ErrorKind::Invalid,
            Self::Conflict { .. } | Self::GroupNotEmpty { .. } | Self::GroupCycle | Self::RootGroup => {
                ErrorKind::Conflict
            }
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A stable identifier clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad_credentials",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::InvalidField { .. } => "invalid_field",
            Self::Conflict { code, .. } | Self::BadRequest { code, .. } => code,
            Self::GroupNotEmpty { .. } => "group_not_empty",
            Self::GroupCycle => "group_cycle",
            Self::RootGroup => "root_group",
            Self::CsvRejected { .. } => "csv_rejected",
            Self::TooLarge { .. } => "too_large",
            Self::Internal(_) => "internal",
        }
    }

    /// The message an administrator reads, in their language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Self::Unauthenticated => lang
                .pick(
                    "ログインしてください(APIトークンまたはセッションが無効です)。",
                    "Not signed in: the API token or session is missing or no longer valid.",
                )
                .into(),
            Self::BadCredentials => lang
                .pick(
                    "ログインIDまたはパスワードが正しくありません。",
                    "The login or password is not correct.",
                )
                .into(),
            Self::Forbidden { role, action } => match lang {
                Lang::Ja => format!("権限「{}」では{}できません。", role_ja(role), action_ja(action)),
                Lang::En => format!("Your role ({role}) may not {action}."),
            },
            Self::NotFound { entity } => {
                let (ja, en) = entity.names();
                match lang {
                    Lang::Ja => format!("指定された{ja}が見つかりません。"),
                    Lang::En => format!("The {en} was not found."),
                }
            }
            Self::InvalidField { field, ja, en } => match lang {
                Lang::Ja => format!("{field}: {ja}"),
                Lang::En => format!("{field}: {en}"),
            },
            Self::Conflict { ja, en, .. } | Self::BadRequest { ja, en, .. } => lang.pick(ja, en).into(),
            Self::GroupNotEmpty {
                subgroups,
                users,
                devices,
            } => match lang {
                Lang::Ja => format!(
                    "グループが空ではないため削除できません(サブグループ {subgroups} 件、ユーザー {users} 件、端末 {devices} 件)。先に移動または削除してください。"
                ),
                Lang::En => format!(
                    "The group is not empty ({subgroups} subgroups, {users} users, {devices} devices). Move or delete them first."
                ),
            },
            Self::GroupCycle => lang
                .pick(
                    "グループを自分自身またはそのサブグループの下へ移動することはできません。",
                    "A group cannot be moved under itself or one of its own subgroups.",
                )
                .into(),
            Self::RootGroup => lang
                .pick(
                    "最上位グループは削除・移動できません。",
                    "The account's top group cannot be deleted or moved.",
                )
                .into(),
            Self::CsvRejected { problems } => match lang {
                Lang::Ja => format!(
                    "CSVに {} 件の問題があるため、取り込みを中止しました。何も登録・変更されていません。",
                    problems.len()
                ),
                Lang::En => format!(
                    "The CSV has {} problem(s), so nothing was imported or changed.",
                    problems.len()
                ),
            },
            Self::TooLarge { limit_bytes } => match lang {
                Lang::Ja => format!(
                    "送信されたデータが大きすぎます(上限 {} MiB)。ファイルを分割してください。",
                    limit_bytes / (1024 * 1024)
                ),
                Lang::En => format!(
                    "The request body is too large (limit {} MiB). Split the file.",
                    limit_bytes / (1024 * 1024)
                ),
            },
            Self::Internal(_) => lang
                .pick(
                    "サーバー内部でエラーが発生しました。しばらくしてから再度お試しください。",
                    "An internal server error occurred. Please try again later.",
                )
                .into(),
        }
    }

    /// Line-numbered details, for CSV rejections.
    pub fn line_errors(&self, lang: Lang) -> Vec<LineError> {
        match self {
            Self::CsvRejected { problems } => problems.iter().map(|p| p.render(lang)).collect(),
            _ => Vec::new(),
        }
    }
}

fn role_ja(role: &str) -> &'static str {
    match role {
        "account_admin" => "アカウント管理者",
        "operator" => "オペレーター",
        _ => "閲覧のみ",
    }
}

fn action_ja(action: &str) -> &'static str {
    match action {
        "change data" => "データを変更",
        "manage admins" => "管理者を管理",
        "manage other admins' tokens" => "他の管理者のトークンを管理",
        _ => "この操作を",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_both_languages_and_a_code() {
        let samples = [
            DomainError::Unauthenticated,
            DomainError::BadCredentials,
            DomainError::Forbidden {
                role: "read_only",
                action: "change data",
            },
            DomainError::not_found(Entity::Device),
            DomainError::invalid("name", "空です", "is empty"),
            DomainError::GroupNotEmpty {
                subgroups: 1,
                users: 2,
                devices: 3,
            },
            DomainError::GroupCycle,
            DomainError::RootGroup,
            DomainError::CsvRejected {
                problems: vec![LineProblem::new(3, None, "x", "y")],
            },
            DomainError::TooLarge {
                limit_bytes: 1024 * 1024,
            },
            DomainError::internal("boom"),
        ];
        for err in samples {
            let ja = err.message(Lang::Ja);
            let en = err.message(Lang::En);
            assert_ne!(ja, en, "{err:?}");
            assert!(!err.code().is_empty());
            assert!(!en.contains("boom"), "internal details must not leak: {en}");
        }
        let forbidden = DomainError::Forbidden {
            role: "read_only",
            action: "change data",
        };
        assert_eq!(
            forbidden.message(Lang::Ja),
            "権限「閲覧のみ」ではデータを変更できません。"
        );
        let too_large = DomainError::TooLarge {
            limit_bytes: 1024 * 1024,
        };
        assert!(too_large.message(Lang::Ja).contains("大きすぎます(上限 1 MiB)"));
    }
}
