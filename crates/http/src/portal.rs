//! The self-service portal a device's user opens from a signed link
//! (SPEC D5): a small page, in the browser's language, listing the apps
//! offered to the device with an install button each. The same data is in
//! the API (`/api/v1/portal/{ticket}/apps`) for an agent app or a web clip.
//! No session and no admin: the ticket in the path is the credential.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use haishin_domain::deploy::portal::{PortalAppState, PortalPage};
use haishin_domain::ids::AppRuleId;
use haishin_domain::{DomainError, Lang};

use crate::AppState;
use crate::extract::RequestLang;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/{ticket}", get(page))
        .route("/portal/{ticket}/apps/{rule_id}", post(install))
}

/// The page. Errors (an expired or forged link) are a page too: the reader
/// is a device's user, not an API client.
async fn page(State(state): State<AppState>, RequestLang(lang): RequestLang, Path(ticket): Path<String>) -> Response {
    match state.services.portal_page(&ticket).await {
        Ok(portal) => Html(render(&portal, &ticket, lang, None)).into_response(),
        Err(error) => error_page(&error, lang),
    }
}

/// The install button: a form POST, then back to the page (303), which
/// shows the app as installing.
async fn install(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path((ticket, rule_id)): Path<(String, i64)>,
) -> Response {
    match state.services.portal_install(&ticket, AppRuleId(rule_id)).await {
        Ok(_) => Redirect::to(&format!("/portal/{ticket}")).into_response(),
        Err(error @ (DomainError::Unauthenticated | DomainError::NotFound { .. })) => error_page(&error, lang),
        Err(error) => match state.services.portal_page(&ticket).await {
            Ok(portal) => {
                let status = crate::error::status_of(error.kind());
                (status, Html(render(&portal, &ticket, lang, Some(&error.message(lang))))).into_response()
            }
            Err(_) => error_page(&error, lang),
        },
    }
}

fn error_page(error: &DomainError, lang: Lang) -> Response {
    let status = crate::error::status_of(error.kind());
    let title = match lang {
        Lang::Ja => "アプリポータル",
        Lang::En => "App portal",
    };
    let body = format!(
        "<p class=\"error\">{}</p>",
        escape(&match error {
            DomainError::Unauthenticated => match lang {
                Lang::Ja => "このリンクは無効です。管理者に新しいリンクを依頼してください。".to_owned(),
                Lang::En => "This link is not valid. Ask your administrator for a new one.".to_owned(),
            },
            other => other.message(lang),
        })
    );
    (status, Html(document(lang, title, &body))).into_response()
}

fn render(portal: &PortalPage, ticket: &str, lang: Lang, notice: Option<&str>) -> String {
    let (title, empty, install) = match lang {
        Lang::Ja => (
            "アプリポータル",
            "この端末に提供されているアプリはありません。",
            "インストール",
        ),
        Lang::En => ("App portal", "No apps are offered to this device.", "Install"),
    };
    let mut body = format!(
        "<p class=\"device\">{} ({})</p>",
        escape(&portal.device_name),
        escape(&portal.device_number)
    );
    if let Some(notice) = notice {
        body.push_str(&format!("<p class=\"error\">{}</p>", escape(notice)));
    }
    if portal.apps.is_empty() {
        body.push_str(&format!("<p>{empty}</p>"));
    }
    body.push_str("<ul>");
    for app in &portal.apps {
        let icon = app
            .icon_url
            .as_deref()
            .map(|url| format!("<img src=\"{}\" alt=\"\" width=\"48\" height=\"48\">", escape(url)))
            .unwrap_or_default();
        let version = app
            .version
            .as_deref()
            .map(|v| format!(" <span class=\"version\">{}</span>", escape(v)))
            .unwrap_or_default();
        let action = match app.state {
            PortalAppState::Available => format!(
                "<form method=\"post\" action=\"/portal/{}/apps/{}\"><button type=\"submit\">{install}</button></form>",
                escape(ticket),
                app.rule_id
            ),
            state => format!("<span class=\"state\">{}</span>", state.label(lang)),
        };
        body.push_str(&format!(
            "<li>{icon}<span class=\"name\">{}</span>{version}{action}</li>",
            escape(&app.name)
        ));
    }
    body.push_str("</ul>");
    document(lang, title, &body)
}

fn document(lang: Lang, title: &str, body: &str) -> String {
    let code = match lang {
        Lang::Ja => "ja",
        Lang::En => "en",
    };
    format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:-apple-system,sans-serif;margin:1rem}}ul{{list-style:none;padding:0}}\
         li{{display:flex;align-items:center;gap:.75rem;padding:.5rem 0;border-bottom:1px solid #ddd}}\
         .name{{flex:1}}.version{{color:#666}}.error{{color:#b00020}}button{{font-size:1rem}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>"
    )
}

/// HTML text escaping. Five replacements do not justify a templating crate
/// for one page.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped() {
        assert_eq!(escape("<b>\"A&B\"</b>'"), "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;&#39;");
    }
}
