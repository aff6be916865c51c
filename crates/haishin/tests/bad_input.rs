//! Bad input over real HTTP: refused with a clear error in Japanese and
//! English, line-numbered for CSV files, and nothing is written.

mod common;

use haishin_storage::on_both_backends;

use common::{Admin, TestServer};
use haishin_domain::auth::Role;
use haishin_domain::csv::{CsvEncoding, encode};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(bad_csv_files_change_nothing);
on_both_backends!(bad_requests_are_explained);
on_both_backends!(console_sessions);

const HEADER: &str = "端末番号,端末表示名,シリアル番号,WiFi MACアドレス,グループ,社員番号\r\n";

async fn state(admin: &Admin) -> (Value, usize) {
    let devices = admin.get("/devices?per_page=1000").await;
    let audit = admin.get("/audit?limit=1000").await.as_array().unwrap().len();
    (devices, audit)
}

/// Uploads a file and returns the (line, message) pairs, in both languages.
async fn refused(admin: &Admin, path: &str, bytes: Vec<u8>) -> (Vec<(u64, String)>, Vec<(u64, String)>) {
    let mut out = Vec::new();
    for lang in ["en", "ja"] {
        let (status, body) = admin.in_lang(lang).upload(path, bytes.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "csv_rejected");
        let lines: Vec<(u64, String)> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["message"].as_str().unwrap().to_owned()))
            .collect();
        assert!(!lines.is_empty());
        out.push(lines);
    }
    let ja = out.pop().unwrap();
    (out.pop().unwrap(), ja)
}

async fn bad_csv_files_change_nothing(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("入力テスト", Role::AccountAdmin).await;
    let group = admin.post("/groups", json!({ "name": "東京" })).await["id"]
        .as_i64()
        .unwrap();
    admin
        .post(
            "/devices",
            json!({ "group_id": group, "display_name": "既存", "serial_number": "EXIST0000001" }),
        )
        .await;
    let before = state(&admin).await;

    // Shift_JIS bytes declared as UTF-8: the first line with Japanese is named.
    let file = format!("{HEADER}D1,山田のiPad,SER000000001,,入力テスト/東京,\r\n");
    let (en, ja) = refused(
        &admin,
        "/devices/import?encoding=utf-8",
        encode(&file, CsvEncoding::ShiftJis).unwrap(),
    )
    .await;
    assert_eq!(en[0].0, 1);
    assert!(en[0].1.contains("not valid UTF-8"), "{en:?}");
    assert!(ja[0].1.contains("UTF-8として読めない"), "{ja:?}");
    // UTF-8 declared as Shift_JIS would be mojibake: refused too.
    let (en, _) = refused(&admin, "/devices/import?encoding=shift_jis", file.clone().into_bytes()).await;
    assert!(en[0].1.contains("looks like UTF-8"), "{en:?}");
    // Bytes that are neither.
    let (en, _) = refused(&admin, "/devices/import", b"a,b\r\n\xff\xfe\xfd\r\n".to_vec()).await;
    assert_eq!(en[0].0, 2);

    // A missing required column.
    let (en, ja) = refused(
        &admin,
        "/devices/import",
        "端末番号,シリアル番号\r\nD1,SER000000001\r\n".into(),
    )
    .await;
    assert_eq!(
        en,
        vec![(1, "The required column 'Display name' is missing.".to_owned())]
    );
    assert_eq!(ja[0].1, "必須の列「端末表示名」がありません。");

    // Many problems in one file, every one reported with its line.
    let file = [
        HEADER,
        "D1,一台目,SER000000001,aa:bb:cc:dd:ee:ff,入力テスト/東京,\r\n", // 2: fine
        "D2,二台目,SER000000002,zz:zz,入力テスト/東京,\r\n",             // 3: bad MAC
        "D3,三台目,SER000000001,,入力テスト/東京,\r\n",                  // 4: serial repeats line 2
        "D4,四台目,EXIST0000001,,入力テスト/東京,\r\n",                  // 5: serial of an existing device
        "D5,五台目,SER000000005\r\n",                                    // 6: too few cells
        "D6,六台目,SER000000006,,入力テスト/大阪,\r\n",                  // 7: no such group
        "D7,七台目,SER000000007,,入力テスト/東京,E999\r\n",              // 8: no such owner
        "D8,,SER000000008,,入力テスト/東京,\r\n",                        // 9: display name empty
        "D1,重複,SER000000009,,入力テスト/東京,\r\n",                    // 10: device number repeats line 2
    ]
    .concat();
    let (en, ja) = refused(&admin, "/devices/import", file.into_bytes()).await;
    let lines: Vec<u64> = en.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9, 10], "{en:#?}");
    assert!(en[0].1.contains("Wi-Fi MAC address"), "{en:?}");
    assert!(en[1].1.contains("also appears on line 2"), "{en:?}");
    assert!(en[2].1.contains("already used by device"), "{en:?}");
    assert!(ja[1].1.contains("2 行目と重複"), "{ja:?}");
    assert!(
        ja[4].1.contains("グループ「入力テスト/大阪」が見つかりません"),
        "{ja:?}"
    );
    assert!(ja[5].1.contains("社員番号「E999」"), "{ja:?}");

    // Users: duplicate employee numbers and a bad email.
    let users = "社員番号,氏名,メールアドレス\r\nU1,一郎,ichiro@example.jp\r\nU1,二郎,\r\nU3,三郎,not-an-email\r\n";
    let (en, _) = refused(&admin, "/users/import", users.into()).await;
    assert_eq!(en.iter().map(|(l, _)| *l).collect::<Vec<_>>(), vec![3, 4], "{en:?}");

    // Nothing was written, not even an audit entry.
    assert_eq!(state(&admin).await, before);
    server.stop().await;
}

