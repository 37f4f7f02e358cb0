//! Turns driver errors into port errors: a conflict with another writer, a missing privilege,
//! a unique violation naming its columns (found from the catalog by the constraint's name).

use std::ops::Deref;

use domain::UniqueViolation;
use ports::StoreError;
use sea_orm::{DbErr, RuntimeErr};

use crate::backend::Backend;
use crate::catalog::Catalog;

/// Any other driver error, naming the backend: [`StoreError::Conflict`] when the database gave
/// up on the transaction because of another writer, [`StoreError::Backend`] otherwise.
pub(crate) fn backend_error(backend: Backend, error: DbErr) -> StoreError {
    if is_conflict(backend, &error) {
        StoreError::Conflict { backend: backend.name(), source: Box::new(error) }
    } else if is_permission_denied(backend, &error) {
        StoreError::PermissionDenied { backend: backend.name(), source: Box::new(error) }
    } else {
        StoreError::Backend { backend: backend.name(), source: Box::new(error) }
    }
}

/// A deadlock, a serialization failure or a lock that could not be had in time: the
/// transaction must be rolled back, and running it again may succeed.
fn is_conflict(backend: Backend, error: &DbErr) -> bool {
    let Some(db_error) = database_error(error) else { return false };
    match backend {
        // SQLITE_BUSY, SQLITE_LOCKED (and their extended codes): another connection holds the
        // file's write lock beyond the busy timeout.
        Backend::Sqlite => {
            db_error.code().is_some_and(|code| code.parse::<i64>().is_ok_and(|code| matches!(code & 0xff, 5 | 6)))
        }
        // serialization_failure, deadlock_detected, lock_not_available.
        Backend::Postgres => db_error.code().is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01" | "55P03")),
        // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT.
        Backend::MySql => db_error
            .try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| matches!(e.number(), 1213 | 1205)),
    }
}

/// The user lacks a privilege: PostgreSQL's `insufficient_privilege` (42501), MySQL's
/// `ER_TABLEACCESS_DENIED_ERROR` (1142) or `ER_COLUMNACCESS_DENIED_ERROR` (1143).
pub(crate) fn is_permission_denied(backend: Backend, error: &DbErr) -> bool {
    let Some(db_error) = database_error(error) else { return false };
    match backend {
        Backend::Sqlite => false,
        Backend::Postgres => db_error.code().is_some_and(|code| code == "42501"),
        Backend::MySql => db_error
            .try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| matches!(e.number(), 1142 | 1143)),
    }
}

fn database_error(error: &DbErr) -> Option<&(dyn sea_orm::sqlx::error::DatabaseError + 'static)> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Query(RuntimeErr::SqlxError(sqlx_error))
    | DbErr::Conn(RuntimeErr::SqlxError(sqlx_error))) = error
    else {
        return None;
    };
    match sqlx_error.deref() {
        sea_orm::sqlx::Error::Database(db_error) => Some(db_error.as_ref()),
        _ => None,
    }
}

/// Classifies an error of a write to `table`: a unique violation becomes
/// [`StoreError::UniqueViolation`] naming the constraint's columns in declared order, found
/// from the database itself (SQLite's message; PostgreSQL's and MySQL's catalog by the
/// constraint's name, whatever it is).
pub(crate) fn write_error(backend: Backend, catalog: &Catalog, table: &str, error: DbErr) -> StoreError {
    match unique_violation(backend, catalog, table, &error) {
        Some(violation) => StoreError::UniqueViolation(violation),
        None => backend_error(backend, error),
    }
}

fn unique_violation(backend: Backend, catalog: &Catalog, table: &str, error: &DbErr) -> Option<UniqueViolation> {
    let db_error = database_error(error)?;
    let code = db_error.code().map(|c| c.into_owned()).unwrap_or_default();
    match backend {
        Backend::Sqlite if code == "2067" || code == "1555" => parse_sqlite_message(db_error.message()),
        Backend::Postgres if code == "23505" => {
            let name = db_error.constraint()?;
            let table = db_error.table().unwrap_or(table);
            catalog.unique_columns(table, name).map(|columns| UniqueViolation::new(table, columns.iter().cloned()))
        }
        Backend::MySql => {
            let number = db_error.try_downcast_ref::<sea_orm::sqlx::mysql::MySqlDatabaseError>()?.number();
            if !matches!(number, 1062 | 1586) {
                return None;
            }
            let name = parse_mysql_key(db_error.message())?;
            catalog.unique_columns(table, name).map(|columns| UniqueViolation::new(table, columns.iter().cloned()))
        }
        _ => None,
    }
}

/// `UNIQUE constraint failed: t.a, t.b` names the table and columns in declared order.
fn parse_sqlite_message(message: &str) -> Option<UniqueViolation> {
    let list = message.strip_prefix("UNIQUE constraint failed: ")?;
    let mut table = None;
    let mut columns = Vec::new();
    for qualified in list.split(", ") {
        let (t, column) = qualified.split_once('.')?;
        table.get_or_insert(t);
        columns.push(column);
    }
    Some(UniqueViolation::new(table?, columns))
}

/// `Duplicate entry 'x-y' for key 'name'` (MariaDB) or `… for key 'table.name'` (MySQL 8).
/// The entry itself may hold quotes, so the key is read from the end.
fn parse_mysql_key(message: &str) -> Option<&str> {
    let start = message.rfind(" for key '")? + " for key '".len();
    let key = message[start..].strip_suffix('\'')?;
    Some(key.rsplit_once('.').map_or(key, |(_, name)| name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_table_and_columns() {
        let v = parse_sqlite_message(
            "UNIQUE constraint failed: student_courseenrollment.user_id, student_courseenrollment.course_id",
        )
        .unwrap();
        assert_eq!(v, UniqueViolation::new("student_courseenrollment", ["user_id", "course_id"]));
        assert!(parse_sqlite_message("NOT NULL constraint failed: x.y").is_none());
    }

    #[test]
    fn mysql_key_names_are_read_from_the_end() {
        assert_eq!(parse_mysql_key("Duplicate entry '1-a' for key 'ce_user_course_uniq'"), Some("ce_user_course_uniq"));
        assert_eq!(
            parse_mysql_key("Duplicate entry 'it's for key 'x'-1' for key 'student_courseenrollment.uq'"),
            Some("uq")
        );
    }
}
