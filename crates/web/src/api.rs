//! `POST /support/link_program_enrollments_details/`: upstream's
//! `LinkProgramEnrollmentSupportAPIView`, and the linking both endpoints share.

use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{LinkBatch, ProgramUuid};
use serde::Serialize;
use serde_json::json;

use crate::auth::{self, Credentials, Refusal};
use crate::form::{self, BodyError, Fields};
use crate::pyrepr::tuple_repr;
use crate::state::{AppState, LOG_TARGET};
use crate::text::{self, Reading, py_strip};

/// The API's answer: always these four keys, in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkResponse {
    /// `str((key, username))` of each linked pair, in input order.
    pub successes: Vec<String>,
    /// The validation error, or each key's error, in input order.
    pub errors: Vec<String>,
    /// The stripped `program_uuid` as given.
    pub program_uuid: String,
    /// The raw text as given.
    pub username_pair_text: String,
}

/// A link call that failed: 500 with `detail`, and what committed before the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFailure {
    /// The text of `{"detail": …}`: the cause, and what was and was not written.
    pub detail: String,
    /// The successes of the committed chunks.
    pub successes: Vec<String>,
    /// The errors of the committed chunks, then what was and was not written.
    pub errors: Vec<String>,
}

/// The outcome of validating and linking (upstream's `validate_and_link_program_enrollments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The successes.
    pub successes: Vec<String>,
    /// The errors.
    pub errors: Vec<String>,
}

/// Validates `program_uuid` (stripped) and `text` (raw) and links them for `acting`.
///
/// # Errors
/// [`LinkFailure`] when the database fails (nothing of the call written, or only the
/// committed chunks it names).
pub async fn validate_and_link(
    state: &AppState,
    turn: Turn,
    acting: &ports::Account,
    program_uuid: &str,
    text: &str,
) -> Result<Outcome, LinkFailure> {
    let started = Instant::now();
    let (program, batch) = match text::read_request(program_uuid, text) {
        Reading::Refused(message) => {
            tracing::info!(
                target: LOG_TARGET,
                "user {} asked to link program {program_uuid:?}: refused: {message}",
                acting.username
            );
            return Ok(Outcome { successes: Vec::new(), errors: vec![message] });
        }
        Reading::Link(program, batch) => (program, batch),
    };
    let options = app::LinkOptions {
        commit_every: state.config.chunk_size,
        rules: state.config.rules,
        acting_user: Some(acting.id),
        ..app::LinkOptions::default()
    };
    let result = app::link_program_enrollments_report(&*state.store, program, &batch, &options).await;
    drop(turn);
    let elapsed = started.elapsed();
    match result {
        Ok(report) => {
            let outcome = outcome(&batch, &report.errors, None);
            tracing::info!(
                target: LOG_TARGET,
                "user {} linked program {program}: {} key(s), {} linked, {} error(s), in {:.3}s",
                acting.username,
                batch.len(),
                outcome.successes.len(),
                outcome.errors.len(),
                elapsed.as_secs_f64()
            );
            Ok(outcome)
        }
        Err(aborted) if matches!(aborted.cause, app::LinkCallError::DuplicateKeyIgnoringCase(_)) => {
            Ok(Outcome { successes: Vec::new(), errors: vec![aborted.cause.to_string()] })
        }
        Err(aborted) => {
            let committed: usize = aborted.report.committed.iter().map(|r| r.len()).sum();
            let written = if committed == 0 {
                "nothing of this request was written".to_owned()
            } else {
                format!(
                    "the first {committed} key(s) were committed in {} chunk(s); keys {}-{} were not written",
                    aborted.report.committed.len(),
                    aborted.not_written.start + 1,
                    aborted.not_written.end
                )
            };
            tracing::error!(
                target: LOG_TARGET,
                "user {} linking program {program}: {} key(s) failed after {:.3}s: {}; {written}",
                acting.username,
                batch.len(),
                elapsed.as_secs_f64(),
                aborted.cause
            );
            let partial = outcome(&batch.slice(0..committed), &aborted.report.errors, None);
            let detail = format!("{}; {written}", aborted.cause);
            let mut errors = partial.errors;
            errors.push(detail.clone());
            Err(LinkFailure { detail, successes: partial.successes, errors })
        }
    }
}

fn outcome(batch: &LinkBatch, errors: &app::LinkErrors, _program: Option<ProgramUuid>) -> Outcome {
    let successes = batch
        .iter()
        .filter(|(key, _)| errors.get(key).is_none())
        .map(|(key, username)| tuple_repr(key.as_str(), username.as_str()))
        .collect();
    Outcome { successes, errors: errors.iter().map(|(_, e)| e.to_string()).collect() }
}

