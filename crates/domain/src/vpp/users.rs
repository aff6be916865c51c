//! VPP users (SPEC U1-U6, seed 002): Apple-ID-based licensing. A user of
//! the organisation gets a VPP account (registered), is invited by mail or
//! through their devices (InviteToProgram), and once they accept with their
//! Apple Account (associated) can receive licenses; retiring releases them.

use std::time::Duration;

use apple_vpp::{ManageUsersRequest, RequestUser, ResponseUser, UsersQuery, VppClient};
use serde::Serialize;

use super::apple::require_writable;
use super::{LicenseTarget, StoredVppToken};
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{DeviceId, JobId, UserId, VppTokenId};
use crate::service::Services;
use crate::time_util::Timestamp;

/// Where a VPP user stands at Apple (VPPアカウントの状態). Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VppUserStatus {
    /// Sent to Apple, not confirmed yet.
    Pending,
    /// 登録済み: has an invitation code, no Apple Account yet.
    Registered,
    /// 使用中: linked to an Apple Account; licenses can be assigned.
    Associated,
    /// 無効: retired; its revocable licenses went back to the pool.
    Retired,
}

impl VppUserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Registered => "registered",
            Self::Associated => "associated",
            Self::Retired => "retired",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "registered" => Self::Registered,
            "associated" => Self::Associated,
            "retired" => Self::Retired,
            _ => Self::Pending,
        }
    }

    fn from_apple(user: &ResponseUser) -> Self {
        match user.status.as_ref().map(|s| s.as_str()) {
            Some("Associated") => Self::Associated,
            Some("Retired" | "Deleted") => Self::Retired,
            Some("Registered") => Self::Registered,
            _ if user.id_hash.is_some() => Self::Associated,
            _ => Self::Registered,
        }
    }
}

/// A VPP user as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VppUser {
    pub token_id: VppTokenId,
    pub client_user_id: String,
    /// The organisation's user this account belongs to, when known.
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub status: VppUserStatus,
    pub invite_code: Option<String>,
    /// Hash of the Apple Account the user linked (Apple's `idHash`).
    pub id_hash: Option<String>,
    pub invited_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// A VPP user with what the server knows of their devices (U5).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VppUserView {
    #[serde(flatten)]
    pub user: VppUser,
    /// Devices of this user signed in to the App Store with another Apple
    /// Account than the one linked to the VPP account: user licenses will
    /// not reach them.
    pub apple_id_mismatch_devices: Vec<DeviceId>,
    /// Devices (of anyone) signed in with the linked Apple Account; more
    /// than one device per person is worth a look.
    pub devices_with_this_apple_id: Vec<DeviceId>,
}

fn refused(code: &'static str, ja: impl Into<String>, en: impl Into<String>) -> DomainError {
    DomainError::conflict(code, ja, en)
}

impl Services {
    /// U1: creates the VPP account of an organisation user (VPPアカウントの作成と登録).
    pub async fn create_vpp_user(
        &self,
        actor: &Actor,
        token: VppTokenId,
        user: UserId,
    ) -> Result<VppUser, DomainError> {
        actor.require_write()?;
        let stored = self.stored_vpp_token(actor, token).await?;
        require_writable(&stored)?;
        let person = self
            .store
            .get_user(actor.account_id, user)
            .await?
            .ok_or(DomainError::not_found(crate::error::Entity::User))?;
        if let Some(existing) = self
            .store
            .vpp_users(actor.account_id, token)
            .await?
            .into_iter()
            .find(|u| u.user_id == Some(user) && u.status != VppUserStatus::Retired)
        {
            return Ok(existing);
        }
        let now = Timestamp::now();
        let mut row = VppUser {
            token_id: token,
            // Apple: never reuse e-mail addresses or names as ids.
            client_user_id: uuid::Uuid::new_v4().to_string(),
            user_id: Some(user),
            email: person.email.clone(),
            status: VppUserStatus::Pending,
            invite_code: None,
            id_hash: None,
            invited_at: None,
            updated_at: now,
        };
        self.store.put_vpp_user(Some(actor), actor.account_id, &row).await?;
        let client = self.vpp_client(&stored)?;
        let mut request_user = RequestUser::new(row.client_user_id.clone());
        request_user.email = person.email.clone();
        let request = ManageUsersRequest {
            users: vec![request_user],
        };
        let event = match client.create_users(&request).await {
            Ok(event) => event,
            Err(e) => {
                let mut stored = stored;
                return Err(self.vpp_failed(&mut stored, &e).await);
            }
        };
        self.wait_for_event(&client, &event.event_id).await;
        if let Some(fresh) = self.fetch_vpp_user(&client, &row.client_user_id).await? {
            apply_apple_user(&mut row, &fresh);
            self.store.put_vpp_user(None, actor.account_id, &row).await?;
        }
        Ok(row)
    }

