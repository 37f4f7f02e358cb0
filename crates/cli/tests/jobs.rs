//! `link --chunk-size N --jobs J` through the binary: the usage rules (only with --chunk-size, 1
//! to 8, refused on SQLite before the file is opened; `--jobs 1` is the default run), and on
//! PostgreSQL and MariaDB, 6,000 keys in chunks of 1,000, four at once: the same report (in
//! input order), rows, history rows and tracking-log events as one chunk at a time, one
//! `Student` discussion role per course although every chunk needed it; a SIGINT stops every
//! job at a safe point with a report of exactly what committed, and `--resume --jobs` completes
//! the work. The fault tests with `--jobs` are in `faults.rs`, the race in `concurrency.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::process::Command;

use acceptance::skip::env_or_skip_for;
use sea_orm::DbBackend;
use serde_json::Value;

use crate::common::{ANIMAL, Db, FRUIT, stderr, stdout};
use crate::faults::{CHUNK, Fixture, TIMEOUT, check_stopped_run_with_jobs, key, wait_timeout};

/// The longest a whole run of the fixture's keys may take (a debug build on a loaded machine).
const RUN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(400);

/// A database of three waiting keys in both courses, one key without its user.
fn small_db() -> Db {
    let db = Db::new();
    for i in 1..=3 {
        db.user(&format!("user_{i}"));
        db.pe(&format!("key-{i}"), crate::common::PROGRAM, None, &[(FRUIT, "active"), (ANIMAL, "active")]);
    }
    db
}

const PAIRS: [&str; 4] = ["key-1:user_1", "key-2:user_2", "key-3:nobody", "key-4:user_3"];

#[test]
fn jobs_without_chunk_size_is_a_usage_error_naming_the_flag() {
    let db = small_db();
    let before = db.bytes();
    let assert = db.link(&[&PAIRS[..], &["--jobs", "2"]].concat()).assert().code(2);
    let err = stderr(&assert);
    assert!(err.contains("--chunk-size"), "{err}");
    assert!(err.contains("--jobs"), "{err}");
    assert_eq!(db.bytes(), before, "the database is unchanged");
}

#[test]
fn jobs_out_of_range_is_a_usage_error() {
    let db = small_db();
    for jobs in ["0", "9", "two"] {
        let assert = db.link(&[&PAIRS[..], &["--chunk-size", "2", "--jobs", jobs]].concat()).assert().code(2);
        assert!(stderr(&assert).contains("--jobs"), "{jobs}: {}", stderr(&assert));
    }
    assert_eq!(db.written(), 0);
}

#[test]
fn jobs_above_one_is_refused_on_sqlite_before_the_file_is_opened() {
    let db = small_db();
    let before = db.bytes();
    let assert = db.link(&[&PAIRS[..], &["--chunk-size", "2", "--jobs", "2"]].concat()).assert().code(2);
    assert_eq!(stdout(&assert), "");
    let err = stderr(&assert);
    assert!(
        err.contains(
            "--jobs 2 needs PostgreSQL or MariaDB: a SQLite database has one writer at a time, so its chunks cannot \
             commit at once (leave --jobs out); nothing was written"
        ),
        "{err}"
    );
    assert_eq!(db.bytes(), before, "the database is unchanged to the byte");
}

