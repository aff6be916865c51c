use serde::{Deserialize, Serialize};

use crate::ids::GroupId;

/// The device fields an admin can search by (the seeds' search box).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchField {
    DisplayName,
    DeviceNumber,
    Udid,
    WifiMac,
    OsVersion,
    OwnerName,
    SerialNumber,
    EmployeeNumber,
    Phone1,
    Phone2,
    Email,
    Notes1,
    Notes2,
    Notes3,
}

impl SearchField {
    pub const ALL: [SearchField; 14] = [
        SearchField::DisplayName,
        SearchField::DeviceNumber,
        SearchField::Udid,
        SearchField::WifiMac,
        SearchField::OsVersion,
        SearchField::OwnerName,
        SearchField::SerialNumber,
        SearchField::EmployeeNumber,
        SearchField::Phone1,
        SearchField::Phone2,
        SearchField::Email,
        SearchField::Notes1,
        SearchField::Notes2,
        SearchField::Notes3,
    ];

    /// The seeds' label for the field (端末表示名, 端末番号, ...).
    pub fn label_ja(self) -> &'static str {
        match self {
            SearchField::DisplayName => "端末表示名",
            SearchField::DeviceNumber => "端末番号",
            SearchField::Udid => "UDID",
            SearchField::WifiMac => "WiFi MACアドレス",
            SearchField::OsVersion => "OSバージョン",
            SearchField::OwnerName => "氏名",
            SearchField::SerialNumber => "シリアル番号",
            SearchField::EmployeeNumber => "社員番号",
            SearchField::Phone1 => "電話番号1",
            SearchField::Phone2 => "電話番号2",
            SearchField::Email => "メールアドレス",
            SearchField::Notes1 => "備考",
            SearchField::Notes2 => "備考2",
            SearchField::Notes3 => "備考3",
        }
    }
}

/// A device search: a keyword (partial match) in one field or in all of
/// them, within a group with or without its subgroups, one page at a time.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DeviceSearch {
    /// The keyword; matches any part of the field.
    pub q: Option<String>,
    /// The field to search; every field when absent.
    pub field: Option<SearchField>,
    pub group_id: Option<GroupId>,
    /// サブグループを含める
    #[serde(default)]
    pub include_subgroups: bool,
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Rows per page (default 50, at most 1000).
    pub per_page: Option<u32>,
}

/// A user search: keyword over name, employee number, email and phones.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct UserSearch {
    pub q: Option<String>,
    pub group_id: Option<GroupId>,
    #[serde(default)]
    pub include_subgroups: bool,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

pub const DEFAULT_PER_PAGE: u32 = 50;
pub const MAX_PER_PAGE: u32 = 1000;

/// Turns optional page parameters into (limit, offset), clamped.
pub fn page_window(page: Option<u32>, per_page: Option<u32>) -> (u32, u32, i64, i64) {
    let page = page.unwrap_or(1).max(1);
    let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE).clamp(1, MAX_PER_PAGE);
    (page, per_page, per_page as i64, (page as i64 - 1) * per_page as i64)
}

/// Escapes `%`, `_` and `\` so a keyword is matched literally by `LIKE`.
pub fn like_pattern(keyword: &str) -> String {
    let mut out = String::with_capacity(keyword.len() + 2);
    out.push('%');
    for c in keyword.trim().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_literal() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
        assert_eq!(like_pattern(" 山田 "), "%山田%");
    }

    #[test]
    fn page_window_clamps() {
        assert_eq!(page_window(None, None), (1, 50, 50, 0));
        assert_eq!(page_window(Some(3), Some(5000)), (3, 1000, 1000, 2000));
        assert_eq!(page_window(Some(0), Some(0)), (1, 1, 1, 0));
    }
}

/// Which groups a query covers, resolved by the service from a group id
/// already checked to belong to the caller's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupScope {
    All,
    Exactly(GroupId),
    /// The group and all its subgroups: an id-path prefix.
    Subtree(String),
}
