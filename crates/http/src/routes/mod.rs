//! REST routes, one module per resource. Each handler carries its OpenAPI
//! description, so the document at `/api/openapi.json` is generated from the
//! code that serves it.

mod admins;
mod app_rules;
mod audit;
mod deployments;
mod device_mdm;
mod devices;
mod groups;
mod jobs;
mod mdm;
mod session;
pub mod system;
mod users;
mod vpp;
mod vpp_users;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::openapi::ApiDoc;

pub fn api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(session::login))
        .routes(routes!(session::logout))
        .routes(routes!(session::me))
        .routes(routes!(admins::list, admins::create))
        .routes(routes!(admins::get, admins::update, admins::delete))
        .routes(routes!(admins::list_tokens, admins::create_token))
        .routes(routes!(admins::delete_token))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(users::search, users::create))
        .routes(routes!(users::get, users::update, users::delete))
        .routes(routes!(users::import))
        .routes(routes!(users::export))
        .routes(routes!(devices::search, devices::create))
        .routes(routes!(devices::get, devices::update, devices::delete))
        .routes(routes!(devices::import))
        .routes(routes!(devices::export))
        .routes(routes!(device_mdm::queue))
        .routes(routes!(device_mdm::wipe))
        .routes(routes!(device_mdm::view))
        .routes(routes!(device_mdm::remove_app))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::detail))
        .routes(routes!(jobs::device))
        .routes(routes!(jobs::cancel))
        .routes(routes!(deployments::resend))
        .routes(routes!(deployments::preview))
        .routes(routes!(deployments::list, deployments::create))
        .routes(routes!(deployments::get))
        .routes(routes!(deployments::cancel))
        .routes(routes!(app_rules::list, app_rules::create))
        .routes(routes!(app_rules::get, app_rules::update, app_rules::delete))
        .routes(routes!(app_rules::reapply))
        .routes(routes!(app_rules::get_auto_update, app_rules::set_auto_update))
        .routes(routes!(app_rules::portal_link))
        .routes(routes!(app_rules::portal_apps))
        .routes(routes!(app_rules::portal_install))
        .routes(routes!(mdm::get, mdm::put))
        .routes(routes!(mdm::enrollment_profile))
        .routes(routes!(audit::list))
        .routes(routes!(vpp::list, vpp::register))
        .routes(routes!(vpp::get, vpp::delete))
        .routes(routes!(vpp::renew))
        .routes(routes!(vpp::takeover))
        .routes(routes!(vpp::share))
        .routes(routes!(vpp::expiry_notice))
        .routes(routes!(vpp::sync))
        .routes(routes!(vpp::assets))
        .routes(routes!(vpp::group_tokens))
        .routes(routes!(vpp::licenses))
        .routes(routes!(vpp::assign))
        .routes(routes!(vpp::revoke))
        .routes(routes!(vpp::operations))
        .routes(routes!(vpp::operation))
        .routes(routes!(vpp_users::list, vpp_users::create))
        .routes(routes!(vpp_users::refresh))
        .routes(routes!(vpp_users::invite))
        .routes(routes!(vpp_users::retire))
        .routes(routes!(vpp_users::get_auto_assign, vpp_users::set_auto_assign));
    OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", v1)
}

/// Query options shared by CSV import endpoints.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ImportParams {
    /// `auto` (default), `utf-8` or `shift_jis`.
    #[serde(default)]
    #[param(value_type = String)]
    pub encoding: haishin_domain::csv::EncodingChoice,
}

/// Query options shared by CSV export endpoints.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ExportParams {
    /// `utf-8` (default, with BOM for Excel) or `shift_jis`.
    #[param(value_type = Option<String>)]
    pub encoding: Option<haishin_domain::csv::CsvEncoding>,
    /// Header language: `ja` or `en` (default: from Accept-Language).
    #[param(value_type = Option<String>)]
    pub lang: Option<haishin_domain::Lang>,
    pub group_id: Option<i64>,
    #[serde(default)]
    pub include_subgroups: bool,
}

/// Builds a CSV download response.
pub(crate) fn csv_download(
    file: haishin_domain::service::ExportFile,
    encoding: haishin_domain::csv::CsvEncoding,
    name: &str,
) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let charset = match encoding {
        haishin_domain::csv::CsvEncoding::Utf8 => "utf-8",
        haishin_domain::csv::CsvEncoding::ShiftJis => "Shift_JIS",
    };
    (
        [
            (header::CONTENT_TYPE, format!("text/csv; charset={charset}")),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::HeaderName::from_static("x-row-count"), file.rows.to_string()),
        ],
        file.bytes,
    )
        .into_response()
}