    /// Apple processes user writes in the background; a single user is
    /// usually done in well under a second, so the admin gets the result
    /// at once. A slower event leaves the user pending until the
    /// notification or the next refresh.
    async fn wait_for_event(&self, client: &VppClient, event_id: &str) {
        for _ in 0..50 {
            match client.event_status(event_id).await {
                Ok(status) if status.is_finished() => return,
                Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                Err(e) => {
                    tracing::warn!(%event_id, "user event status: {e}");
                    return;
                }
            }
        }
    }

    async fn fetch_vpp_user(
        &self,
        client: &VppClient,
        client_user_id: &str,
    ) -> Result<Option<ResponseUser>, DomainError> {
        let query = UsersQuery {
            client_user_id: Some(client_user_id.to_owned()),
            ..Default::default()
        };
        let users = client.users(&query).await.map_err(|e| super::apple::apple_error(&e))?;
        // One clientUserId may have retired rows too; the active one wins.
        Ok(users
            .users
            .iter()
            .find(|u| VppUserStatus::from_apple(u) != VppUserStatus::Retired)
            .or(users.users.first())
            .cloned())
    }

    async fn vpp_user_of(
        &self,
        actor: &Actor,
        token: VppTokenId,
        client_user_id: &str,
    ) -> Result<VppUser, DomainError> {
        self.store
            .vpp_users(actor.account_id, token)
            .await?
            .into_iter()
            .find(|u| u.client_user_id == client_user_id)
            .ok_or(DomainError::not_found(crate::error::Entity::User))
    }

    async fn invitation_url(&self, stored: &StoredVppToken, user: &VppUser) -> Result<String, DomainError> {
        if user.status != VppUserStatus::Registered {
            return Err(refused(
                "vpp_user_not_invitable",
                "招待できるのは「登録済み」のVPPアカウントだけです(使用中・無効のアカウントには招待を送れません)。状態を取得してから再度お試しください。",
                "Only registered VPP accounts can be invited (associated or retired ones cannot). Refresh the status and try again.",
            ));
        }
        let code = user.invite_code.as_deref().ok_or_else(|| {
            refused(
                "vpp_user_no_invite_code",
                "招待コードがまだありません。状態を取得してください。",
                "No invitation code yet; refresh the status.",
            )
        })?;
        let client = self.vpp_client(stored)?;
        let config = client
            .refresh_service_config()
            .await
            .map_err(|e| super::apple::apple_error(&e))?;
        config
            .urls
            .invitation_url(code)
            .ok_or_else(|| DomainError::internal("Apple's service config has no invitationEmail URL"))
    }

