//! Load: 50 concurrent clients posting 1,000-line batches over 20,000 keys whose batches
//! overlap (each key is in two or three batches), on PostgreSQL and MariaDB. No 5xx; each response's
//! successes and errors together are exactly its input; each key succeeds in exactly one
//! response and is linked once, to its own user; the database holds exactly that, with the
//! acting user's id in every history row. The figures are printed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_seaorm::Backend;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use super::harness::*;

pub const KEYS: usize = 20_000;
const BATCH: usize = 1_000;
const CLIENTS: usize = 50;
/// Each key is in two or three batches (`BATCHES * BATCH / KEYS` = 2.5): as many requests as
/// clients, so that all 50 are in flight at once, and every key is raced for.
const BATCHES: usize = 50;

fn key(i: usize) -> String {
    format!("KEY-{i:06}")
}

fn learner(i: usize) -> String {
    format!("learner_{i:06}")
}

/// The keys of batch `b`: 1,000 consecutive keys from `b * 400`, wrapping.
fn batch(b: usize) -> Vec<usize> {
    (0..BATCH).map(|j| (b * (KEYS / BATCHES) + j) % KEYS).collect()
}

/// A fresh database on the server of `admin`, filled by the benchmark's fixture (`KEYS`
/// learners and waiting PEs, two courses), and a staff user; its URL and the staff user's id.
pub async fn bench_database(backend: Backend, admin: Option<&str>, keys: usize) -> (String, DatabaseConnection, i64) {
    let url = bench::fixture::create_database(backend, admin).await.unwrap();
    let conn = adapters_seaorm::open(&url).await.unwrap();
    bench::fixture::fill(&conn, backend, keys, 2).await.unwrap();
    let (truth, falsity, now) = match backend {
        Backend::Postgres => ("true", "false", "CURRENT_TIMESTAMP"),
        Backend::MySql => ("1", "0", "CURRENT_TIMESTAMP"),
        Backend::Sqlite => ("1", "0", "'2024-01-01 00:00:00.000000'"),
    };
    conn.execute_unprepared(&format!(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, \
         date_joined) VALUES ('!', {falsity}, 'support_staff', '', '', 'support_staff@example.com', {truth}, {truth}, {now})"
    ))
    .await
    .unwrap();
    let staff = scalar(&conn, "SELECT id FROM auth_user WHERE username = 'support_staff'").await;
    (url, conn, staff)
}

