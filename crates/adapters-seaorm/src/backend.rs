//! The three backends, and how each stores Django's values: the encodings of a UUID and a
//! datetime to bind, and the few expressions that differ by backend (a UUID read as text, a
//! new random UUID). Imports nothing from the crate.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::DbBackend;
use sea_orm::Value;
use sea_orm::sea_query::{Expr, ExprTrait};
use uuid::Uuid;

/// A database server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// SQLite (the embedded default).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// `sqlite`, `postgres` or `mysql`: the name errors use.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }

    pub(crate) fn from_db(backend: DbBackend) -> Self {
        match backend {
            DbBackend::Postgres => Self::Postgres,
            DbBackend::MySql => Self::MySql,
            _ => Self::Sqlite,
        }
    }

    pub(crate) fn db_backend(self) -> DbBackend {
        match self {
            Self::Sqlite => DbBackend::Sqlite,
            Self::Postgres => DbBackend::Postgres,
            Self::MySql => DbBackend::MySql,
        }
    }

    /// `column` as text, whatever its UUID encoding: decoding text is cheaper than trying each
    /// driver type in turn.
    pub(crate) fn uuid_as_text(self, column: Expr) -> Expr {
        match self {
            Self::Sqlite => column,
            Self::Postgres => column.cast_as("text"),
            Self::MySql => column.cast_as("CHAR"),
        }
    }

    /// An expression giving a new random (version 4) UUID per row in the column's encoding,
    /// where the backend has one; MySQL's `UUID()` is time-based, so there the caller binds
    /// UUIDs made here.
    pub(crate) fn random_uuid(self, column: UuidColumn) -> Option<Expr> {
        match (self, column) {
            // Hand-written: sea-query has no `gen_random_uuid`.
            (Self::Postgres, _) => Some(Expr::cust("gen_random_uuid()")),
            // Hand-written: SQLite has no UUID function; this is 32 lowercase hex digits with the
            // version (4) and variant (8-b) digits in place.
            (Self::Sqlite, UuidColumn::Char32) => Some(Expr::cust(
                "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) || \
                 substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6)))",
            )),
            _ => None,
        }
    }

    /// Whether `INSERT … RETURNING` is available (SQLite 3.35+, PostgreSQL; not MySQL).
    pub(crate) fn insert_returning(self) -> bool {
        !matches!(self, Self::MySql | Self::Sqlite)
    }

    /// The most values one statement binds: well under SQLite's 32,766 and the 65,535 of
    /// PostgreSQL's and MySQL's protocols.
    pub(crate) fn max_binds(self) -> usize {
        10_000
    }
}

/// How a UUID column stores its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UuidColumn {
    /// `char(32)`: 32 lowercase hex digits (Django on SQLite, and MySQL/MariaDB before Open
    /// edX's MariaDB UUID conversion).
    Char32,
    /// A native `uuid` type (PostgreSQL; MariaDB after the conversion).
    Native,
}

/// How this database encodes Django's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Encoding {
    pub(crate) backend: Backend,
    /// `program_uuid` and `curriculum_uuid` of the PE table and its history.
    pub(crate) program_uuid: UuidColumn,
    /// `student_courseenrollment_history.history_id`.
    pub(crate) history_id: UuidColumn,
}

impl Encoding {
    pub(crate) fn uuid(&self, uuid: &Uuid, column: UuidColumn) -> Value {
        match (self.backend, column) {
            (Backend::Postgres, _) => Value::Uuid(Some(*uuid)),
            // MariaDB's `uuid` type takes the text form.
            (_, UuidColumn::Native) => Value::String(Some(uuid.hyphenated().to_string())),
            (_, UuidColumn::Char32) => Value::String(Some(uuid.simple().to_string())),
        }
    }

    /// A datetime as Django stores it: UTC, microseconds.
    pub(crate) fn datetime(&self, at: DateTime<Utc>) -> Value {
        let at = at.trunc_subsecs(6);
        match self.backend {
            Backend::Sqlite => Value::String(Some(at.format("%Y-%m-%d %H:%M:%S%.6f").to_string())),
            Backend::Postgres => Value::ChronoDateTimeUtc(Some(at)),
            Backend::MySql => Value::ChronoDateTime(Some(at.naive_utc())),
        }
    }
}
