//! The platform issue's main scenario, over real HTTP on SQLite and
//! PostgreSQL: a nested group tree, a Shift_JIS import of 10,000 devices with
//! Japanese names, search by every SPEC §2 field with and without subgroups,
//! and an export that re-imports unchanged.

mod common;

use haishin_storage::on_both_backends;

use std::collections::HashMap;

use common::{Admin, TestServer};
use haishin::sample;
use haishin_domain::auth::Role;
use haishin_domain::csv::{CsvEncoding, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const DEVICES: usize = 10_000;
const USERS: usize = 2_000;

on_both_backends!(organisation_round_trip);

async fn organisation_round_trip(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("テスト商事", Role::AccountAdmin).await;
    let tree = build_tree(&admin).await;

    let leaves: Vec<String> = ["営業部/東京", "営業部/東京/新宿", "営業部/大阪", "開発部"]
        .iter()
        .map(|p| format!("テスト商事/{p}"))
        .collect();
    let users_csv = sample::users_csv(USERS, &leaves);
    let (status, summary) = admin
        .upload(
            "/users/import?encoding=shift_jis",
            encode(&users_csv, CsvEncoding::ShiftJis).unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["created"], USERS);

    let devices_csv = sample::devices_csv(DEVICES, &leaves, USERS);
    let shift_jis = encode(&devices_csv, CsvEncoding::ShiftJis).unwrap();
    let (status, summary) = admin.upload("/devices/import", shift_jis).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary, json!({ "created": DEVICES, "updated": 0, "unchanged": 0 }));

    let model = Model::new(&devices_csv, &users_csv);
    search_every_field(&admin, &model, &tree).await;

    // Export as Shift_JIS with Japanese headers: byte for byte what was
    // imported, and importing it again changes nothing.
    let exported = admin.download("/devices/export?encoding=shift_jis&lang=ja").await;
    let (text, _) = haishin_domain::csv::decode(&exported, haishin_domain::csv::EncodingChoice::ShiftJis).unwrap();
    assert_eq!(text, devices_csv, "export differs from the imported file");
    let (status, summary) = admin
        .upload("/devices/import?encoding=shift_jis", exported.clone())
        .await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary, json!({ "created": 0, "updated": 0, "unchanged": DEVICES }));
    assert_eq!(
        admin.download("/devices/export?encoding=shift_jis&lang=ja").await,
        exported
    );

    let users_export = admin.download("/users/export?encoding=utf-8&lang=ja").await;
    assert_eq!(
        &users_export[..3],
        b"\xEF\xBB\xBF",
        "UTF-8 exports carry a BOM for Excel"
    );
    assert_eq!(std::str::from_utf8(&users_export[3..]).unwrap(), users_csv);

    // Audit log: the import is recorded with who did it.
    let audit = admin.get("/audit?target_type=device").await;
    let imports: Vec<&Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "device.import")
        .collect();
    assert_eq!(imports.len(), 2, "{audit}");
    assert!(
        imports
            .iter()
            .all(|e| e["actor_name"].as_str().unwrap().starts_with("account_admin-"))
    );
    assert_eq!(imports[0]["after"]["summary"]["unchanged"], DEVICES, "newest first");
    assert_eq!(imports[1]["after"]["summary"]["created"], DEVICES);

    server.stop().await;
}

/// Group ids by name path.
type Tree = HashMap<&'static str, i64>;

async fn build_tree(admin: &Admin) -> Tree {
    let groups = admin.get("/groups").await;
    let root = groups[0]["id"].as_i64().unwrap();
    assert_eq!(groups[0]["path"], "テスト商事");
    let create = |name: &'static str, parent: i64| async move {
        admin
            .post("/groups", json!({ "name": name, "parent_id": parent }))
            .await["id"]
            .as_i64()
            .unwrap()
    };
    let sales = create("営業部", root).await;
    let tokyo = create("東京", sales).await;
    let shinjuku = create("新宿", tokyo).await;
    let osaka = create("大阪", sales).await;
    let dev = create("開発部", root).await;

    // Move a group with its subtree and back; a cycle is refused.
    let moved = admin
        .patch(&format!("/groups/{tokyo}"), json!({ "parent_id": dev }))
        .await;
    assert_eq!(moved["path"], "テスト商事/開発部/東京");
    let child = admin.get(&format!("/groups/{shinjuku}")).await;
    assert_eq!(child["path"], "テスト商事/開発部/東京/新宿");
    admin
        .patch(
            &format!("/groups/{tokyo}"),
            json!({ "parent_id": sales, "name": "東京" }),
        )
        .await;
    let (status, body) = admin
        .call(
            Method::PATCH,
            &format!("/groups/{sales}"),
            Some(json!({ "parent_id": shinjuku })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("group_cycle"))
    );
    let (status, body) = admin.call(Method::DELETE, &format!("/groups/{sales}"), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("group_not_empty"))
    );
    let (status, body) = admin
        .call(
            Method::POST,
            "/groups",
            Some(json!({ "name": "東京", "parent_id": sales })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_group_name"))
    );
    let empty = create("一時", dev).await;
    let (status, _) = admin.call(Method::DELETE, &format!("/groups/{empty}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    HashMap::from([
        ("root", root),
        ("営業部", sales),
        ("東京", tokyo),
        ("新宿", shinjuku),
        ("大阪", osaka),
        ("開発部", dev),
    ])
}

