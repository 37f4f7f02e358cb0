//! Fresh databases holding the benchmark's fixture, written with set-based SQL (one
//! `INSERT … SELECT` per table over a generated series, so 1M rows take seconds): N users, N
//! waiting program enrollments with K waiting course enrollments each, K course overviews; with
//! background rows (the rest of the LMS), B other users per key, another program's waiting and
//! linked enrollments, the other users' course enrollments in the same courses with their forum
//! roles, schedules and history rows.
//!
//! The tables come from our migrations ([`Schema::Ours`]) or from the DDL Django's `migrate`
//! made (`tests/django/ddl/<backend>.sql`, [`Schema::Django`]).

use adapters_seaorm::Backend;
use migrations::Migrator;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;

use crate::BenchError;

/// The program and curriculum of the fixture (32 hex digits: `char(32)` on SQLite and MariaDB).
pub const PROGRAM: &str = "9b7d3d1c3f0e4a8e9a553c6a5d9b2f10";
const CURRICULUM: &str = "6f1c2d3e4a5b4c6d8e7f901234567890";
/// The background's other program.
const OTHER_PROGRAM: &str = "0c3f5a7b9d1e4f2a8b6c4d2e0f1a3b5c";

/// Where the fixture's tables come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// The DDL Django's `migrate` made, as `tests/django/ddl/` holds it (Open edX's own schema).
    Django,
    /// Our migrations.
    Ours,
}

/// What a fixture holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fixture {
    /// Waiting program enrollments of [`PROGRAM`], one per key (`KEY-000000`, …), and their
    /// users (`learner_000000`, …).
    pub keys: usize,
    /// Waiting course enrollments per key (and course overviews).
    pub courses: usize,
    /// Other users per key (0: no background rows at all). With any, the fixture also holds
    /// another program's waiting and linked enrollments (one of each per key, with their course
    /// enrollments), one course enrollment per other user in one of the courses, with its forum
    /// role membership, schedule and experience, and the history rows of all of these.
    pub background: usize,
    /// The tables.
    pub schema: Schema,
}

/// Creates a fresh database next to `admin_url` (or a fresh SQLite file) and returns its URL.
pub async fn create_database(backend: Backend, admin_url: Option<&str>) -> Result<String, BenchError> {
    let url = create_name(backend, admin_url)?;
    if let (Backend::Postgres | Backend::MySql, Some(admin_url)) = (backend, admin_url) {
        let admin = adapters_seaorm::open(admin_url).await?;
        admin.execute_unprepared(&format!("CREATE DATABASE {}", database_name(&url))).await?;
        admin.close().await?;
    }
    Ok(url)
}

/// Copies the database `template` (a built fixture) to a fresh one and returns its URL, where the
/// backend copies a database faster than it builds one (SQLite: the file; PostgreSQL: `CREATE
/// DATABASE … TEMPLATE`); `None` on MariaDB.
pub async fn copy_database(
    backend: Backend,
    admin_url: Option<&str>,
    template: &str,
) -> Result<Option<String>, BenchError> {
    let copy = create_name(backend, admin_url)?;
    match backend {
        Backend::Sqlite => {
            std::fs::copy(sqlite_path(template), sqlite_path(&copy))?;
            Ok(Some(copy))
        }
        Backend::Postgres => {
            let admin = adapters_seaorm::open(admin_url.ok_or(BenchError::NoServer(backend.name()))?).await?;
            admin
                .execute_unprepared(&format!(
                    "CREATE DATABASE {} TEMPLATE {}",
                    database_name(&copy),
                    database_name(template)
                ))
                .await?;
            admin.close().await?;
            Ok(Some(copy))
        }
        Backend::MySql => Ok(None),
    }
}

