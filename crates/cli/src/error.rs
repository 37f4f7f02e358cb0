//! Why a command failed, and the exit status each failure gets.

use std::path::PathBuf;

use thiserror::Error;

use crate::input::InputError;

/// Exit status: every key linked (or the command did what it was asked).
pub const EXIT_OK: u8 = 0;
/// Exit status: the run completed and some keys have errors.
pub const EXIT_KEY_ERRORS: u8 = 1;
/// Exit status: invalid input or usage; nothing was written.
pub const EXIT_INPUT: u8 = 2;
/// Exit status: the database could not be used or the run was aborted: nothing was written, or
/// (with `--chunk-size`) only the chunks the report names.
pub const EXIT_DATABASE: u8 = 3;

/// Why a command failed.
#[derive(Debug, Error)]
pub enum CliError {
    /// The input was refused before anything touched the database.
    #[error("{0}")]
    Input(#[from] InputError),
    /// The demo would overwrite a file it did not create.
    #[error(
        "refusing to overwrite {path}: it was not created by `program-enrollments demo`; remove it or give another path"
    )]
    DemoPathTaken {
        /// The file.
        path: PathBuf,
    },
    /// The SQLite file of the URL does not exist.
    #[error(
        "there is no SQLite database at {path}: create one with `program-enrollments migrate`, or choose the \
         database with --database-url or DATABASE_URL; nothing was written"
    )]
    NoSqliteFile {
        /// The file.
        path: String,
    },
    /// `--jobs` above 1 on SQLite, which has one writer at a time: refused before the database
    /// is opened.
    #[error(
        "--jobs {jobs} needs PostgreSQL or MariaDB: a SQLite database has one writer at a time, so its chunks \
         cannot commit at once (leave --jobs out); nothing was written"
    )]
    JobsOnSqlite {
        /// The number given.
        jobs: u16,
    },
    /// The database URL names no backend we support. The URL is not shown: only what is wrong
    /// with it (its scheme, when it is a scheme's characters only).
    #[error("unsupported database URL ({reason}): expected sqlite://PATH, postgres://… or mysql://…")]
    UnsupportedUrl {
        /// What is wrong (`scheme 'oracle'`, `` `postgres` must be followed by `://` ``, …).
        reason: String,
    },
    /// The database URL names a server backend but cannot be read. The URL is not shown.
    #[error("the database URL is not a valid {backend} URL ({reason}): expected {backend}://USER:PASSWORD@HOST/DB")]
    BadUrl {
        /// `postgres` or `mysql`.
        backend: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// `migrate` on a database whose schema Django's migrations made.
    #[error(
        "refusing to migrate the database at {url}: its program_enrollments schema belongs to Django (Open edX's own \
         migrations): django_migrations lists the app program_enrollments, and `link` needs no migration there; --force migrates anyway; \
         nothing was written"
    )]
    DjangoSchema {
        /// The URL, password hidden.
        url: String,
    },
    /// A file `link` is to write (`--report`, `--log-file`) cannot be written; checked before
    /// anything touches the database.
    #[error("cannot write the {what} file {path}: {source}; nothing was written")]
    OutputFile {
        /// `report` or `log`.
        what: &'static str,
        /// The path as given.
        path: String,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or lacks our tables.
    #[error("{0}; nothing was written")]
    Connect(#[from] adapters_seaorm::ConnectError),
    /// A migration failed.
    #[error("cannot migrate the database at {url}: {source}; migrations that completed stay applied")]
    Migrate {
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: sea_orm::DbErr,
    },
    /// A transaction of the run was rolled back; the report says what committed before it.
    #[error("{cause}; {written}")]
    Link {
        /// Why the transaction was rolled back.
        #[source]
        cause: app::LinkCallError,
        /// What the run wrote and did not write.
        written: String,
    },
    /// `--acting-user` names no LMS user.
    #[error("the acting user '{username}' does not exist in auth_user; nothing was written")]
    NoActingUser {
        /// The username given.
        username: String,
    },
    /// The acting user could not be looked up.
    #[error("cannot look up the acting user '{username}': {source}; nothing was written")]
    ActingUserLookup {
        /// The username given.
        username: String,
        /// The port's error.
        #[source]
        source: ports::StoreError,
    },
    /// `--tracking-log` cannot be opened for appending; nothing was linked.
    #[error("{0}; nothing was written")]
    TrackingLog(#[source] app::TrackingLogError),
    /// An inspector read failed (a table the database lacks is named).
    #[error("cannot inspect: {source}")]
    Inspect {
        /// The port's error.
        #[source]
        source: ports::StoreError,
    },
    /// The support service could not start or failed while serving.
    #[error("{0}")]
    Serve(#[from] web::ServeError),
    /// The demo could not build its example database.
    #[error("cannot build the example database {path}: {source}")]
    Demo {
        /// The file.
        path: PathBuf,
        /// The driver's error.
        #[source]
        source: sea_orm::DbErr,
    },
    /// A file could not be created, removed or written, or the runtime could not start.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, and what of the run was written.
        what: String,
        /// The system's reason.
        #[source]
        source: std::io::Error,
    },
}

impl CliError {
    /// The process exit status for this failure: 2 for input and usage, 3 for the rest.
    pub fn exit_status(&self) -> u8 {
        match self {
            Self::Input(_)
            | Self::JobsOnSqlite { .. }
            | Self::DemoPathTaken { .. }
            | Self::UnsupportedUrl { .. }
            | Self::BadUrl { .. }
            | Self::DjangoSchema { .. }
            | Self::NoActingUser { .. }
            | Self::TrackingLog(_)
            | Self::OutputFile { .. } => EXIT_INPUT,
            Self::Serve(error) if error.is_usage() => EXIT_INPUT,
            Self::Connect(error) if error.is_usage() => EXIT_INPUT,
            Self::NoSqliteFile { .. }
            | Self::Connect(_)
            | Self::Migrate { .. }
            | Self::Link { .. }
            | Self::Demo { .. }
            | Self::ActingUserLookup { .. }
            | Self::Inspect { .. }
            | Self::Serve(_)
            | Self::Io { .. } => EXIT_DATABASE,
        }
    }
}
