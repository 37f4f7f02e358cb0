//! The support tool: the LMS's support endpoints for linking program enrollments, served by
//! `program-enrollments serve` beside the LMS, behind its reverse proxy
//! (`../shared/spec/support-web.md`, issue 13).
//!
//! - `POST /support/link_program_enrollments_details/` ([`api`]): the support MFE's JSON API;
//! - `GET`/`POST /support/link_program_enrollments` ([`page`]): a server-rendered page;
//! - the Program Enrollments Inspector ([`inspector`], issue 14): `GET
//!   /support/program_enrollments_inspector_details`, `/support/get_saml_providers/`,
//!   `/support/sso_records/{username_or_email}` (JSON, read-only) and the page
//!   `/support/program_enrollments_inspector` ([`inspector_page`]);
//! - `GET /health`: `ok`, no database access, no authentication.
//!
//! Authentication and permission are the LMS's ([`auth`], [`jwt`], [`csrf`]): the LMS's JWT
//! (its two cookies joined, or `Authorization: JWT <token>`), the user looked up in
//! `auth_user` through [`ports::Accounts`] and allowed as upstream's
//! `has_access(user, 'support', 'global')`; Django's CSRF check on a cookie-authenticated
//! POST; CORS for the configured origins. The request's text is read with upstream's rules
//! ([`text`]) and linked in one call of [`app::link_program_enrollments_report`], whose history
//! rows name the acting user. Successes are Python's `str()` of `(key, username)` ([`pyrepr`]).
//!
//! [`router`] builds the service in-process (for tests); [`serve`] runs it on a listener
//! until a shutdown signal, letting running requests finish.
#![deny(missing_docs)]

pub mod api;
pub mod auth;
pub mod csrf;
mod form;
pub mod inspector;
pub mod inspector_json;
pub mod inspector_page;
pub mod jwt;
pub mod page;
mod printable_table;
pub mod pyrepr;
mod state;
pub mod text;
pub mod titles;

pub use state::{
    AppState, Config, DEFAULT_BODY_TIMEOUT, DEFAULT_CONCURRENT_LINKS, DEFAULT_MAX_BODY_BYTES, LOG_TARGET, SupportStore,
};

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use thiserror::Error;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

pub use jwt::JwtVerifier;

