//! Signed links: a message and its HMAC-SHA256 tag, so a URL handed to a
//! device's user (the self-service portal) proves itself without a session.
//! The signing key is derived from the master key, so links stop working
//! when the key is rotated and nothing else has to be stored.

use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::MasterKey;

impl MasterKey {
    /// The tag of `message` for `purpose`, base64url without padding.
    pub fn sign(&self, purpose: &str, message: &str) -> String {
        let tag = hmac::sign(&self.signing, &framed(purpose, message));
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether `tag` is the tag of `message` for `purpose`, compared in
    /// constant time.
    pub fn verify(&self, purpose: &str, message: &str, tag: &str) -> bool {
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
            return false;
        };
        hmac::verify(&self.signing, &framed(purpose, message), &tag).is_ok()
    }
}

/// Purpose and message with a separator no purpose contains, so a tag for
/// one purpose never verifies for another.
fn framed(purpose: &str, message: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(purpose.len() + message.len() + 1);
    bytes.extend_from_slice(purpose.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(message.as_bytes());
    bytes
}

pub(crate) fn signing_key(master: &[u8]) -> hmac::Key {
    let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master), b"haishin signed links v1");
    hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_verifies_only_its_message_purpose_and_key() {
        let (key, _) = MasterKey::generate();
        let (other, _) = MasterKey::generate();
        let tag = key.sign("portal", "1.42.1700000000000");
        assert!(key.verify("portal", "1.42.1700000000000", &tag));
        assert!(!key.verify("portal", "1.43.1700000000000", &tag));
        assert!(!key.verify("other", "1.42.1700000000000", &tag));
        assert!(!other.verify("portal", "1.42.1700000000000", &tag));
        assert!(!key.verify("portal", "1.42.1700000000000", "not base64 !"));
        assert!(!key.verify("portal", "1.42.1700000000000", ""));
    }
}
