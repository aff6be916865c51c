//! End-to-end harness: a real haishin server on a loopback port over a fresh
//! SQLite or PostgreSQL database, and an HTTP client acting as an admin.

#![allow(dead_code)]

pub mod deploy;
pub mod mdm;
pub mod vpp;

use std::sync::Arc;

use haishin::config::Config;
use haishin::server::{self, RunningServer};
use haishin_domain::auth::{Actor, Role};
use haishin_secrets::MasterKey;
use haishin_storage::testing::TestDb;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub struct TestServer {
    pub running: RunningServer,
    pub db: Option<TestDb>,
    pub http: reqwest::Client,
}

/// An admin's view of the server: requests carry their token and language.
#[derive(Clone)]
pub struct Admin {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
    pub lang: &'static str,
    pub account_id: i64,
    pub admin_id: i64,
}

impl TestServer {
    pub async fn start(backend: &str) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    /// Starts with a configuration adjusted by `tweak` (APNs URL, push timing...).
    pub async fn start_with(backend: &str, tweak: impl FnOnce(&mut Config)) -> Self {
        let db = TestDb::open(backend).await;
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            max_csv_bytes: 8 * 1024 * 1024,
            // Test fleets enroll hundreds of devices; P-256 identities are
            // issued in microseconds where RSA-2048 takes tens of milliseconds.
            identity_key: "p256".into(),
            ..Config::default()
        };
        tweak(&mut config);
        let mut http = reqwest::Client::builder();
        if !config.tls_certificate_file.is_empty() {
            let pem = std::fs::read(&config.tls_certificate_file).unwrap();
            http = http.tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()]);
        }
        let http = http.build().unwrap();
        let running = server::start_with_store(&config, db.store.clone(), Arc::new(MasterKey::generate().0))
            .await
            .expect("server starts");
        Self {
            running,
            db: Some(db),
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// A new account with an admin of the given role and an API token.
    pub async fn account(&self, name: &str, role: Role) -> Admin {
        let services = &self.running.services;
        let (account, _) = services.create_account(name).await.expect("account");
        let login = format!("{}-{}", role.as_str(), account.id);
        let admin = services
            .create_admin(&Actor::system(account.id), &login, name, role, "correct horse battery")
            .await
            .expect("admin");
        let token = services
            .create_api_token(&Actor::admin(&admin), "test", None)
            .await
            .expect("token");
        self.admin(token.secret.expose(), account.id.0, admin.id.0)
    }

    /// Another admin (with its own token) in an existing account.
    pub async fn colleague(&self, of: &Admin, role: Role) -> Admin {
        let services = &self.running.services;
        let actor = Actor::system(haishin_domain::ids::AccountId(of.account_id));
        let login = format!("{}-{}-{}", role.as_str(), of.account_id, uuid_like());
        let admin = services
            .create_admin(&actor, &login, "同僚", role, "correct horse battery")
            .await
            .unwrap();
        let token = services
            .create_api_token(&Actor::admin(&admin), "test", None)
            .await
            .unwrap();
        self.admin(token.secret.expose(), of.account_id, admin.id.0)
    }

    fn admin(&self, token: &str, account_id: i64, admin_id: i64) -> Admin {
        Admin {
            http: self.http.clone(),
            base: self.running.url(),
            token: token.to_owned(),
            lang: "en",
            account_id,
            admin_id,
        }
    }

    pub async fn stop(mut self) {
        let db = self.db.take();
        self.running.stop().await.expect("clean shutdown");
        if let Some(db) = db {
            db.cleanup().await.expect("drop test database");
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

impl Admin {
    pub fn in_lang(&self, lang: &'static str) -> Admin {
        Admin { lang, ..self.clone() }
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .header("Accept-Language", self.lang)
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.call(Method::POST, path, Some(body)).await;
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub async fn patch(&self, path: &str, body: Value) -> Value {
        let (status, body) = self.call(Method::PATCH, path, Some(body)).await;
        assert!(status.is_success(), "PATCH {path}: {status} {body}");
        body
    }

    pub async fn upload(&self, path: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let request = self
            .request(Method::POST, path)
            .header("Content-Type", "text/csv")
            .body(bytes);
        read(request.send().await.expect("request")).await
    }

    pub async fn download(&self, path: &str) -> Vec<u8> {
        let response = self.request(Method::GET, path).send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.bytes().await.expect("body").to_vec()
    }
}

pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// Polls `check` until it passes; panics with its last answer after `timeout`.
pub async fn eventually<F, Fut>(what: &str, timeout: std::time::Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match check().await {
            Ok(()) => return,
            Err(state) if std::time::Instant::now() >= deadline => panic!("{what}: still {state}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
        }
    }
}

/// The knowledge-base rows a job detail (`GET /jobs/{id}`) matched.
/// Waits until the account has no job waiting or running.
pub async fn no_job_open(admin: &Admin, what: &str, timeout: std::time::Duration) {
    eventually(what, timeout, || async {
        let open = admin.get("/jobs?active_only=true&limit=1").await;
        if open.as_array().is_some_and(Vec::is_empty) {
            Ok(())
        } else {
            Err(format!("still open: {open}"))
        }
    })
    .await;
}

/// Waits until every job of the deployment has ended.
pub async fn deployment_finished(admin: &Admin, id: i64, timeout: std::time::Duration) {
    eventually("every job of the deployment to end", timeout, || async {
        let progress = admin.get(&format!("/deployments/{id}")).await;
        if progress["finished"] == progress["jobs"] {
            Ok(())
        } else {
            Err(format!("{}", progress["by_status"]))
        }
    })
    .await;
}

pub fn diagnosis_rows(detail: &Value) -> Vec<String> {
    detail["diagnosis"]["matches"]
        .as_array()
        .map(|matches| {
            matches
                .iter()
                .filter_map(|m| m["row"]["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
