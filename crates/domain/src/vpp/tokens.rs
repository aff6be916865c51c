//! Content tokens (SPEC T1-T3, T6, T8): register a `.vpptoken` to a group,
//! claim its location at Apple, take it over from another MDM when an
//! admin confirms, renew it with a newer file, share it between groups.

use apple_vpp::{
    ClientConfigRequest, ClientConfigResponse, ContentToken, ErrorCode, MdmInfo, NotificationType, VppError,
};
use serde::Deserialize;

use super::apple::{MDM_NAME, apple_error, expired_token_error, notification_seal_context, token_seal_context};
use super::{ExpiryNoticeSettings, OtherManager, StoredVppToken, TokenStatus, VppToken};
use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::{GroupId, VppTokenId};
use crate::service::Services;
use crate::time_util::Timestamp;

/// Why a token file is refused, saying which problem it has (T1).
fn parse_token_file(file: &str) -> Result<ContentToken, DomainError> {
    let token = ContentToken::parse(file).map_err(|e| {
        DomainError::invalid(
            "token_file",
            format!(
                "VPPトークン(.vpptoken)のファイルとして読めません: {e}。Apple Business Manager / Apple School Manager の「設定」>「Apps and Books」からダウンロードしたファイルをそのまま指定してください。"
            ),
            format!(
                "This is not a readable content token (.vpptoken) file: {e}. Upload the file as downloaded from Apple Business Manager or Apple School Manager (Settings > Apps and Books)."
            ),
        )
    })?;
    if Timestamp::from_datetime(token.expires_at()) <= Timestamp::now() {
        return Err(expired_token_error());
    }
    Ok(token)
}

/// What Apple's answer to a new token file means for registering it.
fn refused_by_apple(err: &VppError) -> DomainError {
    match err.code() {
        Some(ErrorCode::LoginRequired | ErrorCode::InvalidAuthToken) => DomainError::invalid(
            "token_file",
            "Apple がこのVPPトークンを認識しません。ロケーションが削除されたか、ファイルが壊れています。新しいコンテンツトークンをダウンロードしてください。",
            "Apple does not recognise this token: its location was deleted or the file is damaged. Download a new content token.",
        ),
        _ => apple_error(err),
    }
}

/// The notification types haishin subscribes to.
fn notification_types() -> Vec<NotificationType> {
    vec![
        NotificationType::AssetManagement,
        NotificationType::AssetCount,
        NotificationType::UserManagement,
        NotificationType::UserAssociated,
    ]
}

fn random_secret() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TakeoverRequest {
    /// Must be true: taking a location from another MDM changes which
    /// server assigns its licenses.
    #[serde(default)]
    pub confirm: bool,
}

impl Services {
    pub async fn list_vpp_tokens(&self, actor: &Actor, group: Option<GroupId>) -> Result<Vec<VppToken>, DomainError> {
        if let Some(group) = group {
            self.get_group(actor, group).await?;
        }
        let tokens = self.store.list_vpp_tokens(actor.account_id).await?;
        Ok(tokens
            .into_iter()
            .map(|t| t.token)
            .filter(|t| group.is_none_or(|g| t.group_ids.contains(&g)))
            .collect())
    }

    pub async fn vpp_token(&self, actor: &Actor, id: VppTokenId) -> Result<VppToken, DomainError> {
        Ok(self.stored_vpp_token(actor, id).await?.token)
    }

