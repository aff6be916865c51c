//! Reading a decoded CSV into rows keyed by column, with line numbers.

use std::collections::HashMap;

use super::Problems;
use crate::DomainError;
use crate::error::LineProblem;

/// One column a file may have: its key, and its Japanese and English labels
/// (either is accepted as a header; exports use the admin's language).
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    pub ja: &'static str,
    pub en: &'static str,
    pub required: bool,
}

/// A parsed file: for each well-formed data row, its line number and its
/// cells by key, plus the problems of the malformed lines, so the caller can
/// go on checking the rest and report every bad line at once.
pub struct Table {
    pub rows: Vec<(usize, HashMap<&'static str, String>)>,
    pub(crate) problems: Problems,
}

impl Table {
    /// Parses `text`. Header problems (unknown, repeated or missing columns)
    /// refuse the file at once, since no row can be read without them; lines
    /// with the wrong number of cells are kept in [`Table::problems`].
    pub fn parse(text: &str, columns: &[Column]) -> Result<Table, DomainError> {
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut problems = Problems::default();
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(record)) => record,
            Some(Err(e)) => return Err(csv_error(&e)),
            None => {
                problems.add(LineProblem::new(1, None, "ファイルが空です。", "The file is empty."));
                return problems.into_result(Table {
                    rows: vec![],
                    problems: Problems::default(),
                });
            }
        };
        let mut keys = Vec::new();
        for label in header.iter() {
            let label = label.trim();
            match columns
                .iter()
                .find(|c| c.ja == label || c.en.eq_ignore_ascii_case(label) || c.key == label)
            {
                Some(column) if keys.contains(&column.key) => {
                    problems.add(LineProblem::new(
                        1,
                        Some(column.en),
                        format!("列「{label}」が重複しています。"),
                        format!("The column '{label}' appears twice."),
                    ));
                    keys.push("");
                }
                Some(column) => keys.push(column.key),
                None => {
                    let known: Vec<&str> = columns.iter().map(|c| c.ja).collect();
                    problems.add(LineProblem::new(
                        1,
                        Some(label),
                        format!("列「{label}」は不明です。使える列: {}", known.join("、")),
                        format!(
                            "Unknown column '{label}'. Known columns: {}",
                            columns.iter().map(|c| c.en).collect::<Vec<_>>().join(", ")
                        ),
                    ));
                    keys.push("");
                }
            }
        }
        for column in columns.iter().filter(|c| c.required && !keys.contains(&c.key)) {
            problems.add(LineProblem::new(
                1,
                Some(column.en),
                format!("必須の列「{}」がありません。", column.ja),
                format!("The required column '{}' is missing.", column.en),
            ));
        }
        problems.into_result(())?;
        let mut problems = Problems::default();
        let lines = LineIndex::new(text);
        let mut rows = Vec::new();
        for record in records {
            let record = match record {
                Ok(record) => record,
                Err(e) => {
                    let DomainError::CsvRejected { problems: found } = csv_error(&e) else {
                        unreachable!()
                    };
                    found.into_iter().for_each(|p| problems.add(p));
                    break;
                }
            };
            let line = record.position().map(|p| lines.line_of(p.byte() as usize)).unwrap_or(0);
            if record.len() == 1 && record.get(0).is_some_and(|c| c.trim().is_empty()) {
                continue; // blank line
            }
            if record.len() != keys.len() {
                problems.add(LineProblem::new(
                    line,
                    None,
                    format!(
                        "列の数が見出し行と違います(見出し {} 列、この行 {} 列)。",
                        keys.len(),
                        record.len()
                    ),
                    format!(
                        "Wrong number of cells: the header has {}, this line has {}.",
                        keys.len(),
                        record.len()
                    ),
                ));
                continue;
            }
            let cells = keys
                .iter()
                .zip(record.iter())
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (*k, v.to_owned()))
                .collect();
            rows.push((line, cells));
        }
        Ok(Table { rows, problems })
    }
}

/// Line numbers from byte offsets. The csv crate's own line count is one
/// short for CRLF files (what Excel writes): its record start points at the
/// `\n` of the previous line's `\r\n`.
struct LineIndex {
    newlines: Vec<usize>,
    text_len: usize,
    bytes: Vec<u8>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self {
            newlines,
            text_len: text.len(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    fn line_of(&self, mut byte: usize) -> usize {
        while byte < self.text_len && matches!(self.bytes[byte], b'\r' | b'\n') {
            byte += 1;
        }
        self.newlines.partition_point(|&n| n < byte) + 1
    }
}

fn csv_error(error: &::csv::Error) -> DomainError {
    let line = error.position().map(|p| p.line() as usize).unwrap_or(1);
    DomainError::CsvRejected {
        problems: vec![LineProblem::new(
            line,
            None,
            format!("CSVとして読めません: {error}"),
            format!("Malformed CSV: {error}"),
        )],
    }
}

/// A cell's text, trimmed; absent columns read as empty.
pub fn cell<'a>(cells: &'a HashMap<&'static str, String>, key: &str) -> &'a str {
    cells.get(key).map(|v| v.trim()).unwrap_or("")
}

pub fn optional_cell(cells: &HashMap<&'static str, String>, key: &str) -> Option<String> {
    Some(cell(cells, key)).filter(|v| !v.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            key: "a",
            ja: "列A",
            en: "A",
            required: true,
        },
        Column {
            key: "b",
            ja: "列B",
            en: "B",
            required: false,
        },
    ];

    fn lines_of(err: DomainError) -> Vec<(usize, String)> {
        match err {
            DomainError::CsvRejected { problems } => problems.into_iter().map(|p| (p.line, p.en)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn line_numbers_are_right_for_lf_crlf_and_quoted_newlines() {
        for text in ["列A,B\n1,2\n3,4\n", "列A,B\r\n1,2\r\n3,4\r\n"] {
            let table = Table::parse(text, COLUMNS).unwrap();
            let lines: Vec<usize> = table.rows.iter().map(|(l, _)| *l).collect();
            assert_eq!(lines, vec![2, 3], "{text:?}");
        }
        let table = Table::parse("A,B\r\n\"x\r\ny\",2\r\n3,4\r\n", COLUMNS).unwrap();
        assert_eq!(table.rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
        assert_eq!(table.rows[0].1["a"], "x\r\ny");
    }

    #[test]
    fn header_and_shape_problems_are_all_reported() {
        let problems = lines_of(Table::parse("B,Z,B\r\n1,2,3\r\n1,2\r\n", COLUMNS).err().unwrap());
        let text: Vec<String> = problems.iter().map(|(l, m)| format!("{l}: {m}")).collect();
        assert!(text.iter().any(|t| t.starts_with("1: Unknown column 'Z'")), "{text:?}");
        assert!(
            text.iter().any(|t| t.starts_with("1: The column 'B' appears twice")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|t| t.starts_with("1: The required column 'A' is missing")),
            "{text:?}"
        );
        assert_eq!(text.len(), 3, "header problems stop the file before its rows: {text:?}");
        let table = Table::parse("A,B\r\n1,2\r\n1\r\n3,4\r\n", COLUMNS).unwrap();
        assert_eq!(table.rows.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![2, 4]);
        let shape = lines_of(table.problems.into_result(()).unwrap_err());
        assert_eq!(shape[0].0, 3);
        assert!(shape[0].1.starts_with("Wrong number of cells"));
        let problems = lines_of(Table::parse("", COLUMNS).err().unwrap());
        assert_eq!(problems[0].0, 1);
    }
}
