//! The device CSV: columns, import planning against the account's data, and
//! export.

use std::collections::HashMap;

use super::{Column, Table, cell, header_labels, optional_cell, write_rows};
use crate::error::LineProblem;
use crate::ids::{DeviceId, UserId};
use crate::org::{Device, DeviceInput, GroupTree, Platform};
use crate::{DomainError, Lang};

pub const COLUMNS: &[Column] = &[
    Column {
        key: "device_number",
        ja: "端末番号",
        en: "Device number",
        required: false,
    },
    Column {
        key: "display_name",
        ja: "端末表示名",
        en: "Display name",
        required: true,
    },
    Column {
        key: "serial_number",
        ja: "シリアル番号",
        en: "Serial number",
        required: false,
    },
    Column {
        key: "udid",
        ja: "UDID",
        en: "UDID",
        required: false,
    },
    Column {
        key: "wifi_mac",
        ja: "WiFi MACアドレス",
        en: "Wi-Fi MAC address",
        required: false,
    },
    Column {
        key: "platform",
        ja: "OS",
        en: "Platform",
        required: false,
    },
    Column {
        key: "os_version",
        ja: "OSバージョン",
        en: "OS version",
        required: false,
    },
    Column {
        key: "model",
        ja: "モデル",
        en: "Model",
        required: false,
    },
    Column {
        key: "product_name",
        ja: "製品名",
        en: "Product name",
        required: false,
    },
    Column {
        key: "group",
        ja: "グループ",
        en: "Group",
        required: false,
    },
    Column {
        key: "employee_number",
        ja: "社員番号",
        en: "Owner employee number",
        required: false,
    },
    Column {
        key: "notes1",
        ja: "備考",
        en: "Notes 1",
        required: false,
    },
    Column {
        key: "notes2",
        ja: "備考2",
        en: "Notes 2",
        required: false,
    },
    Column {
        key: "notes3",
        ja: "備考3",
        en: "Notes 3",
        required: false,
    },
];

/// The keys of an existing device that an imported row may collide with.
#[derive(Debug, Clone)]
pub struct ExistingDevice {
    pub id: DeviceId,
    pub device_number: String,
    pub serial_number: Option<String>,
    pub udid: Option<String>,
}

/// What the import needs to know of the account, loaded by the service.
pub struct ImportContext<'a> {
    pub groups: &'a GroupTree,
    pub users_by_employee_number: &'a HashMap<String, UserId>,
    pub existing: &'a [ExistingDevice],
}

/// One row ready to be written: an update when `existing` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceUpsert {
    pub line: usize,
    pub existing: Option<DeviceId>,
    pub input: DeviceInput,
}

