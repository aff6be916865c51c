//! Every error number Apple documents for the content-management service, in one table:
//! v2 synchronous errors (with their documented HTTP status), v2 asynchronous failures
//! (event status and notifications), subscription errors, and legacy v1 numbers that
//! can still surface. Each entry carries a short explanation for an administrator in
//! English and Japanese.

use std::fmt;

/// Language of an administrator-facing explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

/// Where Apple documents an error number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorScope {
    /// Returned synchronously by a v2 endpoint; the request was rejected, no event created.
    Sync,
    /// Reported only in event status `failures` and notifications.
    Async,
    /// Documented both ways.
    SyncAndAsync,
    /// v2 subscription endpoints (2025+).
    Subscription,
    /// v1 number; may still appear (Apple reuses some, e.g. 9622 on v2).
    Legacy,
    /// A number not in Apple's documentation as of this crate's writing.
    Unknown,
}

macro_rules! error_codes {
    ($( $num:literal $name:ident $scope:ident $http:literal $en:literal $ja:literal; )*) => {
        /// A typed Apple error number. Unknown numbers are kept, never dropped.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $name, )*
            Unknown(i32),
        }

        impl ErrorCode {
            /// Every documented code, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$name, )*];

            pub fn from_number(n: i32) -> Self {
                match n {
                    $( $num => Self::$name, )*
                    other => Self::Unknown(other),
                }
            }

            pub fn number(self) -> i32 {
                match self {
                    $( Self::$name => $num, )*
                    Self::Unknown(n) => n,
                }
            }

            pub fn scope(self) -> ErrorScope {
                match self {
                    $( Self::$name => ErrorScope::$scope, )*
                    Self::Unknown(_) => ErrorScope::Unknown,
                }
            }

            /// HTTP status Apple documents for the synchronous form, if any. A simulator
            /// uses it to answer like Apple; clients must not rely on it (Apple has sent
            /// HTTP 200 with an error body).
            pub fn http_status(self) -> Option<u16> {
                let status: u16 = match self {
                    $( Self::$name => $http, )*
                    Self::Unknown(_) => 0,
                };
                (status != 0).then_some(status)
            }

            /// A short explanation for an administrator.
            pub fn explain(self, lang: Lang) -> &'static str {
                let (en, ja) = match self {
                    $( Self::$name => ($en, $ja), )*
                    Self::Unknown(_) => (
                        "Apple returned an error number this server does not know; see Apple's message.",
                        "このサーバーが認識しないエラー番号が Apple から返されました。Apple のメッセージを確認してください。",
                    ),
                };
                match lang {
                    Lang::En => en,
                    Lang::Ja => ja,
                }
            }
        }
    };
}

