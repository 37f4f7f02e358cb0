//! The SeaORM adapter as a [`TestDatabase`]: one throw-away database per test, on SQLite,
//! PostgreSQL or MariaDB, created by our migrations or cloned from a schema Django created.
//!
//! Environment:
//! - `TEST_POSTGRES_URL`, `TEST_MYSQL_URL`: an admin URL (a user who may create databases).
//! - `DJANGO_SQLITE_TEMPLATE`: a SQLite file Django's `migrate` created.
//! - `DJANGO_POSTGRES_TEMPLATE`, `DJANGO_MYSQL_TEMPLATE`: the name of a database on the servers
//!   above that Django's `migrate` created; `DJANGO_MYSQL_UUID_TEMPLATE`: the same after Open
//!   edX's MariaDB UUID conversion (`tests/django/ddl/mariadb-uuid-conversion.sql`).
//! - `READBACK_DIR`: where the Django targets list their databases for the Django read-back
//!   (they are kept, not dropped).
//! - `REQUIRE_DB_TESTS=1`: a missing variable fails the test instead of skipping it
//!   ([`crate::skip`]).

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use adapters_memory::{
    CourseAccessRoleRow, CourseEnrollmentRow, CourseModeRow, CourseOverviewFields, ForumRoleRow, ForumRoleUserRow,
    HistoryRow, HistoryType, InvitationRow, ProgramCourseEnrollmentRow, ProgramEnrollmentRow, RoleAssignmentRow,
    ScheduleExperienceRow, ScheduleRow, Tables, UpgradeDeadlineScope, UserRow,
};
use adapters_seaorm::decode::{
    get_bool, get_i64, get_opt_bool, get_opt_datetime, get_opt_i64, get_opt_string, get_string, get_uuid,
};
use adapters_seaorm::{Backend, Column, SeaOrmDatabase, UuidColumn, table_columns};
use async_trait::async_trait;
use chrono::Utc;
use domain::{
    CourseEnrollmentId, CurriculumUuid, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId, ProgramUuid,
    RoleAssignmentId, UserId,
};
use migrations::Migrator;
use ports::UnitOfWork;
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, Statement, Value};
use sea_orm_migration::MigratorTrait;

use crate::database::{LearnerTestDatabase, TestDatabase, course_start};
pub use crate::skip::env_or_skip_for;

/// Where a test database comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// SQLite in memory, our migrations.
    SqliteMemory,
    /// A SQLite file, our migrations.
    SqliteFile,
    /// PostgreSQL, our migrations.
    Postgres,
    /// MariaDB, our migrations.
    MySql,
    /// A SQLite file copied from Django's.
    DjangoSqlite,
    /// PostgreSQL, cloned from Django's.
    DjangoPostgres,
    /// MariaDB, cloned from Django's.
    DjangoMySql,
    /// MariaDB, cloned from Django's after Open edX's MariaDB UUID conversion (program
    /// enrollment UUIDs and course enrollment history ids as native `uuid`).
    DjangoMySqlUuid,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::SqliteMemory => "sqlite-memory",
            Self::SqliteFile => "sqlite-file",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::DjangoSqlite => "django-sqlite",
            Self::DjangoPostgres => "django-postgres",
            Self::DjangoMySql => "django-mysql",
            Self::DjangoMySqlUuid => "django-mysql-uuid",
        }
    }

    fn is_django(self) -> bool {
        matches!(self, Self::DjangoSqlite | Self::DjangoPostgres | Self::DjangoMySql | Self::DjangoMySqlUuid)
    }
}

/// Reads an environment variable that `target` needs, or skips ([`crate::skip`]).
fn env_or_skip(name: &str, target: Target) -> Option<String> {
    env_or_skip_for(name, &format!("the {} target", target.name()))
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = rest.split('/').next().unwrap();
    format!("{scheme}://{authority}/{name}{query}")
}

/// A throw-away database for one test.
pub struct SeaTestDatabase {
    target: Target,
    url: String,
    conn: DatabaseConnection,
    db: Mutex<Option<Arc<SeaOrmDatabase>>>,
    backend: Backend,
    columns: Mutex<HashMap<String, Vec<Column>>>,
    cleanup: Cleanup,
    /// Whether the schema was changed (a table dropped): the LMS could not read it back.
    altered: std::sync::atomic::AtomicBool,
    /// Whether the database has the inspector's tables (Django's schema has them).
    inspector_tables: bool,
}

enum Cleanup {
    None,
    File(PathBuf),
    Server { admin_url: String, name: String },
}