/// Parses and checks a whole device file. Rows are matched to existing
/// devices by device number; a blank device number creates a new device.
pub fn plan_import(text: &str, ctx: &ImportContext<'_>) -> Result<Vec<DeviceUpsert>, DomainError> {
    let mut table = Table::parse(text, COLUMNS)?;
    let mut problems = std::mem::take(&mut table.problems);
    let by_number: HashMap<&str, &ExistingDevice> =
        ctx.existing.iter().map(|d| (d.device_number.as_str(), d)).collect();
    let by_serial: HashMap<&str, &ExistingDevice> = ctx
        .existing
        .iter()
        .filter_map(|d| Some((d.serial_number.as_deref()?, d)))
        .collect();
    let by_udid: HashMap<&str, &ExistingDevice> = ctx
        .existing
        .iter()
        .filter_map(|d| Some((d.udid.as_deref()?, d)))
        .collect();
    let mut seen_numbers: HashMap<String, usize> = HashMap::new();
    let mut seen_serials: HashMap<String, usize> = HashMap::new();
    let mut seen_udids: HashMap<String, usize> = HashMap::new();
    let root = ctx.groups.root().map(|g| g.id).unwrap_or_default();
    let mut plan = Vec::with_capacity(table.rows.len());

    for (line, cells) in &table.rows {
        let line = *line;
        let group_id = match optional_cell(cells, "group") {
            None => root,
            Some(path) => match ctx.groups.find_by_name_path(&path) {
                Some(id) => id,
                None => {
                    problems.add(LineProblem::new(
                        line,
                        Some("Group"),
                        format!(
                            "グループ「{path}」が見つかりません(最上位からの階層を / で区切って指定してください)。"
                        ),
                        format!("Group '{path}' not found (give the path from the top group, separated by '/')."),
                    ));
                    continue;
                }
            },
        };
        let owner_id = match optional_cell(cells, "employee_number") {
            None => None,
            Some(number) => match ctx.users_by_employee_number.get(&number) {
                Some(id) => Some(*id),
                None => {
                    problems.add(LineProblem::new(
                        line,
                        Some("Owner employee number"),
                        format!("社員番号「{number}」のユーザーが登録されていません。"),
                        format!("No user has the employee number '{number}'."),
                    ));
                    continue;
                }
            },
        };
        let platform = match Platform::parse(cell(cells, "platform")) {
            Ok(p) => p,
            Err(refusal) => {
                problems.refusal(line, refusal, COLUMNS);
                continue;
            }
        };
        let raw = DeviceInput {
            group_id,
            device_number: optional_cell(cells, "device_number"),
            display_name: cell(cells, "display_name").to_owned(),
            udid: optional_cell(cells, "udid"),
            serial_number: optional_cell(cells, "serial_number"),
            wifi_mac: optional_cell(cells, "wifi_mac"),
            model: optional_cell(cells, "model"),
            product_name: optional_cell(cells, "product_name"),
            platform,
            os_version: optional_cell(cells, "os_version"),
            owner_id,
            notes1: cell(cells, "notes1").to_owned(),
            notes2: cell(cells, "notes2").to_owned(),
            notes3: cell(cells, "notes3").to_owned(),
        };
        let input = match raw.validated() {
            Ok(input) => input,
            Err(refusal) => {
                problems.refusal(line, refusal, COLUMNS);
                continue;
            }
        };
        let existing = input
            .device_number
            .as_deref()
            .and_then(|n| by_number.get(n))
            .map(|d| d.id);
        let mut duplicate = |seen: &mut HashMap<String, usize>, value: &Option<String>, ja: &str, en: &str| {
            if let Some(v) = value
                && let Some(first) = seen.insert(v.clone(), line)
            {
                problems.add(LineProblem::new(
                    line,
                    Some(en),
                    format!("{ja}「{v}」が {first} 行目と重複しています。"),
                    format!("{en} '{v}' also appears on line {first}."),
                ));
            }
        };
        duplicate(&mut seen_numbers, &input.device_number, "端末番号", "Device number");
        duplicate(&mut seen_serials, &input.serial_number, "シリアル番号", "Serial number");
        duplicate(&mut seen_udids, &input.udid, "UDID", "UDID");
        for (value, index, ja, en) in [
            (&input.serial_number, &by_serial, "シリアル番号", "Serial number"),
            (&input.udid, &by_udid, "UDID", "UDID"),
        ] {
            if let Some(other) = value.as_deref().and_then(|v| index.get(v))
                && Some(other.id) != existing
            {
                problems.add(LineProblem::new(
                    line,
                    Some(en),
                    format!(
                        "{ja}「{}」は既に端末番号 {} で登録されています。",
                        value.as_deref().unwrap_or(""),
                        other.device_number
                    ),
                    format!(
                        "{en} '{}' is already used by device {}.",
                        value.as_deref().unwrap_or(""),
                        other.device_number
                    ),
                ));
            }
        }
        plan.push(DeviceUpsert { line, existing, input });
    }
    problems.into_result(plan)
}

/// Renders devices as CSV text with headers in `lang`; importing the result
/// again changes nothing.
pub fn export(devices: &[Device], groups: &GroupTree, lang: Lang) -> String {
    let rows = devices
        .iter()
        .map(|d| {
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            vec![
                d.device_number.clone(),
                d.display_name.clone(),
                text(&d.serial_number),
                text(&d.udid),
                text(&d.wifi_mac),
                d.platform.map(|p| p.as_str().to_owned()).unwrap_or_default(),
                text(&d.os_version),
                text(&d.model),
                text(&d.product_name),
                groups.name_path(d.group_id),
                text(&d.owner_employee_number),
                d.notes1.clone(),
                d.notes2.clone(),
                d.notes3.clone(),
            ]
        })
        .collect();
    write_rows(header_labels(COLUMNS, lang), rows)
}
