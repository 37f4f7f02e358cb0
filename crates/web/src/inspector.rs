//! The Program Enrollments Inspector's service endpoints (`support-web.md` §1.5, §1.6, §2):
//!
//! - `GET /support/program_enrollments_inspector_details` (slash optional): always 200
//!   `{error, learner_program_enrollments, org_keys}`, `org_keys` echoing the request's
//!   `org_key` as upstream does;
//! - `GET /support/get_saml_providers/` (slash optional): the organisations of the enabled
//!   current SAML providers (`[]` where the SAML tables do not exist);
//! - `GET /support/sso_records/{username_or_email}`: the account's SSO records with their
//!   history, newest first (`[]` when no account matches);
//! - `GET /support/program_enrollments_inspector` (slash optional): the page
//!   ([`crate::inspector_page`]).
//!
//! Same authentication and permission as the link endpoints ([`crate::auth`]): the API answers
//! 401/403 as the link API does; `get_saml_providers` and `sso_records`, which upstream guards
//! with `login_required` only, redirect to `--login-url` as the page does. Read-only: no CSRF
//! check (every route is a `GET`). A table the database lacks ([`StoreError::MissingTable`]) is
//! named in `error`, never a 500; where upstream fails with a 500 (two accounts matching one
//! value, an SSO uid that does not fit its provider) the domain's error or note is shown.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use domain::{InspectorQuery, LearnerProgramEnrollments};
use ports::StoreError;
use serde::Serialize;
use serde_json::{Value, json};

use crate::api::{self, detail};
use crate::auth;
use crate::inspector_json::{learner_program_enrollments, sso_records};
use crate::inspector_page;
use crate::page;
use crate::state::{AppState, LOG_TARGET};
use crate::text::py_strip;

/// The inspector's routes: the three JSON endpoints and the page.
pub fn routes() -> Router<AppState> {
    let details = get(details).fallback(api::method_not_allowed);
    let providers = get(saml_providers).fallback(api::method_not_allowed);
    let sso = get(sso_records_of).fallback(api::method_not_allowed);
    let no_user = get(sso_records_of_nobody).fallback(api::method_not_allowed);
    let page = get(inspector_page::show).fallback(api::method_not_allowed);
    Router::new()
        .route("/support/program_enrollments_inspector_details", details.clone())
        .route("/support/program_enrollments_inspector_details/", details)
        .route("/support/get_saml_providers", providers.clone())
        .route("/support/get_saml_providers/", providers)
        .route("/support/sso_records/{username_or_email}", sso)
        .route("/support/sso_records/", no_user)
        .route("/support/program_enrollments_inspector", page.clone())
        .route("/support/program_enrollments_inspector/", page)
}

/// Why an inspector request gets no answer of its own: the one error of these endpoints.
#[derive(Debug)]
pub enum InspectorFailure {
    /// Refused before any read (401, 403, or the login redirect), already answered.
    Refused(Response),
    /// A read failed for another reason than a missing table: 500 `{"detail": …}`.
    Store(StoreError),
}

impl IntoResponse for InspectorFailure {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(response) => response,
            Self::Store(error) => {
                tracing::error!(target: LOG_TARGET, "the inspector cannot read the database: {error}");
                detail(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot inspect: {error}"))
            }
        }
    }
}

/// The answer of `GET /support/program_enrollments_inspector_details`: these three keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InspectorResponse {
    /// `""`, or why no learner is shown (upstream's three messages, the domain's own for two
    /// matching accounts, or the table the database lacks).
    pub error: String,
    /// The learner found (`{}` on an error).
    pub learner_program_enrollments: Value,
    /// The request's stripped `org_key`, echoed (upstream's name; not a list).
    pub org_keys: String,
}

/// The inspector's query from a request's query string, read as Django's `QueryDict` reads it
/// (`+` is a space, `%XX` decoded, the last of a repeated name wins, a missing one is empty),
/// each value stripped as Python's `str.strip()` does. The MFE sends the values unencoded: an
/// email's `+` arrives as a space, and a missing organisation as the string `undefined`, which
/// is searched for like any other name.
pub fn query_of(query: Option<&str>) -> InspectorQuery {
    let (mut edx_user, mut org_key, mut external_user_key) = (String::new(), String::new(), String::new());
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*name {
            "edx_user" => edx_user = value.into_owned(),
            "org_key" => org_key = value.into_owned(),
            "external_user_key" => external_user_key = value.into_owned(),
            _ => {}
        }
    }
    InspectorQuery::new(py_strip(&edx_user), py_strip(&org_key), py_strip(&external_user_key))
}

/// What a search found, or the text that says why nothing is shown: the search's message, or
/// the table the database lacks.
///
/// # Errors
/// A read that failed other than on a missing table.
pub(crate) async fn search_found(
    state: &AppState,
    query: &InspectorQuery,
) -> Result<Result<LearnerProgramEnrollments, String>, StoreError> {
    match app::inspect_learner(&*state.store, query).await {
        Ok(Ok(found)) => Ok(Ok(found)),
        Ok(Err(not_found)) => Ok(Err(not_found.to_string())),
        Err(missing @ StoreError::MissingTable { .. }) => {
            tracing::warn!(target: LOG_TARGET, "the inspector's search is refused: {missing}");
            Ok(Err(missing.to_string()))
        }
        Err(error) => Err(error),
    }
}

