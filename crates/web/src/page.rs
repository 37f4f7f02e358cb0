//! `GET`/`POST /support/link_program_enrollments`: upstream's `LinkProgramEnrollmentSupportView`
//! as a server-rendered page (no JavaScript): the form (Program UUID, the pairs), then the
//! number of successful linkages and one alert per error, the form refilled.

use axum::extract::{Request, State};
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::api::{self, Outcome};
use crate::auth::{self, Credentials, Refusal};
use crate::csrf;
use crate::form;
use crate::state::{AppState, LOG_TARGET};
use crate::text::py_strip;

/// The page's title and heading.
pub const TITLE: &str = "Link Program Enrollments";

/// What the page shows.
#[derive(Debug, Default)]
pub struct View<'a> {
    /// The refilled program UUID.
    pub program_uuid: &'a str,
    /// The refilled text.
    pub text: &'a str,
    /// The results of a POST.
    pub outcome: Option<Outcome>,
    /// The masked CSRF token for the form.
    pub csrf_token: &'a str,
    /// A failure of the database, shown as an alert.
    pub failure: Option<String>,
}

/// The `<head>` of the service's pages: `title`, and the style both pages share (a column of
/// `width`, labels, buttons, alerts) followed by the page's own rules.
pub(crate) fn head(title: &str, width: &str, own_style: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) }
            style {
                "body{font-family:sans-serif;max-width:" (width) ";margin:2rem auto;padding:0 1rem}"
                "label{display:block;font-weight:bold;margin-top:1rem}"
                "button{margin-top:1rem;font:inherit;padding:.4rem 1.2rem}"
                ".alert{border:1px solid #c00;background:#fee;padding:.5rem;margin:.3rem 0}"
                (own_style)
            }
        }
    }
}

/// The page's HTML.
pub fn render(view: &View<'_>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(
                TITLE,
                "48rem",
                "input,textarea{width:100%;box-sizing:border-box;font:inherit}\
                 textarea{min-height:12rem;font-family:monospace}\
                 .status{border:1px solid #080;background:#efe;padding:.5rem}"
            ))
            body {
                main id="entitlement-support-page" {
                    h1 { (TITLE) }
                    @if let Some(outcome) = &view.outcome {
                        section aria-labelledby="results-heading" {
                            h2 id="results-heading" { "Results" }
                            p class="status" role="status" {
                                "There were " (outcome.successes.len()) " successful linkages"
                            }
                            @for error in &outcome.errors {
                                div class="alert" role="alert" { (error) }
                            }
                        }
                    }
                    @if let Some(failure) = &view.failure {
                        div class="alert" role="alert" { (failure) }
                    }
                    form method="post" {
                        input type="hidden" name=(csrf::FORM_FIELD) value=(view.csrf_token);
                        label for="program_uuid" { "Program UUID" }
                        input id="program_uuid" name="program_uuid" type="text" value=(view.program_uuid);
                        label for="text" { "List of External key and username pairings (one per line)" }
                        textarea id="text" name="text" placeholder="external_student_key,lms_username" { (view.text) }
                        button type="submit" { "Submit" }
                    }
                }
            }
        }
    }
}

/// The csrftoken secret of the request, or a new one to set (Django's `get_token`).
fn csrf_secret(headers: &HeaderMap) -> (String, bool) {
    match csrf::cookie_secret(auth::cookie(headers, csrf::COOKIE_NAME)) {
        Ok(Some(secret)) => (secret, false),
        _ => (csrf::random_string(), true),
    }
}

