//! Tenancy and roles over real HTTP: account B's token gets 404 for every
//! object of account A on every route and never sees them in a list or a
//! search; a read-only admin cannot change anything.

mod common;

use haishin_storage::on_both_backends;

use common::{Admin, TestServer};
use haishin_domain::auth::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(accounts_never_see_each_other);
on_both_backends!(read_only_admins_change_nothing);

/// One of everything in an account.
struct Objects {
    group: i64,
    user: i64,
    device: i64,
    admin: i64,
    token: i64,
}

async fn populate(admin: &Admin, tag: &str) -> Objects {
    let group = admin.post("/groups", json!({ "name": format!("{tag}部") })).await["id"]
        .as_i64()
        .unwrap();
    let user = admin
        .post(
            "/users",
            json!({ "group_id": group, "employee_number": format!("{tag}-1"), "name": format!("{tag} 太郎") }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let device = admin
        .post(
            "/devices",
            json!({ "group_id": group, "display_name": format!("{tag} iPad"), "serial_number": format!("SER{tag}00001"), "owner_id": user }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let colleague = admin
        .post(
            "/admins",
            json!({ "login": format!("{tag}-operator"), "display_name": "op", "role": "operator", "password": "long enough password" }),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let token = admin.post("/api-tokens", json!({ "name": "extra" })).await["id"]
        .as_i64()
        .unwrap();
    Objects {
        group,
        user,
        device,
        admin: colleague,
        token,
    }
}

/// Every route that names an object, with a body where it needs one.
fn object_routes(o: &Objects) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, format!("/groups/{}", o.group), None),
        (
            Method::PATCH,
            format!("/groups/{}", o.group),
            Some(json!({ "name": "奪取" })),
        ),
        (Method::DELETE, format!("/groups/{}", o.group), None),
        (Method::GET, format!("/users/{}", o.user), None),
        (
            Method::PATCH,
            format!("/users/{}", o.user),
            Some(json!({ "name": "奪取" })),
        ),
        (Method::DELETE, format!("/users/{}", o.user), None),
        (Method::GET, format!("/devices/{}", o.device), None),
        (
            Method::PATCH,
            format!("/devices/{}", o.device),
            Some(json!({ "display_name": "奪取" })),
        ),
        (Method::DELETE, format!("/devices/{}", o.device), None),
        (Method::GET, format!("/admins/{}", o.admin), None),
        (
            Method::PATCH,
            format!("/admins/{}", o.admin),
            Some(json!({ "display_name": "奪取" })),
        ),
        (Method::DELETE, format!("/admins/{}", o.admin), None),
        (Method::DELETE, format!("/api-tokens/{}", o.token), None),
        (Method::GET, format!("/devices?group_id={}", o.group), None),
        (
            Method::GET,
            format!("/users?group_id={}&include_subgroups=true", o.group),
            None,
        ),
        (Method::GET, format!("/devices/export?group_id={}", o.group), None),
        (Method::GET, format!("/users/export?group_id={}", o.group), None),
    ]
}

async fn accounts_never_see_each_other(backend: &str) {
    let server = TestServer::start(backend).await;
    let alice = server.account("Aの会社", Role::AccountAdmin).await;
    let bob = server.account("Bの会社", Role::AccountAdmin).await;
    let a = populate(&alice, "A").await;
    let b = populate(&bob, "B").await;

    for (method, path, body) in object_routes(&a) {
        let (status, reply) = bob.call(method.clone(), &path, body.clone()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "B {method} {path}: {reply}");
        assert_eq!(reply["code"], "not_found");
    }
    // References inside a body are checked too: B cannot file a device into
    // A's group or give it A's user.
    for body in [
        json!({ "group_id": a.group, "display_name": "x" }),
        json!({ "group_id": b.group, "display_name": "x", "owner_id": a.user }),
    ] {
        let (status, reply) = bob.call(Method::POST, "/devices", Some(body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{reply}");
    }
    let (status, _) = bob
        .call(
            Method::PATCH,
            &format!("/devices/{}", b.device),
            Some(json!({ "group_id": a.group })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bob
        .call(
            Method::POST,
            "/groups",
            Some(json!({ "name": "x", "parent_id": a.group })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bob
        .call(
            Method::PATCH,
            &format!("/groups/{}", b.group),
            Some(json!({ "parent_id": a.group })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bob
        .call(
            Method::POST,
            "/api-tokens",
            Some(json!({ "name": "x", "admin_id": alice.admin_id })),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A CSV naming A's groups or A's people finds nothing of them.
    let (status, reply) = bob
        .upload(
            "/devices/import",
            "端末表示名,グループ\r\nx,Aの会社/A部\r\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert!(
        reply["errors"][0]["message"].as_str().unwrap().contains("not found"),
        "{reply}"
    );
    let (status, reply) = bob
        .upload(
            "/devices/import",
            "端末表示名,社員番号\r\nx,A-1\r\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    // B may reuse A's serial number and device number: they are unique per account only.
    let (status, reply) = bob
        .upload(
            "/devices/import",
            "端末番号,端末表示名,シリアル番号\r\n000001,x,SERA00001\r\n"
                .as_bytes()
                .to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(
        alice.get(&format!("/devices/{}", a.device)).await["serial_number"],
        "SERA00001"
    );

    // Lists and searches show only B's own rows, whatever the keyword.
    for path in [
        "/groups",
        "/users?q=A",
        "/devices?q=A",
        "/devices?q=SERA",
        "/admins",
        "/api-tokens",
        "/audit?limit=1000",
    ] {
        let listing = bob.get(path).await;
        let text = listing.to_string();
        assert!(
            !text.contains("A部") && !text.contains("A 太郎") && !text.contains("A iPad"),
            "{path}: {text}"
        );
        assert!(
            !text.contains("A-operator") && !text.contains("Aの会社"),
            "{path}: {text}"
        );
    }
    let b_devices = bob.download("/devices/export").await;
    assert!(!String::from_utf8_lossy(&b_devices).contains("A iPad"));

    // Nothing of A changed, and A still sees all of it.
    assert_eq!(
        alice.get(&format!("/devices/{}", a.device)).await["display_name"],
        "A iPad"
    );
    assert_eq!(alice.get(&format!("/groups/{}", a.group)).await["name"], "A部");
    assert_eq!(alice.get("/api-tokens").await.as_array().unwrap().len(), 2);

    // A token that does not exist, or none at all.
    let stranger = Admin {
        token: "hs_not-a-token".into(),
        ..bob.clone()
    };
    let (status, reply) = stranger.in_lang("ja").call(Method::GET, "/devices", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply["message"],
        "ログインしてください(APIトークンまたはセッションが無効です)。"
    );
    server.stop().await;
}

async fn read_only_admins_change_nothing(backend: &str) {
    let server = TestServer::start(backend).await;
    let owner = server.account("閲覧テスト", Role::AccountAdmin).await;
    let objects = populate(&owner, "R").await;
    let reader = server.colleague(&owner, Role::ReadOnly).await;
    let operator = server.colleague(&owner, Role::Operator).await;
    let before = owner.download("/devices/export").await;
    let audit_before = owner.get("/audit?limit=1000").await.as_array().unwrap().len();

    let mut writes: Vec<(Method, String, Option<Value>)> = object_routes(&objects)
        .into_iter()
        .filter(|(m, _, _)| *m != Method::GET)
        .collect();
    writes.extend([
        (Method::POST, "/groups".to_owned(), Some(json!({ "name": "新" }))),
        (Method::POST, "/users".to_owned(), Some(json!({ "group_id": objects.group, "employee_number": "N1", "name": "新" }))),
        (Method::POST, "/devices".to_owned(), Some(json!({ "group_id": objects.group, "display_name": "新" }))),
        (
            Method::POST,
            "/admins".to_owned(),
            Some(json!({ "login": "x", "display_name": "x", "role": "account_admin", "password": "long enough password" })),
        ),
    ]);
    for (method, path, body) in &writes {
        let (status, reply) = reader.in_lang("ja").call(method.clone(), path, body.clone()).await;
        // Admin and other admins' tokens are hidden from non-admins as 404 or refused as 403.
        assert!(
            status == StatusCode::FORBIDDEN || (status == StatusCode::NOT_FOUND && path.starts_with("/api-tokens")),
            "read-only {method} {path}: {status} {reply}"
        );
        if status == StatusCode::FORBIDDEN {
            assert!(reply["message"].as_str().unwrap().contains("閲覧のみ"), "{reply}");
        }
    }
    for path in ["/users/import", "/devices/import"] {
        let (status, _) = reader
            .upload(path, "社員番号,氏名\r\nX1,x\r\n".as_bytes().to_vec())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    // Operators change data but not admins.
    let (status, _) = operator
        .call(
            Method::PATCH,
            &format!("/devices/{}", objects.device),
            Some(json!({ "notes1": "ok" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = operator
        .call(
            Method::PATCH,
            &format!("/admins/{}", reader.admin_id),
            Some(json!({ "role": "account_admin" })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Reading is allowed.
    assert_eq!(reader.get("/devices").await["total"], 1);

    let after = owner.download("/devices/export").await;
    assert_ne!(before, after, "the operator's change shows");
    let audit_after = owner.get("/audit?limit=1000").await.as_array().unwrap().len();
    assert_eq!(
        audit_after,
        audit_before + 1,
        "only the operator's change; nothing from the reader"
    );
    server.stop().await;
}
