//! The tables the linking uses ([`tables`]: every statement names its tables from there), and
//! what the database says about them, read once at connection: columns, their types, and the
//! columns of each unique index. Django's constraint names carry hashed suffixes and differ
//! between Open edX versions, so nothing here assumes a name.

use std::collections::HashMap;

use domain::Collation;
use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoIden, JoinType, Order, Query, SelectStatement, TableRef};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult};

use crate::backend::Backend;
use crate::decode::{get_bool, get_string};

/// The tables the linking cannot work without.
pub(crate) const REQUIRED: [&str; 8] = [
    tables::USER,
    tables::PE,
    tables::PCE,
    tables::CE,
    tables::PE_HISTORY,
    tables::PCE_HISTORY,
    tables::CE_HISTORY,
    tables::COURSE_OVERVIEW,
];

/// The tables whose absence turns a feature off: invitations, relinking's course modes,
/// course access roles, discussion roles, schedules and their upgrade deadline configuration.
pub(crate) const OPTIONAL: [&str; 12] = [
    tables::INVITATION,
    tables::COURSE_MODE,
    tables::ROLE,
    tables::ROLE_ASSIGNMENT,
    tables::FORUM_ROLE,
    tables::FORUM_ROLE_USERS,
    tables::SCHEDULE,
    tables::SCHEDULE_EXPERIENCE,
    tables::SCHEDULE_HISTORY,
    tables::UPGRADE_DEADLINE,
    tables::ORG_UPGRADE_DEADLINE,
    tables::COURSE_UPGRADE_DEADLINE,
];

/// The tables only the support tool's inspector reads (never the linking; not in `LINK_GRANTS`).
pub(crate) const INSPECT: [&str; 4] =
    [tables::SOCIAL_AUTH, tables::SOCIAL_AUTH_HISTORY, tables::SAML_PROVIDER, tables::ORGANIZATION];

/// Every table the inspector's reads and the service's permission check touch: what
/// `INSPECT_GRANTS` grants (`SELECT`).
pub(crate) const INSPECTOR_READS: [&str; 9] = [
    tables::USER,
    tables::ROLE,
    tables::PE,
    tables::PCE,
    tables::CE,
    tables::SOCIAL_AUTH,
    tables::SOCIAL_AUTH_HISTORY,
    tables::SAML_PROVIDER,
    tables::ORGANIZATION,
];

/// The tables the inspector cannot work without (the others' absence refuses only the
/// lookups that need them, with `StoreError::MissingTable`).
pub(crate) const INSPECTOR_REQUIRED: [&str; 4] = [tables::USER, tables::PE, tables::PCE, tables::CE];

/// The migrations' bookkeeping table (present on a database our migrations created).
const MIGRATIONS: &str = "seaql_migrations";

/// Every table the catalog describes: the linking's, and [`MIGRATIONS`].
fn described() -> impl Iterator<Item = &'static str> {
    REQUIRED.into_iter().chain(OPTIONAL).chain(INSPECT).chain([MIGRATIONS])
}

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
    pub(crate) const SOCIAL_AUTH: &str = "social_auth_usersocialauth";
    pub(crate) const SOCIAL_AUTH_HISTORY: &str = "support_historicalusersocialauth";
    pub(crate) const SAML_PROVIDER: &str = "third_party_auth_samlproviderconfig";
    pub(crate) const ORGANIZATION: &str = "organizations_organization";
    pub(crate) const FORUM_ROLE: &str = "django_comment_client_role";
    pub(crate) const FORUM_ROLE_USERS: &str = "django_comment_client_role_users";
    pub(crate) const SCHEDULE: &str = "schedules_schedule";
    pub(crate) const SCHEDULE_EXPERIENCE: &str = "schedules_scheduleexperience";
    pub(crate) const SCHEDULE_HISTORY: &str = "schedules_historicalschedule";
    pub(crate) const UPGRADE_DEADLINE: &str = "courseware_dynamicupgradedeadlineconfiguration";
    pub(crate) const ORG_UPGRADE_DEADLINE: &str = "courseware_orgdynamicupgradedeadlineconfiguration";
    pub(crate) const COURSE_UPGRADE_DEADLINE: &str = "courseware_coursedynamicupgradedeadlineconfiguration";
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
    collation: Collation,
}

impl Catalog {
    pub(crate) async fn read(conn: &DatabaseConnection, backend: Backend) -> Result<Self, DbErr> {
        let mut catalog = Self::default();
        for table in described() {
            let columns = table_columns(conn, backend, table).await?;
            if !columns.is_empty() {
                catalog.columns.insert(table.to_owned(), columns);
            }
        }
        catalog.unique = unique_indexes(conn, backend).await?;
        catalog.collation = course_key_collation(conn, backend).await?;
        Ok(catalog)
    }