#[test]
fn jobs_one_on_sqlite_is_the_default_run() {
    let runs: Vec<(String, String)> = [&[][..], &["--jobs", "1"][..]]
        .iter()
        .map(|extra| {
            let db = small_db();
            let assert =
                db.link(&[&PAIRS[..], &["--chunk-size", "2"], extra].concat()).env("RUST_LOG", "info").assert();
            let assert = assert.code(1);
            let log: String = stderr(&assert).lines().map(|l| format!("{}\n", strip_time(l))).collect();
            (stdout(&assert), log)
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert!(runs[0].0.contains("chunk 1: keys 1-2 (key-1 .. key-2) committed\n"), "{}", runs[0].0);
    assert!(runs[0].0.contains("chunk 2: keys 3-4 (key-3 .. key-4) committed\n"), "{}", runs[0].0);
}

/// A log line without its time stamp (the first field).
fn strip_time(line: &str) -> &str {
    line.split_once(' ').map_or(line, |(_, rest)| rest)
}

/// The events of a tracking log as `name user course mode`, sorted; every line whole.
fn tracking_events(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "the last line is whole");
    let mut events: Vec<String> = text
        .lines()
        .map(|line| {
            let (_, json) = line.split_once(" - ").unwrap_or_else(|| panic!("no ` - ` in {line:?}"));
            let v: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {line:?}"));
            format!("{} {} {} {}", v["name"], v["event"]["user_id"], v["event"]["course_id"], v["event"]["mode"])
        })
        .collect();
    events.sort_unstable();
    events
}

/// What the links wrote, table by table (counts of rows, of distinct ids, of the courses'
/// `Student` roles).
fn written_rows(f: &Fixture) -> BTreeMap<&'static str, i64> {
    let queries = [
        ("linked PEs", "SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL"),
        ("CEs", "SELECT COUNT(*) FROM student_courseenrollment"),
        (
            "attached PCEs",
            "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment WHERE course_enrollment_id IS NOT NULL",
        ),
        ("PE history", "SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment"),
        ("PE history ids", "SELECT COUNT(DISTINCT id) FROM program_enrollments_historicalprogramenrollment"),
        ("PCE history", "SELECT COUNT(*) FROM program_enrollments_historicalprogramcourseenrollment"),
        ("CE history", "SELECT COUNT(*) FROM student_courseenrollment_history"),
        ("CE history ids", "SELECT COUNT(DISTINCT id) FROM student_courseenrollment_history"),
        ("schedules", "SELECT COUNT(*) FROM schedules_schedule"),
        ("Student roles", "SELECT COUNT(*) FROM django_comment_client_role WHERE name = 'Student'"),
        ("role courses", "SELECT COUNT(DISTINCT course_id) FROM django_comment_client_role"),
        ("memberships", "SELECT COUNT(*) FROM django_comment_client_role_users"),
    ];
    queries.into_iter().map(|(name, sql)| (name, f.count(sql))).collect()
}

