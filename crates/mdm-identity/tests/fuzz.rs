//! Hostile input never panics the verifiers: arbitrary bytes, and valid
//! messages with bytes flipped, cut or inserted.

mod common;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mdm_identity::{
    CertificateInfo, DeviceCa, DeviceIdentity, KeyAlgorithm, TrustAnchor, sign_profile, verify_signed_profile,
};
use proptest::prelude::*;

struct Fixture {
    ca: DeviceCa,
    header_der: Vec<u8>,
    profile: Vec<u8>,
    pfx: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let ca = common::ec_ca("fuzz CA");
        let id = common::identity(&ca, KeyAlgorithm::EcdsaP256);
        let header_der = STANDARD.decode(id.sign_mdm_body(common::BODY).unwrap()).unwrap();
        let profile = sign_profile(common::BODY, id.signer()).unwrap();
        let pfx = id.to_pkcs12("pw").unwrap();
        Fixture {
            ca,
            header_der,
            profile,
            pfx,
        }
    })
}

fn anchor() -> &'static TrustAnchor {
    fixture().ca.trust_anchor()
}

/// Runs every parser on `bytes`; only panics matter.
fn exercise(bytes: &[u8]) {
    let _ = anchor().verify_mdm_signature(&STANDARD.encode(bytes), common::BODY);
    let _ = anchor().verify_client_certificate(bytes);
    let _ = verify_signed_profile(bytes, Some(anchor()));
    let _ = CertificateInfo::parse(bytes);
    let _ = TrustAnchor::from_der(bytes);
    let _ = DeviceIdentity::from_pkcs12(bytes, "pw");
    let _ = mdm_identity::PrivateKey::from_pkcs8_der(bytes);
}

fn mutate(base: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(pos, value, kind) in edits {
        if out.is_empty() {
            break;
        }
        let at = pos % out.len();
        match kind % 4 {
            0 => out[at] = value,
            1 => out[at] ^= 1 << (value % 8),
            2 => out.truncate(at),
            _ => out.insert(at, value),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_header_strings_never_panic(header in ".{0,512}") {
        let _ = anchor().verify_mdm_signature(&header, common::BODY);
        let _ = anchor().verify_client_certificate(header.as_bytes());
    }

    #[test]
    fn der_shaped_prefixes_never_panic(tag in any::<u8>(), len in any::<u8>(), rest in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut bytes = vec![0x30, 0x80, tag, len];
        bytes.extend(rest);
        exercise(&bytes);
    }

    #[test]
    fn mutated_signatures_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let f = fixture();
        let header = mutate(&f.header_der, &edits);
        let result = anchor().verify_mdm_signature(&STANDARD.encode(&header), common::BODY);
        if header == f.header_der {
            prop_assert!(result.is_ok());
        }
        exercise(&header);
        exercise(&mutate(&f.profile, &edits));
        let _ = DeviceIdentity::from_pkcs12(&mutate(&f.pfx, &edits), "pw");
    }
}

#[test]
fn single_bit_flips_never_change_who_signed() {
    let f = fixture();
    let original = anchor()
        .verify_mdm_signature(&STANDARD.encode(&f.header_der), common::BODY)
        .unwrap();
    for i in 0..f.header_der.len() {
        for bit in [0x01, 0x80] {
            let mut m = f.header_der.clone();
            m[i] ^= bit;
            // A few fields no signature covers (the version numbers, the outer
            // digestAlgorithms set) can change without consequence; whatever
            // is accepted must still name the same certificate.
            if let Ok(cert) = anchor().verify_mdm_signature(&STANDARD.encode(&m), common::BODY) {
                assert_eq!(cert, original, "flip at byte {i} changed the signer");
            }
        }
    }
}
