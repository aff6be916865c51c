use std::time::SystemTime;

/// Why an identity operation was refused.
///
/// Every refusal of hostile input maps to one variant, so the server can answer
/// a device with the right HTTP status (malformed input is a 400, an
/// untrusted or expired identity a 401/403) and log a precise reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The header or field was not valid base64.
    #[error("invalid base64")]
    InvalidBase64,
    /// The PEM text could not be decoded, or carried an unexpected label.
    #[error("invalid PEM: {0}")]
    InvalidPem(&'static str),
    /// The bytes are not the ASN.1 structure expected here.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The input is larger than anything a device legitimately sends.
    #[error("input too large ({len} bytes, limit {limit})")]
    TooLarge { len: usize, limit: usize },
    /// The CMS message carries no SignerInfo.
    #[error("the CMS message has no signer")]
    NoSigner,
    /// No certificate in the CMS message matches the SignerInfo's identifier.
    #[error("the signer's certificate is not in the CMS message")]
    SignerCertificateMissing,
    /// A signed attribute RFC 5652 requires (contentType, messageDigest) is absent or malformed.
    #[error("signed attribute {0} is missing or malformed")]
    SignedAttribute(&'static str),
    /// The messageDigest attribute (or attached content) does not match the body.
    #[error("message digest does not match the content")]
    DigestMismatch,
    /// The signature does not verify with the signer's public key.
    #[error("bad signature")]
    BadSignature,
    /// The certificate was not issued by the trusted CA.
    #[error("certificate not issued by the trusted CA")]
    WrongCa,
    /// The certificate is a CA certificate or not meant for client authentication.
    #[error("certificate not usable as a device identity: {0}")]
    NotADeviceCertificate(&'static str),
    /// The certificate's validity ended before the time of the check.
    #[error("certificate expired")]
    Expired { not_after: SystemTime },
    /// The certificate's validity starts after the time of the check.
    #[error("certificate not yet valid")]
    NotYetValid { not_before: SystemTime },
    /// The trusted CA certificate itself is outside its validity.
    #[error("the CA certificate is outside its validity")]
    CaNotValid,
    /// A digest, signature or key algorithm this crate does not accept.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The private key could not be parsed, or is of an unsupported kind.
    #[error("invalid private key")]
    InvalidKey,
    /// The private key does not belong to the certificate it was paired with.
    #[error("private key does not match the certificate")]
    KeyMismatch,
    /// The certificate has no subject key identifier, but one was asked for.
    #[error("certificate has no subject key identifier")]
    MissingSubjectKeyIdentifier,
    /// A request parameter is out of range (empty name, zero validity…).
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// The PKCS#12 blob could not be built or read (wrong password, corrupt, no identity).
    #[error("PKCS#12: {0}")]
    Pkcs12(String),
    /// Key generation, signing or certificate encoding failed inside the crypto library.
    #[error("crypto failure: {0}")]
    Crypto(String),
}

/// Result alias of this crate.
pub type Result<T, E = IdentityError> = std::result::Result<T, E>;

impl From<base64::DecodeError> for IdentityError {
    fn from(_: base64::DecodeError) -> Self {
        Self::InvalidBase64
    }
}

impl From<rcgen::Error> for IdentityError {
    fn from(e: rcgen::Error) -> Self {
        Self::Crypto(e.to_string())
    }
}

// Only the producing side converts with `?`: a DER error while encoding our own
// structures is an internal failure. Parsers map decode errors to `Malformed`
// explicitly instead.
impl From<der::Error> for IdentityError {
    fn from(e: der::Error) -> Self {
        Self::Crypto(format!("DER encoding: {e}"))
    }
}
