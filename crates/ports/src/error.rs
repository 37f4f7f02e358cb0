//! The one error type every port returns.

use domain::UniqueViolation;
use thiserror::Error;

/// A boxed error from a backend's driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a port call failed.
///
/// The application recovers from two variants: [`StoreError::UniqueViolation`] (it rolls the
/// key's or chunk's savepoint back and plans again) and [`StoreError::Conflict`] (it runs the
/// transaction again). Every other variant rolls the transaction back and stops the call.
///
/// # Any statement
/// Each trait method's `# Errors` section names the variants particular to it. Besides those,
/// any method that runs a statement returns, from any statement:
/// - [`StoreError::Conflict`] when the database gave up on the transaction because of another
///   writer (deadlock, serialization failure, lock wait timeout, SQLite `BUSY`/`LOCKED`);
/// - [`StoreError::PermissionDenied`] when the database refused it for lack of a privilege;
/// - [`StoreError::Backend`] for any other failure of the database or the connection.
///
/// After any error of a write, the state of the transaction is unspecified until the
/// savepoint the write ran in is rolled back.
#[derive(Debug, Error)]
pub enum StoreError {
    /// A write violated a unique constraint. Implementations MUST name the violated
    /// constraint's table and columns in declared order, found from the database itself.
    #[error("{0}")]
    UniqueViolation(UniqueViolation),
    /// A stored value that the rules cannot read (a malformed UUID, key or status).
    #[error("corrupt data in {table}: {detail}")]
    CorruptData {
        /// The table.
        table: &'static str,
        /// What is wrong, naming the row.
        detail: String,
    },
    /// The database gave up on the transaction because of another writer: a deadlock, a
    /// serialization failure, or a lock not had in time. The whole transaction must be rolled
    /// back; running it again may succeed.
    #[error("{backend} conflict with another writer: {source}")]
    Conflict {
        /// `sqlite`, `postgres`, `mysql` or `memory`.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// The database refused a statement because the user lacks a privilege on a table (the
    /// text names it): a configuration error, never one key's failure.
    #[error("{backend} refused a statement for lack of privilege: {source}")]
    PermissionDenied {
        /// `sqlite`, `postgres`, `mysql` or `memory`.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
    /// The database has no such table: an LMS without the feature (SSO, SAML providers) whose
    /// read was asked for. A read-only answer, never one key's failure.
    #[error("this database has no table {table}")]
    MissingTable {
        /// The table.
        table: &'static str,
    },
    /// The port was used against its contract (for example a savepoint used after its parent
    /// finished).
    #[error("unit of work misuse: {0}")]
    Misuse(&'static str),
    /// The backend failed (connection lost, server error, …). The text names the backend and
    /// never holds a password.
    #[error("{backend} error: {source}")]
    Backend {
        /// `sqlite`, `postgres`, `mysql` or `memory`.
        backend: &'static str,
        /// The driver's error.
        #[source]
        source: BoxError,
    },
}

impl StoreError {
    /// Whether running the transaction again may succeed ([`StoreError::Conflict`]).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// The violated constraint, if this is a unique violation.
    pub fn unique_violation(&self) -> Option<&UniqueViolation> {
        match self {
            Self::UniqueViolation(v) => Some(v),
            _ => None,
        }
    }
}

/// The result of a port call.
pub type StoreResult<T> = Result<T, StoreError>;
