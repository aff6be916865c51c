//! The two ways APNs authenticates a provider.
//!
//! MDM pushes in production use the push certificate; token authentication is offered for
//! simulators and for deployments Apple enables it for.

pub mod cert;
pub mod jwt;

pub use cert::{CertificateAuth, MDM_TOPIC_PREFIX, PushCertificateInfo, push_certificate_info, push_topic};
pub use jwt::{TOKEN_MIN_REFRESH_INTERVAL, TOKEN_REFRESH_AFTER, TokenAuth};

/// How the client proves who it is to APNs.
#[derive(Debug, Clone)]
pub enum Auth {
    /// TLS client certificate (the MDM push certificate).
    Certificate(CertificateAuth),
    /// `authorization: bearer <JWT>` signed with a .p8 key.
    Token(TokenAuth),
}

impl From<CertificateAuth> for Auth {
    fn from(c: CertificateAuth) -> Self {
        Auth::Certificate(c)
    }
}

impl From<TokenAuth> for Auth {
    fn from(t: TokenAuth) -> Self {
        Auth::Token(t)
    }
}

/// Keeps key material and tokens out of `Debug` output (and so out of logs and panics).
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Secret<T>(pub(crate) T);

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}