/// Two twin databases: one linked a chunk at a time (JSON report), one four chunks at once
/// (text report, `--report` JSON): the same report, rows and tracking-log events.
fn four_jobs_as_one(backend: DbBackend, admin: &str) {
    // Six chunks for four jobs: more chunks than jobs, and some job commits two.
    const KEYS: usize = 6 * CHUNK;
    let fixtures = [Fixture::server_with_keys(backend, admin, KEYS), Fixture::server_with_keys(backend, admin, KEYS)];
    // Two keys without their user: errors in two chunks (the second one later in the input),
    // reported in input order.
    for f in &fixtures {
        f.exec("DELETE FROM auth_user WHERE username IN ('learner_005005', 'learner_000005')");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let started = std::time::Instant::now();
    let mut one = fixtures[0].spawn_link(&["--format", "json", "--tracking-log", &file("one.log")], "one");
    let one_status = wait_timeout(&mut one, RUN_TIMEOUT);
    let one_took = started.elapsed();
    let started = std::time::Instant::now();
    let four_args = ["--jobs", "4", "--report", &file("four.json"), "--tracking-log", &file("four.log")];
    let mut four = fixtures[1].spawn_link(&four_args, "four");
    let four_status = wait_timeout(&mut four, RUN_TIMEOUT);
    let four_took = started.elapsed();
    let (one_out, one_err) = fixtures[0].printed("one");
    let (four_out, four_err) = fixtures[1].printed("four");
    assert_eq!(one_status.code(), Some(1), "{one_err}");
    assert_eq!(four_status.code(), Some(1), "{four_err}");

    let without_retries = |text: &str| {
        let mut report: Value = serde_json::from_str(text).unwrap();
        report.as_object_mut().unwrap().remove("retries");
        report
    };
    let one_report = without_retries(&one_out);
    assert_eq!(without_retries(&std::fs::read_to_string(file("four.json")).unwrap()), one_report);
    let errors = one_report["errors"].as_object().unwrap();
    assert_eq!(errors.keys().collect::<Vec<_>>(), [&key(5), &key(5_005)], "errors in input order");
    assert_eq!(one_report["chunks"].as_array().unwrap().len(), KEYS / CHUNK);

    // Text: the chunk lines as they committed, in any order, then the report.
    let mut lines: Vec<&str> = four_out.lines().collect();
    let report = lines.split_off(KEYS / CHUNK);
    lines.sort_unstable();
    let mut expected: Vec<String> = (0..KEYS / CHUNK)
        .map(|c| {
            let (first, last) = (c * CHUNK, (c + 1) * CHUNK - 1);
            format!("chunk {}: keys {}-{} ({} .. {}) committed", c + 1, first + 1, last + 1, key(first), key(last))
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(lines, expected);
    let mut expected_report: Vec<String> =
        errors.iter().map(|(k, m)| format!("{k}: {}", m.as_str().unwrap())).collect();
    expected_report.push(format!("linked {} of {KEYS}", KEYS - 2));
    expected_report.push("errors: 2 no user".to_owned());
    assert_eq!(report, expected_report, "{four_out}");

    let rows = [written_rows(&fixtures[0]), written_rows(&fixtures[1])];
    assert_eq!(rows[0], rows[1]);
    let linked = (KEYS - 2) as i64;
    assert_eq!(rows[1]["linked PEs"], linked);
    assert_eq!((rows[1]["PE history"], rows[1]["PE history ids"]), (linked, linked), "one PE history row per link");
    assert_eq!((rows[1]["CE history"], rows[1]["CE history ids"]), (2 * linked, 2 * linked));
    assert_eq!(rows[1]["Student roles"], 2, "one Student role per course, although every job needed them");
    assert_eq!(rows[1]["memberships"], 2 * linked);
    assert_eq!(tracking_events(&dir.path().join("four.log")), tracking_events(&dir.path().join("one.log")));
    // Per new enrollment, `activated` and `mode_changed` (to `masters`), as the LMS emits them.
    assert_eq!(tracking_events(&dir.path().join("four.log")).len(), 4 * (KEYS - 2));
    eprintln!(
        "{backend:?}: {KEYS} keys in chunks of {CHUNK}: one at a time {one_took:?}, four at once {four_took:?} \
         (debug build, fixture of our migrations)"
    );
    for f in fixtures {
        f.finish();
    }
}

#[test]
fn four_jobs_give_the_report_rows_and_tracking_log_of_one_on_postgres() {
    if let Some(admin) = env_or_skip_for("TEST_POSTGRES_URL", "--jobs on PostgreSQL") {
        four_jobs_as_one(DbBackend::Postgres, &admin);
    }
}

#[test]
fn four_jobs_give_the_report_rows_and_tracking_log_of_one_on_mariadb() {
    if let Some(admin) = env_or_skip_for("TEST_MYSQL_URL", "--jobs on MariaDB") {
        four_jobs_as_one(DbBackend::MySql, &admin);
    }
}

/// SIGINT once a chunk has committed: every job stops at a safe point; the report names
/// exactly the chunks in the database; `--resume --jobs 3` completes the work.
fn interrupted_then_resumed(backend: DbBackend, admin: &str) {
    let fixture = Fixture::server(backend, admin);
    let jobs = ["--jobs", "3"];
    let mut child = fixture.spawn_link(&jobs, "run");
    fixture.wait_for_a_committed_chunk(&mut child);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let status = wait_timeout(&mut child, TIMEOUT);
    let (out, err) = fixture.printed("run");
    assert!(err.contains("SIGINT received: stopping at the next safe point"), "{err}");
    let committed = fixture.linked_chunks();
    let error = check_stopped_run_with_jobs(status, &out, &err, &committed, "the run was stopped on request");
    let k = committed.len() * CHUNK;
    fixture.check_linked_whole(k);
    let rerun = fixture.rerun_completes(k, &jobs);
    eprintln!(
        "{backend:?}: SIGINT with --jobs 3: chunks {:?} committed; the rerun took {rerun:?}\n  {error}",
        committed.iter().map(|c| c + 1).collect::<Vec<_>>()
    );
    fixture.finish();
}

#[test]
fn sigint_stops_every_job_and_resume_completes_on_postgres() {
    if let Some(admin) = env_or_skip_for("TEST_POSTGRES_URL", "SIGINT with --jobs on PostgreSQL") {
        interrupted_then_resumed(DbBackend::Postgres, &admin);
    }
}

#[test]
fn sigint_stops_every_job_and_resume_completes_on_mariadb() {
    if let Some(admin) = env_or_skip_for("TEST_MYSQL_URL", "SIGINT with --jobs on MariaDB") {
        interrupted_then_resumed(DbBackend::MySql, &admin);
    }
}
