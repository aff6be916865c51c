//! A crash at any point loses no job and never assigns a license twice:
//! a real `haishin serve` process is killed (SIGKILL) at random moments
//! while it deploys apps to a simulated fleet, and while an auto-install
//! rule installs another app on every device, and started again on the
//! same address. After the last restart every job reaches a final state,
//! and the Apps and Books simulator's records show no license associated
//! twice and the same licenses haishin recorded.
//!
//! The fleet size is `DEPLOY_TEST_DEVICES` (2,000 by default); the
//! random moments come from a seed printed at the start
//! (`DEPLOY_CRASH_SEED` replays one).

mod common;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use apple_sim::vpp::{AssetSpec, LocationHandle, LocationSpec, VppSim, VppSimOptions};
use apple_sim::{ApnsSim, Behaviour, Fleet, HttpProfileSource, SimEnv};
use common::mdm::{TOPIC_A, push_certificate, upload_push_certificate};
use common::{Admin, eventually};
use haishin_secrets::MasterKey;
use haishin_storage::on_both_backends;
use haishin_storage::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(killed_servers_lose_no_job_and_assign_no_license_twice);

const BIN: &str = env!("CARGO_BIN_EXE_haishin");
const APPS: [&str; 3] = ["1000001", "1000002", "1000003"];
/// Installed by an auto-install rule (D5) on every device.
const AUTO_APP: &str = "1000004";
/// The first app is this many licenses short.
const SHORT: usize = 30;
const KILLS_PER_DEPLOYMENT: usize = 3;