async fn bad_requests_are_explained(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("リクエスト", Role::AccountAdmin).await;
    let before = state(&admin).await;
    for lang in ["en", "ja"] {
        let raw = admin
            .in_lang(lang)
            .request(Method::POST, "/groups")
            .header("Content-Type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        let (status, body) = common::read(raw).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["code"], "invalid_request");
        let expected = if lang == "ja" {
            "リクエストの形式が正しくありません"
        } else {
            "The request is malformed"
        };
        assert!(body["message"].as_str().unwrap().starts_with(expected), "{body}");
    }
    // Well-formed JSON of the wrong shape, and invalid values.
    let (status, body) = admin
        .call(Method::POST, "/devices", Some(json!({ "display_name": 5 })))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = admin
        .call(
            Method::POST,
            "/users",
            Some(json!({ "group_id": 1, "employee_number": "", "name": "x" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_field")),
        "{body}"
    );
    let (status, body) = admin.call(Method::GET, "/devices?field=shoe_size&q=1", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Oversized bodies: JSON over 1 MiB, CSV over this server's 8 MiB.
    let big_name = "あ".repeat(400_000);
    let json = admin
        .in_lang("ja")
        .request(Method::POST, "/groups")
        .json(&json!({ "name": big_name }));
    if let Some(body) = refused_as_too_large(json).await {
        assert!(body["message"].as_str().unwrap().contains("大きすぎます"), "{body}");
    }
    let mut csv = HEADER.as_bytes().to_vec();
    csv.resize(9 * 1024 * 1024, b'x');
    let upload = admin
        .request(Method::POST, "/devices/import")
        .header("Content-Type", "text/csv")
        .body(csv);
    refused_as_too_large(upload).await;

    // A fresh client: the refused uploads may have left a dead pooled connection.
    let admin = common::Admin {
        http: reqwest::Client::new(),
        ..admin.clone()
    };
    assert_eq!(state(&admin).await, before);
    server.stop().await;
}

/// Sends an oversized request. The server answers 413 as soon as the limit
/// is passed and closes the connection; the unread rest of the body makes
/// the kernel reset it, so the client may see the reset before the answer.
/// Returns the error body when the answer arrived; the callers check that
/// nothing was written either way.
async fn refused_as_too_large(request: reqwest::RequestBuilder) -> Option<Value> {
    match request.send().await {
        Ok(response) => {
            let (status, body) = common::read(response).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")),
                "{body}"
            );
            Some(body)
        }
        Err(error) => {
            assert!(error.is_request() || error.is_body(), "{error:?}");
            None
        }
    }
}

async fn console_sessions(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("セッション", Role::Operator).await;
    let login = admin.get("/me").await["login"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let session_url = server.url("/api/v1/session");

    let wrong = http
        .post(&session_url)
        .json(&json!({ "login": login, "password": "wrong password" }))
        .send()
        .await
        .unwrap();
    let (status, body) = common::read(wrong).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("bad_credentials"))
    );
    let unknown = http
        .post(&session_url)
        .json(&json!({ "login": "nobody", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let ok = http
        .post(&session_url)
        .json(&json!({ "login": login, "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let cookie = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let me = http
        .get(server.url("/api/v1/me"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(common::read(me).await.1["login"], login.as_str());

    let out = http
        .delete(&session_url)
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let me = http
        .get(server.url("/api/v1/me"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "a logged-out session is dead");
    server.stop().await;
}
