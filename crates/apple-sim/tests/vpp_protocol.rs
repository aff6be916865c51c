//! The VPP simulator's synchronous protocol: authentication errors, method and content
//! type, validation numbers in Apple's order, rate limiting, injected faults with
//! Retry-After, and held events.

mod vpp_common;

use std::time::Duration;

use apple_sim::vpp::{VppFault, VppSimOptions};
use apple_vpp::{
    AssetRef, AssetsQuery, ErrorCode, EventStatus, ManageAssetsRequest, PricingParam, RetryPolicy, VppError,
};
use reqwest::Method;
use vpp_common::*;

#[tokio::test]
async fn every_authentication_error() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let url = format!("{}assets", sim.base_url());
    let call = |auth: Option<String>| {
        let url = url.clone();
        async move {
            let (s, n, _, _) = raw(Method::GET, &url, auth.as_deref(), None, "").await;
            (s, n)
        }
    };
    assert_eq!(call(None).await, (401, Some(9601)));
    assert_eq!(
        call(Some(format!("Basic {}", loc.token_file_contents()))).await,
        (401, Some(9722))
    );
    assert_eq!(call(Some(loc.token_file_contents())).await, (401, Some(9722)));
    assert_eq!(call(Some("Bearer not-a-token".into())).await, (401, Some(9601)));
    let good = Some(format!("Bearer {}", loc.token_file_contents()));
    assert_eq!(call(good.clone()).await.0, 200);

    // service/config needs no token.
    let (s, _, body, _) = raw(
        Method::GET,
        &format!("{}service/config", sim.base_url()),
        None,
        None,
        "",
    )
    .await;
    assert_eq!(s, 200);
    assert!(body["urls"]["getAssets"].is_string());

    // Read-only: reads work, writes are 403/9637.
    loc.set_read_only(true);
    assert_eq!(call(good.clone()).await.0, 200);
    let body = format!(r#"{{"assets":[{{"adamId":"{APP}","pricingParam":"STDQ"}}],"serialNumbers":["S1"]}}"#);
    assert_eq!(
        post_json(&sim, &loc, "assets/associate", &body).await,
        (403, Some(9637))
    );
    assert_eq!(post_json(&sim, &loc, "client/config", "{}").await, (403, Some(9637)));
    loc.set_read_only(false);
    assert_eq!(post_json(&sim, &loc, "assets/associate", &body).await.0, 200);

    // Expired and revoked tokens; a renewal keeps working.
    let renewed = loc.issue_renewed_token(time::OffsetDateTime::now_utc() + time::Duration::days(30));
    loc.expire_token();
    assert_eq!(call(good.clone()).await, (401, Some(9621)));
    let client = client(&sim, &renewed);
    assert!(client.assets(&AssetsQuery::default()).await.is_ok());
    renewed.revoke_token();
    let err = client.assets(&AssetsQuery::default()).await.unwrap_err();
    assert_eq!((number(&err), err.http_status()), (9625, Some(401)));
    assert_eq!(err.code(), Some(ErrorCode::TokenRevoked));

    // A deleted location: its tokens are no longer recognised.
    let third = loc.issue_renewed_token(time::OffsetDateTime::now_utc() + time::Duration::days(30));
    assert_eq!(get(&sim, &third, "assets").await.0, 200);
    third.delete_location();
    assert_eq!(get(&sim, &third, "assets").await.1, Some(9601));
    assert!(sim.counters().errors(9601) >= 3);
}

