//! Calling Apple for one token: the client with the token's rate limiter,
//! Apple's errors turned into messages an admin can act on, and what every
//! response says about the token (another MDM took the location, the
//! token expired or was revoked).

use apple_vpp::{ErrorCode, SToken, VppClient, VppConfig, VppError};
use haishin_secrets::{Sealed, SecretString};

use super::{OtherManager, StoredVppToken, TokenStatus};
use crate::DomainError;
use crate::ids::AccountId;
use crate::service::Services;

/// The product name haishin claims locations with (`mdmInfo.name`).
pub const MDM_NAME: &str = "haishin";

/// Binds a sealed token to its account, so a row copied elsewhere does not open.
pub(crate) fn token_seal_context(account: AccountId) -> Vec<u8> {
    format!("vpp-token:account={account}").into_bytes()
}

pub(crate) fn notification_seal_context(account: AccountId) -> Vec<u8> {
    format!("vpp-notification-secret:account={account}").into_bytes()
}

/// The seeds' wording for an expired token (seed 003, first table).
pub fn expired_token_error() -> DomainError {
    DomainError::conflict(
        "vpp_token_expired",
        "選択中のVPPトークンは有効期限が切れています。再ダウンロードして登録したVPPトークンを選択し、再度お試しください。",
        "The selected VPP token has expired. Download a new content token from Apple Business Manager or Apple School Manager, renew the token with it, and try again.",
    )
}

pub fn revoked_token_error() -> DomainError {
    DomainError::conflict(
        "vpp_token_revoked",
        "このVPPトークンはAppleによって無効にされています(新しいトークンのダウンロード、または管理対象Apple Accountのパスワード変更によるもの)。Apple Business Manager / Apple School Manager から新しいコンテンツトークンをダウンロードし、サーバトークンの更新を行ってください。",
        "Apple has revoked this VPP token (a newer token was downloaded, or the password of the Managed Apple Account that downloaded it changed). Download a new content token from Apple Business Manager or Apple School Manager and renew the token with it.",
    )
}

pub fn other_manager_error(token: &StoredVppToken) -> DomainError {
    match (&token.token.status, &token.token.other_manager) {
        (TokenStatus::OtherAccount, _) => DomainError::conflict(
            "vpp_location_other_account",
            "このロケーションはこのサーバーの別のアカウントで管理されています。引き継ぐ場合は、確認のうえ引き継ぎを実行してください。",
            "Another account of this server manages this location. Take it over explicitly if that is intended.",
        ),
        (_, Some(other)) => DomainError::conflict(
            "vpp_location_other_mdm",
            format!(
                "このロケーションは他社MDM製品 ({} {}) で管理されています。同じロケーションを2つのMDMで管理するとライセンスの割り当てが予測できなくなります。引き継ぐ場合は、確認のうえ引き継ぎを実行してください。",
                other.name, other.metadata
            ),
            format!(
                "Another MDM ({} {}) manages this location. Two MDMs on one location make license assignment unpredictable. Take it over explicitly if that is intended.",
                other.name, other.metadata
            ),
        ),
        _ => DomainError::conflict(
            "vpp_location_other_mdm",
            "このロケーションは他のMDMで管理されています。",
            "Another MDM manages this location.",
        ),
    }
}

/// Refuses writes with a token that cannot make them, in the seeds' words.
pub fn require_writable(token: &StoredVppToken) -> Result<(), DomainError> {
    match token.token.status {
        TokenStatus::Active if token.token.expires_at <= crate::time_util::Timestamp::now() => {
            Err(expired_token_error())
        }
        TokenStatus::Active => Ok(()),
        TokenStatus::Expired => Err(expired_token_error()),
        TokenStatus::Revoked => Err(revoked_token_error()),
        TokenStatus::OtherMdm | TokenStatus::OtherAccount => Err(other_manager_error(token)),
    }
}

/// An Apple error as the admin reads it: Apple's number, what it means,
/// and the seeds' message for the token problems.
pub fn apple_error(err: &VppError) -> DomainError {
    match err.code() {
        Some(ErrorCode::TokenExpired) => return expired_token_error(),
        Some(ErrorCode::TokenRevoked) => return revoked_token_error(),
        _ => {}
    }
    let number = err.code().map(|c| format!(" ({})", c.number())).unwrap_or_default();
    let ja = err.explain(apple_vpp::Lang::Ja);
    let en = err.explain(apple_vpp::Lang::En);
    let detail = err.to_string();
    if err.code().is_none() {
        return DomainError::conflict(
            "vpp_unreachable",
            format!("Apple の Apps and Books サービスに接続できませんでした: {ja} [{detail}]"),
            format!("Apple's Apps and Books service could not be reached: {en} [{detail}]"),
        );
    }
    DomainError::conflict(
        "vpp_apple_error",
        format!("Apple がエラーを返しました{number}: {ja}"),
        format!("Apple returned an error{number}: {en}"),
    )
}

