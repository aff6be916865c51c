use encoding_rs::SHIFT_JIS;
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::error::LineProblem;

/// The encodings haishin reads and writes. `Shift_JIS` is Windows-31J
/// (encoding_rs follows the WHATWG definition), which is what Excel writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum CsvEncoding {
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    #[serde(rename = "shift_jis", alias = "sjis", alias = "Shift_JIS", alias = "cp932")]
    ShiftJis,
}

/// What the admin asked for on import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub enum EncodingChoice {
    /// UTF-8 when the bytes are valid UTF-8, else Shift_JIS.
    #[default]
    #[serde(rename = "auto")]
    Auto,
    #[serde(rename = "utf-8", alias = "utf8", alias = "UTF-8")]
    Utf8,
    #[serde(rename = "shift_jis", alias = "sjis", alias = "Shift_JIS", alias = "cp932")]
    ShiftJis,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset].iter().filter(|b| **b == b'\n').count() + 1
}

/// The first line that is not valid Shift_JIS, if any.
fn first_bad_shift_jis_line(bytes: &[u8]) -> Option<usize> {
    bytes
        .split(|b| *b == b'\n')
        .position(|line| {
            SHIFT_JIS
                .decode_without_bom_handling_and_without_replacement(line)
                .is_none()
        })
        .map(|index| index + 1)
}

/// Decodes an uploaded file to text, telling which encoding it was in.
pub fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<(String, CsvEncoding), DomainError> {
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    let utf8 = std::str::from_utf8(body);
    match (choice, utf8) {
        (EncodingChoice::Utf8 | EncodingChoice::Auto, Ok(text)) => Ok((text.to_owned(), CsvEncoding::Utf8)),
        (EncodingChoice::Utf8, Err(e)) => {
            let line = line_of(body, e.valid_up_to());
            Err(rejected(LineProblem::new(
                line,
                None,
                "UTF-8として読めない文字があります。Shift_JISで保存したファイルの場合は文字コードに「Shift_JIS」または「自動判定」を選んでください。",
                "This line is not valid UTF-8. If the file was saved as Shift_JIS, choose Shift_JIS or automatic detection.",
            )))
        }
        // UTF-8 Japanese is often also valid Shift_JIS, as mojibake. A file
        // that is valid UTF-8 with non-ASCII text was almost surely saved as
        // UTF-8: importing it as Shift_JIS would store garbage names.
        (EncodingChoice::ShiftJis, Ok(text)) if !text.is_ascii() => {
            let line = line_of(body, body.iter().position(|b| !b.is_ascii()).unwrap_or(0));
            Err(rejected(LineProblem::new(
                line,
                None,
                "このファイルはUTF-8で保存されているようです。文字コードに「UTF-8」または「自動判定」を選んでください。",
                "This file looks like UTF-8. Choose UTF-8 or automatic detection.",
            )))
        }
        (EncodingChoice::ShiftJis | EncodingChoice::Auto, _) => {
            if let Some(line) = first_bad_shift_jis_line(body) {
                let (ja, en) = if choice == EncodingChoice::Auto {
                    (
                        "文字コードを判定できません。UTF-8でもShift_JISでもない文字があります。",
                        "The encoding is not recognised: this line is neither UTF-8 nor Shift_JIS.",
                    )
                } else {
                    (
                        "Shift_JISとして読めない文字があります。UTF-8で保存したファイルの場合は文字コードに「UTF-8」を選んでください。",
                        "This line is not valid Shift_JIS. If the file was saved as UTF-8, choose UTF-8.",
                    )
                };
                return Err(rejected(LineProblem::new(line, None, ja, en)));
            }
            let text = SHIFT_JIS
                .decode_without_bom_handling_and_without_replacement(body)
                .expect("every line decoded above");
            Ok((text.into_owned(), CsvEncoding::ShiftJis))
        }
    }
}

fn rejected(problem: LineProblem) -> DomainError {
    DomainError::CsvRejected {
        problems: vec![problem],
    }
}

/// Encodes export text. Shift_JIS cannot hold every character (emoji, some
/// rare kanji): such lines are reported rather than silently replaced.
pub fn encode(text: &str, encoding: CsvEncoding) -> Result<Vec<u8>, DomainError> {
    match encoding {
        CsvEncoding::Utf8 => {
            let mut out = UTF8_BOM.to_vec();
            out.extend_from_slice(text.as_bytes());
            Ok(out)
        }
        CsvEncoding::ShiftJis => {
            let (bytes, _, had_errors) = SHIFT_JIS.encode(text);
            if !had_errors {
                return Ok(bytes.into_owned());
            }
            let problems = text
                .split('\n')
                .enumerate()
                .filter(|(_, line)| SHIFT_JIS.encode(line).2)
                .map(|(index, _)| {
                    LineProblem::new(
                        index + 1,
                        None,
                        "Shift_JISで表せない文字(絵文字や一部の漢字など)が含まれています。UTF-8で書き出してください。",
                        "This line has characters Shift_JIS cannot hold (emoji, some kanji). Export as UTF-8 instead.",
                    )
                })
                .collect();
            Err(DomainError::CsvRejected { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem_lines(err: DomainError) -> Vec<usize> {
        match err {
            DomainError::CsvRejected { problems } => problems.iter().map(|p| p.line).collect(),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn detects_utf8_bom_and_shift_jis() {
        let text = "氏名,社員番号\r\n山田 太郎,E001\r\n";
        let sjis = SHIFT_JIS.encode(text).0.into_owned();
        assert_eq!(
            decode(&sjis, EncodingChoice::Auto).unwrap(),
            (text.to_owned(), CsvEncoding::ShiftJis)
        );
        assert_eq!(decode(&sjis, EncodingChoice::ShiftJis).unwrap().0, text);
        let mut bom = UTF8_BOM.to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(
            decode(&bom, EncodingChoice::Auto).unwrap(),
            (text.to_owned(), CsvEncoding::Utf8)
        );
    }

    #[test]
    fn wrong_encoding_names_the_line() {
        let sjis = SHIFT_JIS.encode("a,b\r\nc,d\r\n山田,e\r\n").0.into_owned();
        assert_eq!(problem_lines(decode(&sjis, EncodingChoice::Utf8).unwrap_err()), vec![3]);
        let garbage = b"a,b\n\xff\xff\xff,c\n".to_vec();
        assert_eq!(
            problem_lines(decode(&garbage, EncodingChoice::Auto).unwrap_err()),
            vec![2]
        );
        let utf8 = "a\n山田\n".as_bytes();
        assert_eq!(
            problem_lines(decode(utf8, EncodingChoice::ShiftJis).unwrap_err()),
            vec![2]
        );
    }

    #[test]
    fn export_round_trips_and_reports_unencodable_lines() {
        let text = "氏名\r\n髙橋 﨑\r\n";
        let bytes = encode(text, CsvEncoding::ShiftJis).unwrap();
        assert_eq!(decode(&bytes, EncodingChoice::Auto).unwrap().0, text);
        assert_eq!(
            problem_lines(encode("a\nb😀\n", CsvEncoding::ShiftJis).unwrap_err()),
            vec![2]
        );
        let utf8 = encode(text, CsvEncoding::Utf8).unwrap();
        assert!(utf8.starts_with(UTF8_BOM));
    }
}