    /// U2 by mail: sends the invitation URL to the user's address.
    pub async fn invite_vpp_user_by_mail(
        &self,
        actor: &Actor,
        token: VppTokenId,
        client_user_id: &str,
    ) -> Result<VppUser, DomainError> {
        actor.require_write()?;
        let stored = self.stored_vpp_token(actor, token).await?;
        let mut user = self.vpp_user_of(actor, token, client_user_id).await?;
        let url = self.invitation_url(&stored, &user).await?;
        let Some(email) = user.email.clone() else {
            return Err(refused(
                "vpp_user_no_email",
                "このユーザーにはメールアドレスが登録されていません。メールアドレスを登録するか、端末への通知で招待してください。",
                "This user has no e-mail address. Add one, or invite through the user's devices.",
            ));
        };
        let Some(mailer) = self.vpp.mailer.clone() else {
            return Err(refused(
                "mail_not_configured",
                "メール送信が設定されていません(smtp_url)。端末への通知で招待してください。",
                "Mail is not configured (smtp_url). Invite through the user's devices instead.",
            ));
        };
        let mail = haishin_mail::OutgoingMail {
            from: self.vpp.mail_from.clone(),
            to: vec![email],
            subject: format!(
                "VPPサービスへの参加のご案内 / Invitation to {}'s Apps and Books",
                stored.token.org_name
            ),
            text_body: format!(
                "{org} から、業務用アプリを受け取るためのVPPサービス(Apps and Books)への参加招待が届いています。\n\
                 iPhone / iPad / Mac で次のURLを開き、Apple Account でサインインして参加してください。\n\n{url}\n\n\
                 {org} invites you to its Apps and Books program so you can receive work apps.\n\
                 Open this link on your iPhone, iPad or Mac and sign in with your Apple Account to join:\n\n{url}\n",
                org = stored.token.org_name
            ),
        };
        mailer.send(&mail).await.map_err(|e| {
            refused(
                "mail_failed",
                format!("招待メールを送信できませんでした: {e}"),
                format!("The invitation mail could not be sent: {e}"),
            )
        })?;
        user.invited_at = Some(Timestamp::now());
        self.store.put_vpp_user(Some(actor), actor.account_id, &user).await?;
        Ok(user)
    }

