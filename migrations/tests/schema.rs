//! The migrations create Open edX's tables as Django does, checked from the database catalog.
//!
//! Per backend (SQLite in memory always; PostgreSQL with `TEST_POSTGRES_URL`, MySQL/MariaDB with
//! `TEST_MYSQL_URL`, each an admin URL through which a throw-away database `t_<hex>` is created):
//! - `Migrator::up` twice, then once more after deleting its `seaql_migrations` row (the DDL runs
//!   again over the existing tables: `IF NOT EXISTS` everywhere);
//! - each table's (column, type, nullable) list equals the one hard-coded below (taken from
//!   `tests/django/ddl/*.sql`), and its unique constraints' column lists are schema.md's;
//! - Django's own DDL (`tests/django/ddl/<backend>.sql`) is loaded into a second database and both
//!   catalogs are compared: columns (with identity/auto-increment/defaults), indexes (columns,
//!   order, DESC, opclass, uniqueness), unique constraints, foreign keys (with deferrability) and
//!   table options are equal, while no index or constraint name is Django's;
//! - `down` removes the tables, `up` recreates them;
//! - a second `student_courseenrollment` row for the same (user_id, course_id) is a unique violation;
//! - on the databases Django's `migrate` made (`DJANGO_*_TEMPLATE`, cloned), `Migrator::up` (what
//!   `migrate --force` runs) changes no index: none is added under our name beside Django's.
//!
//! A missing URL skips that backend with a message, or fails when `REQUIRE_DB_TESTS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use migrations::Migrator;
use sea_orm_migration::MigratorTrait;
use sea_orm_migration::sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, SqlErr, Statement};

// -------------------------------------------------------------------------------------------------
// What Django creates (tests/django/ddl/*.sql), hard-coded.
// -------------------------------------------------------------------------------------------------

/// The tables our migration creates, in creation order.
const OUR_TABLES: [&str; 27] = [
    "auth_user",
    "course_overviews_courseoverview",
    "student_courseenrollment",
    "student_courseenrollment_history",
    "student_courseenrollmentallowed",
    "program_enrollments_programenrollment",
    "program_enrollments_programcourseenrollment",
    "program_enrollments_historicalprogramenrollment",
    "program_enrollments_historicalprogramcourseenrollment",
    "course_modes_coursemode",
    "student_courseaccessrole",
    "program_enrollments_courseaccessroleassignment",
    "django_comment_client_role",
    "django_comment_client_role_users",
    "django_comment_client_permission",
    "django_comment_client_permission_roles",
    "schedules_schedule",
    "schedules_scheduleexperience",
    "schedules_historicalschedule",
    "courseware_dynamicupgradedeadlineconfiguration",
    "courseware_orgdynamicupgradedeadlineconfiguration",
    "courseware_coursedynamicupgradedeadlineconfiguration",
    "django_site",
    "organizations_organization",
    "social_auth_usersocialauth",
    "support_historicalusersocialauth",
    "third_party_auth_samlproviderconfig",
];

/// (column, [SQLite type, PostgreSQL type, MariaDB type], nullable), in Django's column order
/// (PostgreSQL and MariaDB; SQLite differs only for `auth_user`, see `AUTH_USER_SQLITE_ORDER`).
type ColumnSpec = (&'static str, [&'static str; 3], bool);

/// SQLite reports its own type names (`INTEGER`, `TEXT`) upper-cased, whatever the declaration
/// (Django writes `integer`, `text`); other declared types (`varchar(…)`, `bool`, …) as written.
const PK: [&str; 3] = ["INTEGER", "integer", "int(11)"];
const INT: [&str; 3] = ["INTEGER", "integer", "int(11)"];
const DATETIME: [&str; 3] = ["datetime", "timestamp with time zone", "datetime(6)"];
const BOOL: [&str; 3] = ["bool", "boolean", "tinyint(1)"];
const UUID: [&str; 3] = ["char(32)", "uuid", "char(32)"];
const TEXT: [&str; 3] = ["TEXT", "text", "longtext"];
const VARCHAR_1: [&str; 3] = ["varchar(1)", "character varying(1)", "varchar(1)"];
const VARCHAR_9: [&str; 3] = ["varchar(9)", "character varying(9)", "varchar(9)"];
const VARCHAR_100: [&str; 3] = ["varchar(100)", "character varying(100)", "varchar(100)"];
const VARCHAR_128: [&str; 3] = ["varchar(128)", "character varying(128)", "varchar(128)"];
const VARCHAR_150: [&str; 3] = ["varchar(150)", "character varying(150)", "varchar(150)"];
const VARCHAR_254: [&str; 3] = ["varchar(254)", "character varying(254)", "varchar(254)"];
const VARCHAR_255: [&str; 3] = ["varchar(255)", "character varying(255)", "varchar(255)"];
const VARCHAR_8: [&str; 3] = ["varchar(8)", "character varying(8)", "varchar(8)"];
const VARCHAR_64: [&str; 3] = ["varchar(64)", "character varying(64)", "varchar(64)"];
const DATE: [&str; 3] = ["date", "date", "date"];
/// social_django's ids are `BigAutoField`s (SQLite's `integer` primary key is 64-bit anyway).
const BIG_PK: [&str; 3] = ["INTEGER", "bigint", "bigint(20)"];
const BIGINT: [&str; 3] = ["bigint", "bigint", "bigint(20)"];
/// A `JSONField`: `text` with a `JSON_VALID` check on SQLite, `jsonb`, `longtext` (`utf8mb4_bin`,
/// with a check) on MariaDB.
const JSON: [&str; 3] = ["TEXT", "jsonb", "longtext"];
const VARCHAR_30: [&str; 3] = ["varchar(30)", "character varying(30)", "varchar(30)"];
const VARCHAR_32: [&str; 3] = ["varchar(32)", "character varying(32)", "varchar(32)"];
const VARCHAR_35: [&str; 3] = ["varchar(35)", "character varying(35)", "varchar(35)"];
const VARCHAR_50: [&str; 3] = ["varchar(50)", "character varying(50)", "varchar(50)"];