impl SeaTestDatabase {
    /// A fresh database of `target`, or `None` (skipped) when its server is not configured.
    pub async fn create(target: Target) -> Option<Self> {
        let fresh = format!("t_{}", uuid::Uuid::new_v4().simple());
        let (url, cleanup) = match target {
            Target::SqliteMemory => ("sqlite::memory:".to_owned(), Cleanup::None),
            Target::SqliteFile | Target::DjangoSqlite => {
                let path = std::env::temp_dir().join(format!("{fresh}.sqlite3"));
                let template = match target {
                    Target::DjangoSqlite => env_or_skip("DJANGO_SQLITE_TEMPLATE", target)?,
                    _ => migrated_template(target, None).await,
                };
                std::fs::copy(&template, &path).unwrap_or_else(|e| panic!("copy {template}: {e}"));
                (format!("sqlite://{}?mode=rwc", path.display()), Cleanup::File(path))
            }
            Target::Postgres | Target::DjangoPostgres => {
                let admin_url = env_or_skip("TEST_POSTGRES_URL", target)?;
                let template = match target {
                    Target::DjangoPostgres => env_or_skip("DJANGO_POSTGRES_TEMPLATE", target)?,
                    _ => migrated_template(target, Some(&admin_url)).await,
                };
                create_postgres_database(&admin_url, &fresh, Some(&template)).await;
                (with_database(&admin_url, &fresh), Cleanup::Server { admin_url, name: fresh.clone() })
            }
            Target::MySql | Target::DjangoMySql | Target::DjangoMySqlUuid => {
                let admin_url = env_or_skip("TEST_MYSQL_URL", target)?;
                let template = match target {
                    Target::DjangoMySql => env_or_skip("DJANGO_MYSQL_TEMPLATE", target)?,
                    Target::DjangoMySqlUuid => env_or_skip("DJANGO_MYSQL_UUID_TEMPLATE", target)?,
                    _ => migrated_template(target, Some(&admin_url)).await,
                };
                create_mysql_database(&admin_url, &fresh, Some(&template)).await;
                (with_database(&admin_url, &fresh), Cleanup::Server { admin_url, name: fresh.clone() })
            }
        };
        let conn = adapters_seaorm::open(&url).await.unwrap_or_else(|e| panic!("{e}"));
        if target == Target::SqliteMemory {
            Migrator::up(&conn, None).await.unwrap_or_else(|e| panic!("migrations on {}: {e}", target.name()));
        }
        let backend = match target {
            Target::SqliteMemory | Target::SqliteFile | Target::DjangoSqlite => Backend::Sqlite,
            Target::Postgres | Target::DjangoPostgres => Backend::Postgres,
            Target::MySql | Target::DjangoMySql | Target::DjangoMySqlUuid => Backend::MySql,
        };
        let inspector_tables =
            !table_columns(&conn, backend, "social_auth_usersocialauth").await.unwrap_or_default().is_empty();
        Some(Self {
            target,
            url,
            conn,
            db: Mutex::new(None),
            backend,
            columns: Mutex::new(HashMap::new()),
            cleanup,
            altered: std::sync::atomic::AtomicBool::new(false),
            inspector_tables,
        })
    }

    /// The adapter over this database (built on first use and after schema changes).
    pub async fn database(&self) -> Arc<SeaOrmDatabase> {
        if let Some(db) = self.db.lock().unwrap().as_ref() {
            return Arc::clone(db);
        }
        let db = Arc::new(SeaOrmDatabase::new(self.conn.clone(), &self.url).await.unwrap_or_else(|e| panic!("{e}")));
        *self.db.lock().unwrap() = Some(Arc::clone(&db));
        db
    }

