//! Two `link` processes over overlapping halves of the same 10,000 keys, and a third writer
//! playing the LMS (linking a random tenth of the PEs to their users one by one, and enrolling
//! some users in a course first), all at once, on PostgreSQL and MariaDB; again with the first
//! run committing four chunks at once (`--jobs 4`).
//!
//! Afterwards: every PE linked exactly once to its intended user, one course enrollment per
//! (user, course), one PE history `~` row per link, one `Student` discussion role per course
//! and one membership per (role, user), and each key reported by exactly one writer as linked
//! and by the others with the "already linked to target account" message.
//!
//! Needs `TEST_POSTGRES_URL` / `TEST_MYSQL_URL` (a user who may create databases); skipped with a
//! printed reason without them, unless `REQUIRE_DB_TESTS=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::{Command, Stdio};

use acceptance::skip::env_or_skip_for;
use adapters_seaorm::Backend;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait, Value};

const KEYS: usize = 10_000;
const PROGRAM: &str = bench::fixture::PROGRAM;

fn key(i: usize) -> String {
    format!("KEY-{i:06}")
}

fn username(i: usize) -> String {
    format!("learner_{i:06}")
}

/// A small deterministic generator (no dependency needed for picking keys).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % below
    }
}

fn statement(backend: Backend, sql: &str, values: Vec<Value>) -> Statement {
    let db_backend = match backend {
        Backend::Postgres => sea_orm::DbBackend::Postgres,
        Backend::MySql => sea_orm::DbBackend::MySql,
        Backend::Sqlite => sea_orm::DbBackend::Sqlite,
    };
    let sql = if backend == Backend::Postgres {
        let mut n = 0;
        sql.chars()
            .map(|c| {
                if c == '?' {
                    n += 1;
                    format!("${n}")
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(db_backend, sql, values)
}

/// What the LMS did.
#[derive(Debug, Default)]
struct LmsWork {
    /// Keys whose PE the LMS linked.
    linked: HashSet<String>,
    /// Users the LMS enrolled (`audit`) in course 0 before any link.
    enrolled: usize,
    /// Requests that gave up waiting for a lock a link run held (the learner's sign-in fails
    /// and would be tried again later).
    timed_out: usize,
}

/// The LMS: for a random tenth of the keys, one small transaction each, as Django would run
/// them: every other one enrolls the learner in course 0 in `audit` (when not enrolled yet),
/// the others link the PE to its user if it is still waiting, with the history row.
async fn play_the_lms(conn: DatabaseConnection, backend: Backend, users: HashMap<String, i64>) -> LmsWork {
    let mut work = LmsWork::default();
    let mut rng = Lcg(42);
    let course = bench::fixture::course_key(0);
    let now = if backend == Backend::Postgres { "now()" } else { "CURRENT_TIMESTAMP(6)" };
    // A random tenth of the keys, in random order (sign-ins come in any order).
    let mut picked = Vec::new();
    let mut seen = HashSet::new();
    while picked.len() < KEYS / 10 {
        let i = rng.next(KEYS);
        if seen.insert(i) {
            picked.push(i);
        }
    }
    // A request does not wait long for a lock: a sign-in that would wait for a link run's
    // transaction fails (and the learner would sign in again later).
    let short_waits = if backend == Backend::Postgres {
        "SET lock_timeout = '2s'"
    } else {
        "SET SESSION innodb_lock_wait_timeout = 2"
    };
    conn.execute_unprepared(short_waits).await.unwrap();
    for (n, i) in picked.into_iter().enumerate() {
        match lms_request(&conn, backend, &users, i, n % 2 == 0, &course, now).await {
            Ok(LmsDid::Enrolled) => work.enrolled += 1,
            Ok(LmsDid::Linked) => {
                work.linked.insert(key(i));
            }
            Ok(LmsDid::Nothing) => {}
            Err(_) => work.timed_out += 1,
        }
    }
    work
}

enum LmsDid {
    Enrolled,
    Linked,
    Nothing,
}

/// One LMS request in its own transaction: enroll key `i`'s learner in `course` (`audit`), or
/// link key `i`'s PE to its learner if it is still waiting, with the history row.
async fn lms_request(
    conn: &DatabaseConnection,
    backend: Backend,
    users: &HashMap<String, i64>,
    i: usize,
    enroll: bool,
    course: &str,
    now: &str,
) -> Result<LmsDid, sea_orm::DbErr> {
    let user = users[&username(i)];
    let txn = conn.begin().await?;
    // As Django's `atomic` does: any error rolls the whole transaction back (a MariaDB lock
    // wait timeout undoes only the statement and would leave the transaction, and the locks it
    // holds, open).
    match lms_writes(&txn, backend, user, i, enroll, course, now).await {
        Ok(did) => {
            txn.commit().await?;
            Ok(did)
        }
        Err(error) => {
            txn.rollback().await?;
            Err(error)
        }
    }
}

async fn lms_writes(
    txn: &sea_orm::DatabaseTransaction,
    backend: Backend,
    user: i64,
    i: usize,
    enroll: bool,
    course: &str,
    now: &str,
) -> Result<LmsDid, sea_orm::DbErr> {
    let did = if enroll {
        let exists = txn
            .query_one_raw(statement(
                backend,
                "SELECT id FROM student_courseenrollment WHERE user_id = ? AND course_id = ?",
                vec![user.into(), course.into()],
            ))
            .await?;
        if exists.is_some() {
            LmsDid::Nothing
        } else {
            txn.execute_raw(statement(
                backend,
                &format!(
                    "INSERT INTO student_courseenrollment (user_id, course_id, created, is_active, mode) \
                     VALUES (?, ?, {now}, ?, 'audit')"
                ),
                vec![user.into(), course.into(), true.into()],
            ))
            .await?;
            LmsDid::Enrolled
        }
    } else {
        let linked = txn
            .execute_raw(statement(
                backend,
                &format!(
                    "UPDATE program_enrollments_programenrollment SET user_id = ?, modified = {now} \
                     WHERE external_user_key = ? AND user_id IS NULL"
                ),
                vec![user.into(), key(i).into()],
            ))
            .await?
            .rows_affected();
        if linked == 1 {
            txn.execute_raw(statement(
                backend,
                &format!(
                    "INSERT INTO program_enrollments_historicalprogramenrollment (id, created, modified, \
                     external_user_key, program_uuid, curriculum_uuid, status, user_id, history_date, \
                     history_change_reason, history_type, history_user_id) SELECT id, created, modified, \
                     external_user_key, program_uuid, curriculum_uuid, status, user_id, {now}, NULL, '~', NULL \
                     FROM program_enrollments_programenrollment WHERE external_user_key = ?"
                ),
                vec![key(i).into()],
            ))
            .await?;
            LmsDid::Linked
        } else {
            LmsDid::Nothing
        }
    };
    Ok(did)
}

/// Rows of a query as strings and integers.
async fn rows(conn: &DatabaseConnection, backend: Backend, sql: &str) -> Vec<Vec<String>> {
    let result = conn.query_all_raw(statement(backend, sql, vec![])).await.unwrap();
    result
        .iter()
        .map(|row| {
            row.column_names()
                .iter()
                .map(|c| {
                    row.try_get::<Option<i64>>("", c)
                        .or_else(|_| row.try_get::<Option<i32>>("", c).map(|v| v.map(i64::from)))
                        .map(|v| v.map_or("NULL".to_owned(), |v| v.to_string()))
                        .or_else(|_| row.try_get::<Option<String>>("", c).map(|v| v.unwrap_or_else(|| "NULL".into())))
                        .unwrap()
                })
                .collect()
        })
        .collect()
}

fn run_link(url: &str, file: &std::path::Path, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_program-enrollments"))
        .args(["--database-url", url, "--quiet", "link", PROGRAM, "--format", "json", "--file"])
        .arg(file)
        .args(extra)
        .env("RUST_LOG", std::env::var("CONC_LOG").unwrap_or_else(|_| "warn".into()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The race, run A linking with `a_jobs` chunks at once (`--jobs`; 1: none given).
async fn race(backend: Backend, admin: &str, a_jobs: usize) {
    let url = bench::fixture::create_database(backend, Some(admin)).await.unwrap();
    let conn = adapters_seaorm::open(&url).await.unwrap();
    bench::fixture::fill(&conn, backend, KEYS, 2).await.unwrap();
    let users: HashMap<String, i64> = rows(&conn, backend, "SELECT username, id FROM auth_user")
        .await
        .into_iter()
        .map(|r| (r[0].clone(), r[1].parse().unwrap()))
        .collect();

    // Run A: keys 0..6,000 in input order, committing every 1,000; run B: keys 4,000..10,000 in
    // reverse order, one transaction. They meet in the overlap from both ends: lock waits and
    // deadlocks are expected, and must be retried.
    let dir = tempfile::tempdir().unwrap();
    let file_a = dir.path().join("a.csv");
    let file_b = dir.path().join("b.csv");
    let csv =
        |range: Vec<usize>| range.into_iter().map(|i| format!("{},{}\n", key(i), username(i))).collect::<String>();
    std::fs::write(&file_a, csv((0..6_000).collect())).unwrap();
    std::fs::write(&file_b, csv((4_000..KEYS).rev().collect())).unwrap();

    let started = std::time::Instant::now();
    let lms = tokio::spawn(play_the_lms(adapters_seaorm::open(&url).await.unwrap(), backend, users.clone()));
    let jobs = a_jobs.to_string();
    let a_args: &[&str] =
        if a_jobs > 1 { &["--chunk-size", "1000", "--jobs", &jobs] } else { &["--chunk-size", "1000"] };
    let run_a = run_link(&url, &file_a, a_args);
    let run_b = run_link(&url, &file_b, &[]);
    // Each run's pipes drained by its own thread: a run blocked on a full stderr pipe would
    // hold its locks forever.
    let out_a = tokio::task::spawn_blocking(move || run_a.wait_with_output().unwrap());
    let out_b = tokio::task::spawn_blocking(move || run_b.wait_with_output().unwrap());
    let (out_a, out_b) = (out_a.await.unwrap(), out_b.await.unwrap());
    let lms = lms.await.unwrap();

    let mut reports = Vec::new();
    for (name, out) in [("A", &out_a), ("B", &out_b)] {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 1)), "run {name}: {:?}\n{stderr}", out.status);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        reports.push((name, report, stderr.into_owned()));
    }

    // Each key: linked by exactly one writer; every other report of it says "already linked to
    // target account" naming its own user; no other error.
    let mut linked_by: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for key in &lms.linked {
        linked_by.entry(key.clone()).or_default().push("LMS");
    }
    for (name, report, _) in &reports {
        for key in report["linked"].as_array().unwrap() {
            linked_by.entry(key.as_str().unwrap().to_owned()).or_default().push(name);
        }
        for (key, message) in report["errors"].as_object().unwrap() {
            let i: usize = key.trim_start_matches("KEY-").parse().unwrap();
            let expected = format!(
                "Program enrollment with external_student_key={key} is already linked to target account username={}",
                username(i)
            );
            if message.as_str().unwrap() != expected {
                let stderr = &reports.iter().find(|r| r.0 == *name).unwrap().2;
                let lines: Vec<&str> =
                    stderr.lines().filter(|l| l.contains(key.as_str()) || l.contains("again")).take(20).collect();
                panic!("{backend:?}: run {name}: {key}: {message}\n{}", lines.join("\n"));
            }
        }
        assert!(report["not_written"].is_null(), "{backend:?}: run {name}");
    }
    assert_eq!(linked_by.len(), KEYS, "{backend:?}: every key linked by someone");
    let twice: Vec<_> = linked_by.iter().filter(|(_, who)| who.len() != 1).collect();
    assert!(twice.is_empty(), "{backend:?}: keys linked by more than one writer: {:?}", &twice[..twice.len().min(5)]);
    for (name, report, _) in &reports {
        let linked = report["linked"].as_array().unwrap().len();
        let errors = report["errors"].as_object().unwrap().len();
        assert_eq!(linked + errors, 6_000, "{backend:?}: run {name} reports each of its keys once");
    }

    // The database: every PE linked to its intended user, once.
    let wrong = rows(
        &conn,
        backend,
        "SELECT COUNT(*) FROM program_enrollments_programenrollment pe LEFT JOIN auth_user u ON u.id = pe.user_id \
         WHERE u.username IS NULL OR u.username <> REPLACE(pe.external_user_key, 'KEY-', 'learner_')",
    )
    .await;
    assert_eq!(wrong[0][0], "0", "{backend:?}: PEs not linked to their intended user");
    let history = rows(
        &conn,
        backend,
        "SELECT COUNT(*), COUNT(DISTINCT id) FROM program_enrollments_historicalprogramenrollment \
         WHERE history_type = '~' AND user_id IS NOT NULL",
    )
    .await;
    assert_eq!(history[0], [KEYS.to_string(), KEYS.to_string()], "{backend:?}: one PE history row per link");
    let duplicates = rows(
        &conn,
        backend,
        "SELECT COUNT(*) FROM (SELECT user_id, course_id FROM student_courseenrollment GROUP BY user_id, course_id \
         HAVING COUNT(*) > 1) d",
    )
    .await;
    assert_eq!(duplicates[0][0], "0", "{backend:?}: one course enrollment per (user, course)");
    // Keys linked by the tool: both PCEs attached to active Master's enrollments of the user,
    // including the ones the LMS had created in `audit`.
    let tool_linked = KEYS - lms.linked.len();
    let attached = rows(
        &conn,
        backend,
        "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment pce \
         JOIN program_enrollments_programenrollment pe ON pe.id = pce.program_enrollment_id \
         JOIN student_courseenrollment ce ON ce.id = pce.course_enrollment_id AND ce.user_id = pe.user_id \
         WHERE ce.mode = 'masters' AND ce.is_active = TRUE",
    )
    .await;
    assert_eq!(attached[0][0], (2 * tool_linked).to_string(), "{backend:?}: PCEs of tool-linked keys");
    let pce_history = rows(
        &conn,
        backend,
        "SELECT COUNT(*) AS history_rows, COUNT(DISTINCT id) AS enrollments FROM program_enrollments_historicalprogramcourseenrollment",
    )
    .await;
    assert_eq!(pce_history[0], [(2 * tool_linked).to_string(), (2 * tool_linked).to_string()], "{backend:?}");
    // What the LMS's receivers would have written: the `Student` discussion role of every
    // enrollment the tool wrote, and a schedule (with its experience and `+` history row) for
    // every enrollment it created (those the LMS created are converted by a plain save: none).
    let without_role = rows(
        &conn,
        backend,
        "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment pce \
         JOIN student_courseenrollment ce ON ce.id = pce.course_enrollment_id \
         WHERE NOT EXISTS (SELECT 1 FROM django_comment_client_role_users m \
         JOIN django_comment_client_role r ON r.id = m.role_id \
         WHERE m.user_id = ce.user_id AND r.course_id = ce.course_id AND r.name = 'Student')",
    )
    .await;
    assert_eq!(without_role[0][0], "0", "{backend:?}: enrollments without their Student role");
    // Both runs (and run A's jobs) created the courses' `Student` roles at once: one each.
    let roles = rows(
        &conn,
        backend,
        "SELECT course_id, COUNT(*) AS n FROM django_comment_client_role WHERE name = 'Student' GROUP BY course_id",
    )
    .await;
    assert_eq!(roles.len(), 2, "{backend:?}: a Student role per course: {roles:?}");
    assert!(roles.iter().all(|r| r[1] == "1"), "{backend:?}: one Student role per course: {roles:?}");
    let duplicate_members = rows(
        &conn,
        backend,
        "SELECT COUNT(*) FROM (SELECT role_id, user_id FROM django_comment_client_role_users GROUP BY role_id, user_id \
         HAVING COUNT(*) > 1) d",
    )
    .await;
    assert_eq!(duplicate_members[0][0], "0", "{backend:?}: one membership per (role, user)");
    let schedules = rows(
        &conn,
        backend,
        // Named columns: PostgreSQL names each unnamed `COUNT(*)` `count`, and a row is read by name.
        "SELECT (SELECT COUNT(*) FROM schedules_schedule) AS schedules, \
         (SELECT COUNT(*) FROM schedules_scheduleexperience) AS experiences, \
         (SELECT COUNT(*) FROM schedules_historicalschedule WHERE history_type = '+') AS created, \
         (SELECT COUNT(*) FROM student_courseenrollment) AS enrollments",
    )
    .await;
    let created = (2 * tool_linked - lms.enrolled).to_string();
    assert_eq!(schedules[0][..3], [created.clone(), created.clone(), created], "{backend:?}: schedules");

    let retries: Vec<u64> = reports.iter().map(|(_, r, _)| r["retries"].as_u64().unwrap()).collect();
    let overlap_errors: Vec<usize> = reports.iter().map(|(_, r, _)| r["errors"].as_object().unwrap().len()).collect();
    eprintln!(
        "{backend:?}: {KEYS} keys raced by runs A (0..6000, chunks of 1000, {a_jobs} at once) and B (4000..10000 reversed, one \
         transaction) and the LMS in {:.1} s; the LMS linked {} and enrolled {} in audit first ({} requests timed \
         out waiting for a lock); A linked {}, B linked {}; already-linked reports A {}, B {}; transactions retried \
         after conflicts: A {}, B {}",
        started.elapsed().as_secs_f64(),
        lms.linked.len(),
        lms.enrolled,
        lms.timed_out,
        reports[0].1["linked"].as_array().unwrap().len(),
        reports[1].1["linked"].as_array().unwrap().len(),
        overlap_errors[0],
        overlap_errors[1],
        retries[0],
        retries[1]
    );
    for (name, _, stderr) in &reports {
        for line in stderr.lines().filter(|l| l.contains("runs again")).take(3) {
            eprintln!("  run {name}: {line}");
        }
    }
    conn.close().await.unwrap();
    bench::fixture::drop_database(backend, Some(admin), &url).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_link_runs_and_the_lms_race_on_postgres() {
    if let Some(admin) = env_or_skip_for("TEST_POSTGRES_URL", "the PostgreSQL race") {
        race(Backend::Postgres, &admin, 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_link_runs_and_the_lms_race_on_mariadb() {
    if let Some(admin) = env_or_skip_for("TEST_MYSQL_URL", "the MariaDB race") {
        race(Backend::MySql, &admin, 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_four_jobs_another_link_and_the_lms_race_on_postgres() {
    if let Some(admin) = env_or_skip_for("TEST_POSTGRES_URL", "the PostgreSQL race with --jobs 4") {
        race(Backend::Postgres, &admin, 4).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_with_four_jobs_another_link_and_the_lms_race_on_mariadb() {
    if let Some(admin) = env_or_skip_for("TEST_MYSQL_URL", "the MariaDB race with --jobs 4") {
        race(Backend::MySql, &admin, 4).await;
    }
}