/// What a search found, as the API shows it: `(error, learner_program_enrollments)`.
///
/// # Errors
/// [`InspectorFailure::Store`] for a read that failed other than on a missing table.
pub async fn search(state: &AppState, query: &InspectorQuery) -> Result<(String, Value), InspectorFailure> {
    match search_found(state, query).await.map_err(InspectorFailure::Store)? {
        Ok(found) => {
            let value = learner_program_enrollments(&found, &state.config.course_urls, &state.config.program_titles);
            Ok((String::new(), value))
        }
        Err(error) => Ok((error, json!({}))),
    }
}

/// Authenticates as the link API does (401/403 JSON) and holds a turn at the database.
async fn api_caller(state: &AppState, headers: &HeaderMap) -> Result<(ports::Account, api::Turn), InspectorFailure> {
    let credentials = auth::credentials(headers);
    let token = auth::verify(&state.config.verifier, &credentials)
        .map_err(|refusal| InspectorFailure::Refused(api::refusal_response(&refusal)))?;
    match api::permitted_account(state, &token).await {
        Ok(found) => Ok(found),
        Err(Ok(refusal)) => Err(InspectorFailure::Refused(api::refusal_response(&refusal))),
        Err(Err(response)) => Err(InspectorFailure::Refused(response)),
    }
}

/// Authenticates as the page does (the login redirect) and holds a turn at the database.
pub(crate) async fn page_caller(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<(ports::Account, api::Turn), InspectorFailure> {
    let path = uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    page::authorise(state, headers, &path).await.map_err(InspectorFailure::Refused)
}

/// `GET /support/program_enrollments_inspector_details`.
pub async fn details(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (account, turn) = match api_caller(&state, &headers).await {
        Ok(found) => found,
        Err(failure) => return failure.into_response(),
    };
    let query = query_of(uri.query());
    let result = search(&state, &query).await;
    drop(turn);
    match result {
        Ok((error, learner_program_enrollments)) => {
            tracing::info!(
                target: LOG_TARGET,
                "user {} searched the inspector: {}",
                account.username,
                if error.is_empty() { "found" } else { "nothing shown" }
            );
            Json(InspectorResponse { error, learner_program_enrollments, org_keys: query.org_key }).into_response()
        }
        Err(failure) => failure.into_response(),
    }
}

/// `GET /support/get_saml_providers/`.
pub async fn saml_providers(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (_account, turn) = match page_caller(&state, &headers, &uri).await {
        Ok(found) => found,
        Err(failure) => return failure.into_response(),
    };
    let result = app::saml_provider_orgs(&*state.store).await;
    drop(turn);
    match result {
        Ok(orgs) => Json(orgs).into_response(),
        // The MFE loads this list with every visit of its Program Information tab, and shows
        // its whole app as failed if the request fails: an LMS without SAML has none.
        Err(missing @ StoreError::MissingTable { .. }) => {
            tracing::info!(target: LOG_TARGET, "no SAML providers to list: {missing}");
            Json(Vec::<String>::new()).into_response()
        }
        Err(error) => InspectorFailure::Store(error).into_response(),
    }
}

/// Whether `value` fits upstream's URL pattern `[\w.@+-]+` (else the route does not match).
fn fits_sso_pattern(value: &str) -> bool {
    !value.is_empty() && value.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-'))
}

/// `GET /support/sso_records/{username_or_email}`.
pub async fn sso_records_of(
    State(state): State<AppState>,
    Path(username_or_email): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if !fits_sso_pattern(&username_or_email) {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let (_account, turn) = match page_caller(&state, &headers, &uri).await {
        Ok(found) => found,
        Err(failure) => return failure.into_response(),
    };
    let result = app::sso_records_of(&*state.store, &username_or_email).await;
    drop(turn);
    match result {
        Ok(Ok(records)) => Json(sso_records(&records)).into_response(),
        // Upstream fails with a 500 here; the two accounts are named instead.
        Ok(Err(ambiguous)) => detail(StatusCode::CONFLICT, &ambiguous.to_string()),
        Err(missing @ StoreError::MissingTable { .. }) => {
            tracing::info!(target: LOG_TARGET, "no SSO records to show: {missing}");
            Json(Vec::<Value>::new()).into_response()
        }
        Err(error) => InspectorFailure::Store(error).into_response(),
    }
}

/// `GET /support/sso_records/` (upstream's pattern makes the name optional): no account
/// matches an absent name, so `[]`, once authenticated.
pub async fn sso_records_of_nobody(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    match page_caller(&state, &headers, &uri).await {
        Ok(_) => Json(Vec::<Value>::new()).into_response(),
        Err(failure) => failure.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_read_as_django_reads_the_mfes_unencoded_values() {
        let q = query_of(Some("edx_user=a+b@example.com&org_key=undefined&external_user_key="));
        assert_eq!(
            (q.edx_user.as_str(), q.org_key.as_str(), q.external_user_key.as_str()),
            ("a b@example.com", "undefined", "")
        );
        let q = query_of(Some("edx_user=&org_key=%20testX%20&external_user_key=AbC%2B1&org_key=last"));
        assert_eq!((q.edx_user.as_str(), q.org_key.as_str(), q.external_user_key.as_str()), ("", "last", "AbC+1"));
        assert_eq!(query_of(None), InspectorQuery::default());
    }

    #[test]
    fn sso_names_fit_upstreams_pattern() {
        for ok in ["alice", "a.b@example.com", "x+y-z_1", "Zoë"] {
            assert!(fits_sso_pattern(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "a%b", "a'b"] {
            assert!(!fits_sso_pattern(bad), "{bad}");
        }
    }
}