/// Why the service could not start or stopped.
#[derive(Debug, Error)]
pub enum ServeError {
    /// Neither a JWKS nor a secret: every request would be refused (deny by default).
    #[error("refusing to start without --jwt-jwks or --jwt-secret-file: no token could be verified")]
    NoKeys,
    /// An origin is not a valid header value.
    #[error("invalid --allowed-origin '{0}': expected scheme://host[:port]")]
    BadOrigin(String),
    /// A key file could not be read.
    #[error("cannot read {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The keys are not usable.
    #[error("{0}")]
    Keys(#[from] jwt::KeyError),
    /// `--program-titles` cannot be read.
    #[error("cannot read the program titles file {path}: {source}")]
    TitlesFile {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A line of `--program-titles` is not `program_uuid,title`.
    #[error("the program titles file {path}, line {line}: {reason}")]
    BadTitles {
        /// The file.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What is wrong there.
        reason: String,
    },
    /// `--learning-mfe-url` is not an `http(s)://` URL.
    #[error("invalid --learning-mfe-url '{0}': expected http://HOST[:PORT][/PATH] or https://…")]
    BadLearningMfeUrl(String),
    /// The listener failed.
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

impl ServeError {
    /// Whether the error is the operator's (bad flags or files): exit status 2.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Self::NoKeys
                | Self::BadOrigin(_)
                | Self::KeyFile { .. }
                | Self::Keys(_)
                | Self::TitlesFile { .. }
                | Self::BadTitles { .. }
                | Self::BadLearningMfeUrl(_)
        )
    }
}

/// Where the token keys come from.
#[derive(Debug, Clone, Default)]
pub struct KeyFiles {
    /// `--jwt-jwks`.
    pub jwks: Option<PathBuf>,
    /// `--jwt-secret-file` (its content, trailing line break removed, is the secret).
    pub secret: Option<PathBuf>,
}

/// Reads the key files and builds the verifier.
///
/// # Errors
/// [`ServeError::NoKeys`] when neither file is given; [`ServeError::KeyFile`] or
/// [`ServeError::Keys`].
pub fn load_verifier(files: &KeyFiles, issuers: Vec<String>, audience: String) -> Result<JwtVerifier, ServeError> {
    if files.jwks.is_none() && files.secret.is_none() {
        return Err(ServeError::NoKeys);
    }
    let read =
        |path: &PathBuf| std::fs::read(path).map_err(|source| ServeError::KeyFile { path: path.clone(), source });
    let jwks = files.jwks.as_ref().map(read).transpose()?.map(|b| String::from_utf8_lossy(&b).into_owned());
    let secret = files.secret.as_ref().map(read).transpose()?.map(|mut bytes| {
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        bytes
    });
    Ok(JwtVerifier::new(jwks.as_deref(), secret.as_deref(), issuers, audience)?)
}

/// Reads `--program-titles` ([`titles::parse_program_titles`]).
///
/// # Errors
/// [`ServeError::TitlesFile`] when the file cannot be read; [`ServeError::BadTitles`] naming
/// the first bad line.
pub fn load_program_titles(path: &std::path::Path) -> Result<inspector_json::ProgramTitles, ServeError> {
    let bytes = std::fs::read(path).map_err(|source| ServeError::TitlesFile { path: path.to_owned(), source })?;
    titles::parse_program_titles(&bytes).map_err(|e| ServeError::BadTitles {
        path: path.to_owned(),
        line: e.line,
        reason: e.reason,
    })
}

/// The inspector's course links for `--learning-mfe-url` (none: upstream's relative links).
///
/// # Errors
/// [`ServeError::BadLearningMfeUrl`] unless it is `http://` or `https://` followed by a host,
/// with no query, fragment or white space.
pub fn course_urls(learning_mfe_url: Option<&str>) -> Result<inspector_json::CourseUrls, ServeError> {
    let Some(url) = learning_mfe_url else { return Ok(inspector_json::CourseUrls::default()) };
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let fits = rest.is_some_and(|rest| {
        !rest.is_empty()
            && !rest.starts_with('/')
            && !rest.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#' | '"' | '<' | '>'))
    });
    if !fits {
        return Err(ServeError::BadLearningMfeUrl(url.to_owned()));
    }
    Ok(inspector_json::CourseUrls { learning_mfe_url: Some(url.to_owned()) })
}

/// The service, ready to be served or called in-process.
///
/// # Errors
/// [`ServeError::BadOrigin`] for an allowed origin that is not a header value.
pub fn router(config: Config, store: Arc<dyn SupportStore>) -> Result<Router, ServeError> {
    let origins = config
        .allowed_origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|_| ServeError::BadOrigin(o.clone())))
        .collect::<Result<Vec<_>, _>>()?;
    let max_body = config.max_body_bytes;
    let permits = Arc::new(tokio::sync::Semaphore::new(config.concurrent_links.max(1)));
    let state = AppState { config: Arc::new(config), store, link_permits: permits };
    let api_route = axum::routing::post(api::link_details).fallback(api::method_not_allowed);
    let page_route = get(page::show).post(page::submit).fallback(api::method_not_allowed);
    let mut router = Router::new()
        .route("/support/link_program_enrollments_details", api_route.clone())
        .route("/support/link_program_enrollments_details/", api_route)
        .route("/support/link_program_enrollments", page_route.clone())
        .route("/support/link_program_enrollments/", page_route)
        .merge(inspector::routes())
        .route("/health", get(|| async { "ok" }))
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn(log_request))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body));
    if !origins.is_empty() {
        let cors = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                HeaderName::from_static("use-jwt-cookie"),
                HeaderName::from_static("x-csrftoken"),
                HeaderName::from_static("content-type"),
            ]);
        // tower-http sends `Access-Control-Allow-Credentials` whatever the origin: only an
        // allowed origin gets any CORS header.
        router = router.layer(cors).layer(axum::middleware::map_response(strip_cors_without_origin));
    }
    Ok(router)
}

async fn strip_cors_without_origin(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    if !headers.contains_key(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        let names: Vec<HeaderName> =
            headers.keys().filter(|name| name.as_str().starts_with("access-control-")).cloned().collect();
        for name in names {
            headers.remove(name);
        }
    }
    response
}

/// One line per request: method, path (never the query, which may hold anything; the SSO
/// records' path, which names a learner, as its route), status and duration. Headers, cookies
/// and bodies are never logged.
async fn log_request(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let path = match request.uri().path() {
        path if path.starts_with("/support/sso_records/") => "/support/sso_records/{username_or_email}".to_owned(),
        path => path.to_owned(),
    };
    let response = next.run(request).await;
    tracing::info!(
        target: LOG_TARGET,
        "{method} {path} {} in {:.3}s",
        response.status().as_u16(),
        started.elapsed().as_secs_f64()
    );
    response
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "Not Found")
}

/// How long a client may take to send a request's headers (and an idle connection may wait).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener` (HTTP/1.1) until `shutdown` completes, then stops accepting,
/// lets running requests finish and closes idle connections. A client that does not send its
/// headers within [`HEADER_TIMEOUT`] is disconnected.
///
/// # Errors
/// None today: a failed `accept` is logged and the loop goes on.
pub async fn serve(
    router: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors and the like: wait a little, do not spin.
                        tracing::warn!(target: LOG_TARGET, "cannot accept a connection: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = hyper_util::service::TowerToHyperService::new(router.clone());
                let connection = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!(target: LOG_TARGET, "shutting down: no new connections; running requests finish");
}