    /// The database's URL (the admin's credentials).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether Django's `migrate` made the schema (a clone of a Django template).
    pub fn is_django(&self) -> bool {
        self.target.is_django()
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, for raw SQL in tests.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Runs raw SQL.
    pub async fn execute(&self, sql: &str, values: Vec<Value>) {
        let statement = Statement::from_sql_and_values(self.conn.get_database_backend(), sql, values);
        self.conn.execute_raw(statement).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    async fn query(&self, sql: &str) -> Vec<QueryResult> {
        let statement = Statement::from_sql_and_values(self.conn.get_database_backend(), sql, []);
        self.conn.query_all_raw(statement).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    async fn table_columns(&self, table: &str) -> Vec<Column> {
        if let Some(columns) = self.columns.lock().unwrap().get(table) {
            return columns.clone();
        }
        let columns = table_columns(&self.conn, self.backend, table).await.unwrap();
        self.columns.lock().unwrap().insert(table.to_owned(), columns.clone());
        columns
    }

    /// Inserts a row, filling every other NOT NULL column without a default with a neutral
    /// value of its type (Django's tables have many); returns the new `id`.
    async fn insert(&self, table: &str, given: Vec<(&str, Value)>) -> i64 {
        let db = self.database().await;
        let mut names: Vec<String> = given.iter().map(|(n, _)| n.to_string()).collect();
        let mut values: Vec<Value> = given.into_iter().map(|(_, v)| v).collect();
        for column in self.table_columns(table).await {
            if column.nullable || column.has_default || names.contains(&column.name) {
                continue;
            }
            let t = column.data_type.as_str();
            let value = if t.contains("char") || t.contains("text") {
                Value::from("")
            } else if t.contains("bool") || t == "tinyint" {
                Value::from(false)
            } else if t.contains("date") || t.contains("time") {
                db.datetime_value(Utc::now())
            } else if t == "uuid" {
                db.uuid_value(&uuid::Uuid::new_v4(), UuidColumn::Native)
            } else if t.contains("real") || t.contains("double") || t.contains("float") {
                Value::from(0.0_f64)
            } else {
                Value::from(0_i32)
            };
            names.push(column.name.clone());
            values.push(value);
        }
        let placeholders: Vec<String> = (1..=values.len())
            .map(|i| if self.backend == Backend::Postgres { format!("${i}") } else { "?".to_owned() })
            .collect();
        let quote = |n: &str| if self.backend == Backend::MySql { format!("`{n}`") } else { format!("\"{n}\"") };
        let columns: Vec<String> = names.iter().map(|n| quote(n)).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ({})", columns.join(", "), placeholders.join(", "));
        let statement =
            |sql: &str, values| Statement::from_sql_and_values(self.conn.get_database_backend(), sql, values);
        let has_id = names.iter().any(|n| n == "id");
        if self.backend == Backend::Postgres && !has_id {
            sql.push_str(" RETURNING id");
            let row = self.conn.query_one_raw(statement(&sql, values)).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            row.map(|r| get_i64(&r, "id").unwrap()).unwrap_or_default()
        } else {
            let result = self.conn.execute_raw(statement(&sql, values)).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            if has_id { 0 } else { i64::try_from(result.last_insert_id()).unwrap() }
        }
    }

    /// A datetime to bind, or a NULL of the backend's datetime type.
    async fn datetime_or_null(&self, at: Option<SystemTime>) -> Value {
        match at {
            Some(at) => self.database().await.datetime_value(chrono::DateTime::<Utc>::from(at)),
            None => match self.backend {
                Backend::Postgres => Value::ChronoDateTimeUtc(None),
                Backend::MySql => Value::ChronoDateTime(None),
                Backend::Sqlite => Value::String(None),
            },
        }
    }

    async fn program_uuid_value(&self, uuid: &uuid::Uuid) -> Value {
        let db = self.database().await;
        db.uuid_value(uuid, db.program_uuid_column())
    }
}

/// The database our migrations made, once per test process and target, that each test's
/// database of that target is cloned from: running the migrations for every test took most of
/// its time (PostgreSQL and MariaDB about 2 s, a SQLite file 1.5 s; a clone 0.1-0.4 s). Its
/// name (a SQLite path, or a database on the server of `admin_url`) starts with `t_`, as the
/// tests' databases do; it outlives the process (a static has no drop), and CI's servers are
/// thrown away.
async fn migrated_template(target: Target, admin_url: Option<&str>) -> String {
    static SQLITE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    static POSTGRES: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    static MYSQL: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    let cell = match target {
        Target::SqliteFile => &SQLITE,
        Target::Postgres => &POSTGRES,
        Target::MySql => &MYSQL,
        _ => panic!("{} is not made by our migrations", target.name()),
    };
    let name = cell
        .get_or_init(|| async {
            let name = format!("t_template_{}", uuid::Uuid::new_v4().simple());
            let (template, url) = match (target, admin_url) {
                (Target::SqliteFile, _) => {
                    let path = std::env::temp_dir().join(format!("{name}.sqlite3"));
                    let url = format!("sqlite://{}?mode=rwc", path.display());
                    (path.display().to_string(), url)
                }
                (Target::Postgres, Some(admin_url)) => {
                    create_postgres_database(admin_url, &name, None).await;
                    (name.clone(), with_database(admin_url, &name))
                }
                (_, Some(admin_url)) => {
                    create_mysql_database(admin_url, &name, None).await;
                    (name.clone(), with_database(admin_url, &name))
                }
                (_, None) => panic!("{} needs a server", target.name()),
            };
            let conn = adapters_seaorm::open(&url).await.unwrap_or_else(|e| panic!("{e}"));
            Migrator::up(&conn, None).await.unwrap_or_else(|e| panic!("migrations on {}: {e}", target.name()));
            // PostgreSQL clones a template only while nobody is connected to it.
            conn.close().await.unwrap_or_else(|e| panic!("{e}"));
            // A SQLite file is copied whole: its write-ahead log must have been folded in.
            let wal = format!("{template}-wal");
            assert!(!std::path::Path::new(&wal).exists(), "{wal} is left after closing the template");
            template
        })
        .await;
    name.clone()
}

async fn admin(url: &str) -> DatabaseConnection {
    adapters_seaorm::open(url).await.unwrap_or_else(|e| panic!("{e}"))
}

async fn create_postgres_database(admin_url: &str, name: &str, template: Option<&str>) {
    let conn = admin(admin_url).await;
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    // Two clones of one template at the same moment can collide; retry briefly.
    let mut attempt = 0;
    loop {
        match conn.execute_unprepared(&sql).await {
            Ok(_) => break,
            Err(e) if attempt < 20 && e.to_string().contains("being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
    conn.close().await.ok();
}

async fn create_mysql_database(admin_url: &str, name: &str, template: Option<&str>) {
    let conn = admin(admin_url).await;
    conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
    if let Some(template) = template {
        // MariaDB has no template databases: copy every table's DDL, foreign keys included.
        let tables = conn
            .query_all_raw(Statement::from_string(
                conn.get_database_backend(),
                format!("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{template}'"),
            ))
            .await
            .unwrap();
        let target = admin(&with_database(admin_url, name)).await;
        // One connection for the session setting: a transaction pins it (DDL commits anyway).
        let target = sea_orm::TransactionTrait::begin(&target).await.unwrap();
        target.execute_unprepared("SET FOREIGN_KEY_CHECKS = 0").await.unwrap();
        let mut migration_lists = Vec::new();
        for row in tables {
            let table = get_string(&row, "t").unwrap();
            if table == "django_migrations" || table == "seaql_migrations" {
                migration_lists.push(table.clone());
            }
            let ddl = conn
                .query_one_raw(Statement::from_string(
                    conn.get_database_backend(),
                    format!("SHOW CREATE TABLE `{template}`.`{table}`"),
                ))
                .await
                .unwrap()
                .unwrap();
            let create: String = ddl.try_get_by_index(1).unwrap();
            target.execute_unprepared(&create).await.unwrap_or_else(|e| panic!("{create}: {e}"));
        }
        // The list of applied migrations is part of the schema (Django's `migrate`, and ours, read it).
        for table in migration_lists {
            let copy = format!("INSERT INTO {table} SELECT * FROM `{template}`.{table}");
            target.execute_unprepared(&copy).await.unwrap_or_else(|e| panic!("{copy}: {e}"));
        }
        target.commit().await.ok();
    }
    conn.close().await.ok();
}

fn time(at: Option<chrono::DateTime<Utc>>) -> SystemTime {
    at.map(SystemTime::from).unwrap_or(SystemTime::UNIX_EPOCH)
}

#[async_trait]
impl TestDatabase for SeaTestDatabase {
    async fn unit_of_work(&self) -> Arc<dyn UnitOfWork> {
        self.database().await
    }

    async fn add_user(&self, username: &str, email: &str) -> UserId {
        let db = self.database().await;
        UserId(
            self.insert(
                "auth_user",
                vec![
                    ("username", username.into()),
                    ("email", email.into()),
                    ("password", "!".into()),
                    ("is_active", true.into()),
                    ("date_joined", db.datetime_value(Utc::now())),
                ],
            )
            .await,
        )
    }

    async fn add_course_overview(&self, course_key: &str) {
        let mut values = vec![("id", Value::from(course_key)), ("display_name", Value::from(course_key))];
        // Django's table has a usage key the LMS parses; ours has no such column.
        if self.table_columns("course_overviews_courseoverview").await.iter().any(|c| c.name == "_location") {
            let location = course_key.replacen("course-v1:", "block-v1:", 1) + "+type@course+block@course";
            let org = course_key.trim_start_matches("course-v1:").split('+').next().unwrap_or("").to_owned();
            values.push(("_location", location.into()));
            values.push(("org", org.clone().into()));
            values.push(("display_org_with_default", org.into()));
        }
        self.insert("course_overviews_courseoverview", values).await;
        if self.table_columns("course_overviews_courseoverview").await.iter().any(|c| c.name == "start") {
            self.set_course_overview_fields(course_key, Some(course_start()), false, None).await;
        }
    }

    async fn set_course_overview_fields(
        &self,
        course_key: &str,
        start: Option<SystemTime>,
        self_paced: bool,
        has_highlights: Option<bool>,
    ) {
        let sql = match self.backend {
            Backend::Postgres => {
                "UPDATE course_overviews_courseoverview SET start = $1, self_paced = $2, has_highlights = $3 WHERE id = $4"
            }
            _ => {
                "UPDATE course_overviews_courseoverview SET start = ?, self_paced = ?, has_highlights = ? WHERE id = ?"
            }
        };
        let start = self.datetime_or_null(start).await;
        self.execute(sql, vec![start, self_paced.into(), Value::Bool(has_highlights), course_key.into()]).await;
    }

    async fn add_forum_role(&self, course_key: &str, name: &str) -> i64 {
        self.insert("django_comment_client_role", vec![("name", name.into()), ("course_id", course_key.into())]).await
    }

    async fn add_forum_role_user(&self, role_id: i64, user: UserId) {
        self.insert("django_comment_client_role_users", vec![("role_id", role_id.into()), ("user_id", user.0.into())])
            .await;
    }

    async fn add_schedule(&self, ce: CourseEnrollmentId, start_date: Option<SystemTime>) -> i64 {
        let db = self.database().await;
        let now = db.datetime_value(Utc::now());
        let start = self.datetime_or_null(start_date).await;
        self.insert(
            "schedules_schedule",
            vec![
                ("created", now.clone()),
                ("modified", now),
                ("active", true.into()),
                ("start_date", start),
                ("enrollment_id", ce.0.into()),
            ],
        )
        .await
    }

    async fn add_upgrade_deadline_configuration(
        &self,
        scope: UpgradeDeadlineScope,
        enabled: bool,
        deadline_days: i64,
        opt_out: bool,
    ) {
        let now = self.database().await.datetime_value(Utc::now());
        let mut values =
            vec![("change_date", now), ("enabled", enabled.into()), ("deadline_days", deadline_days.into())];
        let table = match scope {
            UpgradeDeadlineScope::Global => "courseware_dynamicupgradedeadlineconfiguration",
            UpgradeDeadlineScope::Org(org) => {
                values.extend([("org_id", org.into()), ("opt_out", opt_out.into())]);
                "courseware_orgdynamicupgradedeadlineconfiguration"
            }
            UpgradeDeadlineScope::Course(course) => {
                values.extend([("course_id", course.into()), ("opt_out", opt_out.into())]);
                "courseware_coursedynamicupgradedeadlineconfiguration"
            }
        };
        self.insert(table, values).await;
    }

    async fn add_course_mode_expiring(&self, course_key: &str, mode: &str, expiration: SystemTime) {
        let expiration = self.datetime_or_null(Some(expiration)).await;
        self.insert(
            "course_modes_coursemode",
            vec![
                ("course_id", course_key.into()),
                ("mode_slug", mode.into()),
                ("mode_display_name", mode.into()),
                ("currency", "usd".into()),
                ("expiration_datetime", expiration),
            ],
        )
        .await;
    }

    async fn drop_forum_role_tables(&self) {
        for table in
            ["django_comment_client_permission_roles", "django_comment_client_role_users", "django_comment_client_role"]
        {
            self.execute(&format!("DROP TABLE IF EXISTS {table}"), vec![]).await;
        }
        self.altered.store(true, std::sync::atomic::Ordering::SeqCst);
        self.columns.lock().unwrap().clear();
        *self.db.lock().unwrap() = None;
    }

    async fn drop_schedule_tables(&self) {
        for table in ["schedules_scheduleexperience", "schedules_historicalschedule", "schedules_schedule"] {
            self.execute(&format!("DROP TABLE {table}"), vec![]).await;
        }
        self.altered.store(true, std::sync::atomic::Ordering::SeqCst);
        self.columns.lock().unwrap().clear();
        *self.db.lock().unwrap() = None;
    }

    async fn add_program_enrollment(
        &self,
        key: Option<&str>,
        program: ProgramUuid,
        curriculum: CurriculumUuid,
        user: Option<UserId>,
        status: &str,
    ) -> ProgramEnrollmentId {
        let db = self.database().await;
        let now = db.datetime_value(Utc::now());
        ProgramEnrollmentId(
            self.insert(
                "program_enrollments_programenrollment",
                vec![
                    ("created", now.clone()),
                    ("modified", now),
                    ("user_id", Value::BigInt(user.map(|u| u.0))),
                    ("external_user_key", Value::String(key.map(Into::into))),
                    ("program_uuid", self.program_uuid_value(program.as_uuid()).await),
                    ("curriculum_uuid", self.program_uuid_value(curriculum.as_uuid()).await),
                    ("status", status.into()),
                ],
            )
            .await,
        )
    }

    async fn add_program_course_enrollment(
        &self,
        pe: ProgramEnrollmentId,
        course_key: &str,
        status: &str,
        ce: Option<CourseEnrollmentId>,
    ) -> ProgramCourseEnrollmentId {
        let db = self.database().await;
        let now = db.datetime_value(Utc::now());
        ProgramCourseEnrollmentId(
            self.insert(
                "program_enrollments_programcourseenrollment",
                vec![
                    ("created", now.clone()),
                    ("modified", now),
                    ("program_enrollment_id", pe.0.into()),
                    ("course_enrollment_id", Value::BigInt(ce.map(|c| c.0))),
                    ("course_key", course_key.into()),
                    ("status", status.into()),
                ],
            )
            .await,
        )
    }

    async fn add_course_enrollment(
        &self,
        user: UserId,
        course_key: &str,
        mode: &str,
        active: bool,
    ) -> CourseEnrollmentId {
        let db = self.database().await;
        CourseEnrollmentId(
            self.insert(
                "student_courseenrollment",
                vec![
                    ("user_id", user.0.into()),
                    ("course_id", course_key.into()),
                    ("created", db.datetime_value(Utc::now())),
                    ("is_active", active.into()),
                    ("mode", mode.into()),
                ],
            )
            .await,
        )
    }

    async fn add_invitation(&self, email: &str, course_key: &str, user: Option<UserId>) -> InvitationId {
        let db = self.database().await;
        InvitationId(
            self.insert(
                "student_courseenrollmentallowed",
                vec![
                    ("email", email.into()),
                    ("course_id", course_key.into()),
                    ("auto_enroll", false.into()),
                    ("user_id", Value::BigInt(user.map(|u| u.0))),
                    ("created", db.datetime_value(Utc::now())),
                ],
            )
            .await,
        )
    }

    async fn drop_invitation_table(&self) {
        self.execute("DROP TABLE student_courseenrollmentallowed", vec![]).await;
        self.altered.store(true, std::sync::atomic::Ordering::SeqCst);
        self.columns.lock().unwrap().clear();
        *self.db.lock().unwrap() = None;
    }

    async fn add_course_mode(&self, course_key: &str, mode: &str, expired: bool) {
        let db = self.database().await;
        let expiration = if expired {
            db.datetime_value(Utc::now() - chrono::Duration::days(1))
        } else {
            match self.backend {
                Backend::Postgres => Value::ChronoDateTimeUtc(None),
                Backend::MySql => Value::ChronoDateTime(None),
                Backend::Sqlite => Value::String(None),
            }
        };
        self.insert(
            "course_modes_coursemode",
            vec![
                ("course_id", course_key.into()),
                ("mode_slug", mode.into()),
                ("mode_display_name", mode.into()),
                ("currency", "usd".into()),
                ("expiration_datetime", expiration),
            ],
        )
        .await;
    }

    async fn add_course_access_role(&self, user: UserId, org: &str, course_key: &str, role: &str) {
        self.insert(
            "student_courseaccessrole",
            vec![
                ("user_id", user.0.into()),
                ("org", org.into()),
                ("course_id", course_key.into()),
                ("role", role.into()),
            ],
        )
        .await;
    }

    async fn add_role_assignment(&self, pce: ProgramCourseEnrollmentId, role: &str) -> RoleAssignmentId {
        let db = self.database().await;
        let now = db.datetime_value(Utc::now());
        RoleAssignmentId(
            self.insert(
                "program_enrollments_courseaccessroleassignment",
                vec![
                    ("created", now.clone()),
                    ("modified", now),
                    ("role", role.into()),
                    ("enrollment_id", pce.0.into()),
                ],
            )
            .await,
        )
    }

    async fn drop_course_access_role_tables(&self) {
        self.execute("DROP TABLE program_enrollments_courseaccessroleassignment", vec![]).await;
        self.execute("DROP TABLE student_courseaccessrole", vec![]).await;
        self.altered.store(true, std::sync::atomic::Ordering::SeqCst);
        self.columns.lock().unwrap().clear();
        *self.db.lock().unwrap() = None;
    }

    async fn deactivate_user(&self, user: UserId) {
        let sql = match self.backend {
            Backend::Postgres => "UPDATE auth_user SET is_active = false WHERE id = $1",
            _ => "UPDATE auth_user SET is_active = 0 WHERE id = ?",
        };
        self.execute(sql, vec![user.0.into()]).await;
    }

    async fn tables(&self) -> Tables {
        read_tables(self).await
    }

    fn learners(&self) -> Option<&dyn LearnerTestDatabase> {
        self.inspector_tables.then_some(self as &dyn LearnerTestDatabase)
    }

    async fn accounts(&self) -> Option<Arc<dyn ports::Accounts>> {
        Some(self.database().await)
    }

    async fn set_staff(&self, user: UserId, is_staff: bool) {
        let sql = match self.backend {
            Backend::Postgres => "UPDATE auth_user SET is_staff = $1 WHERE id = $2",
            _ => "UPDATE auth_user SET is_staff = ? WHERE id = ?",
        };
        self.execute(sql, vec![is_staff.into(), user.0.into()]).await;
    }

    fn ignores_case_in_course_keys(&self) -> bool {
        // MariaDB's default collations (and Django's tables, which keep the database's) are
        // case-insensitive; SQLite's and PostgreSQL's are exact.
        self.backend == Backend::MySql
    }

    async fn finish(&self) {
        let readable = !self.altered.load(std::sync::atomic::Ordering::SeqCst);
        if self.target.is_django()
            && readable
            && let Ok(dir) = std::env::var("READBACK_DIR")
        {
            let path = PathBuf::from(dir).join(format!("{}.txt", self.target.name()));
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).unwrap();
            // One write per line: appends from parallel tests do not interleave.
            file.write_all(format!("{}\n", self.url).as_bytes()).unwrap();
            return;
        }
        self.conn.clone().close().await.ok();
        match &self.cleanup {
            Cleanup::None => {}
            Cleanup::File(path) => {
                std::fs::remove_file(path).ok();
            }
            Cleanup::Server { admin_url, name } => {
                let conn = admin(admin_url).await;
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await.ok();
                conn.close().await.ok();
            }
        }
    }
}

async fn read_tables(db: &SeaTestDatabase) -> Tables {
    let mut t = Tables::default();
    for row in db.query("SELECT id, username, email, is_active FROM auth_user ORDER BY id").await {
        let id = UserId(get_i64(&row, "id").unwrap());
        let user = UserRow {
            id,
            username: get_string(&row, "username").unwrap(),
            email: get_string(&row, "email").unwrap(),
            is_active: get_bool(&row, "is_active").unwrap(),
        };
        t.users.insert(id, user);
    }
    for row in db.query("SELECT id, display_name FROM course_overviews_courseoverview ORDER BY id").await {
        t.course_overviews
            .insert(get_string(&row, "id").unwrap(), get_opt_string(&row, "display_name").unwrap().unwrap_or_default());
    }
    if db.table_columns("course_overviews_courseoverview").await.iter().any(|c| c.name == "start") {
        for row in db.query("SELECT id, start, self_paced, has_highlights FROM course_overviews_courseoverview").await {
            let fields = CourseOverviewFields {
                start: get_opt_datetime(&row, "start").unwrap().map(SystemTime::from),
                self_paced: get_bool(&row, "self_paced").unwrap(),
                has_highlights: get_opt_bool(&row, "has_highlights").unwrap(),
            };
            t.course_overview_fields.insert(get_string(&row, "id").unwrap(), fields);
        }
    }
    if !db.table_columns("django_comment_client_role").await.is_empty()
        && !db.table_columns("django_comment_client_role_users").await.is_empty()
    {
        let mut roles = BTreeMap::new();
        for row in db.query("SELECT id, name, course_id FROM django_comment_client_role ORDER BY id").await {
            let id = get_i64(&row, "id").unwrap();
            let role = ForumRoleRow {
                id,
                name: get_string(&row, "name").unwrap(),
                course_id: get_string(&row, "course_id").unwrap(),
            };
            roles.insert(id, role);
        }
        t.forum_roles = Some(roles);
        let mut members = BTreeMap::new();
        for row in db.query("SELECT id, role_id, user_id FROM django_comment_client_role_users ORDER BY id").await {
            let id = get_i64(&row, "id").unwrap();
            let member = ForumRoleUserRow {
                id,
                role_id: get_i64(&row, "role_id").unwrap(),
                user_id: UserId(get_i64(&row, "user_id").unwrap()),
            };
            members.insert(id, member);
        }
        t.forum_role_users = Some(members);
    }
    let pe_columns = "id, created, modified, user_id, external_user_key, program_uuid, curriculum_uuid, status";
    let pe = |row: &QueryResult| ProgramEnrollmentRow {
        id: ProgramEnrollmentId(get_i64(row, "id").unwrap()),
        created: time(get_opt_datetime(row, "created").unwrap()),
        modified: time(get_opt_datetime(row, "modified").unwrap()),
        user_id: get_opt_i64(row, "user_id").unwrap().map(UserId),
        external_user_key: get_opt_string(row, "external_user_key").unwrap(),
        program_uuid: ProgramUuid::from_uuid(get_uuid(row, "program_uuid").unwrap()),
        curriculum_uuid: CurriculumUuid::from_uuid(get_uuid(row, "curriculum_uuid").unwrap()),
        status: get_string(row, "status").unwrap(),
    };
    for row in db.query(&format!("SELECT {pe_columns} FROM program_enrollments_programenrollment ORDER BY id")).await {
        let row = pe(&row);
        t.program_enrollments.insert(row.id, row);
    }
    let pce_columns = "id, created, modified, program_enrollment_id, course_enrollment_id, course_key, status";
    let pce = |row: &QueryResult| ProgramCourseEnrollmentRow {
        id: ProgramCourseEnrollmentId(get_i64(row, "id").unwrap()),
        created: time(get_opt_datetime(row, "created").unwrap()),
        modified: time(get_opt_datetime(row, "modified").unwrap()),
        program_enrollment_id: ProgramEnrollmentId(get_i64(row, "program_enrollment_id").unwrap()),
        course_enrollment_id: get_opt_i64(row, "course_enrollment_id").unwrap().map(CourseEnrollmentId),
        course_key: get_string(row, "course_key").unwrap(),
        status: get_string(row, "status").unwrap(),
    };
    for row in
        db.query(&format!("SELECT {pce_columns} FROM program_enrollments_programcourseenrollment ORDER BY id")).await
    {
        let row = pce(&row);
        t.program_course_enrollments.insert(row.id, row);
    }
    let ce_columns = "id, user_id, course_id, created, is_active, mode";
    let ce = |row: &QueryResult| CourseEnrollmentRow {
        id: CourseEnrollmentId(get_i64(row, "id").unwrap()),
        user_id: UserId(get_i64(row, "user_id").unwrap()),
        course_id: get_string(row, "course_id").unwrap(),
        created: get_opt_datetime(row, "created").unwrap().map(SystemTime::from),
        is_active: get_bool(row, "is_active").unwrap(),
        mode: get_string(row, "mode").unwrap(),
    };
    for row in db.query(&format!("SELECT {ce_columns} FROM student_courseenrollment ORDER BY id")).await {
        let row = ce(&row);
        t.course_enrollments.insert(row.id, row);
    }
    let has_invitations = !db.table_columns("student_courseenrollmentallowed").await.is_empty();
    if has_invitations {
        let mut invitations = BTreeMap::new();
        for row in db
            .query("SELECT id, email, course_id, auto_enroll, user_id, created FROM student_courseenrollmentallowed ORDER BY id")
            .await
        {
            let id = InvitationId(get_i64(&row, "id").unwrap());
            invitations.insert(
                id,
                InvitationRow {
                    id,
                    email: get_string(&row, "email").unwrap(),
                    course_id: get_string(&row, "course_id").unwrap(),
                    auto_enroll: get_bool(&row, "auto_enroll").unwrap(),
                    user_id: get_opt_i64(&row, "user_id").unwrap().map(UserId),
                    created: get_opt_datetime(&row, "created").unwrap().map(SystemTime::from),
                },
            );
        }
        t.invitations = Some(invitations);
    }
    if !db.table_columns("course_modes_coursemode").await.is_empty() {
        for row in db
            .query("SELECT id, course_id, mode_slug, expiration_datetime FROM course_modes_coursemode ORDER BY id")
            .await
        {
            let id = get_i64(&row, "id").unwrap();
            t.course_modes.insert(
                id,
                CourseModeRow {
                    id,
                    course_id: get_string(&row, "course_id").unwrap(),
                    mode_slug: get_string(&row, "mode_slug").unwrap(),
                    expiration_datetime: get_opt_datetime(&row, "expiration_datetime").unwrap().map(SystemTime::from),
                },
            );
        }
    }
    let has_roles = !db.table_columns("student_courseaccessrole").await.is_empty()
        && !db.table_columns("program_enrollments_courseaccessroleassignment").await.is_empty();
    if has_roles {
        let mut roles = BTreeMap::new();
        for row in db.query("SELECT id, user_id, org, course_id, role FROM student_courseaccessrole ORDER BY id").await
        {
            let id = get_i64(&row, "id").unwrap();
            let role = CourseAccessRoleRow {
                id,
                user_id: UserId(get_i64(&row, "user_id").unwrap()),
                org: get_string(&row, "org").unwrap(),
                course_id: get_string(&row, "course_id").unwrap(),
                role: get_string(&row, "role").unwrap(),
            };
            roles.insert(id, role);
        }
        t.course_access_roles = Some(roles);
        let mut assignments = BTreeMap::new();
        for row in db
            .query(
                "SELECT id, created, modified, role, enrollment_id FROM program_enrollments_courseaccessroleassignment \
                 ORDER BY id",
            )
            .await
        {
            let id = RoleAssignmentId(get_i64(&row, "id").unwrap());
            let assignment = RoleAssignmentRow {
                id,
                created: time(get_opt_datetime(&row, "created").unwrap()),
                modified: time(get_opt_datetime(&row, "modified").unwrap()),
                role: get_string(&row, "role").unwrap(),
                enrollment_id: ProgramCourseEnrollmentId(get_i64(&row, "enrollment_id").unwrap()),
            };
            assignments.insert(id, assignment);
        }
        t.role_assignments = Some(assignments);
    }
    let history = "history_date, history_change_reason, history_type, history_user_id";
    fn meta<T>(row: &QueryResult, history_id: u64, live: T) -> HistoryRow<T> {
        let kind = match get_string(row, "history_type").unwrap().as_str() {
            "+" => HistoryType::Insert,
            "~" => HistoryType::Update,
            other => panic!("unexpected history_type {other}"),
        };
        HistoryRow {
            history_id,
            row: live,
            history_date: time(get_opt_datetime(row, "history_date").unwrap()),
            history_type: kind,
            history_user_id: get_opt_i64(row, "history_user_id").unwrap().map(UserId),
            history_change_reason: get_opt_string(row, "history_change_reason").unwrap(),
        }
    }
    for row in db
        .query(&format!(
            "SELECT history_id, {pe_columns}, {history} FROM program_enrollments_historicalprogramenrollment ORDER BY history_id"
        ))
        .await
    {
        let id = get_i64(&row, "history_id").unwrap() as u64;
        t.program_enrollment_history.push(meta(&row, id, pe(&row)));
    }
    for row in db
        .query(&format!(
            "SELECT history_id, {pce_columns}, {history} FROM program_enrollments_historicalprogramcourseenrollment \
             ORDER BY history_id"
        ))
        .await
    {
        let id = get_i64(&row, "history_id").unwrap() as u64;
        t.program_course_enrollment_history.push(meta(&row, id, pce(&row)));
    }
    let schedule_columns = "id, created, modified, active, start_date, upgrade_deadline, enrollment_id";
    let schedule = |row: &QueryResult| ScheduleRow {
        id: get_i64(row, "id").unwrap(),
        created: time(get_opt_datetime(row, "created").unwrap()),
        modified: time(get_opt_datetime(row, "modified").unwrap()),
        active: get_bool(row, "active").unwrap(),
        start_date: get_opt_datetime(row, "start_date").unwrap().map(SystemTime::from),
        upgrade_deadline: get_opt_datetime(row, "upgrade_deadline").unwrap().map(SystemTime::from),
        enrollment_id: CourseEnrollmentId(get_i64(row, "enrollment_id").unwrap()),
    };
    if !db.table_columns("schedules_schedule").await.is_empty() {
        let mut schedules = BTreeMap::new();
        for row in db.query(&format!("SELECT {schedule_columns} FROM schedules_schedule ORDER BY id")).await {
            let row = schedule(&row);
            schedules.insert(row.id, row);
        }
        t.schedules = Some(schedules);
        let mut experiences = BTreeMap::new();
        for row in
            db.query("SELECT id, experience_type, schedule_id FROM schedules_scheduleexperience ORDER BY id").await
        {
            let id = get_i64(&row, "id").unwrap();
            let experience = ScheduleExperienceRow {
                id,
                experience_type: i16::try_from(get_i64(&row, "experience_type").unwrap()).unwrap(),
                schedule_id: get_i64(&row, "schedule_id").unwrap(),
            };
            experiences.insert(id, experience);
        }
        t.schedule_experiences = Some(experiences);
        for row in db
            .query(&format!(
                "SELECT history_id, {schedule_columns}, {history} FROM schedules_historicalschedule ORDER BY history_id"
            ))
            .await
        {
            let id = get_i64(&row, "history_id").unwrap() as u64;
            t.schedule_history.push(meta(&row, id, schedule(&row)));
        }
    }
    // `history_id` is a random UUID here: order by time, then `+` before `~`.
    for (i, row) in db
        .query(&format!(
            "SELECT {ce_columns}, {history} FROM student_courseenrollment_history ORDER BY history_date, history_type"
        ))
        .await
        .iter()
        .enumerate()
    {
        t.course_enrollment_history.push(meta(row, i as u64, ce(row)));
    }
    t
}

#[async_trait]
impl LearnerTestDatabase for SeaTestDatabase {
    async fn records(&self) -> Arc<dyn ports::LearnerRecords> {
        self.database().await
    }

    async fn add_organization(&self, short_name: &str) -> i64 {
        self.insert("organizations_organization", vec![("short_name", short_name.into()), ("name", short_name.into())])
            .await
    }

    async fn add_saml_provider(&self, slug: &str, organization: Option<i64>, enabled: bool) -> i64 {
        // The site every provider belongs to (Django's `sites` app makes it on `migrate`; a
        // MariaDB clone copies the schema only).
        if self.query("SELECT id FROM django_site WHERE id = 1").await.is_empty() {
            self.insert(
                "django_site",
                vec![("id", 1i64.into()), ("domain", "example.com".into()), ("name", "example.com".into())],
            )
            .await;
        }
        self.insert(
            "third_party_auth_samlproviderconfig",
            vec![
                ("slug", slug.into()),
                ("enabled", enabled.into()),
                ("backend_name", "tpa-saml".into()),
                ("organization_id", organization.into()),
                ("site_id", 1i64.into()),
            ],
        )
        .await
    }

    async fn add_social_auth(&self, user: UserId, provider: &str, uid: &str) -> i64 {
        let db = self.database().await;
        let now = db.datetime_value(Utc::now());
        let values = vec![user.0.into(), provider.into(), uid.into(), now.clone(), now];
        let id = if self.backend == Backend::Postgres {
            // `extra_data` is `jsonb` here: a text parameter needs the cast.
            let sql = "INSERT INTO social_auth_usersocialauth (user_id, provider, uid, extra_data, created, modified) \
                       VALUES ($1, $2, $3, CAST('{}' AS jsonb), $4, $5) RETURNING id";
            let statement = Statement::from_sql_and_values(self.conn.get_database_backend(), sql, values);
            let row = self.conn.query_one_raw(statement).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            row.map(|r| get_i64(&r, "id").unwrap()).unwrap_or_default()
        } else {
            let sql = "INSERT INTO social_auth_usersocialauth (user_id, provider, uid, extra_data, created, modified) \
                       VALUES (?, ?, ?, '{}', ?, ?)";
            let statement = Statement::from_sql_and_values(self.conn.get_database_backend(), sql, values);
            let result = self.conn.execute_raw(statement).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
            i64::try_from(result.last_insert_id()).unwrap()
        };
        self.social_auth_history(id, "+").await;
        id
    }

    async fn change_social_auth_uid(&self, id: i64, uid: &str) {
        let db = self.database().await;
        let sql = match self.backend {
            Backend::Postgres => "UPDATE social_auth_usersocialauth SET uid = $1, modified = $2 WHERE id = $3",
            _ => "UPDATE social_auth_usersocialauth SET uid = ?, modified = ? WHERE id = ?",
        };
        self.execute(sql, vec![uid.into(), db.datetime_value(Utc::now()), id.into()]).await;
        self.social_auth_history(id, "~").await;
    }

    async fn drop_learner_tables(&self) {
        self.altered.store(true, std::sync::atomic::Ordering::SeqCst);
        for table in [
            "support_historicalusersocialauth",
            "social_auth_usersocialauth",
            "third_party_auth_samlproviderconfig",
            "organizations_historicalorganization",
            "organizations_organization",
        ] {
            let cascade = if self.backend == Backend::Postgres { " CASCADE" } else { "" };
            let quoted = if self.backend == Backend::MySql { format!("`{table}`") } else { format!("\"{table}\"") };
            self.execute(&format!("DROP TABLE IF EXISTS {quoted}{cascade}"), vec![]).await;
        }
        *self.db.lock().unwrap() = None;
    }
}

impl SeaTestDatabase {
    /// The history row of an SSO record as django-simple-history writes it: a copy of the row.
    async fn social_auth_history(&self, id: i64, history_type: &str) {
        let db = self.database().await;
        let (id_param, at_param, type_param) = match self.backend {
            Backend::Postgres => ("$1", "$2", "$3"),
            _ => ("?", "?", "?"),
        };
        let sql = format!(
            "INSERT INTO support_historicalusersocialauth (id, provider, uid, extra_data, created, modified, user_id, \
             history_date, history_change_reason, history_type, history_user_id) \
             SELECT id, provider, uid, extra_data, created, modified, user_id, {at_param}, NULL, {type_param}, NULL \
             FROM social_auth_usersocialauth WHERE id = {id_param}"
        );
        let values = match self.backend {
            Backend::Postgres => vec![id.into(), db.datetime_value(Utc::now()), history_type.into()],
            _ => vec![db.datetime_value(Utc::now()), history_type.into(), id.into()],
        };
        self.execute(&sql, values).await;
    }
}
