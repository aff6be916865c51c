//! Certificate authentication: the MDM push certificate is the TLS client identity, and its
//! subject's UID attribute is the push topic (`com.apple.mgmt.External.<uuid>`).

use std::time::SystemTime;

use x509_cert::Certificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{DecodePem, Tag, Tagged};

use super::Secret;
use crate::error::ConfigError;

/// The `UID` attribute (RFC 4519 `uid`, 0.9.2342.19200300.100.1.1) Apple puts the topic in.
const UID: ObjectIdentifier = ObjectIdentifier::new_unwrap("0.9.2342.19200300.100.1.1");

/// Every MDM topic starts with this; App push certificates carry a bundle id instead.
pub const MDM_TOPIC_PREFIX: &str = "com.apple.mgmt.";

/// The MDM push certificate and its private key, both PEM.
///
/// The certificate PEM may hold a chain; the first certificate must be the push certificate.
#[derive(Clone)]
pub struct CertificateAuth {
    certificate_pem: String,
    private_key_pem: Secret<String>,
}

impl std::fmt::Debug for CertificateAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The certificate is public, but its topic is what an operator wants to see.
        let topic = push_topic(self.certificate_pem.as_bytes()).unwrap_or_else(|_| "<unreadable>".into());
        f.debug_struct("CertificateAuth")
            .field("topic", &topic)
            .field("private_key_pem", &self.private_key_pem)
            .finish()
    }
}

impl CertificateAuth {
    pub fn new(certificate_pem: impl Into<String>, private_key_pem: impl Into<String>) -> Self {
        CertificateAuth {
            certificate_pem: certificate_pem.into(),
            private_key_pem: Secret(private_key_pem.into()),
        }
    }

    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The MDM topic of the certificate.
    pub fn topic(&self) -> Result<String, ConfigError> {
        push_topic(self.certificate_pem.as_bytes())
    }

    pub(crate) fn identity(&self) -> Result<reqwest::Identity, ConfigError> {
        // Reading the certificate first gives a precise message for the common mistake of
        // passing something else (a .p12, a CSR) as the certificate.
        read_first(self.certificate_pem.as_bytes())?;
        let key = self.private_key_pem.0.as_str();
        if !key.contains("PRIVATE KEY-----") {
            return Err(ConfigError::BadPrivateKey("no `PRIVATE KEY` PEM block found".into()));
        }
        let mut both = String::with_capacity(self.certificate_pem.len() + key.len() + 1);
        both.push_str(&self.certificate_pem);
        both.push('\n');
        both.push_str(key);
        // reqwest's messages describe the PEM structure, never its content.
        reqwest::Identity::from_pem(both.as_bytes()).map_err(|e| ConfigError::BadPrivateKey(error_chain(&e)))
    }
}

/// What a caller needs to know about a push certificate before using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCertificateInfo {
    /// The MDM topic (`com.apple.mgmt.External.<uuid>`), from the subject's UID.
    pub topic: String,
    pub not_before: SystemTime,
    /// Apple's push certificates last one year; renew (not replace) before this, or the
    /// topic changes and every device must re-enrol.
    pub not_after: SystemTime,
}

/// Reads the MDM topic from a PEM push certificate (the first one if the PEM is a chain).
pub fn push_topic(certificate_pem: &[u8]) -> Result<String, ConfigError> {
    push_certificate_info(certificate_pem).map(|info| info.topic)
}

/// Reads the topic and validity period of a PEM push certificate.
pub fn push_certificate_info(certificate_pem: &[u8]) -> Result<PushCertificateInfo, ConfigError> {
    let cert = read_first(certificate_pem)?;
    let tbs = &cert.tbs_certificate;
    let uid = tbs
        .subject
        .0
        .iter()
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == UID)
        .ok_or(ConfigError::NoPushTopic)?;
    let topic = directory_string(&uid.value)
        .ok_or_else(|| ConfigError::BadCertificate("the subject UID is not a text attribute".into()))?;
    if !topic.starts_with(MDM_TOPIC_PREFIX) {
        return Err(ConfigError::NotMdmTopic(topic));
    }
    Ok(PushCertificateInfo {
        topic,
        not_before: tbs.validity.not_before.to_system_time(),
        not_after: tbs.validity.not_after.to_system_time(),
    })
}

/// The first CERTIFICATE block of a PEM file. Text around the blocks is skipped: files
/// exported from a .p12 by openssl start with "Bag Attributes" lines.
fn read_first(pem: &[u8]) -> Result<Certificate, ConfigError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let text = std::str::from_utf8(pem).map_err(|_| ConfigError::BadCertificate("not UTF-8 text".into()))?;
    let start = text
        .find(BEGIN)
        .ok_or_else(|| ConfigError::BadCertificate("no CERTIFICATE PEM block found".into()))?;
    let end = text[start..]
        .find(END)
        .map(|i| start + i + END.len())
        .ok_or_else(|| ConfigError::BadCertificate("the CERTIFICATE PEM block has no END line".into()))?;
    Certificate::from_pem(&text[start..end]).map_err(|e| ConfigError::BadCertificate(e.to_string()))
}

