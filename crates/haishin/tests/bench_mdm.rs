//! `haishin bench mdm` end to end with tiny numbers: the machinery works and
//! every measured command succeeds, on the baseline and on haishin. No
//! timing assertions: machines are noisy.

use haishin::bench_mdm::{MdmBench, measure};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mdm_benchmark_runs_every_command_to_success() {
    let args = MdmBench {
        devices: 20,
        backend: "sqlite".into(),
        concurrency: 8,
        rounds: 2,
        json: false,
    };
    let report = measure(&args).await.expect("benchmark runs");
    let servers: Vec<&str> = report.servers.iter().map(|s| s.server.as_str()).collect();
    assert_eq!(servers, ["baseline", "sqlite"]);
    for server in &report.servers {
        assert_eq!(server.enrolled, 20, "{server:?}");
        assert_eq!((server.jobs_ok, server.jobs_total), (40, 40), "{server:?}");
        assert_eq!(server.problem_count, 0, "{server:?}");
        // Two sessions per device, two round trips each.
        assert_eq!((server.sessions, server.round_trips), (40, 80), "{server:?}");
        assert!(
            server.round_trips_per_second > 0.0 && server.p99_ms >= server.p50_ms,
            "{server:?}"
        );
    }
    assert!(report.ratio_to_baseline.contains_key("sqlite"));
    let text = report.to_text();
    assert!(
        text.starts_with("haishin bench mdm — 20 devices, 2 rounds, concurrency 8\n"),
        "{text}"
    );
    assert!(
        text.contains("baseline (no database)") && text.contains("haishin sqlite"),
        "{text}"
    );
    assert!(text.contains("40/40"), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["servers"][1]["jobs_ok"], 40);
}
