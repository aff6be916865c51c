use haishin_secrets::{SecretString, TokenDigest, hash_password, random_token, verify_password};

use super::Services;
use crate::DomainError;
use crate::auth::{Account, Actor, Admin, ApiToken, Role};
use crate::error::Entity;
use crate::ids::{AdminId, ApiTokenId};
use crate::org::Group;
use crate::org::validate;
use crate::store::{AdminUpdate, NewAdmin};
use crate::time_util::Timestamp;

const MIN_PASSWORD_CHARS: usize = 10;

pub struct LoginOutcome {
    pub admin: Admin,
    pub session_token: SecretString,
    pub expires_at: Timestamp,
}

pub struct CreatedToken {
    pub token: ApiToken,
    /// Shown once; only its digest is stored.
    pub secret: SecretString,
}

fn check_password(password: &str) -> Result<String, DomainError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid(
            "password",
            format!("パスワードは{MIN_PASSWORD_CHARS}文字以上にしてください。"),
            format!("A password needs at least {MIN_PASSWORD_CHARS} characters."),
        ));
    }
    hash_password(password).map_err(DomainError::internal)
}

impl Services {
    /// Creates a tenant with its top group. Server operators do this from the
    /// CLI; there is no API for it, since an account's admins must not create
    /// other accounts.
    pub async fn create_account(&self, name: &str) -> Result<(Account, Group), DomainError> {
        let name = validate::group_name(name)?;
        self.store.create_account(&name).await
    }

    pub async fn create_admin(
        &self,
        actor: &Actor,
        login: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<Admin, DomainError> {
        actor.require_account_admin()?;
        let login = validate::identifier("login", "ログインID", "A login", login)?;
        let display_name = validate::required("display_name", display_name, 100)?;
        let password_hash = check_password(password)?;
        let admin = NewAdmin {
            account_id: actor.account_id,
            login,
            display_name,
            role,
            password_hash,
        };
        self.store.create_admin(actor, admin).await
    }

    pub async fn list_admins(&self, actor: &Actor) -> Result<Vec<Admin>, DomainError> {
        self.store.list_admins(actor.account_id).await
    }

    pub async fn get_admin(&self, actor: &Actor, id: AdminId) -> Result<Admin, DomainError> {
        self.store
            .get_admin(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Admin))
    }

    pub async fn update_admin(
        &self,
        actor: &Actor,
        id: AdminId,
        display_name: Option<&str>,
        role: Option<Role>,
        password: Option<&str>,
    ) -> Result<Admin, DomainError> {
        let before = self.get_admin(actor, id).await?;
        // Admins may change their own name and password; anything else, or
        // anyone else, needs an account admin.
        let self_service = actor.admin_id == Some(id) && role.is_none_or(|r| r == before.role);
        if !self_service {
            actor.require_account_admin()?;
        }
        let update = AdminUpdate {
            display_name: match display_name {
                Some(name) => validate::required("display_name", name, 100)?,
                None => before.display_name.clone(),
            },
            role: role.unwrap_or(before.role),
            password_hash: password.map(check_password).transpose()?,
        };
        self.store.update_admin(actor, &before, update).await
    }

    pub async fn delete_admin(&self, actor: &Actor, id: AdminId) -> Result<(), DomainError> {
        actor.require_account_admin()?;
        let admin = self.get_admin(actor, id).await?;
        if actor.admin_id == Some(id) {
            return Err(DomainError::conflict(
                "cannot_delete_self",
                "自分自身は削除できません。",
                "You cannot delete your own admin account.",
            ));
        }
        self.store.delete_admin(actor, &admin).await
    }

    pub async fn login(&self, login: &str, password: &str) -> Result<LoginOutcome, DomainError> {
        let Some((admin, hash)) = self.store.admin_credentials(login.trim()).await? else {
            // Spend the same time as a real check so logins can't be probed.
            let _ = verify_password(password, DUMMY_HASH);
            return Err(DomainError::BadCredentials);
        };
        if !verify_password(password, &hash).map_err(DomainError::internal)? {
            return Err(DomainError::BadCredentials);
        }
        let session_token = random_token("hss_");
        let expires_at = Timestamp(Timestamp::now().0 + self.session_ttl_millis);
        self.store
            .create_session(&admin, &TokenDigest::of(session_token.expose()).0, expires_at)
            .await?;
        Ok(LoginOutcome {
            admin,
            session_token,
            expires_at,
        })
    }

    pub async fn logout(&self, session_token: &str) -> Result<(), DomainError> {
        self.store.delete_session(&TokenDigest::of(session_token).0).await
    }

    pub async fn admin_for_session(&self, session_token: &str) -> Result<Admin, DomainError> {
        self.store
            .admin_by_session(&TokenDigest::of(session_token).0, Timestamp::now())
            .await?
            .ok_or(DomainError::Unauthenticated)
    }

    pub async fn admin_for_api_token(&self, token: &str) -> Result<Admin, DomainError> {
        self.store
            .admin_by_api_token(&TokenDigest::of(token).0, Timestamp::now())
            .await?
            .ok_or(DomainError::Unauthenticated)
    }

    /// Creates an API token for the actor, or (account admins only) for
    /// another admin of the account.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        name: &str,
        for_admin: Option<AdminId>,
    ) -> Result<CreatedToken, DomainError> {
        let owner = match (for_admin, actor.admin_id) {
            (Some(other), mine) if Some(other) != mine => {
                actor.require_account_admin()?;
                self.get_admin(actor, other).await?.id
            }
            (_, Some(mine)) => mine,
            (Some(other), None) => self.get_admin(actor, other).await?.id,
            (None, None) => {
                return Err(DomainError::bad_request(
                    "admin_required",
                    "トークンを発行する管理者を指定してください。",
                    "Name the admin the token is for.",
                ));
            }
        };
        let name = validate::required("name", name, 100)?;
        let secret = random_token("hs_");
        let prefix: String = secret.expose().chars().take(10).collect();
        let token = self
            .store
            .create_api_token(actor, owner, &name, &prefix, &TokenDigest::of(secret.expose()).0)
            .await?;
        Ok(CreatedToken { token, secret })
    }

    pub async fn list_api_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>, DomainError> {
        let only_mine = if actor.role == Role::AccountAdmin {
            None
        } else {
            actor.admin_id
        };
        self.store.list_api_tokens(actor.account_id, only_mine).await
    }

    pub async fn delete_api_token(&self, actor: &Actor, id: ApiTokenId) -> Result<(), DomainError> {
        let token = self
            .store
            .get_api_token(actor.account_id, id)
            .await?
            .filter(|t| actor.role == Role::AccountAdmin || Some(t.admin_id) == actor.admin_id)
            .ok_or(DomainError::not_found(Entity::ApiToken))?;
        self.store.delete_api_token(actor, &token).await
    }
}

/// A valid argon2 hash of a random string, verified against when the login
/// does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0E3sCFOylp5Mn8/3qYuIdAxCqBu8sSAYbiTnC4Kzb9Y";
