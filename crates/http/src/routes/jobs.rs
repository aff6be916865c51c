//! The job console (ジョブ管理): list with the seeds' filters, cancel.

use axum::Json;
use axum::extract::{Path, State};
use haishin_domain::ids::{DeviceId, JobId};
use haishin_domain::jobs::{Job, JobQuery, JobSelection};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, RequestLang};

/// A job with its status label in the caller's language (予約中, 成功, ...).
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    pub status_label: &'static str,
}

fn views(jobs: Vec<Job>, lang: haishin_domain::Lang) -> Vec<JobView> {
    jobs.into_iter()
        .map(|job| JobView {
            status_label: lang.pick(job.status.label_ja(), job.status.label_en()),
            job,
        })
        .collect()
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CancelRequest {
    /// The jobs to cancel: one, or those shown (一括キャンセル).
    #[serde(default)]
    pub ids: Vec<JobId>,
    /// Cancel every unfinished job of the account (全キャンセル).
    #[serde(default)]
    pub all: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CancelResponse {
    /// How many unfinished jobs were canceled (finished ones are left alone).
    pub canceled: u64,
}

/// A job with its diagnosis (J5): the causes and remedies of the knowledge
/// base that match its status and ErrorChain, and what the server knows.
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobDetailView {
    #[serde(flatten)]
    pub detail: haishin_domain::service::job_detail::JobDetail,
    pub status_label: &'static str,
}

#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = JobDetailView), (status = 404, body = ErrorBody)))]
pub async fn detail(
    State(state): State<AppState>,
    caller: Caller,
    RequestLang(lang): RequestLang,
    Path(id): Path<i64>,
) -> Result<Json<JobDetailView>, ApiError> {
    let detail = state.services.job_detail(&caller.actor, JobId(id)).await?;
    Ok(Json(JobDetailView {
        status_label: lang.pick(detail.job.status.label_ja(), detail.job.status.label_en()),
        detail,
    }))
}

/// Jobs of all devices, newest first (100 by default).
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobQuery), responses((status = 200, body = Vec<JobView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RequestLang(lang): RequestLang,
    ApiQuery(query): ApiQuery<JobQuery>,
) -> Result<Json<Vec<JobView>>, ApiError> {
    Ok(Json(views(
        state.services.list_jobs(&caller.actor, &query).await?,
        lang,
    )))
}

/// One device's jobs, newest first.
#[utoipa::path(get, path = "/devices/{id}/jobs", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<JobView>), (status = 404, body = ErrorBody)))]
pub async fn device(
    State(state): State<AppState>,
    caller: Caller,
    RequestLang(lang): RequestLang,
    Path(id): Path<i64>,
) -> Result<Json<Vec<JobView>>, ApiError> {
    Ok(Json(views(
        state
            .services
            .device_jobs(&caller.actor, DeviceId(id), Some(1000))
            .await?,
        lang,
    )))
}

/// Cancel one job, the jobs shown, or all registered jobs.
#[utoipa::path(post, path = "/jobs/cancel", tag = "jobs", request_body = CancelRequest,
    responses((status = 200, body = CancelResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CancelRequest>,
) -> Result<Json<CancelResponse>, ApiError> {
    let selection = match (body.all, body.ids.is_empty()) {
        (true, true) => JobSelection::All,
        (false, false) => JobSelection::Ids(body.ids),
        _ => {
            return Err(haishin_domain::DomainError::bad_request(
                "cancel_selection",
                "キャンセルするジョブ(ids)か全キャンセル(all)のどちらか一方を指定してください。",
                "Give either the jobs to cancel (ids) or all, not both and not neither.",
            )
            .into());
        }
    };
    Ok(Json(CancelResponse {
        canceled: state.services.cancel_jobs(&caller.actor, &selection).await?,
    }))
}
