//! The HTTP side: routing, the synchronous checks every request passes in Apple's order
//! (fault, method, content type, authentication, rate limit, permissions), and the
//! answer's JSON.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apple_vpp::Envelope;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use axum::routing::{any, get};
use serde_json::Value;
use time::OffsetDateTime;

use super::errors::{Rejection, reject};
use super::model::{Location, World};
use super::{Shared, lookup, reads, writes};

/// The v2 endpoints the simulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    ServiceConfig,
    ClientConfig,
    Assets,
    Assignments,
    Associate,
    Disassociate,
    Revoke,
    Users,
    CreateUsers,
    UpdateUsers,
    RetireUsers,
    Status,
}

impl Api {
    const ALL: [Api; 12] = [
        Api::ServiceConfig,
        Api::ClientConfig,
        Api::Assets,
        Api::Assignments,
        Api::Associate,
        Api::Disassociate,
        Api::Revoke,
        Api::Users,
        Api::CreateUsers,
        Api::UpdateUsers,
        Api::RetireUsers,
        Api::Status,
    ];

    /// The path below `/mdm/v2/`, also the name used in counters.
    pub fn path(self) -> &'static str {
        match self {
            Api::ServiceConfig => "service/config",
            Api::ClientConfig => "client/config",
            Api::Assets => "assets",
            Api::Assignments => "assignments",
            Api::Associate => "assets/associate",
            Api::Disassociate => "assets/disassociate",
            Api::Revoke => "assets/revoke",
            Api::Users => "users",
            Api::CreateUsers => "users/create",
            Api::UpdateUsers => "users/update",
            Api::RetireUsers => "users/retire",
            Api::Status => "status",
        }
    }

    fn from_path(path: &str) -> Option<Api> {
        let path = path.trim_end_matches('/');
        Api::ALL.into_iter().find(|a| a.path() == path)
    }

    fn allows(self, method: &Method) -> bool {
        match self {
            Api::ClientConfig => method == Method::GET || method == Method::POST,
            Api::ServiceConfig | Api::Assets | Api::Assignments | Api::Users | Api::Status => method == Method::GET,
            _ => method == Method::POST,
        }
    }
}

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/mdm/v2/{*rest}", any(v2))
        .route(lookup::LOOKUP_PATH, get(lookup::lookup))
        .route(lookup::INVITE_PATH, get(lookup::accept_invite))
        .with_state(shared)
}

/// The authenticated caller: which location, and the expiry of the token it used.
pub(crate) struct Caller {
    pub location: u64,
    pub token_expires_at: OffsetDateTime,
}

impl Caller {
    pub fn envelope(&self, loc: &Location) -> Envelope {
        Envelope {
            u_id: Some(loc.u_id.clone()),
            token_expiration_date: Some(apple_vpp::datetime::format(self.token_expires_at)),
            mdm_info: loc.config.mdm_info.clone(),
        }
    }
}

/// A request as the endpoint handlers see it.
pub(crate) struct Request<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub body: &'a [u8],
}

async fn v2(
    State(shared): State<Arc<Shared>>,
    Path(rest): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(api) = Api::from_path(&rest) else {
        return empty(StatusCode::NOT_FOUND);
    };
    let request = Request {
        method: &method,
        uri: &uri,
        body: &body,
    };
    let result = handle(&shared, api, &request, &headers).await;
    let (response, status, error) = match result {
        Ok(value) => (json(StatusCode::OK, &value, None), 200, None),
        Err(r) => {
            let value = serde_json::to_value(&r.body).unwrap_or(Value::Null);
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
            (json(status, &value, r.retry_after), r.status, Some(r.body.error_number))
        }
    };
    let mut c = shared.counters();
    c.requests += 1;
    *c.by_endpoint.entry(api.path().to_owned()).or_default() += 1;
    *c.by_status.entry(status).or_default() += 1;
    if let Some(n) = error {
        *c.by_error.entry(n).or_default() += 1;
    }
    response
}

async fn handle(shared: &Arc<Shared>, api: Api, req: &Request<'_>, headers: &HeaderMap) -> Result<Value, Rejection> {
    if api != Api::ServiceConfig
        && let Some(fault) = shared.faults().take()
    {
        return Err(fault.rejection());
    }
    if !api.allows(req.method) {
        return reject(9726);
    }
    if req.method == Method::POST && !is_json(headers) {
        return reject(9727);
    }
    if api == Api::ServiceConfig {
        return Ok(reads::service_config(shared));
    }
    let caller = authenticate(shared, api, req.method == Method::POST, headers)?;
    match (api, req.method == Method::POST) {
        (Api::ClientConfig, false) => reads::client_config(shared, &caller),
        (Api::ClientConfig, true) => writes::client_config(shared, &caller, req).await,
        (Api::Assets, _) => reads::assets(shared, &caller, req),
        (Api::Assignments, _) => reads::assignments(shared, &caller, req),
        (Api::Users, _) => reads::users(shared, &caller, req),
        (Api::Status, _) => reads::status(shared, &caller, req),
        (write, _) => writes::event(shared, &caller, write, req),
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// Token checks (reference §8 item 1), then the per-token rate limit and, for writes,
/// the read-only check.
fn authenticate(shared: &Shared, api: Api, write: bool, headers: &HeaderMap) -> Result<Caller, Rejection> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return reject(9601);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .map(|(_, token)| token.to_owned())
        .ok_or_else(|| Rejection::new(9722))?;
    let mut world = shared.world();
    let World { tokens, locations, .. } = &mut *world;
    let entry = tokens.get_mut(&token).ok_or_else(|| Rejection::new(9601))?;
    let loc = locations
        .get_mut(&entry.location)
        .filter(|l| !l.deleted)
        .ok_or_else(|| Rejection::new(9601))?;
    if entry.revoked {
        return reject(9625);
    }
    if entry.expires_at <= OffsetDateTime::now_utc() {
        return reject(9621);
    }
    let max = shared.options.max_requests_per_second as usize;
    if max > 0 {
        let now = Instant::now();
        while entry
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            entry.recent.pop_front();
        }
        if entry.recent.len() >= max {
            return reject(9646);
        }
        entry.recent.push_back(now);
    }
    *loc.requests.entry(api.path().to_owned()).or_default() += 1;
    if write && loc.read_only {
        return reject(9637);
    }
    Ok(Caller {
        location: entry.location,
        token_expires_at: entry.expires_at,
    })
}

/// The caller's location, unless it was deleted meanwhile.
pub(crate) fn location<'w>(world: &'w mut World, caller: &Caller) -> Result<&'w mut Location, Rejection> {
    world
        .locations
        .get_mut(&caller.location)
        .filter(|l| !l.deleted)
        .ok_or_else(|| Rejection::new(9601))
}

pub(crate) fn json(status: StatusCode, value: &Value, retry_after: Option<u64>) -> Response {
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8");
    if let Some(secs) = retry_after {
        builder = builder.header(header::RETRY_AFTER, secs.to_string());
    }
    builder
        .body(Body::from(value.to_string()))
        .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR))
}

pub(crate) fn empty(status: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}