/// UID is a DirectoryString; Apple uses UTF8String, older issuers PrintableString or IA5String.
fn directory_string(value: &x509_cert::der::Any) -> Option<String> {
    match value.tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
            std::str::from_utf8(value.value()).ok().map(str::to_owned)
        }
        _ => None,
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};

    fn cert_with_subject(entries: Vec<(DnType, DnValue)>) -> (String, String) {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        for (t, v) in entries {
            dn.push(t, v);
        }
        params.distinguished_name = dn;
        let cert = params.self_signed(&key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn uid() -> DnType {
        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1])
    }

    #[test]
    fn topic_is_read_from_the_subject_uid() {
        let topic = "com.apple.mgmt.External.4b8ed3a9-6f0e-4d1c-9a43-1f1bbd4a2c11";
        let (pem, _) = cert_with_subject(vec![
            (DnType::CommonName, DnValue::Utf8String("APSP:4b8ed3a9".into())),
            (uid(), DnValue::Utf8String(topic.into())),
            (DnType::CountryName, DnValue::PrintableString("JP".try_into().unwrap())),
        ]);
        assert_eq!(push_topic(pem.as_bytes()).unwrap(), topic);
        let info = push_certificate_info(pem.as_bytes()).unwrap();
        assert!(info.not_after > info.not_before);
    }

    #[test]
    fn printable_string_uid_is_accepted() {
        let (pem, _) = cert_with_subject(vec![(
            uid(),
            DnValue::PrintableString("com.apple.mgmt.External.abc".try_into().unwrap()),
        )]);
        assert_eq!(push_topic(pem.as_bytes()).unwrap(), "com.apple.mgmt.External.abc");
    }

    #[test]
    fn certificate_without_uid_is_refused() {
        let (pem, _) = cert_with_subject(vec![(DnType::CommonName, DnValue::Utf8String("x".into()))]);
        let err = push_topic(pem.as_bytes()).unwrap_err();
        assert!(matches!(err, ConfigError::NoPushTopic), "{err}");
        assert!(err.to_string().contains("UID"));
    }

    #[test]
    fn app_push_certificate_is_not_an_mdm_topic() {
        let (pem, _) = cert_with_subject(vec![(uid(), DnValue::Utf8String("com.example.app".into()))]);
        let err = push_topic(pem.as_bytes()).unwrap_err();
        assert!(
            matches!(err, ConfigError::NotMdmTopic(ref t) if t == "com.example.app"),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_a_bad_certificate() {
        for bad in [
            &b"hello"[..],
            b"",
            b"\n",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(push_topic(bad), Err(ConfigError::BadCertificate(_))),
                "{bad:?}"
            );
        }
        let broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            push_topic(broken.as_bytes()),
            Err(ConfigError::BadCertificate(_))
        ));
    }

    #[test]
    fn openssl_bag_attributes_and_chains_are_accepted() {
        let topic = "com.apple.mgmt.External.chain";
        let (pem, _) = cert_with_subject(vec![(uid(), DnValue::Utf8String(topic.into()))]);
        let (other, _) = cert_with_subject(vec![(DnType::CommonName, DnValue::Utf8String("CA".into()))]);
        let file = format!("Bag Attributes\n    localKeyID: 01 02\nsubject=/UID={topic}\n{pem}{other}");
        assert_eq!(push_topic(file.as_bytes()).unwrap(), topic);
    }

    #[test]
    fn debug_shows_topic_but_not_the_key() {
        let (pem, key) = cert_with_subject(vec![(uid(), DnValue::Utf8String("com.apple.mgmt.External.x".into()))]);
        let auth = CertificateAuth::new(pem, key.clone());
        let dbg = format!("{auth:?}");
        assert!(dbg.contains("com.apple.mgmt.External.x"), "{dbg}");
        let key_body: String = key.lines().nth(1).unwrap().to_owned();
        assert!(!dbg.contains(&key_body), "{dbg}");
        assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
    }

    #[test]
    fn identity_needs_a_private_key() {
        let (pem, _) = cert_with_subject(vec![(uid(), DnValue::Utf8String("com.apple.mgmt.External.x".into()))]);
        let err = CertificateAuth::new(pem.clone(), "not a key").identity().unwrap_err();
        assert!(matches!(err, ConfigError::BadPrivateKey(_)), "{err}");
        let err = CertificateAuth::new("nope", "x").identity().unwrap_err();
        assert!(matches!(err, ConfigError::BadCertificate(_)), "{err}");
    }
}