impl Services {
    /// A client for this token, sharing its per-location rate limit.
    pub(crate) fn vpp_client(&self, token: &StoredVppToken) -> Result<VppClient, DomainError> {
        let sealed = token.sealed_token.as_bytes();
        if let Some(client) = self.vpp.cached_client(token.token.id, sealed) {
            return Ok(client);
        }
        let raw = self.open_vpp_secret(
            &token.sealed_token,
            &token_seal_context(token.account_id),
            "content token",
        )?;
        let client = self.vpp_client_for(token.token.id, SToken::new(raw.expose()))?;
        self.vpp.keep_client(token.token.id, sealed, &client);
        Ok(client)
    }

    /// The secret Apple's notifications for this token carry.
    pub(crate) fn notification_secret(&self, token: &StoredVppToken) -> Result<SecretString, DomainError> {
        let sealed = token
            .sealed_notification_secret
            .as_ref()
            .ok_or_else(|| DomainError::internal("token has no notification secret"))?;
        self.open_vpp_secret(
            sealed,
            &notification_seal_context(token.account_id),
            "notification secret",
        )
    }

    fn open_vpp_secret(&self, sealed: &Sealed, context: &[u8], what: &str) -> Result<SecretString, DomainError> {
        let bytes = sealed.open(&self.master_key, context).map_err(|e| {
            tracing::error!("{what} does not open: {e}");
            DomainError::internal(format!("{what} does not open with this master key"))
        })?;
        Ok(SecretString::new(String::from_utf8_lossy(&bytes).into_owned()))
    }

    pub(crate) fn vpp_client_for(
        &self,
        token: crate::ids::VppTokenId,
        stoken: SToken,
    ) -> Result<VppClient, DomainError> {
        let settings = &self.vpp.settings;
        let mut config = VppConfig::new(stoken, self.vpp.http.clone())
            .with_base_url(&settings.base_url)
            .map_err(|e| DomainError::internal(format!("vpp_url: {e}")))?
            .with_retry(settings.retry.clone());
        if token.0 > 0 {
            config = config.with_rate_limiter(self.vpp.limiter(token));
        }
        if let Some(url) = &settings.metadata_url {
            config = config
                .with_metadata_lookup_url(url)
                .map_err(|e| DomainError::internal(format!("vpp_metadata_url: {e}")))?;
        }
        Ok(VppClient::new(config))
    }

    pub(crate) fn seal_vpp_secret(&self, context: &[u8], secret: &str) -> Result<Sealed, DomainError> {
        Sealed::seal(&self.master_key, context, secret.as_bytes()).map_err(DomainError::internal)
    }

    /// Applies what an Apple error says about the token itself (expired,
    /// revoked) to its record, then returns the admin's message.
    pub(crate) async fn vpp_failed(&self, token: &mut StoredVppToken, err: &VppError) -> DomainError {
        let status = match err.code() {
            Some(ErrorCode::TokenExpired) => Some(TokenStatus::Expired),
            Some(ErrorCode::TokenRevoked) => Some(TokenStatus::Revoked),
            _ => None,
        };
        if let Some(status) = status
            && token.token.status != status
        {
            token.token.status = status;
            if let Err(e) = self.store.save_vpp_token(None, "vpp_token.status", token).await {
                tracing::warn!("recording the token's status: {e}");
            }
        }
        apple_error(err)
    }

    /// Checks the `mdmInfo` a response carries: another MDM (or another
    /// account of this server) now holding the location stops this
    /// server's writes until an admin takes it over again.
    pub(crate) async fn vpp_observe(
        &self,
        token: &mut StoredVppToken,
        envelope: &apple_vpp::Envelope,
    ) -> Result<(), DomainError> {
        let Some(other) = envelope.mdm_conflict(&token.mdm_id) else {
            return Ok(());
        };
        let status = match self.store.vpp_mdm_id_account(&other.id).await? {
            Some(account) if account != token.account_id => TokenStatus::OtherAccount,
            _ => TokenStatus::OtherMdm,
        };
        let manager = OtherManager {
            name: other.name.clone(),
            metadata: other.metadata.clone(),
        };
        if token.token.status != status || token.token.other_manager.as_ref() != Some(&manager) {
            tracing::warn!(token = %token.token.id, manager = %manager.name, "another MDM claims the location");
            token.token.status = status;
            token.token.other_manager = Some(manager);
            self.store
                .save_vpp_token(None, "vpp_token.claimed_elsewhere", token)
                .await?;
        }
        Err(other_manager_error(token))
    }
}