fn with_cookie(mut response: Response, secret: &str, set: bool, secure: bool) -> Response {
    if set {
        let cookie = format!(
            "{}={secret}; Max-Age=31449600; Path=/; SameSite=Lax{}",
            csrf::COOKIE_NAME,
            if secure { "; Secure" } else { "" }
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// Django's `redirect_to_login`: `login_url?next=<path>` (path percent-encoded, `/` kept).
pub fn login_redirect(login_url: &str, path_and_query: &str) -> String {
    let next: String = path_and_query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' | b'/' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let separator = if login_url.contains('?') { '&' } else { '?' };
    format!("{login_url}{separator}next={next}")
}

fn page_refusal(state: &AppState, refusal: &Refusal, path_and_query: &str) -> Response {
    match (refusal, &state.config.login_url) {
        (Refusal::NotAuthenticated | Refusal::BadHeaderToken(_), Some(login_url)) => {
            let target = login_redirect(login_url, path_and_query);
            match HeaderValue::from_str(&target) {
                Ok(location) => (StatusCode::FOUND, [(LOCATION, location)]).into_response(),
                Err(_) => StatusCode::UNAUTHORIZED.into_response(),
            }
        }
        (Refusal::NotAuthenticated | Refusal::BadHeaderToken(_), None) => {
            api::refusal_response(&Refusal::NotAuthenticated)
        }
        (other, _) => api::refusal_response(other),
    }
}

fn path_and_query(request: &Request) -> String {
    request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| request.uri().path().to_owned())
}

/// Authenticates a page's request: the account and its turn at the database, or the answer to
/// a refusal (the login redirect, 401, 403).
pub(crate) async fn authorise(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
) -> Result<(ports::Account, api::Turn), Response> {
    let credentials = auth::credentials(headers);
    let token = auth::verify(&state.config.verifier, &credentials).map_err(|r| page_refusal(state, &r, path))?;
    match api::permitted_account(state, &token).await {
        Ok(found) => Ok(found),
        Err(Ok(refusal)) => Err(page_refusal(state, &refusal, path)),
        Err(Err(response)) => Err(response),
    }
}

/// `GET`: the empty form.
pub async fn show(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    if let Err(response) = authorise(&state, &headers, &path_and_query(&request)).await {
        return response;
    }
    let (secret, set) = csrf_secret(&headers);
    let token = csrf::masked_token(&secret);
    let page = render(&View { csrf_token: &token, ..View::default() });
    with_cookie(Html(page.into_string()).into_response(), &secret, set, auth::is_secure(&headers))
}

/// `POST`: links the form's pairs and shows the results.
pub async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let path = path_and_query(&request);
    let credentials = auth::credentials(&headers);
    if let Err(refusal) = auth::verify(&state.config.verifier, &credentials) {
        return page_refusal(&state, &refusal, &path);
    }
    let fields = match form::read_fields(request, state.config.max_body_bytes, state.config.body_timeout).await {
        Ok(fields) => fields,
        Err(error) => return api::body_error_response(error),
    };
    if matches!(credentials, Credentials::Cookies(_))
        && let Err(refusal) = auth::check_csrf(&headers, fields.get(csrf::FORM_FIELD), &state.config.allowed_origins)
    {
        return page_refusal(&state, &refusal, &path);
    }
    let (account, turn) = match authorise(&state, &headers, &path).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let program_uuid = py_strip(fields.get("program_uuid").unwrap_or_default()).to_owned();
    let text = fields.get("text").unwrap_or_default().to_owned();
    let (outcome, failure, status) = match api::validate_and_link(&state, turn, &account, &program_uuid, &text).await {
        Ok(outcome) => (Some(outcome), None, StatusCode::OK),
        Err(failure) => {
            tracing::warn!(target: LOG_TARGET, "the page's link failed: {}", failure.detail);
            (None, Some(failure.detail), StatusCode::INTERNAL_SERVER_ERROR)
        }
    };
    let (secret, set) = csrf_secret(&headers);
    let token = csrf::masked_token(&secret);
    let page = render(&View { program_uuid: &program_uuid, text: &text, outcome, csrf_token: &token, failure });
    with_cookie((status, Html(page.into_string())).into_response(), &secret, set, auth::is_secure(&headers))
}