const AUTH_USER: &[ColumnSpec] = &[
    ("id", PK, false),
    ("password", VARCHAR_128, false),
    ("last_login", DATETIME, true),
    ("is_superuser", BOOL, false),
    ("username", VARCHAR_150, false),
    ("first_name", VARCHAR_150, false),
    ("last_name", VARCHAR_150, false),
    ("email", VARCHAR_254, false),
    ("is_staff", BOOL, false),
    ("is_active", BOOL, false),
    ("date_joined", DATETIME, false),
];
/// Django's SQLite `auth_user` has `first_name` last (its table rebuild for migration 0012).
const AUTH_USER_SQLITE_ORDER: [&str; 11] = [
    "id",
    "password",
    "last_login",
    "is_superuser",
    "username",
    "last_name",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "first_name",
];
const COURSE_OVERVIEW: &[ColumnSpec] = &[
    ("id", VARCHAR_255, false),
    ("display_name", TEXT, true),
    ("start", DATETIME, true),
    ("self_paced", BOOL, false),
    ("has_highlights", BOOL, true),
];
const SMALLINT_UNSIGNED: [&str; 3] = ["smallint unsigned", "smallint", "smallint(5) unsigned"];
const FORUM_ROLE: &[ColumnSpec] = &[("id", PK, false), ("name", VARCHAR_30, false), ("course_id", VARCHAR_255, false)];
const FORUM_ROLE_USERS: &[ColumnSpec] = &[("id", PK, false), ("role_id", INT, false), ("user_id", INT, false)];
const FORUM_PERMISSION: &[ColumnSpec] = &[("name", VARCHAR_30, false)];
const FORUM_PERMISSION_ROLES: &[ColumnSpec] =
    &[("id", PK, false), ("permission_id", VARCHAR_30, false), ("role_id", INT, false)];
