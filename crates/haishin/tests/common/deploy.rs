//! A server inside the simulated Apple, for deployment tests: Apps and
//! Books with one location, APNs with its CA, an account with a push
//! certificate and the location's token registered to its top group, and
//! settings that make pushes and install checks quick.

use apple_sim::vpp::{LocationHandle, VppSim};
use apple_sim::{ApnsSim, HttpProfileSource, SimEnv};
use haishin::config::Config;
use haishin_domain::auth::Role;
use reqwest::StatusCode;

use super::mdm::{TOPIC_A, push_certificate, upload_push_certificate};
use super::vpp::{register, start_sim, top_group, use_sim};
use super::{Admin, TestServer};

pub struct DeployWorld {
    pub sim: VppSim,
    pub location: LocationHandle,
    pub apns: ApnsSim,
    pub server: TestServer,
    pub admin: Admin,
    /// The registered VPP token's id.
    pub token: i64,
    /// The account's top group.
    pub top: i64,
    _apns_ca: tempfile::NamedTempFile,
}

impl DeployWorld {
    pub async fn start(
        backend: &str,
        account: &str,
        location: impl FnOnce(&VppSim) -> LocationHandle,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let sim = start_sim().await;
        let location = location(&sim);
        let apns = ApnsSim::start_tls().await.unwrap();
        let apns_ca = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(apns_ca.path(), apns.root_ca_pem().unwrap()).unwrap();
        let server = TestServer::start_with(backend, |c| {
            use_sim(c, &sim);
            c.apns_url = apns.base_url().to_owned();
            c.apns_ca_file = apns_ca.path().display().to_string();
            c.push_interval_ms = 100;
            c.push_timeout_seconds = 5;
            c.repush_after_seconds = 10;
            c.install_verify_first_check_ms = 300;
            c.install_verify_max_interval_seconds = 2;
            tweak(c);
        })
        .await;
        let admin = server.account(account, Role::AccountAdmin).await;
        let (cert, key) = push_certificate(TOPIC_A, 365);
        assert_eq!(
            upload_push_certificate(&admin, &cert, &key, false).await.0,
            StatusCode::OK
        );
        let top = top_group(&admin).await;
        let (status, token) = register(&admin, top, &location).await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let token = token["id"].as_i64().unwrap();
        Self {
            sim,
            location,
            apns,
            server,
            admin,
            token,
            top,
            _apns_ca: apns_ca,
        }
    }

    /// Where simulated devices enrolling into `group` live.
    pub fn env(&self, group: i64) -> SimEnv {
        SimEnv::builder(HttpProfileSource::for_group(&self.server.running.url(), group).with_bearer(&self.admin.token))
            .apns(self.apns.clone())
            .build()
            .unwrap()
    }
}