/// A fresh database's URL (nothing created).
fn create_name(backend: Backend, admin_url: Option<&str>) -> Result<String, BenchError> {
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    match backend {
        Backend::Sqlite => {
            Ok(format!("sqlite://{}?mode=rwc", std::env::temp_dir().join(format!("{name}.sqlite3")).display()))
        }
        Backend::Postgres | Backend::MySql => {
            let admin_url = admin_url.ok_or(BenchError::NoServer(backend.name()))?;
            let (base, query) = admin_url.split_once('?').map_or((admin_url, ""), |(b, q)| (b, q));
            let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
            Ok(if query.is_empty() { format!("{server}/{name}") } else { format!("{server}/{name}?{query}") })
        }
    }
}

fn sqlite_path(url: &str) -> &str {
    url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default()
}

fn database_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default()
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

/// `prefix` followed by `expr` padded to `width` digits.
fn padded(backend: Backend, prefix: &str, expr: &str, width: usize) -> String {
    match backend {
        Backend::Sqlite => format!("printf('{prefix}%0{width}d', {expr})"),
        Backend::Postgres => format!("'{prefix}' || lpad(({expr})::text, {width}, '0')"),
        Backend::MySql => format!("CONCAT('{prefix}', LPAD({expr}, {width}, '0'))"),
    }
}

/// Integer division.
fn div(backend: Backend, a: &str, b: usize) -> String {
    match backend {
        Backend::MySql => format!("({a} DIV {b})"),
        _ => format!("({a} / {b})"),
    }
}

/// `'course-v1:Bench+C' || expr || '+Run'`: [`course_key`] of a computed index.
fn course_key_of(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::MySql => format!("CONCAT('course-v1:Bench+C', {expr}, '+Run')"),
        Backend::Postgres => format!("'course-v1:Bench+C' || ({expr})::text || '+Run'"),
        Backend::Sqlite => format!("'course-v1:Bench+C' || ({expr}) || '+Run'"),
    }
}

fn now(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f000', 'now')",
        _ => "CURRENT_TIMESTAMP",
    }
}

/// A random UUID per row, as `student_courseenrollment_history.history_id` holds it.
pub fn random_uuid(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "lower(hex(randomblob(16)))",
        Backend::Postgres => "gen_random_uuid()",
        Backend::MySql => "REPLACE(UUID(), '-', '')",
    }
}

/// A UUID literal (`'…'::uuid` on PostgreSQL, 32 hex digits elsewhere).
pub fn uuid_literal(backend: Backend, hex: &str) -> String {
    match backend {
        Backend::Postgres => format!("'{hex}'::uuid"),
        _ => format!("'{hex}'"),
    }
}

/// `true` and `false` in the backend's SQL.
pub fn booleans(backend: Backend) -> (&'static str, &'static str) {
    if backend == Backend::Postgres { ("true", "false") } else { ("1", "0") }
}

/// The course keys of the fixture.
pub fn course_key(k: usize) -> String {
    format!("course-v1:Bench+C{k}+Run")
}

/// The positions `0..keys` in the order the benchmark gives the pairs: `shuffled` is a fixed
/// permutation (Fisher–Yates over SplitMix64 with a fixed seed), else the keys' (and PEs') order.
pub fn input_order(keys: usize, shuffled: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys).collect();
    if shuffled {
        let mut state: u64 = 0x5EED_0016;
        let mut next = || {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        for i in (1..keys).rev() {
            let bound = u64::try_from(i + 1).unwrap_or(u64::MAX);
            let j = usize::try_from(next() % bound).unwrap_or(0);
            order.swap(i, j);
        }
    }
    order
}

/// Runs our migrations and writes the fixture of `keys` keys without background rows (for
/// tests that need many keys).
pub async fn fill(conn: &DatabaseConnection, backend: Backend, keys: usize, courses: usize) -> Result<(), BenchError> {
    Migrator::up(conn, None).await?;
    write_rows(conn, backend, &Fixture { keys, courses, background: 0, schema: Schema::Ours }).await
}

