//! The benchmark's library part: the fixture (fresh databases filled with set-based SQL), also
//! used by tests that need many keys on a real server.

pub mod fixture;

/// Why the benchmark failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A database error.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The adapter could not connect.
    #[error(transparent)]
    Connect(#[from] adapters_seaorm::ConnectError),
    /// The link call aborted.
    #[error(transparent)]
    Link(#[from] app::LinkCallError),
    /// Bad input values.
    #[error("input: {0}")]
    Input(String),
    /// No server URL.
    #[error("no admin URL for {0}: pass --admin-url or set TEST_POSTGRES_URL / TEST_MYSQL_URL")]
    NoServer(&'static str),
    /// A child run failed.
    #[error("child run failed: {0}")]
    Child(String),
    /// I/O.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}
