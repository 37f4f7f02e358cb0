//! What every migration does with its DDL: run a backend's statements (MySQL's with the table
//! options), and drop its tables again.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseBackend, Statement};

/// `ENGINE=InnoDB`, and the charset: Django leaves charset and collation to the database's
/// default, so do we when that default is `utf8mb4` (keeping its collation, typically a
/// case-insensitive one); otherwise we ask for `utf8mb4` with that charset's default collation.
pub(crate) async fn mysql_table_options(conn: &SchemaManagerConnection<'_>) -> Result<&'static str, DbErr> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DatabaseBackend::MySql,
            "SELECT CAST(@@character_set_database AS CHAR) AS cs",
        ))
        .await?;
    let charset: Option<String> = match row {
        Some(row) => row.try_get_by_index(0)?,
        None => None,
    };
    Ok(if charset.as_deref() == Some("utf8mb4") { "ENGINE=InnoDB" } else { "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" })
}

/// Runs the statements of the connection's backend, in order: an index statement only where its
/// table has no index of its shape; MySQL's `CREATE TABLE`s get [`mysql_table_options`] appended.
pub(crate) async fn create(
    manager: &SchemaManager<'_>,
    sqlite: &[&'static str],
    postgres: &[&'static str],
    mysql: &[&str],
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    match manager.get_database_backend() {
        // An index only where the table has none of its shape (`migrate --force` on Django's).
        DatabaseBackend::Sqlite => crate::indexes::execute_unless_indexed(conn, sqlite).await,
        DatabaseBackend::Postgres => crate::indexes::execute_unless_indexed(conn, postgres).await,
        DatabaseBackend::MySql => {
            let options = mysql_table_options(conn).await?;
            for sql in mysql {
                conn.execute_unprepared(&format!("{sql} {options}")).await?;
            }
            Ok(())
        }
        other => Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
    }
}

/// Drops `tables` (given parents first) in reverse order.
pub(crate) async fn drop(manager: &SchemaManager<'_>, tables: &[&str]) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let quote = match manager.get_database_backend() {
        DatabaseBackend::MySql => '`',
        _ => '"',
    };
    for table in tables.iter().rev() {
        conn.execute_unprepared(&format!("DROP TABLE IF EXISTS {quote}{table}{quote}")).await?;
    }
    Ok(())
}
