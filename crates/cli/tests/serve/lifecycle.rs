//! The process: `serve` refuses to start without `--jwt-jwks` or `--jwt-secret-file`; SIGTERM
//! during a running request lets it finish and exits 0; concurrent requests on SQLite queue
//! (no 500 "database is locked"); a database fault in the middle of a request (PostgreSQL
//! `pg_terminate_backend` of the service's connections) gives 500 `{"detail": …}` naming no
//! secret, and nothing of the call is written.

use std::sync::Arc;
use std::time::{Duration, Instant};

use acceptance::restricted::RestrictedUser;
use acceptance::{SeaTestDatabase, Target, TestDatabase};
use adapters_seaorm::Backend;
use serde_json::json;

use super::harness::*;
use super::load::{bench_database, bench_program, scalar};

fn text(keys: impl Iterator<Item = usize>) -> String {
    keys.map(|i| format!("KEY-{i:06},learner_{i:06}\r\n")).collect()
}

const LINKED: &str = "SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL";
const WRITTEN: &str = "SELECT (SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL) \
     + (SELECT COUNT(*) FROM student_courseenrollment) \
     + (SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment) \
     + (SELECT COUNT(*) FROM program_enrollments_historicalprogramcourseenrollment) \
     + (SELECT COUNT(*) FROM student_courseenrollment_history)";

#[test]
fn refuses_to_start_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite3").display());
    let missing = dir.path().join("no-such-jwks.json").display().to_string();
    let migrate = command().args(["--database-url", &url, "migrate"]).output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    for (what, extra) in [
        ("neither --jwt-jwks nor --jwt-secret-file", vec![]),
        ("a JWKS file that does not exist", vec!["--jwt-jwks", &missing]),
    ] {
        let mut child = command()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                &url,
                "--jwt-issuer",
                ISSUER,
                "--jwt-audience",
                AUDIENCE,
            ])
            .args(&extra)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let out = child.wait_with_output().unwrap();
                panic!("{what}: serve did not refuse to start:\n{}", String::from_utf8_lossy(&out.stderr));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!status.success(), "{what}: exit {status}\n{stderr}");
        assert!(!stderr.contains("listening on"), "{what}: it listened:\n{stderr}");
        assert!(!stderr.trim().is_empty(), "{what}: it says why");
    }
    // The control: the same command with a JWKS starts.
    let server = ServeOptions::new(&url).start();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_a_running_request_finish() {
    let keys = 20_000;
    let (url, conn, staff) = bench_database(Backend::Sqlite, None, keys).await;
    let mut server = ServeOptions::new(&url).start();
    let caller = Caller::mfe(&Jwt::lms("support_staff").token());
    let body = text(0..keys);
    let request = {
        let (base, program) = (server.base.clone(), bench_program());
        let caller = caller.clone();
        let body = body.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            let fields = Fields::mfe(&program, &body);
            let request = caller.apply(http().post(format!("{base}{API}"))).multipart(fields_multipart(&fields));
            let got = reply(request.send().await.unwrap()).await;
            (got, start, Instant::now())
        })
    };
    // Let the request arrive and start, then ask the server to stop.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let sent_at = Instant::now();
    server.sigterm();
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A new request is not served any more.
    let late = http().get(server.url("/health")).timeout(Duration::from_secs(120)).send().await;
    assert!(late.as_ref().map(|r| r.status() != 200).unwrap_or(true), "a request after SIGTERM was served: {late:?}");
    let (got, started, finished) = request.await.unwrap();
    assert!(
        finished > sent_at,
        "the request ended ({:?} after it started) before SIGTERM was sent: make the batch bigger",
        finished - started
    );
    assert_eq!(got.status, 200, "the running request finishes: {}", &got.body[..got.body.len().min(2000)]);
    let body = got.json();
    assert_eq!(body["successes"].as_array().unwrap().len(), keys, "every key linked");
    assert_eq!(body["errors"], json!([]));
    let status = server.wait_timeout(Duration::from_secs(60)).expect("the server exits after SIGTERM");
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM:\n{}", server.stderr());
    assert_eq!(scalar(&conn, LINKED).await, keys as i64, "committed whole");
    assert_eq!(pe_history_rows_by(&conn, staff).await, keys as i64, "PE history rows name the acting user");
    server.assert_no_panic();
    conn.close().await.ok();
    bench::fixture::drop_database(Backend::Sqlite, None, &url).await.unwrap();
}

