//! What the service's modules share: its configuration, the handlers' state and the log
//! target. A leaf of the crate's imports (only `jwt` and `inspector_json` below it), so that
//! the handlers need not import the crate root, which imports them.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use crate::inspector_json::{CourseUrls, ProgramTitles};
use crate::jwt::JwtVerifier;

/// The default of `--max-body-bytes`: 32 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// How long a client may take to send a request's body.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// How many link calls run at once on a database server by default: the connection pool holds
/// 10, and account look-ups need a few.
pub const DEFAULT_CONCURRENT_LINKS: usize = 6;

/// Log target of the service's lines.
pub const LOG_TARGET: &str = "program_enrollments::web";

/// The database behind the service: the linking's unit of work, the accounts and the
/// inspector's reads.
pub trait SupportStore: ports::UnitOfWork + ports::Accounts + ports::LearnerRecords {}

impl<T: ports::UnitOfWork + ports::Accounts + ports::LearnerRecords> SupportStore for T {}

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The keys and claims tokens must satisfy.
    pub verifier: JwtVerifier,
    /// The origins allowed by CORS and trusted by the CSRF origin check (the MFE's).
    pub allowed_origins: Vec<String>,
    /// Where the page sends a visitor without credentials; `None`: 401.
    pub login_url: Option<String>,
    /// The largest body accepted (413 beyond it).
    pub max_body_bytes: usize,
    /// How long a client may take to send the body (408 beyond it).
    pub body_timeout: Duration,
    /// `--relink`, `--case-insensitive-keys`.
    pub rules: app::RuleOptions,
    /// `--chunk-size`: commit every N keys.
    pub chunk_size: Option<NonZeroUsize>,
    /// How many link calls run at once; the others queue (SQLite: 1, its one writer; a server:
    /// fewer than the connection pool holds, so that no call waits on the pool's time-out).
    pub concurrent_links: usize,
    /// The inspector's course links (`--learning-mfe-url`).
    pub course_urls: CourseUrls,
    /// The inspector's program titles (`--program-titles`).
    pub program_titles: ProgramTitles,
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// The database.
    pub store: Arc<dyn SupportStore>,
    /// One permit per link call allowed to run ([`Config::concurrent_links`]).
    pub link_permits: Arc<tokio::sync::Semaphore>,
}
