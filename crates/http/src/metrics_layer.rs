//! Request counts and latencies for Prometheus, labelled by route template
//! (never by raw path, which would make one series per device id).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("haishin_http_requests_total", &labels).increment(1);
    metrics::histogram!("haishin_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