    pub(crate) async fn stored_vpp_token(&self, actor: &Actor, id: VppTokenId) -> Result<StoredVppToken, DomainError> {
        self.store
            .get_vpp_token(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::VppToken))
    }

    /// The tokens a group may use (T6, T8): "no token" is the seeds'
    /// message, not an empty answer an admin has to interpret.
    pub async fn vpp_tokens_of_group(&self, actor: &Actor, group: GroupId) -> Result<Vec<VppToken>, DomainError> {
        let tokens = self.list_vpp_tokens(actor, Some(group)).await?;
        if tokens.is_empty() {
            return Err(DomainError::conflict(
                "vpp_token_not_registered",
                "VPPトークンが登録されていません。「外部サービス連携」>「VPPトークン」でこのグループにVPPトークンを登録するか、登録済みのトークンを共有(ライセンス共有)してください。",
                "No VPP token is registered for this group. Register a content token for it, or share an existing token with it (license sharing).",
            ));
        }
        Ok(tokens)
    }

    /// T1 + T2: checks the file, asks Apple about its location, refuses a
    /// location this account already has, and claims the location unless
    /// another MDM or account holds it (then the token is kept read-only
    /// until an admin confirms a takeover).
    pub async fn register_vpp_token(&self, actor: &Actor, group: GroupId, file: &str) -> Result<VppToken, DomainError> {
        actor.require_account_admin()?;
        self.get_group(actor, group).await?;
        let content = parse_token_file(file)?;
        let client = self.vpp_client_for(VppTokenId(0), content.stoken().clone())?;
        let config = client.client_config().await.map_err(|e| refused_by_apple(&e))?;
        let uid = config.envelope.u_id.clone().unwrap_or_default();
        if uid.is_empty() {
            return Err(DomainError::internal("Apple's client config names no location (uId)"));
        }
        let holders = self.store.vpp_location_accounts(&uid).await?;
        if holders.contains(&actor.account_id) {
            return Err(DomainError::conflict(
                "vpp_token_already_registered",
                "このロケーションのVPPトークンは既に登録されています。新しいファイルで「サーバトークンの更新」を行うか、他のグループで使う場合はライセンス共有を設定してください。",
                "A token of this location is already registered. Renew it with the new file, or share it with other groups.",
            ));
        }
        let now = Timestamp::now();
        let mdm_id = uuid::Uuid::new_v4().to_string();
        let secret = random_secret();
        let mut stored = StoredVppToken {
            account_id: actor.account_id,
            token: VppToken {
                id: VppTokenId(0),
                location_uid: uid,
                location_name: config.location_name.clone().unwrap_or_default(),
                org_name: content.org_name().to_owned(),
                expires_at: Timestamp::from_datetime(content.expires_at()),
                status: TokenStatus::Active,
                other_manager: None,
                country: config.country_iso2a_code.clone().unwrap_or_else(|| "US".into()),
                default_platform: config
                    .default_platform
                    .clone()
                    .unwrap_or_else(|| "enterprisestore".into()),
                group_ids: vec![group],
                notifications: false,
                expiry_notice: ExpiryNoticeSettings::default(),
                last_sync_at: None,
                last_sync_error: None,
                registered_at: now,
                registered_by: actor.name.clone(),
                renewed_at: None,
            },
            sealed_token: self.seal_vpp_secret(&token_seal_context(actor.account_id), content.stoken().expose())?,
            mdm_id,
            sealed_notification_secret: Some(
                self.seal_vpp_secret(&notification_seal_context(actor.account_id), &secret)?,
            ),
            assignments_version: None,
        };
        let claim = if !holders.is_empty() {
            stored.token.status = TokenStatus::OtherAccount;
            false
        } else if let Some(other) = &config.envelope.mdm_info {
            stored.token.status = match self.store.vpp_mdm_id_account(&other.id).await? {
                Some(account) if account != actor.account_id => TokenStatus::OtherAccount,
                _ => TokenStatus::OtherMdm,
            };
            stored.token.other_manager = Some(OtherManager {
                name: other.name.clone(),
                metadata: other.metadata.clone(),
            });
            false
        } else {
            true
        };
        // Stored before claiming: Apple posts a TEST_NOTIFICATION while the
        // claim is being answered, and it must find the token and secret.
        let id = self.store.insert_vpp_token(actor, &stored).await?;
        stored.token.id = id;
        if claim {
            if let Err(e) = self.claim_location(&client, &mut stored, &secret).await {
                self.store.delete_vpp_token(actor, id).await?;
                return Err(e);
            }
            self.store.save_vpp_token(None, "vpp_token.claim", &stored).await?;
            if let Err(e) = self.sync_vpp_token(actor, id).await {
                tracing::warn!(token = %id, "first sync after registration: {e}");
            }
        }
        self.vpp_token(actor, id).await
    }

    /// POST client/config with this server's `mdmInfo` and, when Apple can
    /// reach this server, its notification URL and secret.
    async fn claim_location(
        &self,
        client: &apple_vpp::VppClient,
        stored: &mut StoredVppToken,
        secret: &str,
    ) -> Result<ClientConfigResponse, DomainError> {
        let url = format!(
            "{}/vpp/notifications/{}",
            self.public_url.trim_end_matches('/'),
            stored.mdm_id
        );
        let notify = url.starts_with("https://") || self.vpp.settings.allow_http_notifications;
        let request = ClientConfigRequest {
            mdm_info: Some(MdmInfo {
                id: stored.mdm_id.clone(),
                name: MDM_NAME.to_owned(),
                metadata: format!("{} account {}", self.public_url, stored.account_id),
            }),
            notification_url: notify.then(|| url.clone()),
            notification_auth_token: notify.then(|| secret.to_owned()),
            notification_types: notify.then(notification_types),
        };
        let response = client.set_client_config(&request).await.map_err(|e| apple_error(&e))?;
        stored.token.status = TokenStatus::Active;
        stored.token.other_manager = None;
        stored.token.notifications = notify;
        Ok(response)
    }

    /// T2: claims a location another MDM or account holds, once confirmed.
    pub async fn take_over_vpp_token(
        &self,
        actor: &Actor,
        id: VppTokenId,
        request: &TakeoverRequest,
    ) -> Result<VppToken, DomainError> {
        actor.require_account_admin()?;
        let mut stored = self.stored_vpp_token(actor, id).await?;
        if !request.confirm {
            return Err(DomainError::bad_request(
                "vpp_takeover_unconfirmed",
                "引き継ぎには確認が必要です(confirm: true)。引き継ぐと、これまでこのロケーションを管理していたMDMはライセンスを正しく扱えなくなります。",
                "A takeover must be confirmed (confirm: true). The MDM that managed the location until now will no longer handle its licenses correctly.",
            ));
        }
        let client = self.vpp_client(&stored)?;
        let secret = self.notification_secret(&stored)?;
        if let Err(e) = client.client_config().await {
            return Err(self.vpp_failed(&mut stored, &e).await);
        }
        self.claim_location(&client, &mut stored, secret.expose()).await?;
        self.store
            .save_vpp_token(Some(actor), "vpp_token.takeover", &stored)
            .await?;
        Ok(stored.token)
    }

    /// T3: replaces the token with a newer file of the same location. Each
    /// of the seeds' renewal conditions refuses with its own reason; the
    /// token keeps its id, so licenses, shares and settings carry over.
    pub async fn renew_vpp_token(&self, actor: &Actor, id: VppTokenId, file: &str) -> Result<VppToken, DomainError> {
        actor.require_account_admin()?;
        let mut stored = self.store.get_vpp_token(actor.account_id, id).await?.ok_or_else(|| {
            DomainError::conflict(
                "vpp_renew_not_registered",
                "更新対象のVPPトークンが登録されていません。先にVPPトークンを登録してください。",
                "The token to renew is not registered. Register it first.",
            )
        })?;
        let content = parse_token_file(file)?;
        let new_expiry = Timestamp::from_datetime(content.expires_at());
        if new_expiry <= stored.token.expires_at {
            let current = crate::time_util::millis_to_rfc3339(stored.token.expires_at.0);
            return Err(DomainError::conflict(
                "vpp_renew_not_newer",
                format!(
                    "新しいVPPトークンの失効日時が、登録済みのVPPトークンの失効日時 ({current}) より後ではありません。Apple Business Manager / Apple School Manager から新しいコンテンツトークンをダウンロードしてください。"
                ),
                format!(
                    "The new token does not expire later than the registered one ({current}). Download a new content token from Apple Business Manager or Apple School Manager."
                ),
            ));
        }
        let client = self.vpp_client_for(VppTokenId(0), content.stoken().clone())?;
        let config = match client.client_config().await {
            Ok(config) => config,
            Err(e) if matches!(e.code(), Some(ErrorCode::LoginRequired | ErrorCode::ServiceRemoved)) => {
                return Err(DomainError::conflict(
                    "vpp_renew_location_gone",
                    "このVPPトークンのロケーションはAppleに存在しません(削除されたか、移動されています)。",
                    "The token's location no longer exists at Apple (it was deleted or moved).",
                ));
            }
            Err(e) => return Err(refused_by_apple(&e)),
        };
        if config.envelope.u_id.as_deref() != Some(stored.token.location_uid.as_str()) {
            return Err(DomainError::conflict(
                "vpp_renew_other_location",
                "このファイルは別のロケーションのVPPトークンです。更新対象と同じロケーションのコンテンツトークンを指定してください。",
                "This file is a token of another location. Upload a content token of the same location as the token being renewed.",
            ));
        }
        let others = self.store.vpp_location_accounts(&stored.token.location_uid).await?;
        let claimed_by_other_account = match &config.envelope.mdm_info {
            Some(m) if m.id != stored.mdm_id => {
                matches!(self.store.vpp_mdm_id_account(&m.id).await?, Some(a) if a != actor.account_id)
            }
            _ => false,
        };
        if claimed_by_other_account || others.iter().any(|a| *a != actor.account_id) {
            return Err(DomainError::conflict(
                "vpp_renew_other_account",
                "更新対象のVPPトークンは、このサーバーの他のアカウントで管理されています。",
                "The token to renew is managed by another account of this server.",
            ));
        }
        if let Some(m) = config.envelope.mdm_conflict(&stored.mdm_id) {
            return Err(DomainError::conflict(
                "vpp_renew_other_mdm",
                format!(
                    "更新対象のVPPトークンは他社MDM製品 ({} {}) で管理されています。",
                    m.name, m.metadata
                ),
                format!(
                    "The token to renew is managed by another MDM ({} {}).",
                    m.name, m.metadata
                ),
            ));
        }
        stored.sealed_token = self.seal_vpp_secret(&token_seal_context(actor.account_id), content.stoken().expose())?;
        stored.token.expires_at = new_expiry;
        stored.token.org_name = content.org_name().to_owned();
        stored.token.renewed_at = Some(Timestamp::now());
        let secret = self.notification_secret(&stored)?;
        // Claiming again refreshes the notification settings and confirms
        // Apple accepts the new token for writes.
        self.claim_location(&client, &mut stored, secret.expose()).await?;
        self.store
            .save_vpp_token(Some(actor), "vpp_token.renew", &stored)
            .await?;
        Ok(stored.token)
    }

    /// T6: the groups that use this token (license sharing).
    pub async fn share_vpp_token(
        &self,
        actor: &Actor,
        id: VppTokenId,
        groups: &[GroupId],
    ) -> Result<VppToken, DomainError> {
        actor.require_account_admin()?;
        let mut stored = self.stored_vpp_token(actor, id).await?;
        if groups.is_empty() {
            return Err(DomainError::invalid(
                "group_ids",
                "少なくとも1つのグループを指定してください。",
                "Name at least one group.",
            ));
        }
        let mut unique = Vec::new();
        for group in groups {
            self.get_group(actor, *group).await?;
            if !unique.contains(group) {
                unique.push(*group);
            }
        }
        stored.token.group_ids = unique;
        self.store
            .save_vpp_token(Some(actor), "vpp_token.share", &stored)
            .await?;
        Ok(stored.token)
    }

    /// T4 settings: whether to mail expiry notices, and to whom.
    pub async fn set_vpp_expiry_notice(
        &self,
        actor: &Actor,
        id: VppTokenId,
        settings: &ExpiryNoticeSettings,
    ) -> Result<VppToken, DomainError> {
        actor.require_account_admin()?;
        let mut stored = self.stored_vpp_token(actor, id).await?;
        let mut addresses = Vec::new();
        for address in &settings.addresses {
            if let Some(a) = crate::org::validate::email(Some(address))? {
                addresses.push(a);
            }
        }
        if settings.enabled && addresses.is_empty() {
            return Err(DomainError::invalid(
                "addresses",
                "失効通知を有効にするには、通知メールを送信するメールアドレスを入力してください。",
                "Give at least one address to enable expiry notices.",
            ));
        }
        stored.token.expiry_notice = ExpiryNoticeSettings {
            enabled: settings.enabled,
            addresses,
        };
        self.store
            .save_vpp_token(Some(actor), "vpp_token.expiry_notice", &stored)
            .await?;
        Ok(stored.token)
    }

    pub async fn delete_vpp_token(&self, actor: &Actor, id: VppTokenId) -> Result<(), DomainError> {
        actor.require_account_admin()?;
        self.stored_vpp_token(actor, id).await?;
        self.store.delete_vpp_token(actor, id).await?;
        Ok(())
    }
}
