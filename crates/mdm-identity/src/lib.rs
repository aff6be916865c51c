//! How haishin proves and checks identities in Apple's MDM protocol. No server
//! concerns: no database, no HTTP; the server stores what this crate returns.
//!
//! - [`DeviceCa`]: the private CA that issues device identities (RSA-2048 by
//!   default, see [`ca`] for why), serialised as certificate PEM and PKCS#8 key
//!   so the server can seal the key at rest.
//! - [`DeviceIdentity`]: a client certificate for one enrollment
//!   (`CN=<enrollment id>, O=haishin`, EKU clientAuth) and its key, packaged as
//!   PKCS#12 for the `com.apple.security.pkcs12` payload (3DES + SHA-1 MAC for
//!   compatibility with every Apple OS, see [`pkcs12`]).
//! - [`sign_profile`] / [`verify_signed_profile`]: CMS SignedData over a
//!   `.mobileconfig`, RSA PKCS#1 v1.5 or ECDSA P-256 with SHA-256.
//! - [`TrustAnchor::verify_mdm_signature`] and
//!   [`TrustAnchor::verify_client_certificate`]: the two ways a device proves
//!   who it is (`Mdm-Signature` header when a proxy terminates TLS, or the TLS
//!   client certificate itself), returning the [`VerifiedCertificate`] to
//!   compare with the enrolled identity. [`DeviceIdentity::sign_mdm_body`] is
//!   the device side, for the simulator.
//!
//! # Why a PKCS#12 payload instead of SCEP
//!
//! See [`identity`]: no SCEP server to run, no extra round trip during profile
//! installation, and it works on every OS version haishin targets. The cost is
//! that the device's private key is generated on the server and travels inside
//! the profile (over TLS, under a random password Apple only obfuscates), so
//! profiles must be served only over TLS to authenticated enrollments and the
//! PKCS#12 blob and password must not be kept after delivery.
//!
//! # Crypto
//!
//! All private-key operations, digests and signature checks run in aws-lc-rs
//! (the provider rustls uses in haishin); the RustCrypto `cms`/`x509-cert`/`der`
//! crates only encode and decode ASN.1, and rcgen only lays out certificates.
//! The `rsa` crate is not used. PKCS#12 encryption (3DES, SHA-1 KDF) comes from
//! `p12-keystore`, pure Rust.
//!
//! Every verifier takes untrusted bytes and returns an [`IdentityError`]
//! rather than panicking; a property test feeds them arbitrary input.

pub mod ca;
pub mod identity;
pub mod pkcs12;

mod algorithms;
mod cert;
mod cms_sign;
mod cms_verify;
mod error;
mod key;
mod tlv;

pub use ca::{CaOptions, DEFAULT_CA_VALIDITY, DeviceCa};
pub use cert::{CertificateInfo, TrustAnchor, VerifiedCertificate};
pub use cms_sign::{SignOptions, Signer, SignerIdentifierKind, sign_mdm_body, sign_profile};
pub use cms_verify::{SignedProfile, mdm_signature_signer, verify_signed_profile, verify_signed_profile_at};
pub use error::{IdentityError, Result};
pub use identity::{DEFAULT_IDENTITY_VALIDITY, DeviceIdentity, IdentityOptions, random_enrollment_id};
pub use key::{KeyAlgorithm, PrivateKey};
pub use pkcs12::{Pkcs12Password, generate_password as generate_pkcs12_password, parse as read_pkcs12};
