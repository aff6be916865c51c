//! Bytes <-> plist dictionary, with the defensive checks a network-facing parser needs.

use plist::{Dictionary, Value};

use crate::MdmError;

/// Far deeper than anything a device or a sane server sends, yet shallow enough that
/// building, comparing and dropping the value cannot exhaust a 2 MiB worker stack.
pub(crate) const MAX_NESTING_DEPTH: usize = 100;

/// How much of a bad `<data>` text to quote back; enough to recognise a placeholder.
const EXCERPT_CHARS: usize = 40;

/// Parses an XML plist body whose top level must be a dictionary.
pub(crate) fn parse_dictionary(bytes: &[u8]) -> Result<Dictionary, MdmError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(MdmError::EmptyBody);
    }
    check_nesting_depth(bytes)?;
    let value = Value::from_reader_xml(bytes).map_err(|err| diagnose(bytes, &err))?;
    match value {
        Value::Dictionary(dict) => Ok(dict),
        other => Err(MdmError::NotADictionary {
            found: type_name(&other),
        }),
    }
}

/// Serialises a dictionary as an XML plist document.
pub(crate) fn encode(dict: &Dictionary) -> Result<Vec<u8>, MdmError> {
    let mut out = Vec::new();
    Value::Dictionary(dict.clone())
        .to_writer_xml(&mut out)
        .map_err(|err| MdmError::Encode {
            reason: err.to_string(),
        })?;
    Ok(out)
}

/// The protocol's name for a plist type, used in "wrong type" messages.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "array",
        Value::Dictionary(_) => "dictionary",
        Value::Boolean(_) => "boolean",
        Value::Data(_) => "data",
        Value::Date(_) => "date",
        Value::Real(_) => "real",
        Value::Integer(_) => "integer",
        Value::String(_) => "string",
        Value::Uid(_) => "uid",
        _ => "unknown value",
    }
}

/// Rejects pathological nesting before the plist reader materialises it.
///
/// Elements are counted with the same XML tokenizer the plist reader uses
/// (quick-xml), so comments, quoted attribute values and namespace prefixes
/// cannot hide a level from the guard, as they could from a lexical scan
/// (found by the `report` fuzz target, see `fuzz/regressions`). Every element
/// counts, not only `dict`/`array`: leaves add one level, which only makes the
/// guard a little stricter.
fn check_nesting_depth(bytes: &[u8]) -> Result<(), MdmError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut depth: usize = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(_)) => {
                depth += 1;
                if depth > MAX_NESTING_DEPTH {
                    return Err(MdmError::TooDeeplyNested {
                        limit: MAX_NESTING_DEPTH,
                    });
                }
            }
            Ok(Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            // Malformed XML. The plist reader (same tokenizer, same checks)
            // would refuse it too, but never let it read past a point the
            // guard could not.
            Err(err) => {
                return Err(MdmError::NotAPlist {
                    reason: err.to_string(),
                });
            }
        }
    }
}

/// Turns a plist reader failure into the most specific error we can name.
///
/// The reader only says "InvalidDataString at offset N"; admins need the key, because
/// the usual cause is a capture whose token was replaced by a placeholder.
fn diagnose(bytes: &[u8], err: &plist::Error) -> MdmError {
    let reason = err.to_string();
    if reason.starts_with("InvalidDataString")
        && let Some((key, excerpt)) = find_invalid_data(bytes)
    {
        return MdmError::InvalidBase64 { key, excerpt };
    }
    MdmError::NotAPlist { reason }
}

/// Finds the first `<data>` element whose text is not valid base64 and the key owning it.
fn find_invalid_data(bytes: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut from = 0;
    while let Some(found) = text[from..].find("<data>") {
        let content_start = from + found + "<data>".len();
        let content_len = text[content_start..].find("</data>")?;
        let content = &text[content_start..content_start + content_len];
        let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if plist::Data::from_xml_format(&compact).is_err() {
            let key = last_key_before(&text[..from + found]);
            let excerpt = compact.chars().take(EXCERPT_CHARS).collect();
            return Some((key, excerpt));
        }
        from = content_start + content_len + "</data>".len();
    }
    None
}

fn last_key_before(text: &str) -> String {
    let Some(close) = text.rfind("</key>") else {
        return "(top level)".to_owned();
    };
    let open = text[..close].rfind("<key>").map_or(0, |p| p + "<key>".len());
    text[open..close].trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_whitespace_bodies_are_refused() {
        assert_eq!(parse_dictionary(b""), Err(MdmError::EmptyBody));
        assert_eq!(parse_dictionary(b" \n\t"), Err(MdmError::EmptyBody));
    }

    #[test]
    fn non_dictionary_top_level_is_refused() {
        let body = br#"<?xml version="1.0"?><plist version="1.0"><array/></plist>"#;
        assert_eq!(parse_dictionary(body), Err(MdmError::NotADictionary { found: "array" }));
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let body = format!(
            "<plist>{}{}</plist>",
            "<array>".repeat(MAX_NESTING_DEPTH + 1),
            "</array>".repeat(MAX_NESTING_DEPTH + 1)
        );
        assert_eq!(
            parse_dictionary(body.as_bytes()),
            Err(MdmError::TooDeeplyNested {
                limit: MAX_NESTING_DEPTH
            })
        );
        let self_closing = "<array/>".repeat(MAX_NESTING_DEPTH * 2);
        assert!(check_nesting_depth(self_closing.as_bytes()).is_ok());
    }

    #[test]
    fn invalid_base64_names_the_key() {
        let body = br#"<plist version="1.0"><dict><key>PushMagic</key><string>x</string>
            <key>Token</key><data> Base64= </data></dict></plist>"#;
        assert_eq!(
            parse_dictionary(body),
            Err(MdmError::InvalidBase64 {
                key: "Token".into(),
                excerpt: "Base64=".into()
            })
        );
    }

    #[test]
    fn garbage_is_not_a_plist() {
        assert!(matches!(
            parse_dictionary(b"<plist><dict><key>a</key>"),
            Err(MdmError::NotAPlist { .. })
        ));
    }
}