fn fleet_size() -> usize {
    std::env::var("DEPLOY_TEST_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// xorshift: enough randomness for kill moments, and replayable.
struct Moments(u64);

impl Moments {
    fn next_millis(&mut self, from: u64, to: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        from + self.0 % (to - from)
    }
}

struct Server {
    database_url: String,
    master_key: String,
    dir: tempfile::TempDir,
    listen: String,
    vpp: VppSim,
    apns: ApnsSim,
    apns_ca: tempfile::NamedTempFile,
}

impl Server {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env("HAISHIN_DATA_DIR", self.dir.path())
            .env("HAISHIN_DATABASE_URL", &self.database_url)
            .env("HAISHIN_MASTER_KEY", &self.master_key)
            .env("HAISHIN_LISTEN", &self.listen)
            .env("HAISHIN_LOG_LEVEL", "error")
            .env("HAISHIN_IDENTITY_KEY", "p256")
            .env("HAISHIN_VPP_URL", self.vpp.base_url())
            .env("HAISHIN_VPP_METADATA_URL", self.vpp.metadata_lookup_url())
            .env("HAISHIN_VPP_ALLOW_HTTP_NOTIFICATIONS", "true")
            .env("HAISHIN_VPP_POLL_AFTER_SECONDS", "1")
            .env("HAISHIN_VPP_POLL_EVERY_SECONDS", "1")
            .env("HAISHIN_VPP_RETRY_INITIAL_MS", "5")
            .env("HAISHIN_APNS_URL", self.apns.base_url())
            .env("HAISHIN_APNS_CA_FILE", self.apns_ca.path())
            .env("HAISHIN_PUSH_INTERVAL_MS", "100")
            .env("HAISHIN_PUSH_TIMEOUT_SECONDS", "5")
            .env("HAISHIN_REPUSH_AFTER_SECONDS", "3")
            .env("HAISHIN_MAX_PUSHES", "1000")
            .env("HAISHIN_INSTALL_VERIFY_FIRST_CHECK_MS", "300")
            .env("HAISHIN_INSTALL_VERIFY_MAX_INTERVAL_SECONDS", "2")
            .env("HAISHIN_AUTO_INSTALL_CHECK_SECONDS", "2");
        command
    }

    fn output(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run haishin");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    async fn start(&self) -> Child {
        let child = self.command(&["serve"]).stdout(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        while reqwest::get(format!("http://{}/healthz", self.listen)).await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(60), "server did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        child
    }
}

fn location(vpp: &VppSim, devices: usize) -> LocationHandle {
    let mut spec = LocationSpec::new("株式会社サンプル", "本社");
    for (n, app) in APPS.iter().enumerate() {
        let licenses = if n == 0 { devices - SHORT } else { devices };
        spec = spec.asset(AssetSpec::app(*app, licenses as i64));
    }
    vpp.add_location(spec.asset(AssetSpec::app(AUTO_APP, devices as i64)))
}

async fn killed_servers_lose_no_job_and_assign_no_license_twice(backend: &str) {
    let devices = fleet_size();
    let seed = std::env::var("DEPLOY_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            (std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64)
                | 1
        });
    eprintln!("{backend}: crash seed {seed} (DEPLOY_CRASH_SEED replays it)");
    let mut moments = Moments(seed);
    let db = TestDb::open(backend).await;
    let vpp = VppSim::start(VppSimOptions::for_tests()).await.unwrap();
    let location = location(&vpp, devices);
    let apns = ApnsSim::start_tls().await.unwrap();
    let apns_ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(apns_ca.path(), apns.root_ca_pem().unwrap()).unwrap();
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let server = Server {
        database_url: db.url.clone(),
        master_key: MasterKey::generate().1,
        dir: tempfile::tempdir().unwrap(),
        listen: listen.clone(),
        vpp,
        apns: apns.clone(),
        apns_ca,
    };
    server.output(&["admin", "create-account", "障害試験"]);
    server.output(&["admin", "create-admin", "--account", "1", "--login", "ops"]);
    let token = server
        .output(&["admin", "create-token", "--login", "ops"])
        .trim()
        .to_owned();
    let admin = Admin {
        http: reqwest::Client::new(),
        base: format!("http://{listen}"),
        token,
        lang: "en",
        account_id: 1,
        admin_id: 1,
    };
    let mut child = server.start().await;

    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(
        upload_push_certificate(&admin, &cert, &key, false).await.0,
        StatusCode::OK
    );
    let group = common::vpp::top_group(&admin).await;
    let (status, registered) = common::vpp::register(&admin, group, &location).await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let token_id = registered["id"].as_i64().unwrap();
    let licenses = location.license_policy();
    let env = SimEnv::builder(HttpProfileSource::for_group(&admin.base, group).with_bearer(&admin.token))
        .apns(apns.clone())
        .build()
        .unwrap();
    let store = location.store_catalogue();
    let fleet = Fleet::builder(env)
        .devices(devices)
        .behaviour(move |i| {
            let base = if i % 3 == 0 {
                Behaviour::iphone()
            } else {
                Behaviour::ipad()
            };
            base.with_licenses(licenses.clone())
                .with_store(store.clone())
                .with_install_timing(Duration::from_millis(50), Duration::from_millis(100))
        })
        .enroll()
        .await;
    assert!(fleet.failures().is_empty(), "{:?}", &fleet.failures()[..1]);

    for (n, app) in APPS.iter().enumerate() {
        let request = json!({
            "items": [{ "token_id": token_id, "adam_id": app }],
            "target_os": "ios",
            "license_mode": "auto",
            "devices": { "all": true },
        });
        let (status, deployment) = admin.call(Method::POST, "/deployments", Some(request)).await;
        assert_eq!(status, StatusCode::CREATED, "{deployment}");
        let id = deployment["id"].as_i64().unwrap();
        let jobs = deployment["jobs"].as_u64().unwrap();
        assert_eq!(jobs as usize, devices);
        // Kill the server at random moments while licenses are assigned and
        // installs run; start it again at once on the same address.
        for _ in 0..KILLS_PER_DEPLOYMENT {
            child = kill_and_restart(&server, child, &mut moments, &format!("{backend}: app {app}")).await;
        }
        eventually(
            &format!("deployment of {app} to finish"),
            Duration::from_secs(600),
            || async {
                let progress = admin.get(&format!("/deployments/{id}")).await;
                if progress["finished"] == progress["jobs"] && progress["jobs"] == jobs {
                    Ok(())
                } else {
                    Err(format!("{}", progress["by_status"]))
                }
            },
        )
        .await;
        let progress = admin.get(&format!("/deployments/{id}")).await;
        let count = |status: &str| {
            progress["by_status"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["status"] == status)
                .map_or(0, |c| c["count"].as_u64().unwrap() as usize)
        };
        let short = if n == 0 { SHORT } else { 0 };
        assert_eq!(count("license_failed"), short, "{}", progress["by_status"]);
        assert_eq!(count("success"), devices - short, "{}", progress["by_status"]);

        apple_matches_records(&admin, &location, app, devices - short).await;
    }

    // Auto-install (D5): a rule for every device, its passes killed at
    // random moments. The claims written with each pass's deployment keep
    // every device to one install and one license.
    let (status, rule) = admin
        .call(
            Method::POST,
            "/app-rules",
            Some(json!({ "token_id": token_id, "adam_id": AUTO_APP, "mode": "auto_install" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    // Once at random (before or during the first pass), then while the
    // pass's deployment is under way.
    let what = format!("{backend}: auto-install");
    child = kill_and_restart(&server, child, &mut moments, &what).await;
    eventually("an auto-install pass", Duration::from_secs(120), || async {
        let deployments = admin.get("/deployments").await;
        let passes = deployments.as_array().unwrap().iter();
        if passes.filter(|d| d["origin"]["kind"] == "auto_install").count() > 0 {
            Ok(())
        } else {
            Err("no pass yet".into())
        }
    })
    .await;
    for _ in 1..KILLS_PER_DEPLOYMENT {
        child = kill_and_restart(&server, child, &mut moments, &what).await;
    }
    eventually("the auto-installs to finish", Duration::from_secs(600), || async {
        let passes: Vec<_> = admin
            .get("/deployments")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["origin"]["kind"] == "auto_install")
            .cloned()
            .collect();
        let total: usize = passes.iter().map(|d| d["jobs"].as_u64().unwrap() as usize).sum();
        let succeeded: usize = passes.iter().map(|d| d["succeeded"].as_u64().unwrap() as usize).sum();
        if total == devices && succeeded == devices {
            Ok(())
        } else {
            Err(format!("{succeeded} of {total} jobs in {} passes", passes.len()))
        }
    })
    .await;
    let applied = admin.get(&format!("/app-rules/{}", rule["id"])).await;
    assert_eq!(applied["devices_applied"], devices, "{applied}");
    apple_matches_records(&admin, &location, AUTO_APP, devices).await;
    child.kill().unwrap();
    child.wait().unwrap();
    db.cleanup().await.ok();
}

/// Kills the server at a random moment from now and starts it again at once
/// on the same address.
async fn kill_and_restart(server: &Server, mut child: Child, moments: &mut Moments, what: &str) -> Child {
    let wait = moments.next_millis(100, 2500);
    tokio::time::sleep(Duration::from_millis(wait)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = Instant::now();
    let child = server.start().await;
    eprintln!("{what}: killed after {wait} ms, back in {:?}", killed_at.elapsed());
    child
}

/// Apple's records: no pair associated twice, and exactly the licenses of
/// the app haishin holds.
async fn apple_matches_records(admin: &Admin, location: &LocationHandle, app: &str, expected: usize) {
    let apple = location.snapshot();
    assert_eq!(apple.max_associations_per_pair(), 1, "a license was associated twice");
    assert!(apple.counts_consistent());
    let at_apple: HashSet<String> = apple
        .assignments
        .iter()
        .filter(|a| a.adam_id == app)
        .filter_map(|a| a.serial_number.clone())
        .collect();
    let recorded = admin.get(&format!("/vpp/licenses?adam_id={app}&limit=1000000")).await;
    let recorded: HashSet<String> = recorded
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(at_apple.len(), expected);
    assert_eq!(recorded, at_apple);
}