/// The multipart form of `fields` (as [`Caller::link`] sends it).
fn fields_multipart(fields: &Fields) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    if let Some(v) = &fields.program_uuid {
        form = form.text("program_uuid", v.clone());
    }
    if let Some(v) = &fields.username_pair_text {
        form = form.text("username_pair_text", v.clone());
    }
    form
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_requests_queue() {
    let (requests, each) = (8, 500);
    let keys = requests * each;
    let (url, conn, staff) = bench_database(Backend::Sqlite, None, keys).await;
    let server = Arc::new(ServeOptions::new(&url).start());
    let token = Jwt::lms("support_staff").token();
    let mut tasks = Vec::new();
    for r in 0..requests {
        let (server, token) = (Arc::clone(&server), token.clone());
        tasks.push(tokio::spawn(async move {
            Caller::mfe(&token).link(&server, &Fields::mfe(&bench_program(), &text(r * each..(r + 1) * each))).await
        }));
    }
    for (r, task) in tasks.into_iter().enumerate() {
        let got = task.await.unwrap();
        assert!(!got.body.contains("locked"), "request {r}: {}", &got.body[..got.body.len().min(2000)]);
        assert_eq!(got.status, 200, "request {r}: {}", &got.body[..got.body.len().min(2000)]);
        let body = got.json();
        assert_eq!(body["errors"], json!([]), "request {r}");
        assert_eq!(body["successes"].as_array().unwrap().len(), each, "request {r}");
    }
    assert_eq!(scalar(&conn, LINKED).await, keys as i64);
    assert_eq!(pe_history_rows_by(&conn, staff).await, keys as i64, "PE history rows name the acting user");
    server.assert_no_panic();
    drop(server);
    conn.close().await.ok();
    bench::fixture::drop_database(Backend::Sqlite, None, &url).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_terminated_mid_request() {
    let keys = 20_000;
    let Some(db) = SeaTestDatabase::create(Target::Postgres).await else { return };
    bench::fixture::fill(db.connection(), Backend::Postgres, keys, 2).await.unwrap();
    let staff = db.add_user("support_staff", "support_staff@example.com").await;
    set_staff(&db, staff, true).await;
    let user = RestrictedUser::create(&db).await;
    // Membership lets the admin (not a superuser) terminate the service's backends.
    db.execute(&format!("GRANT {} TO CURRENT_USER", user.name), vec![]).await;
    let server = ServeOptions::new(&user.url).start();
    let caller = Caller::mfe(&Jwt::lms("support_staff").token());
    let request = {
        let (base, caller) = (server.base.clone(), caller.clone());
        tokio::spawn(async move {
            let fields = Fields::mfe(&bench_program(), &text(0..keys));
            let request = caller.apply(http().post(format!("{base}{API}"))).multipart(fields_multipart(&fields));
            reply(request.send().await.unwrap()).await
        })
    };
    // Once the service holds a transaction open, terminate its connections, and keep doing
    // so until the response arrives (a retry meets the same fault).
    let in_transaction =
        format!("SELECT COUNT(*) FROM pg_stat_activity WHERE usename = '{}' AND xact_start IS NOT NULL", user.name);
    let start = Instant::now();
    let mut terminated = 0;
    while !request.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(300), "no response within 300 s");
        if terminated > 0 || scalar(db.connection(), &in_transaction).await > 0 {
            let sql = format!(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{}' \
                 AND backend_type = 'client backend'",
                user.name
            );
            terminated += scalar(db.connection(), &sql).await;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let got = request.await.unwrap();
    assert!(terminated > 0, "no connection of the service was terminated (the request ended first?)");
    assert_eq!(got.status, 500, "a database fault mid-request: {}", &got.body[..got.body.len().min(2000)]);
    let body = got.json();
    let detail = body["detail"].as_str().unwrap_or_else(|| panic!("500 body must be {{\"detail\": …}}: {body}"));
    // Anything beside `detail` must not claim a success.
    assert!(body.get("successes").is_none_or(|s| s == &json!([])), "{body}");
    for secret in [user.password.as_str(), user.url.as_str(), "postgres://"] {
        assert!(!detail.contains(secret), "the detail names a secret: {detail}");
        assert!(!server.stderr().contains(user.password.as_str()), "the log shows the password");
    }
    assert_eq!(scalar(db.connection(), WRITTEN).await, 0, "nothing of the call is written");
    assert_healthy(&server).await;
    // The fault gone, the service works again.
    let got = caller.link(&server, &Fields::mfe(&bench_program(), &text(0..10))).await;
    assert_eq!(got.status, 200, "after the fault: {}", got.body);
    assert_eq!(got.json()["successes"].as_array().unwrap().len(), 10, "after the fault: {}", got.body);
    eprintln!("fault: {terminated} backend(s) terminated; the response: 500 {detail:?}");
    server.assert_no_panic();
    drop(server);
    user.drop(&db).await;
    db.finish().await;
}

/// With `--chunk-size`, a fault after some chunks committed keeps exactly those chunks (the
/// first keys of the input, whole), and the response says so: its successes are those keys,
/// its errors say what was committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_terminated_mid_request_with_chunks() {
    let (keys, chunk) = (20_000, 1_000);
    let Some(db) = SeaTestDatabase::create(Target::Postgres).await else { return };
    bench::fixture::fill(db.connection(), Backend::Postgres, keys, 2).await.unwrap();
    let staff = db.add_user("support_staff", "support_staff@example.com").await;
    set_staff(&db, staff, true).await;
    let user = RestrictedUser::create(&db).await;
    db.execute(&format!("GRANT {} TO CURRENT_USER", user.name), vec![]).await;
    let server = ServeOptions::new(&user.url).arg(&["--chunk-size", &chunk.to_string()]).start();
    let caller = Caller::mfe(&Jwt::lms("support_staff").token());
    let request = {
        let (base, caller) = (server.base.clone(), caller.clone());
        tokio::spawn(async move {
            let fields = Fields::mfe(&bench_program(), &text(0..keys));
            let request = caller.apply(http().post(format!("{base}{API}"))).multipart(fields_multipart(&fields));
            reply(request.send().await.unwrap()).await
        })
    };
    let start = Instant::now();
    let mut terminated = 0;
    while !request.is_finished() {
        assert!(start.elapsed() < Duration::from_secs(300), "no response within 300 s");
        if terminated > 0 || scalar(db.connection(), LINKED).await >= chunk as i64 {
            let sql = format!(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{}' \
                 AND backend_type = 'client backend'",
                user.name
            );
            terminated += scalar(db.connection(), &sql).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = request.await.unwrap();
    let k = scalar(db.connection(), LINKED).await as usize;
    assert!(terminated > 0 && k < keys, "the fault came too late ({k} keys linked): make the batch bigger");
    assert_eq!(k % chunk, 0, "whole chunks only: {k} keys linked");
    assert!(k >= chunk);
    // Exactly the first k keys, each whole.
    assert_eq!(
        scalar(
            db.connection(),
            &format!(
                "SELECT COUNT(*) FROM program_enrollments_programenrollment pe JOIN auth_user u ON u.id = pe.user_id \
                 WHERE pe.external_user_key < 'KEY-{k:06}' AND SUBSTR(pe.external_user_key, 5) = SUBSTR(u.username, 9)"
            )
        )
        .await,
        k as i64
    );
    assert_eq!(scalar(db.connection(), "SELECT COUNT(*) FROM student_courseenrollment").await, 2 * k as i64);
    assert_eq!(
        scalar(db.connection(), "SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment").await,
        k as i64
    );
    let body = got.json();
    eprintln!("chunked fault: {terminated} backend(s) terminated, {k} keys committed; {} {}", got.status, {
        let mut b = body.clone();
        if let Some(s) = b.get_mut("successes") {
            *s = json!(format!("[{} strings]", s.as_array().map_or(0, Vec::len)));
        }
        b
    });
    assert!(body.get("detail").is_some_and(|d| d.is_string()), "{}", got.status);
    assert!(!got.body.contains(user.password.as_str()), "the response names the password");
    let successes: Vec<String> = body["successes"]
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    let want: Vec<String> = (0..k).map(|i| format!("('KEY-{i:06}', 'learner_{i:06}')")).collect();
    assert!(successes == want, "the successes are the committed keys: {} of {k}", successes.len());
    let errors: Vec<&str> =
        body["errors"].as_array().map(|a| a.iter().filter_map(|e| e.as_str()).collect()).unwrap_or_default();
    assert!(
        errors.iter().any(|e| e.contains(&k.to_string())),
        "the response's errors say what was committed ({k} keys): errors {errors:?}, detail {}",
        body["detail"]
    );
    drop(server);
    user.drop(&db).await;
    db.finish().await;
}

/// How many PE history rows name `user` as the acting user.
async fn pe_history_rows_by(conn: &sea_orm::DatabaseConnection, user: i64) -> i64 {
    let sql =
        format!("SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment WHERE history_user_id = {user}");
    scalar(conn, &sql).await
}
