//! The `haishin` binary as an operator uses it: bootstrap an account, an
//! admin and a token; serve; drive it with the CLI client; stop on SIGTERM.
//! Also the unauthenticated endpoints: health, metrics, the OpenAPI document.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_haishin");

fn haishin(data_dir: &std::path::Path, listen: &str, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("HAISHIN_DATA_DIR", data_dir)
        .env("HAISHIN_LISTEN", listen)
        .env("HAISHIN_LOG_LEVEL", "warn");
    command
}

fn output(mut command: Command) -> String {
    let out = command.output().expect("run haishin");
    assert!(
        out.status.success(),
        "{:?}: {}",
        command,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn free_port() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[tokio::test]
async fn operator_workflow_with_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let listen = free_port();

    let created = output(haishin(&data, &listen, &["admin", "create-account", "株式会社テスト"]));
    assert!(created.starts_with("account 1 \"株式会社テスト\" created"), "{created}");
    let admin = output(haishin(
        &data,
        &listen,
        &["admin", "create-admin", "--account", "1", "--login", "ops"],
    ));
    let password = admin
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password")
        .to_owned();
    assert!(password.len() >= 10);
    let token = output(haishin(&data, &listen, &["admin", "create-token", "--login", "ops"]))
        .trim()
        .to_owned();
    assert!(token.starts_with("hs_"));
    assert!(
        data.join("master.key").exists(),
        "the master key is created with the data directory"
    );

    let mut server = haishin(&data, &listen, &["serve"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The CLI client against the running server.
    let client = |args: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("HAISHIN_URL", &base)
            .env("HAISHIN_TOKEN", &token);
        command
    };
    let group = output(client(&["groups", "create", "東京"]));
    assert!(group.contains("\"path\": \"株式会社テスト/東京\""), "{group}");
    let csv = dir.path().join("devices.csv");
    std::fs::write(
        &csv,
        "端末表示名,シリアル番号,グループ\r\nテスト端末,ABCD12345678,株式会社テスト/東京\r\n",
    )
    .unwrap();
    let imported = output(client(&["devices", "import", csv.to_str().unwrap()]));
    assert!(imported.contains("\"created\": 1"), "{imported}");
    let found = output(client(&[
        "devices",
        "search",
        "--field",
        "serial_number",
        "--q",
        "abcd1234",
    ]));
    assert!(
        found.contains("テスト端末") && found.contains("\"device_number\": \"000001\""),
        "{found}"
    );
    let exported = dir.path().join("out.csv");
    output(client(&[
        "devices",
        "export",
        "--encoding",
        "shift_jis",
        "-o",
        exported.to_str().unwrap(),
    ]));
    assert!(std::fs::read(&exported).unwrap().len() > 50);
    let mut bad = client(&["devices", "import", csv.to_str().unwrap(), "--encoding", "shift_jis"]);
    let refused = bad.output().unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("UTF-8で保存されているようです"),
        "{refused:?}"
    );

    // D5 from the shell: no rules yet, and a portal link that opens.
    let rules = output(client(&["deploy", "rules", "list"]));
    assert_eq!(rules.trim(), "[]", "{rules}");
    let link = output(client(&["deploy", "portal-link", "1", "--days", "3"]));
    let link = link.trim();
    assert!(link.starts_with(&format!("{base}/portal/1.1.")), "{link}");
    let portal = http.get(link).header("accept-language", "en").send().await.unwrap();
    assert_eq!(portal.status(), 200);
    assert!(
        portal
            .text()
            .await
            .unwrap()
            .contains("No apps are offered to this device.")
    );

    // Console login with the generated password.
    let login = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({ "login": "ops", "password": password }))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);

    // Health, metrics and the API document need no credentials.
    assert_eq!(
        http.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains("haishin_http_requests_total{method=\"POST\",route=\"/api/v1/devices/import\",status=\"200\"}"),
        "{metrics}"
    );
    let openapi: serde_json::Value = http
        .get(format!("{base}/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    for path in [
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/admins",
        "/api/v1/admins/{id}",
        "/api/v1/api-tokens",
        "/api/v1/api-tokens/{id}",
        "/api/v1/groups",
        "/api/v1/groups/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/import",
        "/api/v1/users/export",
        "/api/v1/devices",
        "/api/v1/devices/{id}",
        "/api/v1/devices/import",
        "/api/v1/devices/export",
        "/api/v1/jobs",
        "/api/v1/jobs/cancel",
        "/api/v1/devices/{id}/jobs",
        "/api/v1/mdm/push-certificate",
        "/api/v1/mdm/enrollment-profile",
        "/api/v1/audit",
        "/api/v1/app-rules",
        "/api/v1/devices/{id}/portal-link",
        "/api/v1/portal/{ticket}/apps",
    ] {
        assert!(paths.contains_key(path), "OpenAPI lacks {path}");
    }
    assert!(openapi["components"]["schemas"]["Device"]["properties"]["device_number"].is_object());

    // SIGTERM: graceful shutdown, exit code 0.
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = server.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no shutdown after SIGTERM");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(exit.success(), "{exit:?}");

    // Migrations are idempotent.
    let migrated = output(haishin(&data, &listen, &["migrate"]));
    assert!(migrated.starts_with("migrations applied"), "{migrated}");
}
