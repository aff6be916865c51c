//! The user (device owner) CSV. Rows are matched by employee number.

use std::collections::HashMap;

use super::{Column, Table, cell, header_labels, optional_cell, write_rows};
use crate::error::LineProblem;
use crate::ids::UserId;
use crate::org::{GroupTree, User, UserInput};
use crate::{DomainError, Lang};

pub const COLUMNS: &[Column] = &[
    Column {
        key: "employee_number",
        ja: "社員番号",
        en: "Employee number",
        required: true,
    },
    Column {
        key: "name",
        ja: "氏名",
        en: "Name",
        required: true,
    },
    Column {
        key: "email",
        ja: "メールアドレス",
        en: "Email",
        required: false,
    },
    Column {
        key: "phone1",
        ja: "電話番号1",
        en: "Phone 1",
        required: false,
    },
    Column {
        key: "phone2",
        ja: "電話番号2",
        en: "Phone 2",
        required: false,
    },
    Column {
        key: "group",
        ja: "グループ",
        en: "Group",
        required: false,
    },
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserUpsert {
    pub line: usize,
    pub existing: Option<UserId>,
    pub input: UserInput,
}

pub fn plan_import(
    text: &str,
    groups: &GroupTree,
    existing: &HashMap<String, UserId>,
) -> Result<Vec<UserUpsert>, DomainError> {
    let mut table = Table::parse(text, COLUMNS)?;
    let mut problems = std::mem::take(&mut table.problems);
    let mut seen: HashMap<String, usize> = HashMap::new();
    let root = groups.root().map(|g| g.id).unwrap_or_default();
    let mut plan = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        let line = *line;
        let group_id = match optional_cell(cells, "group") {
            None => root,
            Some(path) => match groups.find_by_name_path(&path) {
                Some(id) => id,
                None => {
                    problems.add(LineProblem::new(
                        line,
                        Some("Group"),
                        format!("グループ「{path}」が見つかりません。"),
                        format!("Group '{path}' not found."),
                    ));
                    continue;
                }
            },
        };
        let raw = UserInput {
            group_id,
            employee_number: cell(cells, "employee_number").to_owned(),
            name: cell(cells, "name").to_owned(),
            email: optional_cell(cells, "email"),
            phone1: optional_cell(cells, "phone1"),
            phone2: optional_cell(cells, "phone2"),
        };
        let input = match raw.validated() {
            Ok(input) => input,
            Err(refusal) => {
                problems.refusal(line, refusal, COLUMNS);
                continue;
            }
        };
        if let Some(first) = seen.insert(input.employee_number.clone(), line) {
            problems.add(LineProblem::new(
                line,
                Some("Employee number"),
                format!("社員番号「{}」が {first} 行目と重複しています。", input.employee_number),
                format!(
                    "Employee number '{}' also appears on line {first}.",
                    input.employee_number
                ),
            ));
            continue;
        }
        let existing = existing.get(&input.employee_number).copied();
        plan.push(UserUpsert { line, existing, input });
    }
    problems.into_result(plan)
}

pub fn export(users: &[User], groups: &GroupTree, lang: Lang) -> String {
    let rows = users
        .iter()
        .map(|u| {
            vec![
                u.employee_number.clone(),
                u.name.clone(),
                u.email.clone().unwrap_or_default(),
                u.phone1.clone().unwrap_or_default(),
                u.phone2.clone().unwrap_or_default(),
                groups.name_path(u.group_id),
            ]
        })
        .collect();
    write_rows(header_labels(COLUMNS, lang), rows)
}