#[tokio::test]
async fn method_and_content_type_come_first() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let base = sim.base_url();
    // Wrong method wins over a missing token.
    let (s, n, _, _) = raw(Method::GET, &format!("{base}assets/associate"), None, None, "").await;
    assert_eq!((s, n), (405, Some(9726)));
    let (s, n, _, _) = raw(
        Method::POST,
        &format!("{base}assets"),
        None,
        Some("application/json"),
        "{}",
    )
    .await;
    assert_eq!((s, n), (405, Some(9726)));
    let (s, n, _, _) = raw(Method::DELETE, &format!("{base}client/config"), None, None, "").await;
    assert_eq!((s, n), (405, Some(9726)));
    // Wrong content type wins over a missing token too.
    let (s, n, _, _) = raw(
        Method::POST,
        &format!("{base}users/create"),
        None,
        Some("text/plain"),
        "{}",
    )
    .await;
    assert_eq!((s, n), (415, Some(9727)));
    let auth = format!("Bearer {}", loc.token_file_contents());
    let (s, n, _, _) = raw(Method::POST, &format!("{base}users/create"), Some(&auth), None, "{}").await;
    assert_eq!((s, n), (415, Some(9727)));
    let (s, _, _, _) = raw(Method::GET, &format!("{base}no/such/endpoint"), Some(&auth), None, "").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn validation_numbers_in_order_and_no_event_created() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let asset = |id: &str| format!(r#"{{"adamId":"{id}","pricingParam":"STDQ"}}"#);
    let list = |prefix: &str, n: usize| {
        (0..n)
            .map(|i| format!(r#""{prefix}{i}""#))
            .collect::<Vec<_>>()
            .join(",")
    };
    let many_assets = (0..26)
        .map(|i| asset(&format!("{}", 100 + i)))
        .collect::<Vec<_>>()
        .join(",");
    let cases: Vec<(&str, String, i64)> = vec![
        ("assets/associate", "not json".into(), 9602),
        ("assets/associate", "[1,2]".into(), 9602),
        ("assets/associate", r#"{"assets":"x"}"#.into(), 9602),
        ("assets/associate", r#"{"serialNumbers":["S"]}"#.into(), 9718),
        ("assets/associate", format!(r#"{{"assets":[{}]}}"#, asset(APP)), 9719),
        (
            "assets/associate",
            format!(r#"{{"assets":[{many_assets}],"serialNumbers":["S"]}}"#),
            9700,
        ),
        (
            "assets/associate",
            format!(r#"{{"assets":[{}],"clientUserIds":[{}]}}"#, asset(APP), list("u", 1001)),
            9701,
        ),
        (
            "assets/associate",
            format!(r#"{{"assets":[{}],"serialNumbers":[{}]}}"#, asset(APP), list("s", 1001)),
            9702,
        ),
        (
            "assets/associate",
            format!(r#"{{"assets":[{},{}],"serialNumbers":["S"]}}"#, asset(APP), asset(APP)),
            9703,
        ),
        (
            "assets/associate",
            format!(r#"{{"assets":[{}],"clientUserIds":["a","a"]}}"#, asset(APP)),
            9704,
        ),
        (
            "assets/associate",
            format!(r#"{{"assets":[{}],"serialNumbers":["S","S"]}}"#, asset(APP)),
            9705,
        ),
        (
            "assets/disassociate",
            format!(r#"{{"assets":[{}],"clientUserIds":["a"]}}"#, asset(BOOK)),
            9706,
        ),
        (
            "assets/associate",
            format!(r#"{{"assets":[{}],"serialNumbers":["S"]}}"#, asset(BOOK)),
            9707,
        ),
        ("assets/revoke", "{}".into(), 9719),
        (
            "assets/revoke",
            format!(r#"{{"serialNumbers":[{}]}}"#, list("s", 101)),
            9702,
        ),
        ("assets/revoke", r#"{"clientUserIds":["a","a"]}"#.into(), 9704),
        ("users/create", "{}".into(), 9720),
        ("users/create", r#"{"users":[{"email":"a@b.example"}]}"#.into(), 9602),
        (
            "users/create",
            format!(
                r#"{{"users":[{}]}}"#,
                (0..101)
                    .map(|i| format!(r#"{{"clientUserId":"u{i}"}}"#))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            9714,
        ),
        (
            "users/create",
            r#"{"users":[{"clientUserId":"a"},{"clientUserId":"a"}]}"#.into(),
            9715,
        ),
        (
            "users/create",
            r#"{"users":[{"clientUserId":"a","email":"not-an-email"}]}"#.into(),
            9717,
        ),
        ("users/retire", r#"{"users":[]}"#.into(), 9720),
        ("client/config", r#"{"mdmInfo":{"id":"a","name":"b"}}"#.into(), 9723),
        (
            "client/config",
            format!(
                r#"{{"mdmInfo":{{"id":"{}","name":"b","metadata":"m"}}}}"#,
                "i".repeat(101)
            ),
            9724,
        ),
        (
            "client/config",
            format!(
                r#"{{"mdmInfo":{{"id":"a","name":"{}","metadata":"m"}}}}"#,
                "n".repeat(101)
            ),
            9725,
        ),
        (
            "client/config",
            format!(
                r#"{{"mdmInfo":{{"id":"a","name":"b","metadata":"{}"}}}}"#,
                "m".repeat(256)
            ),
            9713,
        ),
        ("client/config", r#"{"notificationAuthToken":"t"}"#.into(), 9710),
        (
            "client/config",
            format!(
                r#"{{"notificationUrl":"https://x.example/{}","notificationAuthToken":"t"}}"#,
                "p".repeat(512)
            ),
            9711,
        ),
        (
            "client/config",
            r#"{"notificationUrl":"not a url","notificationAuthToken":"t"}"#.into(),
            9712,
        ),
        // Nothing listens on port 9 of loopback: the test notification fails.
        (
            "client/config",
            r#"{"notificationUrl":"http://127.0.0.1:9/n","notificationAuthToken":"t"}"#.into(),
            9728,
        ),
    ];
    for (path, body, expected) in &cases {
        let (status, n) = post_json(&sim, &loc, path, body).await;
        assert_eq!(n, Some(*expected), "{path} {}", &body[..body.len().min(120)]);
        assert_eq!(status, 400, "{path} {expected}");
    }
    // 9712 for plain HTTP unless the deviation is switched on.
    let (strict, strict_loc) = start(VppSimOptions::default().max_requests_per_second(0)).await;
    let body = r#"{"notificationUrl":"http://127.0.0.1:9/n","notificationAuthToken":"t"}"#;
    assert_eq!(
        post_json(&strict, &strict_loc, "client/config", body).await,
        (400, Some(9712))
    );

    let snap = loc.snapshot();
    assert!(snap.events.is_empty(), "a rejected request created an event");
    assert!(snap.notification_url.is_none() && snap.mdm_info.is_none());

    let (s, n, _) = get(&sim, &loc, "status?eventId=00000000-0000-0000-0000-000000000000").await;
    assert_eq!((s, n), (400, Some(9708)));
    let (s, n, _) = get(&sim, &loc, "assets?pageIndex=abc").await;
    assert_eq!((s, n), (400, Some(9602)));
}

#[tokio::test]
async fn max_requests_per_second_is_enforced_per_token() {
    let (sim, loc) = start(VppSimOptions::for_tests().max_requests_per_second(3)).await;
    let client = client(&sim, &loc);
    let cfg = client.service_config().await.unwrap();
    assert_eq!(cfg.limits.max_request_per_second, Some(3));
    // Twenty requests at once cannot all fit in a 3-per-second window.
    let calls = (0..20).map(|_| {
        let c = client.clone();
        async move { c.assets(&AssetsQuery::default()).await }
    });
    let results = futures_join(calls).await;
    let limited: Vec<&VppError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!limited.is_empty());
    assert!(limited.len() <= 17);
    for e in &limited {
        assert_eq!((number(e), e.http_status()), (9646, Some(429)));
    }
    // Another token of another location has its own budget.
    let other = sim.add_location(standard_location());
    assert_eq!(get(&sim, &other, "assets").await.0, 200);
}

/// Runs every future on its own task, all at once.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn injected_faults_and_retry_after() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let url = format!("{}assets", sim.base_url());
    let auth = format!("Bearer {}", loc.token_file_contents());

    sim.inject(VppFault::Unavailable { retry_after_secs: 1 }, 1);
    let (s, n, _, retry_after) = raw(Method::GET, &url, Some(&auth), None, "").await;
    assert_eq!((s, n, retry_after.as_deref()), (503, Some(9729), Some("1")));
    sim.inject(VppFault::Internal, 1);
    assert_eq!(raw(Method::GET, &url, Some(&auth), None, "").await.1, Some(9603));
    sim.inject(VppFault::Maintenance, 1);
    assert_eq!(raw(Method::GET, &url, Some(&auth), None, "").await.1, Some(9644));
    // service/config is never faulted.
    sim.inject(VppFault::RateLimited, 1);
    assert_eq!(
        raw(
            Method::GET,
            &format!("{}service/config", sim.base_url()),
            None,
            None,
            ""
        )
        .await
        .0,
        200
    );
    assert_eq!(sim.pending_faults(), 1);
    let (s, n, _, _) = raw(Method::GET, &url, Some(&auth), None, "").await;
    assert_eq!((s, n), (429, Some(9646)));

    // HTTP 200 with an error body is still an error for the client.
    let plain = client(&sim, &loc);
    sim.inject(VppFault::ErrorWithOk(9625), 1);
    let err = plain.assets(&AssetsQuery::default()).await.unwrap_err();
    assert_eq!((number(&err), err.http_status()), (9625, Some(200)));

    // A retrying client rides out a storm and a Retry-After.
    let patient = client_with(&sim, &loc, RetryPolicy::fast(5));
    sim.inject(VppFault::RateLimited, 2);
    sim.inject(VppFault::Unavailable { retry_after_secs: 1 }, 1);
    let before = sim.counters();
    let write = ManageAssetsRequest::for_serials(vec![AssetRef::new(APP, PricingParam::Stdq)], vec!["R".into()]);
    let ev = patient.associate_assets(&write).await.unwrap();
    let after = sim.counters();
    assert_eq!(
        after.by_endpoint["assets/associate"] - before.by_endpoint.get("assets/associate").copied().unwrap_or(0),
        4
    );
    assert_eq!(after.errors(9646) - before.errors(9646), 2);
    assert_eq!(after.errors(9729) - before.errors(9729), 1);
    assert_eq!(
        finished(&patient, &ev.event_id).await.event_status,
        EventStatus::Complete
    );
    // One request was accepted: one event, one assignment.
    assert_eq!(loc.snapshot().events.len(), 1);
    assert_eq!(loc.snapshot().asset(APP).unwrap().assigned_count, 1);
    sim.inject(VppFault::Internal, 3);
    sim.clear_faults();
    assert_eq!(sim.pending_faults(), 0);
}

#[tokio::test]
async fn held_and_slow_events_stay_pending() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    sim.hold_events(true);
    let write = ManageAssetsRequest::for_serials(
        vec![AssetRef::new(APP, PricingParam::Stdq)],
        vec!["H1".into(), "H2".into()],
    );
    let ev = client.associate_assets(&write).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let pending = client.event_status(&ev.event_id).await.unwrap();
    assert_eq!(
        (pending.event_status, pending.num_completed, pending.num_requested),
        (EventStatus::Pending, 0, 2)
    );
    assert_eq!(loc.snapshot().asset(APP).unwrap().assigned_count, 0);
    sim.hold_events(false);
    sim.release_events();
    let done = finished(&client, &ev.event_id).await;
    assert_eq!((done.event_status, done.num_completed), (EventStatus::Complete, 2));

    // A slow event finishes once its delay has passed.
    sim.set_event_delay(Some(Duration::from_millis(200)));
    let ev = client
        .disassociate_assets(&ManageAssetsRequest::for_serials(
            vec![AssetRef::new(APP, PricingParam::Stdq)],
            vec!["H1".into()],
        ))
        .await
        .unwrap();
    sim.settle().await.unwrap();
    assert_eq!(
        client.event_status(&ev.event_id).await.unwrap().event_status,
        EventStatus::Complete
    );
}

#[tokio::test]
async fn lowered_limits_are_advertised_and_enforced() {
    let limits = apple_sim::vpp::VppLimits {
        max_serial_numbers: 10,
        max_users: 2,
        ..Default::default()
    };
    let (sim, loc) = start(VppSimOptions::for_tests().limits(limits)).await;
    let client = client(&sim, &loc);
    let cfg = client.refresh_service_config().await.unwrap();
    assert_eq!(
        (cfg.limits.max_serial_numbers, cfg.limits.max_users),
        (Some(10), Some(2))
    );
    let serials: Vec<String> = (0..11).map(|i| format!("L{i}")).collect();
    let one_call = ManageAssetsRequest::for_serials(vec![AssetRef::new(APP, PricingParam::Stdq)], serials.clone());
    assert_eq!(number(&client.associate_assets(&one_call).await.unwrap_err()), 9702);
    // The client splits by the advertised limit: 11 serials in 2 calls, 1 license short.
    let events = client.associate_assets_batched(&one_call).await.unwrap();
    assert_eq!(events.len(), 2);
    sim.settle().await.unwrap();
    let snap = loc.snapshot();
    assert_eq!(snap.asset(APP).unwrap().assigned_count, 10);
    let failed: Vec<_> = snap.events.iter().filter(|e| e.status == EventStatus::Failed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].failures[0].error_number, 9709);
}

#[tokio::test]
async fn shutdown_stops_the_listener() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    assert_eq!(get(&sim, &loc, "assets").await.0, 200);
    sim.shutdown();
    let url = format!("{}assets", sim.base_url());
    let mut refused = false;
    for _ in 0..200 {
        if reqwest::Client::new().get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the simulator still answers after shutdown");
}
