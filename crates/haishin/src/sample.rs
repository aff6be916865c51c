//! Realistic Japanese organisation data, generated deterministically: used
//! by the demo, the benchmarks and the end-to-end tests.

const FAMILY: [&str; 20] = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
];
const GIVEN: [&str; 14] = [
    "翔太", "陽菜", "大翔", "結衣", "蓮", "葵", "湊", "凛", "悠真", "美咲", "健一", "裕子", "誠", "直美",
];

pub fn person_name(i: usize) -> String {
    format!(
        "{} {}",
        FAMILY[i % FAMILY.len()],
        GIVEN[(i / FAMILY.len()) % GIVEN.len()]
    )
}

pub fn employee_number(i: usize) -> String {
    format!("E{i:06}")
}

/// A users CSV (Japanese headers) of `count` people spread over `groups`
/// (name paths).
pub fn users_csv(count: usize, groups: &[String]) -> String {
    let mut out = String::from("社員番号,氏名,メールアドレス,電話番号1,電話番号2,グループ\r\n");
    for i in 0..count {
        out.push_str(&format!(
            "{},{},user{i}@example.co.jp,03-{:04}-{:04},090-{:04}-{:04},{}\r\n",
            employee_number(i),
            person_name(i),
            i % 10000,
            (i * 7) % 10000,
            (i * 3) % 10000,
            (i * 11) % 10000,
            groups[i % groups.len()]
        ));
    }
    out
}

/// A devices CSV (Japanese headers) of `count` devices spread over
/// `groups`, owned round-robin by the first `owners` users (none if 0).
pub fn devices_csv(count: usize, groups: &[String], owners: usize) -> String {
    let mut out = String::from(
        "端末番号,端末表示名,シリアル番号,UDID,WiFi MACアドレス,OS,OSバージョン,モデル,製品名,グループ,社員番号,備考,備考2,備考3\r\n",
    );
    for i in 0..count {
        let ipad = i % 3 != 0;
        let (platform, model, version) = if ipad {
            ("iPadOS", "iPad13,18", "17.5.1")
        } else {
            ("iOS", "iPhone15,2", "18.1")
        };
        let group = &groups[i % groups.len()];
        let site = group.rsplit('/').next().unwrap_or(group);
        let kind = if ipad { "iPad" } else { "iPhone" };
        let owner = if owners == 0 {
            String::new()
        } else {
            employee_number(i % owners)
        };
        let hash = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        out.push_str(&format!(
            "D{i:06},{site} {kind} {i:05},DMP{:09X},00008101-{:016X},{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x},{platform},{version},\"{model}\",\"{model}\",{group},{owner},資産番号 A-{i:06},{},\r\n",
            i * 7919 + 12345,
            hash,
            0x3c,
            0x22,
            (i >> 24) & 0xff,
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff,
            if i % 4 == 0 { "リース" } else { "" },
        ));
    }
    out
}