/// What the server should find, computed from the files themselves.
struct Model {
    /// For each device: its group path and its value for every search field.
    devices: Vec<(String, HashMap<&'static str, String>)>,
}

impl Model {
    fn new(devices_csv: &str, users_csv: &str) -> Self {
        let users: HashMap<String, Vec<String>> = records(users_csv).into_iter().map(|r| (r[0].clone(), r)).collect();
        let devices = records(devices_csv)
            .into_iter()
            .map(|d| {
                let owner = users.get(&d[10]).cloned().unwrap_or_default();
                let at = |i: usize| owner.get(i).cloned().unwrap_or_default();
                let fields = HashMap::from([
                    ("display_name", d[1].clone()),
                    ("device_number", d[0].clone()),
                    ("udid", d[3].clone()),
                    ("wifi_mac", d[4].clone()),
                    ("os_version", d[6].clone()),
                    ("owner_name", at(1)),
                    ("serial_number", d[2].clone()),
                    ("employee_number", at(0)),
                    ("phone1", at(3)),
                    ("phone2", at(4)),
                    ("email", at(2)),
                    ("notes1", d[11].clone()),
                    ("notes2", d[12].clone()),
                    ("notes3", d[13].clone()),
                ]);
                (d[9].clone(), fields)
            })
            .collect();
        Self { devices }
    }

    fn count(&self, field: &str, keyword: &str, scope: &dyn Fn(&str) -> bool) -> usize {
        let keyword = keyword.to_ascii_lowercase();
        self.devices
            .iter()
            .filter(|(group, fields)| scope(group) && fields[field].to_ascii_lowercase().contains(&keyword))
            .count()
    }
}

fn records(text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

async fn search_every_field(admin: &Admin, model: &Model, tree: &Tree) {
    let i = 4321;
    let user = i % USERS;
    let probes: [(&str, String); 14] = [
        ("display_name", "新宿 iPad".into()),
        ("device_number", format!("D00{}", i / 10)),
        ("udid", model.devices[i].1["udid"][9..19].to_owned()),
        ("wifi_mac", format!("{:02x}:{:02X}", (i >> 8) & 0xff, i & 0xff)),
        ("os_version", "17.5".into()),
        ("owner_name", sample::person_name(user)),
        ("serial_number", model.devices[i].1["serial_number"][..8].to_lowercase()),
        ("employee_number", sample::employee_number(user)[..6].to_owned()),
        ("phone1", model.devices[i].1["phone1"][..7].to_owned()),
        ("phone2", model.devices[i].1["phone2"].clone()),
        ("email", format!("user{user}@")),
        ("notes1", format!("A-00{}", i / 10)),
        ("notes2", "リース".into()),
        ("notes3", "なし".into()),
    ];
    let sales_subtree = |g: &str| g.starts_with("テスト商事/営業部");
    let tokyo_only = |g: &str| g == "テスト商事/営業部/東京";
    let everywhere = |_: &str| true;
    for (field, keyword) in &probes {
        for (scope, group, subgroups) in [
            (&everywhere as &dyn Fn(&str) -> bool, None, false),
            (&sales_subtree, Some(tree["営業部"]), true),
            (&tokyo_only, Some(tree["東京"]), false),
        ] {
            let expected = model.count(field, keyword, scope);
            let mut query = vec![
                ("field", field.to_string()),
                ("q", keyword.clone()),
                ("per_page", "1000".into()),
            ];
            if let Some(group) = group {
                query.push(("group_id", group.to_string()));
                query.push(("include_subgroups", subgroups.to_string()));
            }
            let response = admin
                .request(Method::GET, "/devices")
                .query(&query)
                .send()
                .await
                .unwrap();
            let (status, page) = common::read(response).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            assert_eq!(
                page["total"].as_u64().unwrap() as usize,
                expected,
                "search {field}={keyword:?} group {group:?} subgroups {subgroups}"
            );
            let items = page["items"].as_array().unwrap();
            assert_eq!(items.len(), expected.min(1000));
            if *field != "notes3" && group.is_none() {
                assert!(expected > 0, "probe {field}={keyword:?} should match something");
            }
            check_items_match(items, field, keyword);
        }
    }
    // Paging walks the whole result without overlap, in device-number order.
    let mut seen = Vec::new();
    for page in 1..=3 {
        let body = admin.get(&format!("/devices?q=大阪&page={page}&per_page=40")).await;
        assert_eq!(body["page"], page);
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["device_number"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen.len(), 120);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "pages overlap or are out of order"
    );

    // Keyword across all fields at once, and no keyword at all.
    let all = admin.get("/devices?per_page=1").await;
    assert_eq!(all["total"], DEVICES);
    let any = admin.get(&format!("/devices?q={}", "DMP000003039")).await;
    assert_eq!(any["total"], 1);
    assert_eq!(any["items"][0]["device_number"], "D000000");
}

/// Returned rows really contain the keyword where the JSON shows the field.
fn check_items_match(items: &[Value], field: &str, keyword: &str) {
    let shown = match field {
        "owner_name" | "employee_number" => format!("owner_{}", field.trim_start_matches("owner_")),
        "phone1" | "phone2" | "email" => return,
        other => other.to_owned(),
    };
    let shown = if field == "employee_number" {
        "owner_employee_number".to_owned()
    } else {
        shown
    };
    for item in items {
        let value = item[&shown].as_str().unwrap_or("").to_ascii_lowercase();
        assert!(
            value.contains(&keyword.to_ascii_lowercase()),
            "{shown}={value:?} lacks {keyword:?}"
        );
    }
}