/// `{"detail": text}` with `status`.
pub fn detail(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({ "detail": text }))).into_response()
}

/// The JSON answer to a refusal.
pub fn refusal_response(refusal: &Refusal) -> Response {
    match refusal {
        Refusal::NotAuthenticated => detail(StatusCode::UNAUTHORIZED, "Authentication credentials were not provided."),
        Refusal::BadHeaderToken(text) => detail(StatusCode::UNAUTHORIZED, text),
        Refusal::Csrf(reason) => detail(StatusCode::FORBIDDEN, &format!("CSRF Failed: {reason}")),
        Refusal::Forbidden => StatusCode::FORBIDDEN.into_response(),
    }
}

pub(crate) fn body_error_response(error: BodyError) -> Response {
    match error {
        BodyError::TooLarge => detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large."),
        BodyError::Timeout => detail(StatusCode::REQUEST_TIMEOUT, "The request body was not received in time."),
        BodyError::Malformed(text) => detail(StatusCode::BAD_REQUEST, &text),
    }
}

/// DRF's 405.
pub async fn method_not_allowed(method: Method) -> Response {
    detail(StatusCode::METHOD_NOT_ALLOWED, &format!("Method \"{method}\" not allowed."))
}

/// A request's turn at the database ([`crate::state::Config::concurrent_links`]): held from the
/// account look-up to the end of the link, so that requests queue here, without a time-out,
/// rather than for a pooled connection (SQLite's pool has one).
#[derive(Debug)]
pub struct Turn(#[allow(dead_code)] Option<tokio::sync::OwnedSemaphorePermit>);

/// Waits for a turn, then looks the token's user up and applies upstream's permission.
///
/// # Errors
/// [`Refusal::Forbidden`] for an unknown, restricted or unpermitted user; a 500 response
/// when the database fails.
pub async fn permitted_account(
    state: &AppState,
    token: &crate::jwt::VerifiedToken,
) -> Result<(ports::Account, Turn), Result<Refusal, Response>> {
    if token.is_restricted {
        tracing::info!(target: LOG_TARGET, "refused user {}: restricted token", token.username);
        return Err(Ok(Refusal::Forbidden));
    }
    let turn = Turn(std::sync::Arc::clone(&state.link_permits).acquire_owned().await.ok());
    match state.store.account(&token.username).await {
        Ok(Some(account)) if auth::may_use_support_tools(&account) => Ok((account, turn)),
        Ok(Some(_)) => {
            tracing::info!(target: LOG_TARGET, "refused user {}: not support staff", token.username);
            Err(Ok(Refusal::Forbidden))
        }
        Ok(None) => {
            tracing::info!(target: LOG_TARGET, "refused user {}: no such user in auth_user", token.username);
            Err(Ok(Refusal::Forbidden))
        }
        Err(error) => {
            tracing::error!(target: LOG_TARGET, "cannot look up user {}: {error}", token.username);
            Err(Err(detail(StatusCode::INTERNAL_SERVER_ERROR, &format!("cannot look up the user: {error}"))))
        }
    }
}

/// The handler.
pub async fn link_details(State(state): State<AppState>, request: Request) -> Response {
    let headers: HeaderMap = request.headers().clone();
    let credentials = auth::credentials(&headers);
    let token = match auth::verify(&state.config.verifier, &credentials) {
        Ok(token) => token,
        Err(refusal) => return refusal_response(&refusal),
    };
    let fields: Fields = match form::read_fields(request, state.config.max_body_bytes, state.config.body_timeout).await
    {
        Ok(fields) => fields,
        Err(error) => return body_error_response(error),
    };
    if matches!(credentials, Credentials::Cookies(_))
        && let Err(refusal) =
            auth::check_csrf(&headers, fields.get(crate::csrf::FORM_FIELD), &state.config.allowed_origins)
    {
        return refusal_response(&refusal);
    }
    let (account, turn) = match permitted_account(&state, &token).await {
        Ok(found) => found,
        Err(Ok(refusal)) => return refusal_response(&refusal),
        Err(Err(response)) => return response,
    };
    let program_uuid = py_strip(fields.get("program_uuid").unwrap_or_default()).to_owned();
    let text = fields.get("username_pair_text").unwrap_or_default().to_owned();
    match validate_and_link(&state, turn, &account, &program_uuid, &text).await {
        Ok(outcome) => Json(LinkResponse {
            successes: outcome.successes,
            errors: outcome.errors,
            program_uuid,
            username_pair_text: text,
        })
        .into_response(),
        Err(failure) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({
                "detail": failure.detail,
                "successes": failure.successes,
                "errors": failure.errors,
                "program_uuid": program_uuid,
            })),
        )
            .into_response(),
    }
}