/// Creates the tables of `fixture.schema` in the (empty) database `url` and writes the fixture.
pub async fn build(backend: Backend, url: &str, fixture: &Fixture) -> Result<(), BenchError> {
    // Django's dumps set session variables (PostgreSQL's `search_path` to ''): a connection
    // of their own, closed before the rows are written.
    let conn = adapters_seaorm::open(url).await?;
    match fixture.schema {
        Schema::Ours => Migrator::up(&conn, None).await?,
        Schema::Django => create_django_tables(&conn, backend).await?,
    }
    conn.close().await?;
    let conn = adapters_seaorm::open(url).await?;
    if backend == Backend::Sqlite {
        // The builder's own connection: no sync, the journal in memory, a page cache that holds
        // the whole file (the default 2 MB makes a 1M-row build thrash for many minutes).
        for pragma in ["PRAGMA synchronous = OFF", "PRAGMA journal_mode = MEMORY", "PRAGMA cache_size = -2000000"] {
            conn.execute_unprepared(pragma).await?;
        }
    }
    // One transaction: SQLite syncs the file once, not once per statement.
    let txn = conn.begin().await?;
    write_rows(&txn, backend, fixture).await?;
    txn.commit().await?;
    conn.close().await?;
    Ok(())
}

/// Runs Django's DDL for `backend` (`tests/django/ddl/`).
async fn create_django_tables(conn: &DatabaseConnection, backend: Backend) -> Result<(), BenchError> {
    match backend {
        // One statement a line; `sqlite_sequence` is SQLite's own table (made by AUTOINCREMENT).
        Backend::Sqlite => {
            // One transaction: SQLite syncs the file once, not once per statement.
            let txn = conn.begin().await?;
            for line in include_str!("../../../tests/django/ddl/sqlite.sql").lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with("--") || line.starts_with("CREATE TABLE sqlite_sequence") {
                    continue;
                }
                txn.execute_unprepared(line).await?;
            }
            txn.commit().await?;
        }
        // Dumps: run whole.
        Backend::Postgres => {
            conn.execute_unprepared(include_str!("../../../tests/django/ddl/postgres.sql")).await?;
        }
        Backend::MySql => {
            conn.execute_unprepared(include_str!("../../../tests/django/ddl/mariadb.sql")).await?;
        }
    }
    Ok(())
}

/// The statement that writes the fixture's course overview `k` on `schema`.
fn course_overview(backend: Backend, schema: Schema, k: usize) -> String {
    let course = course_key(k);
    let start = "'2020-01-01 00:00:00'";
    match schema {
        Schema::Ours => format!(
            "INSERT INTO course_overviews_courseoverview (id, display_name, start) VALUES ('{course}', 'Course {k}', {start})"
        ),
        // Every NOT NULL column of Open edX's table (Django sets no database defaults).
        Schema::Django => {
            let (t, f) = booleans(backend);
            let now = now(backend);
            let location = format!("block-v1:Bench+C{k}+Run+type@course+block@course");
            format!(
                "INSERT INTO course_overviews_courseoverview (created, modified, version, id, _location, org, \
                 display_name, display_number_with_default, display_org_with_default, start, banner_image_url, \
                 course_image_url, certificates_show_before_end, cert_html_view_enabled, \
                 has_any_active_web_certificate, cert_name_short, cert_name_long, mobile_available, \
                 visible_to_staff_only, _pre_requisite_courses_json, invitation_only, self_paced, \
                 eligible_for_financial_aid, has_highlights, enable_proctored_exams, allow_proctoring_opt_out, \
                 entrance_exam_enabled, entrance_exam_id, entrance_exam_minimum_score_pct, \
                 force_on_flexible_peer_openassessments) VALUES ({now}, {now}, 17, '{course}', '{location}', 'Bench', \
                 'Course {k}', 'C{k}', 'Bench', {start}, '', '', {f}, {f}, {f}, '', '', {f}, {f}, '[]', {f}, {f}, \
                 {t}, {f}, {f}, {f}, {f}, '', 0.65, {f})"
            )
        }
    }
}