    /// U2 by device: an InviteToProgram job on each enrolled device of the
    /// user. Refused when the user has no device.
    pub async fn invite_vpp_user_by_device(
        &self,
        actor: &Actor,
        token: VppTokenId,
        client_user_id: &str,
    ) -> Result<Vec<JobId>, DomainError> {
        actor.require_write()?;
        let stored = self.stored_vpp_token(actor, token).await?;
        let mut user = self.vpp_user_of(actor, token, client_user_id).await?;
        let url = self.invitation_url(&stored, &user).await?;
        let devices = match user.user_id {
            Some(owner) => self.store.devices_of_owner(actor.account_id, owner).await?,
            None => Vec::new(),
        };
        let devices: Vec<_> = devices
            .into_iter()
            .filter(|d| d.enrollment_state == crate::org::EnrollmentState::Enrolled)
            .collect();
        if devices.is_empty() {
            return Err(refused(
                "vpp_user_no_device",
                "このユーザーに関連付けられた、MDMに登録済みの端末がありません。端末の利用者を設定するか、メールで招待してください。",
                "No enrolled device is associated with this user. Set the device's owner, or invite by mail.",
            ));
        }
        let jobs = devices
            .iter()
            .map(|d| {
                crate::mdm::commands::job_for(d.id, apple_mdm::command::InviteToProgram::cloud_vpp(url.clone()), None)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let ids = self.enqueue(actor, &jobs).await?;
        user.invited_at = Some(Timestamp::now());
        self.store.put_vpp_user(Some(actor), actor.account_id, &user).await?;
        Ok(ids)
    }

    /// U3: reads every user of the location from Apple (VPPアカウントの状態取得).
    pub async fn refresh_vpp_users(&self, actor: &Actor, token: VppTokenId) -> Result<Vec<VppUserView>, DomainError> {
        actor.require_write()?;
        let mut stored = self.stored_vpp_token(actor, token).await?;
        self.refresh_users_of(&mut stored).await?;
        self.vpp_users(actor, token).await
    }

    pub(crate) async fn refresh_users_of(&self, stored: &mut StoredVppToken) -> Result<usize, DomainError> {
        let client = self.vpp_client(stored)?;
        let apple = match client.all_users(UsersQuery::default()).await {
            Ok(users) => users.items,
            Err(e) => return Err(self.vpp_failed(stored, &e).await),
        };
        self.apply_apple_users(stored, &apple).await
    }

    /// Merges Apple's view of users into the stored rows (also used by
    /// USER_MANAGEMENT and USER_ASSOCIATED notifications).
    pub(crate) async fn apply_apple_users(
        &self,
        stored: &StoredVppToken,
        apple: &[ResponseUser],
    ) -> Result<usize, DomainError> {
        let mut known = self.store.vpp_users(stored.account_id, stored.token.id).await?;
        let mut changed = 0;
        for fresh in apple {
            // Retired history rows must not overwrite the active one.
            let active_elsewhere = VppUserStatus::from_apple(fresh) == VppUserStatus::Retired
                && apple.iter().any(|o| {
                    o.client_user_id == fresh.client_user_id && VppUserStatus::from_apple(o) != VppUserStatus::Retired
                });
            if active_elsewhere {
                continue;
            }
            let row = match known.iter_mut().find(|u| u.client_user_id == fresh.client_user_id) {
                Some(row) => row,
                None => {
                    known.push(VppUser {
                        token_id: stored.token.id,
                        client_user_id: fresh.client_user_id.clone(),
                        user_id: None,
                        email: None,
                        status: VppUserStatus::Pending,
                        invite_code: None,
                        id_hash: None,
                        invited_at: None,
                        updated_at: Timestamp::now(),
                    });
                    known.last_mut().expect("just pushed")
                }
            };
            let before = row.clone();
            apply_apple_user(row, fresh);
            if *row != before {
                row.updated_at = Timestamp::now();
                self.store.put_vpp_user(None, stored.account_id, row).await?;
                changed += 1;
            }
        }
        Ok(changed)
    }

    /// U6: retires the VPP account; Apple releases its revocable licenses.
    pub async fn retire_vpp_user(
        &self,
        actor: &Actor,
        token: VppTokenId,
        client_user_id: &str,
    ) -> Result<VppUser, DomainError> {
        actor.require_write()?;
        let mut stored = self.stored_vpp_token(actor, token).await?;
        require_writable(&stored)?;
        let mut user = self.vpp_user_of(actor, token, client_user_id).await?;
        let client = self.vpp_client(&stored)?;
        let request = ManageUsersRequest {
            users: vec![RequestUser::new(client_user_id.to_owned())],
        };
        let event = match client.retire_users(&request).await {
            Ok(event) => event,
            Err(e) => return Err(self.vpp_failed(&mut stored, &e).await),
        };
        self.wait_for_event(&client, &event.event_id).await;
        user.status = VppUserStatus::Retired;
        user.updated_at = Timestamp::now();
        self.store.put_vpp_user(Some(actor), actor.account_id, &user).await?;
        // Books stay with the user (Apple cannot take them back).
        let revocable = self.revocable_adam_ids(actor.account_id, token).await?;
        let filter = super::store::LicenseFilter {
            token_id: Some(token),
            target: Some(LicenseTarget::User(client_user_id.to_owned())),
            ..Default::default()
        };
        let keys: Vec<super::store::LicenseKey> = self
            .store
            .list_licenses(actor.account_id, &filter)
            .await?
            .into_iter()
            .filter(|l| revocable.contains(&l.adam_id))
            .map(|l| l.key())
            .collect();
        self.store.remove_licenses(token, &keys).await?;
        Ok(user)
    }

    /// The token's VPP users with the U5 checks.
    pub async fn vpp_users(&self, actor: &Actor, token: VppTokenId) -> Result<Vec<VppUserView>, DomainError> {
        self.stored_vpp_token(actor, token).await?;
        let users = self.store.vpp_users(actor.account_id, token).await?;
        let mut views = Vec::with_capacity(users.len());
        for user in users {
            let mut mismatches = Vec::new();
            let mut same_apple_id = Vec::new();
            if let Some(hash) = &user.id_hash {
                if let Some(owner) = user.user_id {
                    for device in self.store.devices_of_owner(actor.account_id, owner).await? {
                        if device.itunes_store_account_hash.as_ref().is_some_and(|h| h != hash) {
                            mismatches.push(device.id);
                        }
                    }
                }
                same_apple_id = self.store.devices_with_apple_account(actor.account_id, hash).await?;
            }
            views.push(VppUserView {
                user,
                apple_id_mismatch_devices: mismatches,
                devices_with_this_apple_id: same_apple_id,
            });
        }
        Ok(views)
    }
}

fn apply_apple_user(row: &mut VppUser, fresh: &ResponseUser) {
    row.status = VppUserStatus::from_apple(fresh);
    if fresh.email.is_some() {
        row.email = fresh.email.clone();
    }
    if fresh.invite_code.is_some() {
        row.invite_code = fresh.invite_code.clone();
    }
    if fresh.id_hash.is_some() {
        row.id_hash = fresh.id_hash.clone();
    }
}
