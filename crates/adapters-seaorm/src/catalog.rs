//! What the database says about its own tables, read once at connection: columns, their
//! types, and the columns of each unique index. Django's constraint names carry hashed
//! suffixes and differ between Open edX versions, so nothing here assumes a name.

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::dialect::{Backend, get_string};
use crate::sql::Sql;

/// The tables the linking reads or writes.
pub(crate) const TABLES: [&str; 13] = [
    tables::USER,
    tables::PE,
    tables::PCE,
    tables::CE,
    tables::PE_HISTORY,
    tables::PCE_HISTORY,
    tables::CE_HISTORY,
    tables::INVITATION,
    tables::COURSE_OVERVIEW,
    tables::COURSE_MODE,
    tables::ROLE,
    tables::ROLE_ASSIGNMENT,
    "seaql_migrations",
];

/// Table names, as Open edX has them.
pub(crate) mod tables {
    pub(crate) const USER: &str = "auth_user";
    pub(crate) const PE: &str = "program_enrollments_programenrollment";
    pub(crate) const PCE: &str = "program_enrollments_programcourseenrollment";
    pub(crate) const CE: &str = "student_courseenrollment";
    pub(crate) const PE_HISTORY: &str = "program_enrollments_historicalprogramenrollment";
    pub(crate) const PCE_HISTORY: &str = "program_enrollments_historicalprogramcourseenrollment";
    pub(crate) const CE_HISTORY: &str = "student_courseenrollment_history";
    pub(crate) const INVITATION: &str = "student_courseenrollmentallowed";
    pub(crate) const COURSE_OVERVIEW: &str = "course_overviews_courseoverview";
    pub(crate) const COURSE_MODE: &str = "course_modes_coursemode";
    pub(crate) const ROLE: &str = "student_courseaccessrole";
    pub(crate) const ROLE_ASSIGNMENT: &str = "program_enrollments_courseaccessroleassignment";
}

/// One column: name and lowercase type name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// The type as the catalog names it, lowercase (`char`, `uuid`, `datetime`, …).
    pub data_type: String,
    /// Whether the column accepts NULL.
    pub nullable: bool,
    /// Whether the column has a default (an identity or autoincrement counts).
    pub has_default: bool,
}

/// Columns and unique indexes of the tables the linking uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    columns: HashMap<String, Vec<Column>>,
    unique: HashMap<(String, String), Vec<String>>,
}

impl Catalog {
    pub(crate) async fn read(conn: &DatabaseConnection, backend: Backend) -> Result<Self, DbErr> {
        let mut catalog = Self::default();
        for table in TABLES {
            let columns = table_columns(conn, backend, table).await?;
            if !columns.is_empty() {
                catalog.columns.insert(table.to_owned(), columns);
            }
        }
        catalog.unique = unique_indexes(conn, backend).await?;
        Ok(catalog)
    }

    /// The table's columns in order; empty if the table does not exist.
    pub(crate) fn columns(&self, table: &str) -> &[Column] {
        self.columns.get(table).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.columns.contains_key(table)
    }

    pub(crate) fn column_type(&self, table: &str, column: &str) -> Option<&str> {
        self.columns(table).iter().find(|c| c.name == column).map(|c| c.data_type.as_str())
    }

    /// The columns of the unique index `name` of `table`, in declared order.
    pub(crate) fn unique_columns(&self, table: &str, name: &str) -> Option<&[String]> {
        self.unique.get(&(table.to_owned(), name.to_owned())).map(Vec::as_slice)
    }

    /// The columns a history row copies from its live row: every column of the live table
    /// that the history table also has, in the live table's order.
    pub(crate) fn history_copy_columns(&self, live: &str, history: &str) -> Vec<String> {
        let history_columns = self.columns(history);
        self.columns(live)
            .iter()
            .filter(|c| history_columns.iter().any(|h| h.name == c.name))
            .map(|c| c.name.clone())
            .collect()
    }
}

/// The columns of `table` in declared order, with their types; empty if it does not exist.
///
/// # Errors
/// A database error.
pub async fn table_columns(conn: &DatabaseConnection, backend: Backend, table: &str) -> Result<Vec<Column>, DbErr> {
    let mut sql = match backend {
        Backend::Sqlite => Sql::new(
            backend,
            "SELECT name AS column_name, type AS data_type, CASE WHEN \"notnull\" = 0 AND pk = 0 THEN 'YES' ELSE 'NO' END \
             AS is_nullable, CASE WHEN dflt_value IS NOT NULL OR pk > 0 THEN 'YES' ELSE 'NO' END AS has_default \
             FROM pragma_table_info(",
        ),
        Backend::Postgres => Sql::new(
            backend,
            "SELECT column_name::text AS column_name, data_type::text AS data_type, is_nullable::text AS is_nullable, \
             CASE WHEN column_default IS NOT NULL OR is_identity = 'YES' THEN 'YES' ELSE 'NO' END AS has_default \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ",
        ),
        Backend::MySql => Sql::new(
            backend,
            "SELECT COLUMN_NAME AS column_name, DATA_TYPE AS data_type, IS_NULLABLE AS is_nullable, \
             CASE WHEN COLUMN_DEFAULT IS NOT NULL OR EXTRA LIKE '%auto_increment%' THEN 'YES' ELSE 'NO' END \
             AS has_default FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ",
        ),
    };
    sql.bind(table);
    sql.push(match backend {
        Backend::Sqlite => ") ORDER BY cid",
        _ => " ORDER BY ordinal_position",
    });
    let rows = conn.query_all_raw(sql.build()).await?;
    rows.iter()
        .map(|row| {
            let name = get_string(row, "column_name").map_err(|e| DbErr::Custom(e.to_string()))?;
            let get = |c| get_string(row, c).map_err(|e| DbErr::Custom(e.to_string()));
            Ok(Column {
                name,
                data_type: get("data_type")?.to_lowercase(),
                nullable: get("is_nullable")? == "YES",
                has_default: get("has_default")? == "YES",
            })
        })
        .collect()
}

async fn unique_indexes(
    conn: &DatabaseConnection,
    backend: Backend,
) -> Result<HashMap<(String, String), Vec<String>>, DbErr> {
    let written = [tables::PE, tables::PCE, tables::CE, tables::INVITATION, tables::ROLE, tables::ROLE_ASSIGNMENT];
    let mut sql = match backend {
        // SQLite's own messages name the columns; nothing to read.
        Backend::Sqlite => return Ok(HashMap::new()),
        Backend::Postgres => Sql::new(
            backend,
            "SELECT t.relname::text AS table_name, i.relname::text AS index_name, a.attname::text AS column_name \
             FROM pg_index x \
             JOIN pg_class i ON i.oid = x.indexrelid \
             JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE x.indisunique AND n.nspname = current_schema() AND t.relname IN ",
        ),
        Backend::MySql => Sql::new(
            backend,
            "SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, COLUMN_NAME AS column_name \
             FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND TABLE_NAME IN ",
        ),
    };
    sql.bind_list(written);
    sql.push(match backend {
        Backend::Postgres => " ORDER BY 1, 2, k.ord",
        _ => " ORDER BY 1, 2, SEQ_IN_INDEX",
    });
    let mut unique: HashMap<(String, String), Vec<String>> = HashMap::new();
    for row in conn.query_all_raw(sql.build()).await? {
        let get = |c| get_string(&row, c).map_err(|e| DbErr::Custom(e.to_string()));
        unique.entry((get("table_name")?, get("index_name")?)).or_default().push(get("column_name")?);
    }
    Ok(unique)
}