// Columns: number, variant, scope, documented HTTP status (0 = none), English, Japanese.
error_codes! {
    9600 MissingArgument Legacy 0
        "A required argument is missing (legacy API)."
        "必須の引数がありません（旧 API）。";
    9601 LoginRequired Sync 401
        "Login required: the content token is missing or not recognised. Upload a valid token."
        "ログインが必要です。コンテンツトークンが未設定か認識されません。有効なトークンをアップロードしてください。";
    9602 InvalidArgument Sync 400
        "The request contains an invalid argument."
        "リクエストに不正な引数が含まれています。";
    9603 InternalError SyncAndAsync 500
        "Apple's service had an internal error; the request is retried later."
        "Apple のサービスで内部エラーが発生しました。後で再試行します。";
    9604 ResultNotFound Legacy 0
        "No result found (legacy API)."
        "結果が見つかりません（旧 API）。";
    9605 StorefrontIncorrect Legacy 0
        "The account's store country is incorrect."
        "アカウントのストアの国が正しくありません。";
    9606 TokenConstructionFailed Legacy 0
        "Apple could not construct a token (legacy API)."
        "Apple 側でトークンを生成できませんでした（旧 API）。";
    9607 LicenseIrrevocable Legacy 0
        "The licence cannot be revoked."
        "このライセンスは回収できません。";
    9608 EmptySharedDataResponse Legacy 0
        "Apple's internal data service returned nothing; try again later."
        "Apple の内部データサービスから応答がありません。後で再試行してください。";
    9609 RegisteredUserNotFound SyncAndAsync 400
        "No registered user has this clientUserId; create the user first."
        "この clientUserId の登録ユーザーが見つかりません。先にユーザーを作成してください。";
    9610 LicenseNotFound Legacy 0
        "Licence not found."
        "ライセンスが見つかりません。";
    9611 AdminUserNotFound Legacy 0
        "The administrator account was not found."
        "管理者アカウントが見つかりません。";
    9612 ClaimJobFailed Legacy 0
        "Apple could not create the licence claim job; try again later."
        "Apple 側でライセンス割り当てジョブを作成できませんでした。後で再試行してください。";
    9613 UnclaimJobFailed Legacy 0
        "Apple could not create the licence release job; try again later."
        "Apple 側でライセンス解除ジョブを作成できませんでした。後で再試行してください。";
    9614 InvalidDateFormat Legacy 0
        "Invalid date format."
        "日付の形式が不正です。";
    9615 OrgCountryNotFound Legacy 0
        "The organisation's country was not found."
        "組織の国情報が見つかりません。";
    9616 LicenseAlreadyAssigned Legacy 0
        "The licence is already assigned; nothing to do."
        "ライセンスは既に割り当て済みです（対応不要）。";
    9617 UrlMoved Legacy 0
        "Apple moved this service URL; the service configuration is re-read."
        "サービスの URL が変更されました。サービス設定を再取得します。";
    9618 UserAlreadyRetired Legacy 0
        "The user is already retired."
        "このユーザーは既に廃止済みです。";
    9619 LicenseNotAssociated Legacy 0
        "The licence is not assigned to this user or device."
        "このライセンスはこのユーザー・デバイスに割り当てられていません。";
    9620 UserAlreadyDeleted Legacy 0
        "The user is already deleted."
        "このユーザーは既に削除されています。";
    9621 TokenExpired Sync 401
        "The content token has expired (tokens last one year). Download a new one from Apple School Manager or Apple Business Manager and upload it."
        "コンテンツトークンの有効期限（1 年）が切れています。Apple School Manager / Apple Business Manager から新しいトークンをダウンロードしてアップロードしてください。";
    9622 InvalidAuthToken Legacy 401
        "Apple does not accept this content token; it may have been replaced. Upload the current token."
        "Apple がこのコンテンツトークンを受け付けません。置き換えられた可能性があります。最新のトークンをアップロードしてください。";
    9623 InvalidPushToken Sync 400
        "Invalid Apple Push Notification token."
        "Apple Push Notification のトークンが不正です。";
    9624 LicenseRefunded Legacy 0
        "The licence was refunded."
        "このライセンスは返金済みです。";
    9625 TokenRevoked Sync 401
        "Apple revoked this content token before its expiry date (for example after the password of the account that downloaded it changed). Download a new token and upload it."
        "Apple がこのコンテンツトークンを有効期限前に失効させました（ダウンロードしたアカウントのパスワード変更など）。新しいトークンをダウンロードしてアップロードしてください。";
    9626 LicenseAssignedToAnotherUser Legacy 0
        "The licence is already assigned to another user."
        "このライセンスは既に別のユーザーに割り当てられています。";
    9627 FrequentReassociation Legacy 0
        "Apple refused to release the licence because it was reassigned too often; wait and retry."
        "再割り当てが頻繁すぎるため、ライセンスを解除できませんでした。時間をおいて再試行してください。";
    9628 LicenseNotDeviceEligible Legacy 0
        "This licence cannot be assigned to a device."
        "このライセンスはデバイスに割り当てられません。";
    9629 TokenNotApplicableToBatch Legacy 0
        "The content token does not match this batch (legacy paging)."
        "コンテンツトークンがこのバッチに対応していません（旧 API のページング）。";
    9630 TooManyAlreadyAssignedFailures Legacy 0
        "Too many identical 'already assigned' failures recently; stop repeating this request."
        "「割り当て済み」の同一エラーが短時間に多すぎます。このリクエストの繰り返しを止めてください。";
    9631 TooManyNoLicenseFailures Legacy 0
        "Too many identical 'no licence available' failures recently; buy licences before retrying."
        "「ライセンス不足」の同一エラーが短時間に多すぎます。ライセンスを購入してから再試行してください。";
    9632 TooManyIdenticalCalls Legacy 0
        "Too many identical licence-management calls recently; Apple throttles repeats. Wait before sending the same request again."
        "同一のライセンス管理リクエストが短時間に多すぎるため、Apple が制限しています。時間をおいてから再送してください。";
    9633 NoBatchData Legacy 0
        "No data for this batch token (legacy paging); restart the listing."
        "このバッチトークンのデータがありません（旧 API のページング）。一覧取得をやり直してください。";
    9634 ServiceRemoved Sync 410
        "This Apple service is no longer available."
        "この Apple のサービスは提供終了しました。";
    9635 AccountCannotAssociate Async 0
        "The user's Apple Account cannot be associated with this user."
        "ユーザーの Apple アカウントをこのユーザーに関連付けできません。";
    9636 NoRegisteredUser Legacy 0
        "No registered user found."
        "登録ユーザーが見つかりません。";
    9637 FacilitatorNotAllowed Sync 403
        "The token's account has limited (read-only) rights, so it cannot change assignments or users. Use a token from an account allowed to assign licences."
        "トークンのアカウントの権限が限定（読み取り専用）のため、割り当てやユーザーを変更できません。ライセンス割り当て権限のあるアカウントのトークンを使ってください。";
    9638 NoManagedIdOrg Legacy 0
        "The content manager's account has no Managed Apple Account organisation."
        "コンテンツマネージャーのアカウントに管理対象 Apple アカウントの組織がありません。";
    9641 AccountAlreadyAssociated Async 0
        "This Apple Account is already associated with another user."
        "この Apple アカウントは既に別のユーザーに関連付けられています。";
    9642 ManagerWithoutStoreAccount Legacy 0
        "The Apple Account is a content manager without a store account or accepted terms."
        "この Apple アカウントはストアアカウントまたは利用規約への同意のないコンテンツマネージャーです。";
    9643 LicenseLockedForTransfer Legacy 0
        "The licence is locked by a pending transfer between locations."
        "ロケーション間の移行処理中のため、ライセンスがロックされています。";
    9644 MaintenanceMode Async 0
        "Apple's service is in maintenance; the request is retried later."
        "Apple のサービスがメンテナンス中です。後で再試行します。";
    9645 ManagedByBuiltInMdm Legacy 0
        "This location is managed by Apple's built-in MDM; other MDMs may only read it."
        "このロケーションは Apple 内蔵の MDM で管理されているため、他の MDM は読み取りのみ可能です。";
    9646 TooManyRequests Sync 429
        "Too many requests for this organisation; requests are slowed down and retried."
        "この組織へのリクエストが多すぎます。間隔を空けて再試行します。";
    9647 LegacyTokenNotSupported Sync 403
        "This operation is not supported for legacy (user-based) tokens; download a current token."
        "旧形式（ユーザーベース）のトークンではこの操作はできません。新しいトークンをダウンロードしてください。";
    9650 InvalidPageIndex Sync 400
        "Page index out of range (the data changed while listing); the sync restarts."
        "ページ番号が範囲外です（取得中にデータが変わりました）。同期をやり直します。";
    9700 TooManyAssets Sync 400
        "Too many apps or books in one request."
        "1 回のリクエストに含まれるアプリ・ブックが多すぎます。";
    9701 TooManyClientUserIds Sync 400
        "Too many users in one request."
        "1 回のリクエストに含まれるユーザーが多すぎます。";
    9702 TooManySerialNumbers Sync 400
        "Too many devices (serial numbers) in one request."
        "1 回のリクエストに含まれるデバイス（シリアル番号）が多すぎます。";
    9703 DuplicateAssets Sync 400
        "The request lists the same app or book twice."
        "同じアプリ・ブックが重複して指定されています。";
    9704 DuplicateClientUserIds Sync 400
        "The request lists the same user twice."
        "同じユーザーが重複して指定されています。";
    9705 DuplicateSerialNumbers Sync 400
        "The request lists the same serial number twice."
        "同じシリアル番号が重複して指定されています。";
    9706 AssetNotRevocable Sync 400
        "This app or book cannot be taken back (books stay with the user once assigned)."
        "このアプリ・ブックは回収できません（ブックは一度割り当てると回収不可）。";
    9707 AssetNotDeviceAssignable Sync 400
        "This app or book cannot be assigned to devices; assign it to users instead."
        "このアプリ・ブックはデバイスに割り当てられません。ユーザーに割り当ててください。";
    9708 EventNotFound Sync 400
        "Apple does not know this event id."
        "Apple がこのイベント ID を認識しません。";
    9709 NotEnoughLicenses SyncAndAsync 400
        "Not enough licences available; buy more or release unused assignments."
        "利用可能なライセンスが不足しています。追加購入するか、不要な割り当てを解除してください。";
    9710 NotificationUrlAndTokenRequired Sync 400
        "The notification URL and its auth token must be set together."
        "通知 URL と認証トークンは両方を同時に指定する必要があります。";
    9711 NotificationFieldTooLong Sync 400
        "The notification URL or auth token is too long."
        "通知 URL または認証トークンが長すぎます。";
    9712 NotificationUrlInvalid Sync 400
        "The notification URL must be a valid HTTPS URL."
        "通知 URL は有効な HTTPS の URL である必要があります。";
    9713 MdmMetadataTooLong Sync 400
        "The MDM metadata is too long."
        "MDM のメタデータが長すぎます。";
    9714 TooManyUsers Sync 400
        "Too many users in one user-management request."
        "1 回のユーザー管理リクエストのユーザー数が多すぎます。";
    9715 DuplicateUsers Sync 400
        "The user-management request lists the same user twice."
        "ユーザー管理リクエストで同じユーザーが重複しています。";
    9716 UserAlreadyExists SyncAndAsync 400
        "A registered user already exists with this clientUserId."
        "この clientUserId の登録済みユーザーが既に存在します。";
    9717 InvalidEmail Sync 400
        "Invalid email address."
        "メールアドレスが不正です。";
    9718 AssetRequired Sync 400
        "The request must name at least one app or book."
        "アプリ・ブックを 1 つ以上指定する必要があります。";
    9719 TargetRequired Sync 400
        "The request must name users or serial numbers."
        "ユーザーまたはシリアル番号を指定する必要があります。";
    9720 UsersRequired Sync 400
        "The request must name at least one user."
        "ユーザーを 1 人以上指定する必要があります。";
    9721 InvalidVersionId Sync 400
        "The saved sync version is no longer valid; a full sync is needed."
        "保存された同期バージョンが無効です。完全同期が必要です。";
    9722 InvalidAuthorizationHeader Sync 401
        "The Authorization header is malformed (it must be \"Bearer <token>\")."
        "Authorization ヘッダーの形式が不正です（\"Bearer <トークン>\" である必要があります）。";
    9723 MdmInfoIncomplete Sync 400
        "MDM info needs an id, a name and metadata."
        "MDM 情報には id・name・metadata のすべてが必要です。";
    9724 MdmIdTooLong Sync 400
        "The MDM id is too long."
        "MDM の id が長すぎます。";
    9725 MdmNameTooLong Sync 400
        "The MDM name is too long."
        "MDM の名前が長すぎます。";
    9726 UnsupportedMethod Sync 405
        "Unsupported HTTP method for this endpoint."
        "このエンドポイントでサポートされていない HTTP メソッドです。";
    9727 UnsupportedContentType Sync 415
        "Unsupported Content-Type for this endpoint."
        "このエンドポイントでサポートされていない Content-Type です。";
    9728 NotificationUrlUnreachable Sync 400
        "Apple could not deliver the test notification; check that the notification URL is reachable from the Internet."
        "Apple からテスト通知を届けられませんでした。通知 URL がインターネットから到達可能か確認してください。";
    9729 ServiceUnavailable Sync 503
        "Apple's service is temporarily unavailable; the request is retried later."
        "Apple のサービスが一時的に利用できません。後で再試行します。";
    9811 SubscriptionInvalidRequest Subscription 400
        "Invalid subscription request."
        "サブスクリプションのリクエストが不正です。";
    9812 SubscriptionInvalidCursor Subscription 400
        "Invalid subscription listing cursor; restart the listing."
        "サブスクリプション一覧のカーソルが不正です。一覧取得をやり直してください。";
    9813 SubscriptionInvalidAdamId Subscription 400
        "Unknown subscription product id."
        "サブスクリプションの製品 ID が不正です。";
    9814 SubscriptionNoRegisteredUser Subscription 400
        "No registered user for this subscription assignment."
        "サブスクリプションを割り当てる登録ユーザーがいません。";
    9815 SubscriptionUserLacksAdamId Subscription 400
        "The user does not hold this subscription."
        "このユーザーはこのサブスクリプションを持っていません。";
    9816 TooManySubscriptions Subscription 400
        "Too many subscriptions in one request."
        "1 回のリクエストに含まれるサブスクリプションが多すぎます。";
    9817 SubscriptionAssignedViaGroup Subscription 400
        "The subscription is already assigned through a group."
        "このサブスクリプションは既にグループ経由で割り当てられています。";
    9818 SubscriptionsCannotBeDisabled Subscription 400
        "Subscription management cannot be disabled while subscriptions exist."
        "サブスクリプションが存在するため、サブスクリプション管理を無効にできません。";
}

