//! Just enough BER/DER walking to (a) turn BER into DER before the strict `der`
//! decoders see it, and (b) reach the exact bytes signatures were computed
//! over.
//!
//! Why (a): Apple devices and older toolchains have been seen emitting BER
//! (indefinite lengths, chunked OCTET STRINGs) in CMS messages; NanoMDM runs a
//! BER-to-DER pass before parsing for the same reason. Why (b): the `der`
//! crate re-sorts SET OF on decode, so re-encoding a decoded value does not
//! always give back the bytes that were signed.

use crate::error::{IdentityError, Result};

/// Nesting deeper than this is refused: CMS needs about 12 levels, and
/// hostile input must not exhaust the stack.
const MAX_DEPTH: usize = 40;

const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OCTET_STRING_CONSTRUCTED: u8 = 0x24;

fn malformed() -> IdentityError {
    IdentityError::Malformed("BER/DER encoding")
}

enum Length {
    Definite(usize),
    Indefinite,
}

struct Header<'a> {
    identifier: &'a [u8],
    constructed: bool,
    length: Length,
    header_len: usize,
}

fn read_header(input: &[u8]) -> Result<Header<'_>> {
    let first = *input.first().ok_or_else(malformed)?;
    let constructed = first & 0x20 != 0;
    let mut pos = 1;
    if first & 0x1f == 0x1f {
        // High tag number form: base-128 continuation bytes. Four is far beyond
        // any tag CMS uses, and keeps the tag number small.
        loop {
            let b = *input.get(pos).ok_or_else(malformed)?;
            pos += 1;
            if b & 0x80 == 0 {
                break;
            }
            if pos > 4 {
                return Err(malformed());
            }
        }
    }
    let identifier = &input[..pos];
    let first_len = *input.get(pos).ok_or_else(malformed)?;
    pos += 1;
    let length = match first_len {
        n if n < 0x80 => Length::Definite(usize::from(n)),
        0x80 if constructed => Length::Indefinite,
        0x80 | 0xff => return Err(malformed()),
        n => {
            let count = usize::from(n & 0x7f);
            if count > 4 {
                return Err(malformed());
            }
            let bytes = input.get(pos..pos + count).ok_or_else(malformed)?;
            pos += count;
            Length::Definite(bytes.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b)))
        }
    };
    Ok(Header {
        identifier,
        constructed,
        length,
        header_len: pos,
    })
}

fn write_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
        return;
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

fn write_tlv(out: &mut Vec<u8>, identifier: &[u8], content: &[u8]) {
    out.extend_from_slice(identifier);
    write_length(out, content.len());
    out.extend_from_slice(content);
}

/// One element rewritten as DER: its identifier octets and DER content.
struct Normalized {
    identifier: Vec<u8>,
    content: Vec<u8>,
}

/// Returns the element at the start of `input` in DER form and how many input
/// bytes it used.
fn normalize(input: &[u8], depth: usize) -> Result<(Normalized, usize)> {
    if depth > MAX_DEPTH {
        return Err(IdentityError::Malformed("nesting too deep"));
    }
    let header = read_header(input)?;
    let body = &input[header.header_len..];
    if !header.constructed {
        let Length::Definite(len) = header.length else {
            return Err(malformed());
        };
        let content = body.get(..len).ok_or_else(malformed)?;
        let normalized = Normalized {
            identifier: header.identifier.to_vec(),
            content: content.to_vec(),
        };
        return Ok((normalized, header.header_len + len));
    }

    let mut children = Vec::new();
    let used = match header.length {
        Length::Definite(len) => {
            let mut rest = body.get(..len).ok_or_else(malformed)?;
            while !rest.is_empty() {
                let (child, n) = normalize(rest, depth + 1)?;
                children.push(child);
                rest = &rest[n..];
            }
            header.header_len + len
        }
        Length::Indefinite => {
            let mut rest = body;
            loop {
                if rest.starts_with(&[0, 0]) {
                    break;
                }
                if rest.is_empty() {
                    return Err(malformed());
                }
                let (child, n) = normalize(rest, depth + 1)?;
                children.push(child);
                rest = &rest[n..];
            }
            input.len() - rest.len() + 2
        }
    };

    let normalized = if header.identifier == [TAG_OCTET_STRING_CONSTRUCTED] {
        // DER forbids the constructed form: join the segments.
        let mut content = Vec::new();
        for child in children {
            if child.identifier != [TAG_OCTET_STRING] {
                return Err(malformed());
            }
            content.extend_from_slice(&child.content);
        }
        Normalized {
            identifier: vec![TAG_OCTET_STRING],
            content,
        }
    } else {
        let mut content = Vec::new();
        for child in children {
            write_tlv(&mut content, &child.identifier, &child.content);
        }
        Normalized {
            identifier: header.identifier.to_vec(),
            content,
        }
    };
    Ok((normalized, used))
}

/// Rewrites one BER element as DER (definite, minimal lengths; OCTET STRING
/// segments joined). DER input comes back unchanged. Trailing bytes are refused.
pub(crate) fn ber_to_der(input: &[u8]) -> Result<Vec<u8>> {
    let (element, used) = normalize(input, 0)?;
    if used != input.len() {
        return Err(IdentityError::Malformed("trailing bytes after the message"));
    }
    let mut out = Vec::with_capacity(input.len());
    write_tlv(&mut out, &element.identifier, &element.content);
    Ok(out)
}

/// A DER element: its whole encoding and its content octets.
#[derive(Clone, Copy)]
pub(crate) struct Element<'a> {
    pub first_octet: u8,
    pub raw: &'a [u8],
    pub content: &'a [u8],
}

/// Splits a DER element off the front of `input`.
pub(crate) fn element(input: &[u8]) -> Result<(Element<'_>, &[u8])> {
    let header = read_header(input)?;
    let Length::Definite(len) = header.length else {
        return Err(malformed());
    };
    let end = header.header_len.checked_add(len).ok_or_else(malformed)?;
    let raw = input.get(..end).ok_or_else(malformed)?;
    let element = Element {
        first_octet: input[0],
        raw,
        content: &raw[header.header_len..],
    };
    Ok((element, &input[end..]))
}

/// The elements inside a constructed DER element's content.
pub(crate) fn children(content: &[u8]) -> Result<Vec<Element<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (e, r) = element(rest)?;
        out.push(e);
        rest = r;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_passes_through_unchanged() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        assert_eq!(ber_to_der(&der).unwrap(), der);
    }

    #[test]
    fn indefinite_lengths_and_chunked_octet_strings_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING constructed (indefinite) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(ber_to_der(&ber).unwrap(), [0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn non_minimal_lengths_are_shortened() {
        let ber = [0x04, 0x81, 0x01, 0x07];
        assert_eq!(ber_to_der(&ber).unwrap(), [0x04, 0x01, 0x07]);
    }

    #[test]
    fn long_lengths_round_trip() {
        let mut der = vec![0x04, 0x82, 0x01, 0x2c];
        der.extend(std::iter::repeat_n(7u8, 300));
        assert_eq!(ber_to_der(&der).unwrap(), der);
    }

    #[test]
    fn hostile_inputs_are_refused() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x02],
            &[0x30, 0x80, 0x02, 0x01, 0x01],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x04, 0x85, 1, 2, 3, 4, 5],
            &[0x02, 0x01, 0x01, 0x00],
            &[0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00],
        ] {
            assert!(ber_to_der(bad).is_err(), "{bad:02x?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 100).flatten().collect();
        assert!(ber_to_der(&deep).is_err());
    }
}