/// One integer.
pub async fn scalar(conn: &DatabaseConnection, sql: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap();
    row.try_get_by_index::<i64>(0)
        .or_else(|_| row.try_get_by_index::<i32>(0).map(i64::from))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The program of the benchmark's fixture, hyphenated.
pub fn bench_program() -> String {
    uuid::Uuid::parse_str(bench::fixture::PROGRAM).unwrap().hyphenated().to_string()
}

/// The key a per-key error names.
fn error_key(error: &str) -> Option<String> {
    let at = error.find("external_student_key=")? + "external_student_key=".len();
    Some(error[at..].chars().take_while(|c| !c.is_whitespace()).collect())
}

struct Outcome {
    batch: usize,
    status: u16,
    body: String,
    latency: Duration,
}

async fn load(backend: Backend, admin_var: &str, what: &str) {
    let Some(admin) = acceptance::sea::env_or_skip_for(admin_var, what) else { return };
    let (url, conn, staff) = bench_database(backend, Some(&admin), KEYS).await;
    let server = Arc::new(ServeOptions::new(&url).start());
    let program = bench_program();
    let token = Jwt::lms("support_staff").token();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let (server, program, token) = (Arc::clone(&server), program.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let caller = Caller::mfe(&token);
            let mut outcomes = Vec::new();
            for b in (client..BATCHES).step_by(CLIENTS) {
                let text: String = batch(b).iter().map(|&i| format!("{},{}\r\n", key(i), learner(i))).collect();
                let start = Instant::now();
                let got = caller.link(&server, &Fields::mfe(&program, &text)).await;
                outcomes.push(Outcome { batch: b, status: got.status, body: got.body, latency: start.elapsed() });
            }
            outcomes
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.extend(task.await.unwrap());
    }
    let total = started.elapsed();
    assert_eq!(outcomes.len(), BATCHES);

    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for o in &outcomes {
        *statuses.entry(o.status).or_default() += 1;
    }
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.latency).collect();
    latencies.sort();
    let lines = BATCHES * BATCH;
    eprintln!(
        "LOAD {what}: {BATCHES} requests of {BATCH} lines from {CLIENTS} concurrent clients ({lines} lines over {KEYS} keys): \
         {total:.2?} in all, {:.0} lines/s; latency p50 {:.2?}, p99 {:.2?}, max {:.2?}; statuses {statuses:?}",
        lines as f64 / total.as_secs_f64(),
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().unwrap()
    );
    if let Some(o) = outcomes.iter().find(|o| o.status != 200) {
        let linked =
            scalar(&conn, "SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL").await;
        eprintln!(
            "{what}: first non-200: batch {} after {:.2?}: {}; {linked} keys linked",
            o.batch,
            o.latency,
            &o.body[..o.body.len().min(500)]
        );
    }
    // Each response: 200; its successes and errors together exactly its input.
    let mut successes_per_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut error_kinds: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        assert_eq!(o.status, 200, "{what}: batch {}: {}", o.batch, &o.body[..o.body.len().min(2000)]);
        let body: serde_json::Value = serde_json::from_str(&o.body).unwrap();
        let input = batch(o.batch);
        let mut seen = HashSet::new();
        let want: HashSet<String> = input.iter().map(|&i| key(i)).collect();
        for s in body["successes"].as_array().unwrap() {
            let s = s.as_str().unwrap();
            let k = s.trim_start_matches("('").split('\'').next().unwrap().to_owned();
            let i: usize = k.trim_start_matches("KEY-").parse().unwrap_or(usize::MAX);
            assert_eq!(s, format!("('{}', '{}')", key(i), learner(i)), "{what}: batch {}: a success", o.batch);
            assert!(want.contains(&k), "{what}: batch {}: success {s} is not in its input", o.batch);
            assert!(seen.insert(k.clone()), "{what}: batch {}: {k} twice", o.batch);
            *successes_per_key.entry(k).or_default() += 1;
        }
        for e in body["errors"].as_array().unwrap() {
            let e = e.as_str().unwrap();
            let k = error_key(e).unwrap_or_else(|| panic!("{what}: batch {}: an error naming no key: {e}", o.batch));
            assert!(want.contains(&k), "{what}: batch {}: error {e} is not about its input", o.batch);
            assert!(seen.insert(k.clone()), "{what}: batch {}: {k} twice", o.batch);
            let i: usize = k.trim_start_matches("KEY-").parse().unwrap();
            let already = format!(
                "Program enrollment with external_student_key={k} is already linked to target account username={}",
                learner(i)
            );
            *error_kinds
                .entry(if e == already { "already linked to target".into() } else { e.to_owned() })
                .or_default() += 1;
        }
        assert_eq!(seen, want, "{what}: batch {}: successes and errors together are its input", o.batch);
    }
    eprintln!("{what}: errors {error_kinds:?}");
    let other_errors: Vec<_> = error_kinds.iter().filter(|(k, _)| *k != "already linked to target").collect();
    assert!(other_errors.is_empty(), "{what}: errors other than `already linked to target account`: {other_errors:?}");
    assert_eq!(successes_per_key.len(), KEYS, "{what}: every key succeeded in some response");
    let twice: Vec<_> = successes_per_key.iter().filter(|(_, n)| **n != 1).take(10).collect();
    assert!(twice.is_empty(), "{what}: keys reported linked by several responses: {twice:?}");

    // The database: each key linked once, to its own user, enrolled in both courses; one
    // history row per row written, each with the acting user's id.
    let k = KEYS as i64;
    let checks = [
        (
            "linked PEs",
            "SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL".to_owned(),
            k,
        ),
        (
            "PEs linked to their own learner",
            "SELECT COUNT(*) FROM program_enrollments_programenrollment pe JOIN auth_user u ON u.id = pe.user_id \
             WHERE SUBSTR(pe.external_user_key, 5) = SUBSTR(u.username, 9)"
                .to_owned(),
            k,
        ),
        (
            "PCEs pointing at an active masters CE of their PE's user",
            "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment pce \
             JOIN program_enrollments_programenrollment pe ON pe.id = pce.program_enrollment_id \
             JOIN student_courseenrollment ce ON ce.id = pce.course_enrollment_id \
             WHERE ce.user_id = pe.user_id AND ce.course_id = pce.course_key AND ce.mode = 'masters' AND ce.is_active"
                .to_owned(),
            2 * k,
        ),
        ("CEs", "SELECT COUNT(*) FROM student_courseenrollment".to_owned(), 2 * k),
        ("PE history rows", "SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment".to_owned(), k),
        (
            "PE history rows of distinct PEs",
            "SELECT COUNT(DISTINCT id) FROM program_enrollments_historicalprogramenrollment".to_owned(),
            k,
        ),
        (
            "PCE history rows",
            "SELECT COUNT(*) FROM program_enrollments_historicalprogramcourseenrollment".to_owned(),
            2 * k,
        ),
        ("CE history rows", "SELECT COUNT(*) FROM student_courseenrollment_history".to_owned(), 2 * k),
        (
            "history rows without the acting user",
            format!(
                "SELECT (SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment WHERE history_user_id IS NULL OR history_user_id <> {staff}) \
                 + (SELECT COUNT(*) FROM program_enrollments_historicalprogramcourseenrollment WHERE history_user_id IS NULL OR history_user_id <> {staff}) \
                 + (SELECT COUNT(*) FROM student_courseenrollment_history WHERE history_user_id IS NULL OR history_user_id <> {staff})"
            ),
            0,
        ),
    ];
    for (name, sql, want) in checks {
        assert_eq!(scalar(&conn, &sql).await, want, "{what}: {name}");
    }

    server.assert_no_panic();
    drop(server);
    conn.close().await.ok();
    bench::fixture::drop_database(backend, Some(&admin), &url).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_postgres() {
    load(Backend::Postgres, "TEST_POSTGRES_URL", "load_postgres").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_mariadb() {
    load(Backend::MySql, "TEST_MYSQL_URL", "load_mariadb").await;
}
