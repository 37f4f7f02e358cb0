//! The three backends and how each stores Django's values.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use sea_orm::{DbBackend, QueryResult, TryGetable, Value};
use uuid::Uuid;

use crate::error::decode_error;
use ports::StoreResult;

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

    /// `column` as text in a `SELECT` list, whatever its UUID encoding, aliased to `alias`:
    /// decoding text is cheaper than trying each driver type in turn.
    pub(crate) fn uuid_as_text(self, column: &str, alias: &str) -> String {
        match self {
            Self::Sqlite => format!("{column} AS {alias}"),
            Self::Postgres => format!("CAST({column} AS text) AS {alias}"),
            Self::MySql => format!("CAST({column} AS CHAR) AS {alias}"),
        }
    }

    /// An SQL expression giving a new random (version 4) UUID per row in the column's encoding,
    /// where the backend has one; MySQL's `UUID()` is time-based, so there the caller binds
    /// UUIDs made here.
    pub(crate) fn random_uuid_sql(self, column: UuidColumn) -> Option<&'static str> {
        match (self, column) {
            (Self::Postgres, _) => Some("gen_random_uuid()"),
            // 32 lowercase hex digits with the version (4) and variant (8-b) digits in place.
            (Self::Sqlite, UuidColumn::Char32) => Some(
                "lower(hex(randomblob(6)) || '4' || substr(hex(randomblob(2)), 2) || \
                 substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || hex(randomblob(6)))",
            ),
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

/// Reads a column, trying a second Rust type when the first does not fit the driver's type
/// (an `integer` is `i32` to PostgreSQL's driver, `i64` to SQLite's).
fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, sea_orm::DbErr> {
    row.try_get::<T>("", column)
}

/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_i64(row: &QueryResult, column: &str) -> StoreResult<i64> {
    get::<i64>(row, column).or_else(|_| get::<i32>(row, column).map(i64::from)).map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_opt_i64(row: &QueryResult, column: &str) -> StoreResult<Option<i64>> {
    get::<Option<i64>>(row, column)
        .or_else(|_| get::<Option<i32>>(row, column).map(|v| v.map(i64::from)))
        .map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_string(row: &QueryResult, column: &str) -> StoreResult<String> {
    get::<String>(row, column).map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_opt_string(row: &QueryResult, column: &str) -> StoreResult<Option<String>> {
    get::<Option<String>>(row, column).map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_bool(row: &QueryResult, column: &str) -> StoreResult<bool> {
    get::<bool>(row, column)
        .or_else(|_| get::<i64>(row, column).map(|v| v != 0))
        .or_else(|_| get::<i32>(row, column).map(|v| v != 0))
        .map_err(|e| decode_error(column, e))
}

/// A UUID in any of the encodings: native, 32 hex digits or hyphenated text.
/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_uuid(row: &QueryResult, column: &str) -> StoreResult<Uuid> {
    if let Ok(uuid) = get::<Uuid>(row, column) {
        return Ok(uuid);
    }
    let text = get_string(row, column)?;
    Uuid::try_parse(&text).map_err(|e| decode_error(column, e))
}

/// A datetime in any of the encodings, as UTC.
/// Reads column `column` (see [`crate::decode`]).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_opt_datetime(row: &QueryResult, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    if let Ok(at) = get::<Option<DateTime<Utc>>>(row, column) {
        return Ok(at);
    }
    if let Ok(at) = get::<Option<NaiveDateTime>>(row, column) {
        return Ok(at.map(|at| at.and_utc()));
    }
    match get_opt_string(row, column)? {
        None => Ok(None),
        Some(text) => NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")
            .map(|at| Some(at.and_utc()))
            .map_err(|e| decode_error(column, e)),
    }
}
