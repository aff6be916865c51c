//! Expiry notice mails (SPEC T4) through a real SMTP conversation: one a
//! month before expiry and one at expiry, each sent exactly once although
//! two servers share the PostgreSQL database and one of them restarts.

mod common;

use std::sync::Arc;
use std::time::Duration;

use apple_sim::vpp::{AssetSpec, LocationSpec};
use common::TestServer;
use common::vpp::{register, start_sim, top_group, use_sim};
use haishin::config::Config;
use haishin::server;
use haishin_domain::auth::Role;
use haishin_mail::testing::SmtpSink;
use haishin_secrets::MasterKey;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn mail_config(config: &mut Config, sim: &apple_sim::vpp::VppSim, sink: &SmtpSink) {
    use_sim(config, sim);
    config.smtp_url = sink.url();
    config.mail_from = "haishin <noreply@haishin.test>".into();
    config.expiry_check_seconds = 1;
}

#[tokio::test]
async fn expiry_notices_are_mailed_once_each_by_two_servers_on_postgres() {
    let sim = start_sim().await;
    let sink = SmtpSink::start().await.unwrap();
    let soon = sim.add_location(
        LocationSpec::new("株式会社サンプル", "本社")
            .expires_at(time::OffsetDateTime::now_utc() + time::Duration::days(20))
            .asset(AssetSpec::app("1000001", 5)),
    );
    let now = sim.add_location(
        LocationSpec::new("株式会社サンプル", "大阪支店")
            .expires_at(time::OffsetDateTime::now_utc() + time::Duration::seconds(4)),
    );
    let quiet = sim.add_location(
        LocationSpec::new("株式会社サンプル", "名古屋")
            .expires_at(time::OffsetDateTime::now_utc() + time::Duration::days(200)),
    );
    let first = TestServer::start_with("postgres", |c| mail_config(c, &sim, &sink)).await;
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        ..Config::default()
    };
    mail_config(&mut config, &sim, &sink);
    let store = first.db.as_ref().unwrap().store.clone();
    let second = server::start_with_store(&config, store.clone(), Arc::new(MasterKey::generate().0))
        .await
        .unwrap();

    let admin = first.account("失効通知", Role::AccountAdmin).await;
    let group = top_group(&admin).await;
    for (location, addresses) in [
        (&soon, vec!["it@example.jp", "manager@example.jp"]),
        (&now, vec!["it@example.jp"]),
        (&quiet, vec!["it@example.jp"]),
    ] {
        let (status, token) = register(&admin, group, location).await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let id = token["id"].as_i64().unwrap();
        let (status, body) = admin
            .call(
                Method::PUT,
                &format!("/vpp/tokens/{id}/expiry-notice"),
                Some(json!({ "enabled": true, "addresses": addresses })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Bad settings change nothing.
    let (status, _) = admin
        .call(
            Method::PUT,
            "/vpp/tokens/1/expiry-notice",
            Some(json!({ "enabled": true, "addresses": ["not an address"] })),
        )
        .await;
    assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND);

    // 本社 (20 days): the one-month notice. 大阪支店 (4 s): the one-month
    // notice at once, then the expiry notice. 名古屋: nothing.
    let mails = sink.wait_for(3, Duration::from_secs(30)).await.expect("three notices");
    // One server restarts meanwhile; a few more rounds pass on both.
    second.stop().await.unwrap();
    let second = server::start_with_store(&config, store, Arc::new(MasterKey::generate().0))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mails = if mails.len() < 3 { mails } else { sink.messages() };
    assert_eq!(
        mails.len(),
        3,
        "{:#?}",
        mails.iter().map(|m| m.subject()).collect::<Vec<_>>()
    );
    let subjects: Vec<String> = mails.iter().map(|m| m.subject().unwrap()).collect();
    let about = |place: &str| subjects.iter().filter(|s| s.contains(place)).count();
    assert_eq!(about("本社"), 1, "{subjects:?}");
    assert_eq!(about("大阪支店"), 2, "{subjects:?}");
    assert_eq!(about("名古屋"), 0, "{subjects:?}");
    let to_head_office = mails.iter().find(|m| m.subject().unwrap().contains("本社")).unwrap();
    assert_eq!(to_head_office.rcpt_to.len(), 2);
    let body = to_head_office.text_body().unwrap();
    assert!(body.contains("サーバトークンの更新"), "{body}");
    assert!(body.contains("(JST)"), "{body}");

    second.stop().await.unwrap();
    first.stop().await;
    sim.shutdown();
}
