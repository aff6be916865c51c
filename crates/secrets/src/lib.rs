//! Everything haishin keeps secret at rest goes through this crate: the master
//! key, authenticated encryption of stored secrets (content tokens, push keys),
//! admin password hashes and API/session token digests.
//!
//! Primitives come from aws-lc-rs (the same provider rustls uses, so the binary
//! carries one crypto library) and argon2 for passwords.

mod aead;
mod master_key;
mod password;
mod signing;
mod token;

pub use aead::{SealError, Sealed};
pub use master_key::{MasterKey, MasterKeyError};
pub use password::{PasswordError, hash_password, verify_password};
pub use token::{SecretString, TokenDigest, random_token};