impl ErrorCode {
    /// The token itself is unusable: stop using it and ask the administrator for a new one.
    pub fn is_token_problem(self) -> bool {
        matches!(
            self,
            Self::LoginRequired | Self::TokenExpired | Self::TokenRevoked | Self::InvalidAuthToken
        )
    }

    /// Apple asks for the same request to be sent again later: nothing was applied.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::InternalError | Self::MaintenanceMode | Self::ServiceUnavailable | Self::TooManyRequests
        )
    }
}

impl From<i32> for ErrorCode {
    fn from(n: i32) -> Self {
        Self::from_number(n)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.number()), "duplicate {}", code.number());
            assert_eq!(ErrorCode::from_number(code.number()), *code);
            assert!(!code.explain(Lang::En).is_empty());
            assert!(!code.explain(Lang::Ja).is_empty());
            assert_ne!(code.explain(Lang::En), code.explain(Lang::Ja));
        }
        assert_eq!(ErrorCode::from_number(1234), ErrorCode::Unknown(1234));
        assert_eq!(ErrorCode::Unknown(1234).number(), 1234);
    }

    #[test]
    fn documented_reference_numbers_are_present() {
        let v2_sync = (9700..=9729).chain([9601, 9602, 9603, 9609, 9621, 9623, 9625, 9634, 9637, 9646, 9647, 9650]);
        let v2_async = [9603, 9609, 9635, 9641, 9644, 9709, 9716];
        let legacy = (9600..=9633).chain([9636, 9638, 9642, 9643, 9645]);
        for n in v2_sync.chain(v2_async).chain(legacy).chain(9811..=9818) {
            assert!(
                !matches!(ErrorCode::from_number(n), ErrorCode::Unknown(_)),
                "missing {n}"
            );
        }
    }

    #[test]
    fn revoked_and_expired_read_differently() {
        assert_eq!(ErrorCode::from_number(9625), ErrorCode::TokenRevoked);
        assert!(ErrorCode::TokenRevoked.explain(Lang::En).contains("revoked"));
        assert!(ErrorCode::TokenExpired.explain(Lang::En).contains("expired"));
        assert!(ErrorCode::TokenRevoked.explain(Lang::Ja).contains("失効"));
        assert!(ErrorCode::TokenExpired.explain(Lang::Ja).contains("有効期限"));
        assert_eq!(ErrorCode::TooManyRequests.http_status(), Some(429));
        assert_eq!(ErrorCode::LicenseNotFound.http_status(), None);
        assert_eq!(ErrorCode::NotEnoughLicenses.scope(), ErrorScope::SyncAndAsync);
    }
}
