//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::fmt::Debug;
use std::path::PathBuf;

use apple_mdm::{Dictionary, PlistRecord, Value};

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// The fixture as an untyped dictionary, to prove typed parsing loses nothing.
pub fn raw_dictionary(bytes: &[u8]) -> Dictionary {
    match Value::from_reader_xml(bytes).expect("fixture is a valid plist") {
        Value::Dictionary(dict) => dict,
        other => panic!("fixture top level is not a dictionary: {other:?}"),
    }
}

/// Parses a fixture, checks that serializing it gives back exactly the original
/// dictionary and that parsing the serialized bytes gives an equal value.
pub fn parse_and_round_trip<T: PlistRecord + PartialEq + Debug>(name: &str) -> T {
    let bytes = fixture(name);
    let parsed = T::from_xml(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
    assert_eq!(
        parsed.to_dictionary(),
        raw_dictionary(&bytes),
        "{name}: serializing the typed value changed the dictionary"
    );
    let serialized = parsed.to_xml().expect("serializes");
    let reparsed = T::from_xml(&serialized).expect("serialized output parses");
    assert_eq!(reparsed, parsed, "{name}: parse -> serialize -> parse differs");
    parsed
}

/// Round-trips an already-typed value through XML.
pub fn assert_round_trips<T: PlistRecord + PartialEq + Debug>(value: &T) {
    let bytes = value.to_xml().expect("serializes");
    let reparsed = T::from_xml(&bytes).unwrap_or_else(|err| {
        panic!("{err}\n{}", String::from_utf8_lossy(&bytes));
    });
    assert_eq!(&reparsed, value);
}

pub fn data(base64: &str) -> Vec<u8> {
    plist::Data::from_xml_format(base64).expect("valid base64").into()
}