/// Writes the fixture's rows into tables that exist and are empty.
async fn write_rows(conn: &impl ConnectionTrait, backend: Backend, fixture: &Fixture) -> Result<(), BenchError> {
    let Fixture { keys, courses, background, schema } = *fixture;
    let now = now(backend);
    let (t, f) = booleans(backend);
    // Users: each learner followed by its `background` others, so the learners' rows are
    // spread over the tables and their indexes, as in the LMS. User `p` has id `p + 1`.
    let per_key_users = background + 1;
    let learner = padded(backend, "learner_", &div(backend, "i", per_key_users), 6);
    let other = padded(backend, "other_", "i", 7);
    let username = format!("CASE WHEN i % {per_key_users} = 0 THEN {learner} ELSE {other} END");
    // Program enrollments: ours, then (with background) the other program's waiting and linked
    // ones, key after key. PE `q` has id `q + 1`.
    let per_key_pes = if background > 0 { 3 } else { 1 };
    let key = padded(backend, "KEY-", &div(backend, "i", per_key_pes), 6);
    let waiting = padded(backend, "WAITING-", &div(backend, "i", per_key_pes), 6);
    let linked = padded(backend, "LINKED-", &div(backend, "i", per_key_pes), 6);
    // A linked PE's user: the first other user of its key.
    let linked_user = format!("{} * {per_key_users} + 2", div(backend, "i", per_key_pes));
    let (ours, theirs) = (uuid_literal(backend, PROGRAM), uuid_literal(backend, OTHER_PROGRAM));
    let curriculum = uuid_literal(backend, CURRICULUM);
    let pe = "program_enrollments_programenrollment";
    let pce = "program_enrollments_programcourseenrollment";
    let ce = "student_courseenrollment";
    let mut statements = vec![
        format!(
            "INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, \
             is_active, date_joined) SELECT i + 1, '!', {f}, {username}, '', '', {username}, {f}, {t}, {now} FROM {}",
            series(backend, keys * per_key_users)
        ),
        format!(
            "INSERT INTO {pe} (id, created, modified, external_user_key, program_uuid, curriculum_uuid, status, user_id) \
             SELECT i + 1, {now}, {now}, CASE i % {per_key_pes} WHEN 0 THEN {key} WHEN 1 THEN {waiting} ELSE {linked} END, \
             CASE WHEN i % {per_key_pes} = 0 THEN {ours} ELSE {theirs} END, {curriculum}, 'enrolled', \
             CASE WHEN i % {per_key_pes} = 2 THEN {linked_user} ELSE NULL END FROM {}",
            series(backend, keys * per_key_pes)
        ),
    ];
    statements.extend((0..courses).map(|k| course_overview(backend, schema, k)));
    // Each PE's course enrollments together, as the registrar's API writes them.
    statements.push(format!(
        "INSERT INTO {pce} (created, modified, program_enrollment_id, course_key, status) \
         SELECT {now}, {now}, pe.id, co.id, 'active' FROM {pe} pe CROSS JOIN course_overviews_courseoverview co \
         ORDER BY pe.id, co.id"
    ));
    if background > 0 {
        let past = "'2024-01-01 00:00:00'";
        let course = course_key_of(backend, &format!("i % {courses}"));
        let hist = "history_date, history_change_reason, history_type, history_user_id";
        let pe_cols = "id, created, modified, user_id, external_user_key, program_uuid, curriculum_uuid, status";
        let pce_cols = "id, created, modified, program_enrollment_id, course_enrollment_id, course_key, status";
        let ce_cols = "id, user_id, course_id, created, is_active, mode";
        let schedule_cols = "id, created, modified, active, start_date, upgrade_deadline, enrollment_id";
        let attach = match backend {
            Backend::MySql => format!(
                "UPDATE {pce} pce JOIN {pe} pe ON pe.id = pce.program_enrollment_id JOIN {ce} ce \
                 ON ce.user_id = pe.user_id AND ce.course_id = pce.course_key SET pce.course_enrollment_id = ce.id \
                 WHERE pe.program_uuid = {theirs}"
            ),
            _ => format!(
                "UPDATE {pce} SET course_enrollment_id = ce.id FROM {pe} pe JOIN {ce} ce ON ce.user_id = pe.user_id \
                 WHERE pe.id = {pce}.program_enrollment_id AND ce.course_id = {pce}.course_key \
                 AND pe.program_uuid = {theirs}"
            ),
        };
        statements.extend([
            // Each other user is enrolled in one of the courses.
            format!(
                "INSERT INTO {ce} (user_id, course_id, created, is_active, mode) \
                 SELECT i + 1, {course}, {past}, {t}, 'audit' FROM {} WHERE i % {per_key_users} <> 0",
                series(backend, keys * per_key_users)
            ),
        ]);
        // Statistics first: without them PostgreSQL plans the join below as nested scans
        // (13 minutes at 10,000 keys).
        match backend {
            Backend::Postgres => statements.push("ANALYZE".to_owned()),
            Backend::MySql => statements.push(format!("ANALYZE TABLE {pe}, {pce}, {ce}")),
            Backend::Sqlite => {}
        }
        statements.extend([
            attach,
            "INSERT INTO django_comment_client_role (name, course_id) SELECT 'Student', id FROM course_overviews_courseoverview"
                .to_owned(),
            format!(
                "INSERT INTO django_comment_client_role_users (role_id, user_id) SELECT r.id, ce.user_id FROM {ce} ce \
                 JOIN django_comment_client_role r ON r.course_id = ce.course_id AND r.name = 'Student' ORDER BY ce.id"
            ),
            format!(
                "INSERT INTO schedules_schedule (created, modified, active, start_date, upgrade_deadline, enrollment_id) \
                 SELECT ce.created, ce.created, {t}, ce.created, NULL, ce.id FROM {ce} ce ORDER BY ce.id"
            ),
            "INSERT INTO schedules_scheduleexperience (experience_type, schedule_id) SELECT 0, id FROM schedules_schedule ORDER BY id"
                .to_owned(),
            format!(
                "INSERT INTO program_enrollments_historicalprogramenrollment ({pe_cols}, {hist}) \
                 SELECT {pe_cols}, created, NULL, '+', NULL FROM {pe} ORDER BY id"
            ),
            format!(
                "INSERT INTO program_enrollments_historicalprogramcourseenrollment ({pce_cols}, {hist}) \
                 SELECT {pce_cols}, created, NULL, '+', NULL FROM {pce} ORDER BY id"
            ),
            format!(
                "INSERT INTO student_courseenrollment_history ({ce_cols}, history_id, {hist}) \
                 SELECT {ce_cols}, {}, created, NULL, '+', NULL FROM {ce} ORDER BY id",
                random_uuid(backend)
            ),
            format!(
                "INSERT INTO schedules_historicalschedule ({schedule_cols}, {hist}) \
                 SELECT {schedule_cols}, created, NULL, '+', NULL FROM schedules_schedule ORDER BY id"
            ),
        ]);
    }
    match backend {
        // The ids written above leave the identity sequences behind.
        Backend::Postgres => statements.extend(["auth_user", pe].map(|table| {
            format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        })),
        Backend::MySql | Backend::Sqlite => {}
    }
    // Statistics, as PostgreSQL's autovacuum and InnoDB's automatic statistics keep them on a
    // live server (Django never runs ANALYZE on SQLite).
    match backend {
        Backend::Postgres => statements.push("ANALYZE".to_owned()),
        Backend::MySql => statements.push(format!(
            "ANALYZE TABLE auth_user, {pe}, {pce}, {ce}, course_overviews_courseoverview, django_comment_client_role, \
             django_comment_client_role_users, schedules_schedule"
        )),
        Backend::Sqlite => {}
    }
    for sql in statements {
        // MariaDB stops a recursive CTE after 1,000 rows unless told otherwise.
        let sql = if backend == Backend::MySql && sql.contains("WITH RECURSIVE") {
            format!("SET STATEMENT max_recursive_iterations = 4294967295 FOR {sql}")
        } else {
            sql
        };
        conn.execute_unprepared(&sql).await?;
    }
    Ok(())
}
