//! The one error type every port returns.

use domain::UniqueViolation;
use thiserror::Error;

/// A boxed error from a backend's driver.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a port call failed.
///
/// Only [`StoreError::UniqueViolation`] is recoverable for one key (its savepoint is rolled
/// back and the key gets an `IntegrityError` message); every other variant aborts the call.
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
