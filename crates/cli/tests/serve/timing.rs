//! The closing note's timings: one POST of 10,000 and of 100,000 lines on SQLite and
//! PostgreSQL, next to the CLI's `link --file` of the same batch on an identical fresh
//! database (the benchmark's fixture: each key a learner with a waiting PE and two waiting
//! course enrollments). Not a test assertion beyond "every key linked"; run by hand:
//!
//! ```text
//! source /work/dev/env.sh
//! cargo test --release -p cli --test serve_main -- --ignored --nocapture timing
//! ```

use std::process::Stdio;
use std::time::{Duration, Instant};

use adapters_seaorm::Backend;

use super::harness::*;
use super::load::{bench_database, bench_program, scalar};

fn lines(keys: usize) -> String {
    (0..keys).map(|i| format!("KEY-{i:06},learner_{i:06}\r\n")).collect()
}

async fn post(backend: Backend, admin: Option<&str>, keys: usize) -> Duration {
    let (url, conn, _) = bench_database(backend, admin, keys).await;
    let server = ServeOptions::new(&url).start();
    let caller = Caller::mfe(&Jwt::lms("support_staff").token());
    let text = lines(keys);
    let start = Instant::now();
    let got = caller.link(&server, &Fields::mfe(&bench_program(), &text)).await;
    let took = start.elapsed();
    assert_eq!(got.status, 200, "{}", &got.body[..got.body.len().min(1000)]);
    assert_eq!(got.json()["successes"].as_array().unwrap().len(), keys);
    assert_eq!(
        scalar(&conn, "SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL").await,
        keys as i64
    );
    drop(server);
    conn.close().await.ok();
    bench::fixture::drop_database(backend, admin, &url).await.unwrap();
    took
}

async fn cli(backend: Backend, admin: Option<&str>, keys: usize) -> Duration {
    let (url, conn, _) = bench_database(backend, admin, keys).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.csv");
    std::fs::write(&file, lines(keys).replace("\r\n", "\n")).unwrap();
    let start = Instant::now();
    let out = command()
        .args([
            "--database-url",
            &url,
            "--quiet",
            "link",
            bench::fixture::PROGRAM,
            "--acting-user",
            "support_staff",
            "--file",
        ])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(out.status.success(), "link: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        scalar(&conn, "SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL").await,
        keys as i64
    );
    conn.close().await.ok();
    bench::fixture::drop_database(backend, admin, &url).await.unwrap();
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing for the closing note: run by hand in release mode"]
async fn timing_post_vs_cli() {
    let postgres = acceptance::sea::env_or_skip_for("TEST_POSTGRES_URL", "timing on PostgreSQL");
    let mut rows = Vec::new();
    for (name, backend, admin) in
        [("sqlite", Backend::Sqlite, None), ("postgres", Backend::Postgres, postgres.as_deref())]
    {
        if backend == Backend::Postgres && admin.is_none() {
            continue;
        }
        for keys in [10_000, 100_000] {
            let web = post(backend, admin, keys).await;
            let link = cli(backend, admin, keys).await;
            let row = format!(
                "TIMING {name} {keys} lines: POST {:.2} s ({:.0} keys/s), CLI link {:.2} s ({:.0} keys/s)",
                web.as_secs_f64(),
                keys as f64 / web.as_secs_f64(),
                link.as_secs_f64(),
                keys as f64 / link.as_secs_f64()
            );
            eprintln!("{row}");
            rows.push(row);
        }
    }
    eprintln!("{}", rows.join("\n"));
}
