//! Fresh databases holding the benchmark's fixture, written with set-based SQL: N users, N
//! waiting program enrollments with K waiting course enrollments each, K course overviews.

use adapters_seaorm::Backend;
use migrations::Migrator;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::MigratorTrait;

use crate::BenchError;

/// The program and curriculum of the fixture (32 hex digits: `char(32)` on SQLite and MariaDB).
pub const PROGRAM: &str = "9b7d3d1c3f0e4a8e9a553c6a5d9b2f10";
const CURRICULUM: &str = "6f1c2d3e4a5b4c6d8e7f901234567890";

/// Creates a fresh database next to `admin_url` (or a fresh SQLite file) and returns its URL.
pub async fn create_database(backend: Backend, admin_url: Option<&str>) -> Result<String, BenchError> {
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    match backend {
        Backend::Sqlite => {
            Ok(format!("sqlite://{}?mode=rwc", std::env::temp_dir().join(format!("{name}.sqlite3")).display()))
        }
        Backend::Postgres | Backend::MySql => {
            let admin_url = admin_url.ok_or(BenchError::NoServer(backend.name()))?;
            let admin = adapters_seaorm::open(admin_url).await?;
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await?;
            admin.close().await?;
            let (base, query) = admin_url.split_once('?').map_or((admin_url, ""), |(b, q)| (b, q));
            let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
            Ok(if query.is_empty() { format!("{server}/{name}") } else { format!("{server}/{name}?{query}") })
        }
    }
}

/// Drops a database made by [`create_database`].
pub async fn drop_database(backend: Backend, admin_url: Option<&str>, url: &str) -> Result<(), BenchError> {
    match backend {
        Backend::Sqlite => {
            let path = url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default();
            std::fs::remove_file(path).ok();
            Ok(())
        }
        Backend::Postgres | Backend::MySql => {
            let name = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default();
            let admin = adapters_seaorm::open(admin_url.ok_or(BenchError::NoServer(backend.name()))?).await?;
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}")).await?;
            admin.close().await?;
            Ok(())
        }
    }
}

/// A series `0..n` as a table `n(i)`, in the backend's SQL.
fn series(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Postgres => format!("(SELECT generate_series(0, {}) AS i) n", n.saturating_sub(1)),
        _ => format!(
            "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {}) SELECT i FROM s) n",
            n.saturating_sub(1)
        ),
    }
}

/// `prefix` followed by `i` padded to six digits.
fn padded(backend: Backend, prefix: &str) -> String {
    match backend {
        Backend::Sqlite => format!("printf('{prefix}%06d', i)"),
        Backend::Postgres => format!("'{prefix}' || lpad(i::text, 6, '0')"),
        Backend::MySql => format!("CONCAT('{prefix}', LPAD(i, 6, '0'))"),
    }
}

fn now(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f000', 'now')",
        _ => "CURRENT_TIMESTAMP",
    }
}

fn uuid_literal(backend: Backend, hex: &str) -> String {
    match backend {
        Backend::Postgres => format!("'{hex}'::uuid"),
        _ => format!("'{hex}'"),
    }
}

/// The course keys of the fixture.
pub fn course_key(k: usize) -> String {
    format!("course-v1:Bench+C{k}+Run")
}

/// Runs our migrations and writes the fixture.
pub async fn fill(conn: &DatabaseConnection, backend: Backend, keys: usize, courses: usize) -> Result<(), BenchError> {
    Migrator::up(conn, None).await?;
    let now = now(backend);
    let n = series(backend, keys);
    let (username, email, key) = (padded(backend, "learner_"), padded(backend, "learner_"), padded(backend, "KEY-"));
    let truth = if backend == Backend::Postgres { "true" } else { "1" };
    let falsity = if backend == Backend::Postgres { "false" } else { "0" };
    let statements = [
        format!(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
             is_active, date_joined) SELECT '!', {falsity}, {username}, '', '', {email}, {falsity}, {truth}, {now} FROM {n}"
        ),
        format!(
            "INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, program_uuid, \
             curriculum_uuid, status) SELECT {now}, {now}, {key}, {}, {}, 'enrolled' FROM {n}",
            uuid_literal(backend, PROGRAM),
            uuid_literal(backend, CURRICULUM)
        ),
    ];
    for sql in statements {
        // MariaDB stops a recursive CTE after 1,000 rows unless told otherwise.
        let sql = if backend == Backend::MySql {
            format!("SET STATEMENT max_recursive_iterations = 4294967295 FOR {sql}")
        } else {
            sql
        };
        conn.execute_unprepared(&sql).await?;
    }
    for k in 0..courses {
        let course = course_key(k);
        conn.execute_unprepared(&format!(
            "INSERT INTO course_overviews_courseoverview (id, display_name, start) VALUES ('{course}', 'Course {k}', \
                 '2020-01-01 00:00:00')"
        ))
        .await?;
        conn.execute_unprepared(&format!(
            "INSERT INTO program_enrollments_programcourseenrollment (created, modified, program_enrollment_id, \
             course_key, status) SELECT {now}, {now}, id, '{course}', 'active' FROM program_enrollments_programenrollment"
        ))
        .await?;
    }
    Ok(())
}