    /// How the database compares course keys and emails.
    pub(crate) fn collation(&self) -> Collation {
        self.collation
    }

    /// The table's columns in order; empty if the table does not exist.
    pub(crate) fn columns(&self, table: &str) -> &[Column] {
        self.columns.get(table).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.columns.contains_key(table)
    }

    /// Whether both course access role tables exist.
    pub(crate) fn roles_supported(&self) -> bool {
        self.has_table(tables::ROLE) && self.has_table(tables::ROLE_ASSIGNMENT)
    }

    /// Whether both discussion role tables exist.
    pub(crate) fn forum_roles_supported(&self) -> bool {
        self.has_table(tables::FORUM_ROLE) && self.has_table(tables::FORUM_ROLE_USERS)
    }

    /// Whether the schedule, schedule experience and schedule history tables all exist.
    pub(crate) fn schedules_supported(&self) -> bool {
        self.has_table(tables::SCHEDULE)
            && self.has_table(tables::SCHEDULE_EXPERIENCE)
            && self.has_table(tables::SCHEDULE_HISTORY)
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
    let mut select = Query::select();
    match backend {
        Backend::Sqlite => select
            .expr_as(Expr::col("name"), "column_name")
            .expr_as(Expr::col("type"), "data_type")
            .expr_as(Expr::col("notnull").eq(0).and(Expr::col("pk").eq(0)), "nullable")
            .expr_as(Expr::col("dflt_value").is_not_null().or(Expr::col("pk").gt(0)), "has_default")
            .from(TableRef::FunctionCall(Func::cust("pragma_table_info").arg(table), "p".into_iden()))
            .order_by("cid", Order::Asc),
        Backend::Postgres => select
            .expr_as(Expr::col("column_name").cast_as("text"), "column_name")
            .expr_as(Expr::col("data_type").cast_as("text"), "data_type")
            .expr_as(Expr::col("is_nullable").cast_as("text").eq("YES"), "nullable")
            .expr_as(
                Expr::col("column_default").is_not_null().or(Expr::col("is_identity").cast_as("text").eq("YES")),
                "has_default",
            )
            .from(("information_schema", "columns"))
            .and_where(Expr::col("table_schema").eq(Func::cust("current_schema")))
            .and_where(Expr::col("table_name").eq(table))
            .order_by("ordinal_position", Order::Asc),
        Backend::MySql => select
            .expr_as(Expr::col("COLUMN_NAME"), "column_name")
            .expr_as(Expr::col("DATA_TYPE"), "data_type")
            .expr_as(Expr::col("IS_NULLABLE").eq("YES"), "nullable")
            .expr_as(
                Expr::col("COLUMN_DEFAULT").is_not_null().or(Expr::col("EXTRA").like("%auto_increment%")),
                "has_default",
            )
            .from(("information_schema", "COLUMNS"))
            .and_where(Expr::col("TABLE_SCHEMA").eq(Func::cust("DATABASE")))
            .and_where(Expr::col("TABLE_NAME").eq(table))
            .order_by("ORDINAL_POSITION", Order::Asc),
    };
    let rows = conn.query_all_raw(backend.db_backend().build(&select)).await?;
    rows.iter()
        .map(|row| {
            Ok(Column {
                name: text(row, "column_name")?,
                data_type: text(row, "data_type")?.to_lowercase(),
                nullable: get_bool(row, "nullable").map_err(|e| DbErr::Custom(e.to_string()))?,
                has_default: get_bool(row, "has_default").map_err(|e| DbErr::Custom(e.to_string()))?,
            })
        })
        .collect()
}

fn text(row: &QueryResult, column: &str) -> Result<String, DbErr> {
    get_string(row, column).map_err(|e| DbErr::Custom(e.to_string()))
}

/// How the database compares course keys (and emails): on MySQL/MariaDB, by the collation of
/// `student_courseenrollment.course_id` (a `_ci` one ignores case; Django leaves the
/// database's default, case-insensitive unless the operator chose otherwise); exact on SQLite
/// (`BINARY`) and PostgreSQL (a nondeterministic ICU collation on these columns is not
/// looked for). One collation for every compared column: Django gives them all the same.
async fn course_key_collation(conn: &DatabaseConnection, backend: Backend) -> Result<Collation, DbErr> {
    if backend != Backend::MySql {
        return Ok(Collation::Exact);
    }
    let select = Query::select()
        .expr_as(Expr::col("COLLATION_NAME"), "collation_name")
        .from(("information_schema", "COLUMNS"))
        .and_where(Expr::col("TABLE_SCHEMA").eq(Func::cust("DATABASE")))
        .and_where(Expr::col("TABLE_NAME").eq(tables::CE))
        .and_where(Expr::col("COLUMN_NAME").eq("course_id"))
        .take();
    let row = conn.query_one_raw(backend.db_backend().build(&select)).await?;
    let name = match row {
        Some(row) => crate::decode::get_opt_string(&row, "collation_name").map_err(|e| DbErr::Custom(e.to_string()))?,
        None => None,
    };
    Ok(match name {
        Some(name) if name.to_ascii_lowercase().ends_with("_ci") => Collation::CaseInsensitive,
        _ => Collation::Exact,
    })
}

/// The columns of the unique indexes of the tables the linking writes, in declared order.
async fn unique_indexes(
    conn: &DatabaseConnection,
    backend: Backend,
) -> Result<HashMap<(String, String), Vec<String>>, DbErr> {
    let written = [tables::PE, tables::PCE, tables::CE, tables::INVITATION, tables::ROLE, tables::ROLE_ASSIGNMENT];
    let select = match backend {
        // SQLite's own messages name the columns; nothing to read.
        Backend::Sqlite => return Ok(HashMap::new()),
        Backend::Postgres => postgres_unique_indexes(&written),
        Backend::MySql => Query::select()
            .expr_as(Expr::col("TABLE_NAME"), "table_name")
            .expr_as(Expr::col("INDEX_NAME"), "index_name")
            .expr_as(Expr::col("COLUMN_NAME"), "column_name")
            .from(("information_schema", "STATISTICS"))
            .and_where(Expr::col("TABLE_SCHEMA").eq(Func::cust("DATABASE")))
            .and_where(Expr::col("NON_UNIQUE").eq(0))
            .and_where(Expr::col("TABLE_NAME").is_in(written))
            .order_by("TABLE_NAME", Order::Asc)
            .order_by("INDEX_NAME", Order::Asc)
            .order_by("SEQ_IN_INDEX", Order::Asc)
            .take(),
    };
    let mut unique: HashMap<(String, String), Vec<String>> = HashMap::new();
    for row in conn.query_all_raw(backend.db_backend().build(&select)).await? {
        unique
            .entry((text(&row, "table_name")?, text(&row, "index_name")?))
            .or_default()
            .push(text(&row, "column_name")?);
    }
    Ok(unique)
}

/// PostgreSQL's unique indexes of `tables`, from `pg_index`: one row per key column, in the
/// index's order.
fn postgres_unique_indexes(tables: &[&'static str]) -> SelectStatement {
    let name = |table: &'static str, column: &'static str| Expr::col((table, column)).cast_as("text");
    Query::select()
        .expr_as(name("t", "relname"), "table_name")
        .expr_as(name("i", "relname"), "index_name")
        .expr_as(name("a", "attname"), "column_name")
        .from_as(("pg_catalog", "pg_index"), "x")
        .join_as(
            JoinType::InnerJoin,
            ("pg_catalog", "pg_class"),
            "i",
            Expr::col(("i", "oid")).equals(("x", "indexrelid")),
        )
        .join_as(
            JoinType::InnerJoin,
            ("pg_catalog", "pg_class"),
            "t",
            Expr::col(("t", "oid")).equals(("x", "indrelid")),
        )
        .join_as(
            JoinType::InnerJoin,
            ("pg_catalog", "pg_namespace"),
            "n",
            Expr::col(("n", "oid")).equals(("t", "relnamespace")),
        )
        .join_as(
            JoinType::InnerJoin,
            ("pg_catalog", "pg_attribute"),
            "a",
            // Hand-written: sea-query has no `= ANY(array column)`.
            Expr::col(("a", "attrelid")).equals(("t", "oid")).and(Expr::cust(r#""a"."attnum" = ANY("x"."indkey")"#)),
        )
        .and_where(Expr::col(("x", "indisunique")))
        .and_where(Expr::col(("n", "nspname")).eq(Func::cust("current_schema")))
        .and_where(Expr::col(("t", "relname")).is_in(tables.iter().copied()))
        .order_by("table_name", Order::Asc)
        .order_by("index_name", Order::Asc)
        .order_by_expr(position_in_index(), Order::Asc)
        .take()
}

/// The position of `a.attnum` in the index's key columns `x.indkey`.
fn position_in_index() -> Expr {
    Func::cust("array_position")
        .arg(Expr::col(("x", "indkey")).cast_as("int2[]"))
        .arg(Expr::col(("a", "attnum")))
        .into()
}
