//! Decoding of Django's value encodings from query rows, whatever the backend: an integer that
//! is `i32` to one driver and `i64` to another, a UUID stored natively or as 32 hex digits, a
//! datetime stored natively or as SQLite text. Imports nothing from the crate.

use chrono::{DateTime, NaiveDateTime, Utc};
use ports::{StoreError, StoreResult};
use sea_orm::{QueryResult, TryGetable};
use uuid::Uuid;

/// A value that does not decode into the type the rules need.
pub(crate) fn decode_error(column: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptData { table: "a row", detail: format!("column {column}: {error}") }
}

/// Reads a column, trying a second Rust type when the first does not fit the driver's type
/// (an `integer` is `i32` to PostgreSQL's driver, `i64` to SQLite's).
fn get<T: TryGetable>(row: &QueryResult, column: &str) -> Result<T, sea_orm::DbErr> {
    row.try_get::<T>("", column)
}

/// Reads column `column` (see [the module](self)).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_i64(row: &QueryResult, column: &str) -> StoreResult<i64> {
    get::<i64>(row, column)
        .or_else(|_| get::<i32>(row, column).map(i64::from))
        // `smallint` (PostgreSQL) and MySQL's `smallint unsigned` (Django's
        // `PositiveSmallIntegerField`).
        .or_else(|_| get::<i16>(row, column).map(i64::from))
        .or_else(|_| get::<u16>(row, column).map(i64::from))
        .map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [the module](self)).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_opt_i64(row: &QueryResult, column: &str) -> StoreResult<Option<i64>> {
    get::<Option<i64>>(row, column)
        .or_else(|_| get::<Option<i32>>(row, column).map(|v| v.map(i64::from)))
        .map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [the module](self)).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_string(row: &QueryResult, column: &str) -> StoreResult<String> {
    get::<String>(row, column).map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [the module](self)).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_opt_string(row: &QueryResult, column: &str) -> StoreResult<Option<String>> {
    get::<Option<String>>(row, column).map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [the module](self)).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_bool(row: &QueryResult, column: &str) -> StoreResult<bool> {
    get::<bool>(row, column)
        .or_else(|_| get::<i64>(row, column).map(|v| v != 0))
        .or_else(|_| get::<i32>(row, column).map(|v| v != 0))
        .map_err(|e| decode_error(column, e))
}

/// Reads column `column` (see [the module](self)).
///
/// # Errors
/// [`ports::StoreError::CorruptData`] when the value does not decode.
pub fn get_opt_bool(row: &QueryResult, column: &str) -> StoreResult<Option<bool>> {
    get::<Option<bool>>(row, column)
        .or_else(|_| get::<Option<i64>>(row, column).map(|v| v.map(|v| v != 0)))
        .or_else(|_| get::<Option<i32>>(row, column).map(|v| v.map(|v| v != 0)))
        .map_err(|e| decode_error(column, e))
}

/// A UUID in any of the encodings: native, 32 hex digits or hyphenated text.
/// Reads column `column` (see [the module](self)).
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
/// Reads column `column` (see [the module](self)).
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
