//! Bulk import and export of users and devices as CSV, in UTF-8 or Shift_JIS
//! (what Excel writes on Japanese Windows), with Japanese or English headers.
//!
//! Import is all-or-nothing: the whole file is decoded, parsed and checked
//! against the account's data first, and every bad line is reported with its
//! number; only a file without problems reaches the store.

pub mod devices;
mod encoding;
mod table;
pub mod users;

pub use encoding::{CsvEncoding, EncodingChoice, decode, encode};
pub use table::{Column, Table};
pub(crate) use table::{cell, optional_cell};

use crate::error::LineProblem;
use crate::{DomainError, Lang};

/// Writes rows as CSV text with CRLF line ends (what spreadsheets expect).
fn write_rows(header: Vec<&str>, rows: Vec<Vec<String>>) -> String {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer.write_record(&header).expect("writing to memory");
    for row in rows {
        writer.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(writer.into_inner().expect("flush to memory")).expect("inputs are UTF-8")
}

/// Collects problems so a whole file is checked before anything is refused.
#[derive(Default)]
pub(crate) struct Problems(Vec<LineProblem>);

impl Problems {
    pub fn add(&mut self, problem: LineProblem) {
        self.0.push(problem);
    }

    pub fn refusal(&mut self, line: usize, (field, ja, en): (&'static str, String, String), columns: &[Column]) {
        let label = columns.iter().find(|c| c.key == field);
        let (ja_label, en_label) = label.map(|c| (c.ja, c.en)).unwrap_or((field, field));
        self.add(LineProblem::new(
            line,
            Some(en_label),
            format!("{ja_label}: {ja}"),
            format!("{en_label}: {en}"),
        ));
    }

    pub fn into_result<T>(mut self, value: T) -> Result<T, DomainError> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.0.sort_by_key(|p| p.line);
            Err(DomainError::CsvRejected { problems: self.0 })
        }
    }
}

/// The header labels for an export, in the admin's language.
fn header_labels(columns: &[Column], lang: Lang) -> Vec<&'static str> {
    columns.iter().map(|c| lang.pick(c.ja, c.en)).collect()
}
