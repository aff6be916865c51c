//! Typed identifiers: a device id can't be passed where a group id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = i64)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A tenant. Everything else belongs to exactly one account.
    AccountId,
    /// An administrator who logs in to the console or API.
    AdminId,
    /// A node of an account's group tree.
    GroupId,
    /// A device owner (利用者), not an administrator.
    UserId,
    /// A managed device.
    DeviceId,
    /// An API token record (never the secret itself).
    ApiTokenId,
    /// One command to one device (ジョブ).
    JobId,
    /// A registered Apps and Books content token (VPPトークン): one location at Apple.
    VppTokenId,
    /// One license operation (assign or revoke) sent to Apple.
    VppOperationId,
    /// One distribution of apps or books to a set of devices (配信).
    DeploymentId,
    /// An app that goes to devices by itself: auto-install or self-service (D5).
    AppRuleId,
);