const SCHEDULE: &[ColumnSpec] = &[
    ("id", PK, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("active", BOOL, false),
    ("start_date", DATETIME, true),
    ("upgrade_deadline", DATETIME, true),
    ("enrollment_id", INT, false),
];
const UPGRADE_DEADLINE: &[ColumnSpec] = &[
    ("id", PK, false),
    ("change_date", DATETIME, false),
    ("enabled", BOOL, false),
    ("deadline_days", SMALLINT_UNSIGNED, false),
    ("changed_by_id", INT, true),
];
const ORG_UPGRADE_DEADLINE: &[ColumnSpec] = &[
    ("id", PK, false),
    ("change_date", DATETIME, false),
    ("enabled", BOOL, false),
    ("org_id", VARCHAR_255, false),
    ("deadline_days", SMALLINT_UNSIGNED, false),
    ("opt_out", BOOL, false),
    ("changed_by_id", INT, true),
];
const COURSE_UPGRADE_DEADLINE: &[ColumnSpec] = &[
    ("id", PK, false),
    ("change_date", DATETIME, false),
    ("enabled", BOOL, false),
    ("course_id", VARCHAR_255, false),
    ("deadline_days", SMALLINT_UNSIGNED, false),
    ("opt_out", BOOL, false),
    ("changed_by_id", INT, true),
];
const SCHEDULE_EXPERIENCE: &[ColumnSpec] =
    &[("id", PK, false), ("experience_type", SMALLINT_UNSIGNED, false), ("schedule_id", INT, false)];
const HISTORICAL_SCHEDULE: &[ColumnSpec] = &[
    ("id", INT, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("active", BOOL, false),
    ("start_date", DATETIME, true),
    ("upgrade_deadline", DATETIME, true),
    ("history_id", PK, false),
    ("history_date", DATETIME, false),
    ("history_change_reason", VARCHAR_100, true),
    ("history_type", VARCHAR_1, false),
    ("enrollment_id", INT, true),
    ("history_user_id", INT, true),
];
const COURSE_ENROLLMENT: &[ColumnSpec] = &[
    ("id", PK, false),
    ("created", DATETIME, true),
    ("is_active", BOOL, false),
    ("mode", VARCHAR_100, false),
    ("course_id", VARCHAR_255, false),
    ("user_id", INT, false),
];
const COURSE_ENROLLMENT_HISTORY: &[ColumnSpec] = &[
    ("id", INT, false),
    ("created", DATETIME, true),
    ("is_active", BOOL, false),
    ("mode", VARCHAR_100, false),
    ("history_id", UUID, false),
    ("history_date", DATETIME, false),
    ("history_change_reason", VARCHAR_100, true),
    ("history_type", VARCHAR_1, false),
    ("course_id", VARCHAR_255, true),
    ("history_user_id", INT, true),
    ("user_id", INT, true),
];
const COURSE_ENROLLMENT_ALLOWED: &[ColumnSpec] = &[
    ("id", PK, false),
    ("email", VARCHAR_255, false),
    ("course_id", VARCHAR_255, false),
    ("auto_enroll", BOOL, false),
    ("created", DATETIME, true),
    ("user_id", INT, true),
];
const PROGRAM_ENROLLMENT: &[ColumnSpec] = &[
    ("id", PK, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("external_user_key", VARCHAR_255, true),
    ("program_uuid", UUID, false),
    ("curriculum_uuid", UUID, false),
    ("status", VARCHAR_9, false),
    ("user_id", INT, true),
];
const PROGRAM_COURSE_ENROLLMENT: &[ColumnSpec] = &[
    ("id", PK, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("course_key", VARCHAR_255, false),
    ("status", VARCHAR_9, false),
    ("course_enrollment_id", INT, true),
    ("program_enrollment_id", INT, false),
];
const HISTORICAL_PROGRAM_ENROLLMENT: &[ColumnSpec] = &[
    ("id", INT, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("external_user_key", VARCHAR_255, true),
    ("program_uuid", UUID, false),
    ("curriculum_uuid", UUID, false),
    ("status", VARCHAR_9, false),
    ("history_id", PK, false),
    ("history_date", DATETIME, false),
    ("history_change_reason", VARCHAR_100, true),
    ("history_type", VARCHAR_1, false),
    ("history_user_id", INT, true),
    ("user_id", INT, true),
];
const HISTORICAL_PROGRAM_COURSE_ENROLLMENT: &[ColumnSpec] = &[
    ("id", INT, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("course_key", VARCHAR_255, false),
    ("status", VARCHAR_9, false),
    ("history_id", PK, false),
    ("history_date", DATETIME, false),
    ("history_change_reason", VARCHAR_100, true),
    ("history_type", VARCHAR_1, false),
    ("course_enrollment_id", INT, true),
    ("history_user_id", INT, true),
    ("program_enrollment_id", INT, true),
];

const COURSE_MODE: &[ColumnSpec] = &[
    ("id", PK, false),
    ("mode_slug", VARCHAR_100, false),
    ("mode_display_name", VARCHAR_255, false),
    ("min_price", INT, false),
    ("currency", VARCHAR_8, false),
    ("expiration_datetime", DATETIME, true),
    ("expiration_datetime_is_explicit", BOOL, false),
    ("expiration_date", DATE, true),
    ("suggested_prices", VARCHAR_255, false),
    ("description", TEXT, true),
    ("sku", VARCHAR_255, true),
    ("android_sku", VARCHAR_255, true),
    ("ios_sku", VARCHAR_255, true),
    ("bulk_sku", VARCHAR_255, true),
    ("course_id", VARCHAR_255, false),
];
const COURSE_ACCESS_ROLE: &[ColumnSpec] = &[
    ("id", PK, false),
    ("org", VARCHAR_64, false),
    ("course_id", VARCHAR_255, false),
    ("role", VARCHAR_64, false),
    ("user_id", INT, false),
];
const ROLE_ASSIGNMENT: &[ColumnSpec] = &[
    ("id", PK, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("role", VARCHAR_64, false),
    ("enrollment_id", INT, false),
];

const SITE: &[ColumnSpec] = &[("id", PK, false), ("domain", VARCHAR_100, false), ("name", VARCHAR_50, false)];
/// Django's SQLite `django_site` has `domain` last (its table rebuild for `sites` 0002).
const SITE_SQLITE_ORDER: [&str; 3] = ["id", "name", "domain"];
const ORGANIZATION: &[ColumnSpec] = &[
    ("id", PK, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("name", VARCHAR_255, false),
    ("short_name", VARCHAR_255, false),
    ("description", TEXT, true),
    ("logo", VARCHAR_255, true),
    ("active", BOOL, false),
];
const USER_SOCIAL_AUTH: &[ColumnSpec] = &[
    ("id", BIG_PK, false),
    ("provider", VARCHAR_32, false),
    ("uid", VARCHAR_255, false),
    ("extra_data", JSON, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("user_id", INT, false),
];
const HISTORICAL_USER_SOCIAL_AUTH: &[ColumnSpec] = &[
    ("id", BIGINT, false),
    ("provider", VARCHAR_32, false),
    ("uid", VARCHAR_255, false),
    ("extra_data", JSON, false),
    ("created", DATETIME, false),
    ("modified", DATETIME, false),
    ("history_id", PK, false),
    ("history_date", DATETIME, false),
    ("history_change_reason", VARCHAR_100, true),
    ("history_type", VARCHAR_1, false),
    ("history_user_id", INT, true),
    ("user_id", INT, true),
];
const SAML_PROVIDER: &[ColumnSpec] = &[
    ("id", PK, false),
    ("change_date", DATETIME, false),
    ("enabled", BOOL, false),
    ("icon_class", VARCHAR_50, false),
    ("icon_image", VARCHAR_100, false),
    ("name", VARCHAR_50, false),
    ("slug", VARCHAR_30, false),
    ("secondary", BOOL, false),
    ("skip_hinted_login_dialog", BOOL, false),
    ("skip_registration_form", BOOL, false),
    ("skip_email_verification", BOOL, false),
    ("send_welcome_email", BOOL, false),
    ("visible", BOOL, false),
    ("send_to_registration_first", BOOL, false),
    ("sync_learner_profile_data", BOOL, false),
    ("enable_sso_id_verification", BOOL, false),
    ("disable_for_enterprise_sso", BOOL, false),
    ("display_name", VARCHAR_35, false),
    ("backend_name", VARCHAR_50, false),
    ("entity_id", VARCHAR_255, false),
    ("metadata_source", VARCHAR_255, false),
    ("attr_user_permanent_id", VARCHAR_128, false),
    ("attr_full_name", VARCHAR_128, false),
    ("default_full_name", VARCHAR_255, false),
    ("attr_first_name", VARCHAR_128, false),
    ("default_first_name", VARCHAR_255, false),
    ("attr_last_name", VARCHAR_128, false),
    ("default_last_name", VARCHAR_255, false),
    ("attr_username", VARCHAR_128, false),
    ("default_username", VARCHAR_255, false),
    ("attr_email", VARCHAR_128, false),
    ("default_email", VARCHAR_255, false),
    ("automatic_refresh_enabled", BOOL, false),
    ("identity_provider_type", VARCHAR_128, false),
    ("debug_mode", BOOL, false),
    ("country", VARCHAR_128, false),
    ("other_settings", TEXT, false),
    ("archived", BOOL, false),
    ("organization_id", INT, true),
    ("site_id", INT, false),
];

/// The expected (column, type, nullable) list of `table` on `backend`, in column order.
fn expected_columns(backend: Backend, table: &str) -> Vec<(String, String, bool)> {
    let spec = match table {
        "auth_user" => AUTH_USER,
        "course_overviews_courseoverview" => COURSE_OVERVIEW,
        "student_courseenrollment" => COURSE_ENROLLMENT,
        "student_courseenrollment_history" => COURSE_ENROLLMENT_HISTORY,
        "student_courseenrollmentallowed" => COURSE_ENROLLMENT_ALLOWED,
        "program_enrollments_programenrollment" => PROGRAM_ENROLLMENT,
        "program_enrollments_programcourseenrollment" => PROGRAM_COURSE_ENROLLMENT,
        "program_enrollments_historicalprogramenrollment" => HISTORICAL_PROGRAM_ENROLLMENT,
        "program_enrollments_historicalprogramcourseenrollment" => HISTORICAL_PROGRAM_COURSE_ENROLLMENT,
        "course_modes_coursemode" => COURSE_MODE,
        "student_courseaccessrole" => COURSE_ACCESS_ROLE,
        "program_enrollments_courseaccessroleassignment" => ROLE_ASSIGNMENT,
        "django_site" => SITE,
        "organizations_organization" => ORGANIZATION,
        "social_auth_usersocialauth" => USER_SOCIAL_AUTH,
        "support_historicalusersocialauth" => HISTORICAL_USER_SOCIAL_AUTH,
        "third_party_auth_samlproviderconfig" => SAML_PROVIDER,
        "django_comment_client_role" => FORUM_ROLE,
        "django_comment_client_role_users" => FORUM_ROLE_USERS,
        "django_comment_client_permission" => FORUM_PERMISSION,
        "django_comment_client_permission_roles" => FORUM_PERMISSION_ROLES,
        "schedules_schedule" => SCHEDULE,
        "schedules_scheduleexperience" => SCHEDULE_EXPERIENCE,
        "schedules_historicalschedule" => HISTORICAL_SCHEDULE,
        "courseware_dynamicupgradedeadlineconfiguration" => UPGRADE_DEADLINE,
        "courseware_orgdynamicupgradedeadlineconfiguration" => ORG_UPGRADE_DEADLINE,
        "courseware_coursedynamicupgradedeadlineconfiguration" => COURSE_UPGRADE_DEADLINE,
        other => panic!("no expected columns for {other}"),
    };
    let i = match backend {
        Backend::Sqlite => 0,
        Backend::Postgres => 1,
        Backend::MySql => 2,
    };
    let mut columns: Vec<_> =
        spec.iter().map(|(name, ty, null)| (name.to_string(), ty[i].to_string(), *null)).collect();
    if backend == Backend::Sqlite && table == "auth_user" {
        columns.sort_by_key(|(name, _, _)| AUTH_USER_SQLITE_ORDER.iter().position(|n| n == name));
    }
    if backend == Backend::Sqlite && table == "django_site" {
        columns.sort_by_key(|(name, _, _)| SITE_SQLITE_ORDER.iter().position(|n| n == name));
    }
    columns
}

/// The unique constraints of schema.md (column lists in order; the primary key not included).
fn expected_uniques(table: &str) -> BTreeSet<Vec<String>> {
    let lists: &[&[&str]] = match table {
        "auth_user" => &[&["username"]],
        "student_courseenrollment" => &[&["user_id", "course_id"]],
        "student_courseenrollmentallowed" => &[&["email", "course_id"]],
        "program_enrollments_programenrollment" => &[
            &["user_id", "program_uuid", "curriculum_uuid"],
            &["external_user_key", "program_uuid", "curriculum_uuid"],
        ],
        "program_enrollments_programcourseenrollment" => &[&["program_enrollment_id", "course_key"]],
        "course_modes_coursemode" => &[&["course_id", "mode_slug", "currency"]],
        "student_courseaccessrole" => &[&["user_id", "org", "course_id", "role"]],
        "program_enrollments_courseaccessroleassignment" => &[&["role", "enrollment_id"]],
        "django_site" => &[&["domain"]],
        "organizations_organization" => &[&["short_name"]],
        "social_auth_usersocialauth" => &[&["provider", "uid"]],
        "django_comment_client_role_users" => &[&["role_id", "user_id"]],
        "django_comment_client_permission_roles" => &[&["permission_id", "role_id"]],
        "schedules_schedule" => &[&["enrollment_id"]],
        "schedules_scheduleexperience" => &[&["schedule_id"]],
        _ => &[],
    };
    lists.iter().map(|cols| cols.iter().map(|c| c.to_string()).collect()).collect()
}

// -------------------------------------------------------------------------------------------------
// Throw-away databases.
// -------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    /// Django's DDL for this backend, as `tests/django/ddl` holds it.
    fn django_ddl(self) -> &'static str {
        match self {
            Backend::Sqlite => include_str!("../../tests/django/ddl/sqlite.sql"),
            Backend::Postgres => include_str!("../../tests/django/ddl/postgres.sql"),
            Backend::MySql => include_str!("../../tests/django/ddl/mariadb.sql"),
        }
    }
}

/// A database server to make throw-away databases on (nothing to make for SQLite in memory).
struct Server {
    backend: Backend,
    /// The admin URL from the environment, and a connection through it (not for SQLite).
    admin: Option<(String, DatabaseConnection)>,
    created: Vec<String>,
}

impl Server {
    /// `None` (after printing why) when the backend's URL is not set, unless `REQUIRE_DB_TESTS=1`
    /// ([`acceptance::skip`]).
    async fn connect(backend: Backend) -> Option<Server> {
        let var = match backend {
            Backend::Sqlite => return Some(Server { backend, admin: None, created: Vec::new() }),
            Backend::Postgres => "TEST_POSTGRES_URL",
            Backend::MySql => "TEST_MYSQL_URL",
        };
        let url = acceptance::skip::env_or_skip_for(var, &format!("the {backend:?} tests"))?;
        let admin = Database::connect(url.as_str()).await.unwrap_or_else(|e| panic!("connect {var}: {e}"));
        Some(Server { backend, admin: Some((url, admin)), created: Vec::new() })
    }

    /// A new, empty database (`sqlite::memory:` or `t_<random hex>` on the server).
    async fn new_database(&mut self) -> DatabaseConnection {
        let Some((url, admin)) = &self.admin else {
            return Database::connect("sqlite::memory:").await.unwrap();
        };
        let name = random_database_name();
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        self.created.push(name.clone());
        let mut options = ConnectOptions::new(url_with_database(url, &name));
        options.max_connections(2).sqlx_logging(false);
        Database::connect(options).await.unwrap()
    }

    /// A new database holding Django's DDL for this backend.
    async fn django_database(&mut self) -> DatabaseConnection {
        let db = self.new_database().await;
        match self.backend {
            // One statement a line; `sqlite_sequence` is SQLite's own table (made by AUTOINCREMENT).
            Backend::Sqlite => {
                for line in self.backend.django_ddl().lines() {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with("--") || line.starts_with("CREATE TABLE sqlite_sequence") {
                        continue;
                    }
                    db.execute_unprepared(line).await.unwrap_or_else(|e| panic!("{line}: {e}"));
                }
            }
            // Dumps: run whole (their session `SET`s stay on a pooled connection, so the catalog
            // queries below never depend on the session: they name the schema or use DATABASE()).
            Backend::Postgres | Backend::MySql => {
                db.execute_unprepared(self.backend.django_ddl()).await.unwrap();
            }
        }
        db
    }

    async fn drop_databases(self) {
        let Some((_, admin)) = self.admin else { return };
        for name in &self.created {
            let sql = match self.backend {
                Backend::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                _ => format!("DROP DATABASE IF EXISTS {name}"),
            };
            admin.execute_unprepared(&sql).await.unwrap();
        }
        admin.close().await.unwrap();
    }
}

fn random_database_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = (std::process::id(), SystemTime::now(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let a = RandomState::new().hash_one(seed);
    let b = RandomState::new().hash_one((a, seed));
    format!("t_{a:016x}{b:016x}")
}

/// `scheme://user:pw@host:port/db?query` with the database replaced by `name` (query kept).
fn url_with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_at(url.find('?').unwrap_or(url.len()));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let server = base[authority..].find('/').map_or(base, |i| &base[..authority + i]);
    format!("{server}/{name}{query}")
}

// -------------------------------------------------------------------------------------------------
// The catalog, per backend, normalised so that two schemas compare without their names.
// -------------------------------------------------------------------------------------------------

/// One table as the catalog describes it, without constraint or index names (those in `names`).
#[derive(Debug, Default)]
struct TableShape {
    /// (name, type, nullable, extra): extra is identity / auto-increment / default / pk flags.
    columns: Vec<(String, String, bool, String)>,
    /// Every index (primary key and unique ones included), e.g. `u btree (user_id, course_id)`.
    indexes: Vec<String>,
    /// Unique constraints' column lists.
    uniques: BTreeSet<Vec<String>>,
    /// Foreign keys, e.g. `user_id -> auth_user(id) deferrable deferred a a`.
    foreign_keys: Vec<String>,
    /// Engine/charset (MariaDB), identity sequences (PostgreSQL), AUTOINCREMENT and deferrable FKs
    /// (SQLite).
    options: String,
    /// Names of the indexes and constraints we or Django chose (PK/auto-generated ones excluded).
    names: Vec<String>,
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<Vec<String>> {
    let result = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    result
        .iter()
        .map(|row| {
            let mut values = Vec::new();
            while let Ok(value) = row.try_get_by_index_nullable::<Option<String>>(values.len()) {
                values.push(value.unwrap_or_else(|| "<null>".to_owned()));
            }
            values
        })
        .collect()
}

async fn table_names(db: &DatabaseConnection, backend: Backend) -> BTreeSet<String> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        Backend::Postgres => "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'",
        Backend::MySql => {
            "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
        }
    };
    rows(db, sql).await.into_iter().map(|mut r| r.swap_remove(0)).collect()
}

async fn shape(db: &DatabaseConnection, backend: Backend, table: &str) -> TableShape {
    match backend {
        Backend::Sqlite => sqlite_shape(db, table).await,
        Backend::Postgres => postgres_shape(db, table).await,
        Backend::MySql => mysql_shape(db, table).await,
    }
}

fn split_columns(list: &str) -> Vec<String> {
    list.split(',').map(|c| c.trim().to_owned()).collect()
}

async fn sqlite_shape(db: &DatabaseConnection, table: &str) -> TableShape {
    let mut shape = TableShape::default();
    for r in rows(
        db,
        &format!(
            "SELECT name, type, CAST(\"notnull\" AS TEXT), 'pk=' || pk || ' default=' || IFNULL(dflt_value, '-') \
             FROM pragma_table_info('{table}') ORDER BY cid"
        ),
    )
    .await
    {
        shape.columns.push((r[0].clone(), r[1].clone(), r[2] == "0", r[3].clone()));
    }
    for r in rows(
        db,
        &format!(
            "SELECT il.name, CAST(il.\"unique\" AS TEXT), il.origin, \
               (SELECT group_concat(x.name || CASE WHEN x.\"desc\" THEN ' DESC' ELSE '' END, ', ') \
                FROM (SELECT * FROM pragma_index_xinfo(il.name) WHERE key = 1 ORDER BY seqno) x) \
             FROM pragma_index_list('{table}') il"
        ),
    )
    .await
    {
        let (name, unique, origin, columns) = (&r[0], r[1] == "1", &r[2], &r[3]);
        shape.indexes.push(format!("{origin} {}({columns})", if unique { "UNIQUE " } else { "" }));
        if unique && origin != "pk" {
            shape.uniques.insert(split_columns(columns));
        }
        if !name.starts_with("sqlite_autoindex_") {
            shape.names.push(name.clone());
        }
    }
    for r in rows(
        db,
        &format!(
            "SELECT \"from\" || ' -> ' || \"table\" || '(' || \"to\" || ') ' || on_update || ' ' || on_delete \
             FROM pragma_foreign_key_list('{table}')"
        ),
    )
    .await
    {
        shape.foreign_keys.push(r[0].clone());
    }
    let sql =
        &rows(db, &format!("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = '{table}'")).await[0][0];
    shape.options = format!(
        "autoincrement={} deferred_fks={}",
        sql.contains("AUTOINCREMENT"),
        sql.matches("DEFERRABLE INITIALLY DEFERRED").count()
    );
    shape.indexes.sort();
    shape.foreign_keys.sort();
    shape
}

async fn postgres_shape(db: &DatabaseConnection, table: &str) -> TableShape {
    let mut shape = TableShape::default();
    let rel = format!(
        "(SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
          WHERE n.nspname = 'public' AND c.relname = '{table}')"
    );
    for r in rows(
        db,
        &format!(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), (NOT a.attnotnull)::text, \
               'identity=' || a.attidentity::text || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-') \
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE a.attrelid = {rel} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
    )
    .await
    {
        shape.columns.push((r[0].clone(), r[1].clone(), r[2] == "true", r[3].clone()));
    }
    for r in rows(
        db,
        &format!(
            "SELECT i.relname::text, coalesce(con.contype::text, '-'), ix.indisunique::text, \
               regexp_replace(pg_get_indexdef(ix.indexrelid), '^.* USING ', '') \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid \
             LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid \
               AND con.contype IN ('p', 'u') \
             WHERE ix.indrelid = {rel}"
        ),
    )
    .await
    {
        let (name, contype, unique, definition) = (&r[0], &r[1], r[2] == "true", &r[3]);
        shape.indexes.push(format!("{contype} {}{definition}", if unique { "UNIQUE " } else { "" }));
        if contype != "p" {
            shape.names.push(name.clone());
        }
    }
    for r in rows(
        db,
        &format!(
            "SELECT con.conname::text, \
               (SELECT string_agg(a.attname::text, ',' ORDER BY k.o) FROM unnest(con.conkey) WITH ORDINALITY k(n, o) \
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) \
             FROM pg_constraint con WHERE con.conrelid = {rel} AND con.contype = 'u'"
        ),
    )
    .await
    {
        shape.uniques.insert(split_columns(&r[1]));
    }
    for r in rows(
        db,
        &format!(
            "SELECT con.conname::text, a.attname || ' -> ' || rt.relname || '(' || ra.attname || ') ' \
               || CASE WHEN con.condeferrable THEN 'deferrable' ELSE 'immediate' END || ' ' \
               || CASE WHEN con.condeferred THEN 'deferred' ELSE 'not-deferred' END || ' ' \
               || con.confupdtype::text || ' ' || con.confdeltype::text \
             FROM pg_constraint con JOIN pg_class rt ON rt.oid = con.confrelid \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] \
             JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1] \
             WHERE con.conrelid = {rel} AND con.contype = 'f' AND cardinality(con.conkey) = 1"
        ),
    )
    .await
    {
        shape.names.push(r[0].clone());
        shape.foreign_keys.push(r[1].clone());
    }
    // The identity columns' sequences (named by PostgreSQL, the same for Django's DDL and ours).
    shape.options = rows(
        db,
        &format!(
            "SELECT coalesce(string_agg(a.attname || '=' || pg_get_serial_sequence('public.{table}', a.attname), ' ' \
                                        ORDER BY a.attnum), '') \
             FROM pg_attribute a WHERE a.attrelid = {rel} AND a.attidentity <> ''"
        ),
    )
    .await[0][0]
        .clone();
    shape.indexes.sort();
    shape.foreign_keys.sort();
    shape
}

async fn mysql_shape(db: &DatabaseConnection, table: &str) -> TableShape {
    let mut shape = TableShape::default();
    let here = format!("TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{table}'");
    // Each information_schema table of a join names its schema and table as constants: MariaDB
    // reads only those, where a join condition (`r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA`)
    // makes it open every table of every database (`EXPLAIN`: "Scanned all databases"), which
    // the hundreds of databases CI keeps for the read-back made take a minute.
    let k_here = format!("k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = '{table}'");
    for r in rows(
        db,
        &format!(
            "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), \
               CAST(CONCAT('extra=', EXTRA, ' default=', COALESCE(COLUMN_DEFAULT, '-'), \
                           ' charset=', COALESCE(CHARACTER_SET_NAME, '-')) AS CHAR) \
             FROM information_schema.COLUMNS WHERE {here} ORDER BY ORDINAL_POSITION"
        ),
    )
    .await
    {
        shape.columns.push((r[0].clone(), r[1].clone(), r[2] == "YES", r[3].clone()));
    }
    for r in rows(
        db,
        &format!(
            "SELECT CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS CHAR), \
               CAST(GROUP_CONCAT(CONCAT(COLUMN_NAME, IF(COLLATION = 'D', ' DESC', '')) \
                                 ORDER BY SEQ_IN_INDEX SEPARATOR ', ') AS CHAR) \
             FROM information_schema.STATISTICS WHERE {here} GROUP BY INDEX_NAME, NON_UNIQUE"
        ),
    )
    .await
    {
        let (name, unique, columns) = (&r[0], r[1] == "0", &r[2]);
        let kind = if name == "PRIMARY" {
            "PRIMARY"
        } else if unique {
            "UNIQUE"
        } else {
            "KEY"
        };
        shape.indexes.push(format!("{kind} ({columns})"));
        if name != "PRIMARY" {
            shape.names.push(name.clone());
        }
    }
    for r in rows(
        db,
        &format!(
            "SELECT CAST(tc.CONSTRAINT_NAME AS CHAR), \
               CAST(GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ',') AS CHAR) \
             FROM information_schema.TABLE_CONSTRAINTS tc JOIN information_schema.KEY_COLUMN_USAGE k \
               ON k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             WHERE tc.CONSTRAINT_SCHEMA = DATABASE() AND tc.TABLE_NAME = '{table}' AND tc.CONSTRAINT_TYPE = 'UNIQUE' \
               AND {k_here} \
             GROUP BY tc.CONSTRAINT_NAME"
        ),
    )
    .await
    {
        shape.uniques.insert(split_columns(&r[1]));
    }
    for r in rows(
        db,
        &format!(
            "SELECT CAST(k.CONSTRAINT_NAME AS CHAR), CAST(CONCAT(k.COLUMN_NAME, ' -> ', k.REFERENCED_TABLE_NAME, \
               '(', k.REFERENCED_COLUMN_NAME, ') ', r.UPDATE_RULE, ' ', r.DELETE_RULE) AS CHAR) \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
             WHERE {k_here} AND k.REFERENCED_TABLE_NAME IS NOT NULL \
               AND r.CONSTRAINT_SCHEMA = DATABASE() AND r.TABLE_NAME = '{table}'"
        ),
    )
    .await
    {
        shape.names.push(r[0].clone());
        shape.foreign_keys.push(r[1].clone());
    }
    shape.options = rows(
        db,
        &format!(
            "SELECT CAST(CONCAT(ENGINE, ' ', SUBSTRING_INDEX(TABLE_COLLATION, '_', 1)) AS CHAR) \
             FROM information_schema.TABLES WHERE {here}"
        ),
    )
    .await[0][0]
        .clone();
    shape.indexes.sort();
    shape.foreign_keys.sort();
    shape
}

// -------------------------------------------------------------------------------------------------
// The checks.
// -------------------------------------------------------------------------------------------------

fn expected_tables(with_ours: bool) -> BTreeSet<String> {
    let mut tables: BTreeSet<String> = BTreeSet::from(["seaql_migrations".to_owned()]);
    if with_ours {
        tables.extend(OUR_TABLES.iter().map(|t| t.to_string()));
    }
    tables
}

async fn schema_matches_django(backend: Backend) {
    let Some(mut server) = Server::connect(backend).await else { return };
    let db = server.new_database().await;

    Migrator::up(&db, None).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    // Forget the migration: `up` runs its DDL again over the existing tables.
    db.execute_unprepared("DELETE FROM seaql_migrations").await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert!(Migrator::get_pending_migrations(&db).await.unwrap().is_empty());
    assert_eq!(table_names(&db, backend).await, expected_tables(true), "{backend:?}: tables");

    let django = server.django_database().await;
    for table in OUR_TABLES {
        let ours = shape(&db, backend, table).await;
        let columns: Vec<_> = ours.columns.iter().map(|(n, t, null, _)| (n.clone(), t.clone(), *null)).collect();
        assert_eq!(columns, expected_columns(backend, table), "{backend:?} {table}: (column, type, nullable)");
        assert_eq!(ours.uniques, expected_uniques(table), "{backend:?} {table}: unique constraints");

        let mut theirs = shape(&django, backend, table).await;
        // We create only `id`, `display_name`, `start`, `self_paced` and `has_highlights` of Open
        // edX's course overview; our `self_paced` has a default (rows inserted with only `id`
        // and `display_name`, as before the column existed, stay valid).
        theirs.columns.retain(|(name, ..)| ours.columns.iter().any(|(n, ..)| n == name));
        if table == "course_overviews_courseoverview" {
            let ours_extra = ours.columns.iter().find(|c| c.0 == "self_paced").map(|c| c.3.clone());
            for column in theirs.columns.iter_mut().filter(|c| c.0 == "self_paced") {
                assert!(
                    column.3.contains("default=- ") || column.3.ends_with("default=-"),
                    "{backend:?}: Django's self_paced has a default: {}",
                    column.3
                );
                column.3 = ours_extra.clone().unwrap_or_default();
            }
        }
        assert_eq!(ours.columns, theirs.columns, "{backend:?} {table}: columns vs Django");
        assert_eq!(ours.indexes, theirs.indexes, "{backend:?} {table}: indexes vs Django");
        assert_eq!(ours.uniques, theirs.uniques, "{backend:?} {table}: unique constraints vs Django");
        assert_eq!(ours.foreign_keys, theirs.foreign_keys, "{backend:?} {table}: foreign keys vs Django");
        assert_eq!(ours.options, theirs.options, "{backend:?} {table}: table options vs Django");
        let shared: Vec<_> = ours.names.iter().filter(|n| theirs.names.contains(n)).collect();
        assert!(shared.is_empty(), "{backend:?} {table}: names shared with Django: {shared:?}");
        assert!(!theirs.names.is_empty() || ours.names.is_empty(), "{backend:?} {table}: Django's names not read");
    }
    if backend == Backend::MySql {
        // Django leaves collation to the database default; so do we (no forced binary collation).
        let collations = rows(
            &db,
            "SELECT CAST(TABLE_COLLATION AS CHAR), CAST(@@collation_database AS CHAR) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'seaql_migrations'",
        )
        .await;
        assert_eq!(collations.len(), OUR_TABLES.len());
        for r in collations {
            assert_eq!(r[0], r[1], "table collation is the database default");
        }
    }

    Migrator::down(&db, None).await.unwrap();
    assert_eq!(table_names(&db, backend).await, expected_tables(false), "{backend:?}: after down");
    Migrator::up(&db, None).await.unwrap();
    assert_eq!(table_names(&db, backend).await, expected_tables(true), "{backend:?}: up after down");

    db.close().await.unwrap();
    django.close().await.unwrap();
    server.drop_databases().await;
}

/// `migrate --force` on a schema Django's `migrate` made (the `DJANGO_*_TEMPLATE` databases,
/// cloned): Django's indexes carry hashed names, and none may be added again under ours. No
/// table's indexes change, and no table has two indexes of one shape (same columns, order,
/// `DESC`, operator class and uniqueness).
async fn migrating_a_django_schema_adds_no_index(target: acceptance::Target, backend: Backend) {
    let Some(db) = acceptance::SeaTestDatabase::create(target).await else { return };
    let conn = db.connection();
    let tables = table_names(conn, backend).await;
    assert!(tables.contains("program_enrollments_programenrollment"), "{target:?}: not Django's schema: {tables:?}");
    let mut before = std::collections::BTreeMap::new();
    for table in &tables {
        before.insert(table.clone(), shape(conn, backend, table).await.indexes);
    }

    Migrator::up(conn, None).await.unwrap_or_else(|e| panic!("{target:?}: {e}"));

    for table in &tables {
        let after = shape(conn, backend, table).await.indexes;
        assert_eq!(after, before[table], "{target:?} {table}: the migration changed Django's indexes");
        // Without the origin (`u`/`c`/`pk`, `p`/`u`/`-`): what the index does.
        let mut shapes: Vec<&str> = after.iter().map(|index| index.split_once(' ').map_or("", |(_, s)| s)).collect();
        shapes.sort();
        let count = shapes.len();
        shapes.dedup();
        assert_eq!(shapes.len(), count, "{target:?} {table}: two indexes of one shape: {after:?}");
    }
    acceptance::TestDatabase::finish(&db).await;
}

async fn duplicate_enrollment_is_unique_violation(backend: Backend) {
    let Some(mut server) = Server::connect(backend).await else { return };
    let db = server.new_database().await;
    Migrator::up(&db, None).await.unwrap();

    // TRUE/FALSE and this datetime literal are valid on all three backends; ids come from the
    // table's own auto-increment/identity.
    db.execute_unprepared(
        "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, last_name, email, \
         is_staff, is_active, date_joined) VALUES ('', NULL, FALSE, 'alice', '', '', 'alice@example.com', \
         FALSE, TRUE, '2026-01-01 00:00:00')",
    )
    .await
    .unwrap();
    let text = if backend == Backend::MySql { "CHAR" } else { "TEXT" };
    let user_id =
        rows(&db, &format!("SELECT CAST(id AS {text}) FROM auth_user WHERE username = 'alice'")).await[0][0].clone();
    let insert = |course: &str| {
        format!(
            "INSERT INTO student_courseenrollment (created, is_active, mode, course_id, user_id) \
             VALUES ('2026-01-01 00:00:00', TRUE, 'masters', '{course}', {user_id})"
        )
    };
    db.execute_unprepared(&insert("course-v1:edX+Cats+Dogs")).await.unwrap();
    db.execute_unprepared(&insert("course-v1:edX+Cats+Birds")).await.unwrap();
    let err = db.execute_unprepared(&insert("course-v1:edX+Cats+Dogs")).await.unwrap_err();
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "{backend:?}: expected a unique violation, got {err:?}"
    );
    let count = rows(&db, &format!("SELECT CAST(COUNT(*) AS {text}) FROM student_courseenrollment")).await;
    assert_eq!(count[0][0], "2");

    db.close().await.unwrap();
    server.drop_databases().await;
}

#[tokio::test]
async fn sqlite_schema_matches_django() {
    schema_matches_django(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_schema_matches_django() {
    schema_matches_django(Backend::Postgres).await;
}

#[tokio::test]
async fn mysql_schema_matches_django() {
    schema_matches_django(Backend::MySql).await;
}

#[tokio::test]
async fn sqlite_duplicate_enrollment_is_unique_violation() {
    duplicate_enrollment_is_unique_violation(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_duplicate_enrollment_is_unique_violation() {
    duplicate_enrollment_is_unique_violation(Backend::Postgres).await;
}

#[tokio::test]
async fn mysql_duplicate_enrollment_is_unique_violation() {
    duplicate_enrollment_is_unique_violation(Backend::MySql).await;
}

#[test]
fn url_with_database_keeps_server_and_query() {
    assert_eq!(
        url_with_database("postgres://u:p@h:1/app?sslmode=disable", "t_1"),
        "postgres://u:p@h:1/t_1?sslmode=disable"
    );
    assert_eq!(url_with_database("mysql://u:p@h:1/app", "t_1"), "mysql://u:p@h:1/t_1");
    assert_eq!(url_with_database("mysql://u:p@h:1", "t_1"), "mysql://u:p@h:1/t_1");
}

#[tokio::test]
async fn sqlite_django_schema_gets_no_duplicate_index() {
    migrating_a_django_schema_adds_no_index(acceptance::Target::DjangoSqlite, Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_django_schema_gets_no_duplicate_index() {
    migrating_a_django_schema_adds_no_index(acceptance::Target::DjangoPostgres, Backend::Postgres).await;
}

#[tokio::test]
async fn mysql_django_schema_gets_no_duplicate_index() {
    migrating_a_django_schema_adds_no_index(acceptance::Target::DjangoMySql, Backend::MySql).await;
}
