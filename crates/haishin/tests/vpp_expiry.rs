//! Expiry notice mails (SPEC T4) through a real SMTP conversation: one a
//! month before expiry and one at expiry, each sent exactly once while two
//! `haishin serve` processes share one PostgreSQL database and one of them
//! is killed (SIGKILL) and started again.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apple_sim::vpp::{AssetSpec, LocationSpec, VppSim, VppSimOptions};
use haishin_mail::testing::SmtpSink;
use haishin_secrets::MasterKey;
use haishin_storage::testing::TestDb;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_haishin");

struct Env {
    database_url: String,
    master_key: String,
    sim: VppSim,
    smtp: String,
    dir: tempfile::TempDir,
}

impl Env {
    fn command(&self, listen: &str, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("HAISHIN_DATA_DIR", self.dir.path())
            .env("HAISHIN_DATABASE_URL", &self.database_url)
            .env("HAISHIN_MASTER_KEY", &self.master_key)
            .env("HAISHIN_LISTEN", listen)
            .env("HAISHIN_LOG_LEVEL", "warn")
            .env("HAISHIN_VPP_URL", self.sim.base_url())
            .env("HAISHIN_VPP_METADATA_URL", self.sim.metadata_lookup_url())
            .env("HAISHIN_VPP_ALLOW_HTTP_NOTIFICATIONS", "true")
            .env("HAISHIN_SMTP_URL", &self.smtp)
            .env("HAISHIN_MAIL_FROM", "haishin <noreply@haishin.test>")
            .env("HAISHIN_EXPIRY_CHECK_SECONDS", "1");
        command
    }

    fn output(&self, args: &[&str]) -> String {
        let out = self.command("127.0.0.1:0", args).output().expect("run haishin");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    async fn serve(&self) -> (Child, String) {
        let listen = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .to_string();
        let child = self.command(&listen, &["serve"]).stdout(Stdio::null()).spawn().unwrap();
        let base = format!("http://{listen}");
        let started = Instant::now();
        while reqwest::get(format!("{base}/healthz")).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "server did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (child, base)
    }
}

#[tokio::test]
async fn expiry_notices_are_mailed_once_each_by_two_processes_on_postgres() {
    let db = TestDb::postgres().await;
    let sink = SmtpSink::start().await.unwrap();
    let env = Env {
        database_url: db.url.clone(),
        master_key: MasterKey::generate().1,
        sim: VppSim::start(VppSimOptions::for_tests()).await.unwrap(),
        smtp: sink.url(),
        dir: tempfile::tempdir().unwrap(),
    };
    let now = time::OffsetDateTime::now_utc();
    let head_office = env.sim.add_location(
        LocationSpec::new("株式会社サンプル", "本社")
            .expires_at(now + time::Duration::days(20))
            .asset(AssetSpec::app("1000001", 5)),
    );
    let branch = env
        .sim
        .add_location(LocationSpec::new("株式会社サンプル", "大阪支店").expires_at(now + time::Duration::seconds(6)));
    let quiet = env
        .sim
        .add_location(LocationSpec::new("株式会社サンプル", "名古屋").expires_at(now + time::Duration::days(200)));

    env.output(&["admin", "create-account", "失効通知"]);
    env.output(&["admin", "create-admin", "--account", "1", "--login", "ops"]);
    let api_token = env
        .output(&["admin", "create-token", "--login", "ops"])
        .trim()
        .to_owned();
    let (mut first, base) = env.serve().await;
    let (mut second, _) = env.serve().await;

    let http = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(&api_token)
            .json(&body)
            .send()
    };
    let groups: Value = call(reqwest::Method::GET, "/groups", json!(null))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let group = groups[0]["id"].as_i64().unwrap();
    for (location, addresses) in [
        (&head_office, vec!["it@example.jp", "manager@example.jp"]),
        (&branch, vec!["it@example.jp"]),
        (&quiet, vec!["it@example.jp"]),
    ] {
        let response = call(
            reqwest::Method::POST,
            "/vpp/tokens",
            json!({ "group_id": group, "token_file": location.token_file_contents() }),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 201);
        let token: Value = response.json().await.unwrap();
        let id = token["id"].as_i64().unwrap();
        let response = call(
            reqwest::Method::PUT,
            &format!("/vpp/tokens/{id}/expiry-notice"),
            json!({ "enabled": true, "addresses": addresses }),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 200);
    }
    let refused = call(
        reqwest::Method::PUT,
        "/vpp/tokens/1/expiry-notice",
        json!({ "enabled": true, "addresses": ["not an address"] }),
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 400);

    // 本社 (20 days left): the one-month notice. 大阪支店 (6 s left): the
    // one-month notice at once, the expiry notice when it expires.
    // 名古屋 (200 days): nothing. Meanwhile one process crashes and returns.
    sink.wait_for(2, Duration::from_secs(30))
        .await
        .expect("the one-month notices");
    second.kill().unwrap();
    second.wait().unwrap();
    let (mut second, _) = env.serve().await;
    sink.wait_for(3, Duration::from_secs(30))
        .await
        .expect("the expiry notice");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mails = sink.messages();
    let subjects: Vec<String> = mails.iter().map(|m| m.subject().unwrap()).collect();
    assert_eq!(mails.len(), 3, "{subjects:?}");
    let about = |place: &str| subjects.iter().filter(|s| s.contains(place)).count();
    assert_eq!(
        (about("本社"), about("大阪支店"), about("名古屋")),
        (1, 2, 0),
        "{subjects:?}"
    );
    let to_head_office = mails.iter().find(|m| m.subject().unwrap().contains("本社")).unwrap();
    assert_eq!(to_head_office.rcpt_to.len(), 2);
    let body = to_head_office.text_body().unwrap();
    assert!(
        body.contains("サーバトークンの更新") && body.contains("(JST)"),
        "{body}"
    );

    for child in [&mut first, &mut second] {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    env.sim.shutdown();
    db.cleanup().await.unwrap();
}
