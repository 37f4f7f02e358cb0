//! Faults in the middle of a chunked `link` (`--chunk-size 1000` over 10,000 keys), through the
//! real binary: the connection killed by the server (PostgreSQL `pg_terminate_backend`, MariaDB
//! `KILL`), the PostgreSQL server stopped (`pg_ctl stop -m immediate`), and the process itself
//! killed with SIGKILL while it writes a SQLite file.
//!
//! Each test waits (polling the database from its own connection) until at least one chunk has
//! committed, injects the fault, then checks: the exit status is 3 and the messages say which
//! chunks committed and which keys were not written (except after SIGKILL, which leaves no
//! process to say anything); the linked keys are exactly whole chunks at the start of the input;
//! every linked key is whole (its PE, both PCEs pointing at CEs of its user, one history row per
//! row written) and nothing else was written; a rerun of the same input with `--resume`
//! completes the work with exactly one history row per row written.
//!
//! Environment (each test skips, saying why, when its variable is missing, unless
//! `REQUIRE_DB_TESTS=1`): `TEST_POSTGRES_URL`, `TEST_MYSQL_URL` (admin URLs: a user who may
//! create databases); `FAULT_PG_URL`, `FAULT_PG_STOP`, `FAULT_PG_START` (a PostgreSQL server only
//! the server-stop test uses, and the shell commands that stop and start it: `.ci/run` sets
//! them). Every test uses its own throw-away database and drops it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use acceptance::sea::with_database;
use acceptance::skip::env_or_skip_for;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use tempfile::TempDir;

/// The program of the fixture (32 hex digits, as `char(32)` stores it).
const PROGRAM: &str = "9b7d3d1c3f0e4a8e9a553c6a5d9b2f10";
const CURRICULUM: &str = "6f1c2d3e4a5b4c6d8e7f901234567890";
const COURSES: [&str; 2] = ["course-v1:edX+Oranges+Apples", "course-v1:edX+Cats+Dogs"];
/// Keys in the input: `KEY-000000` .. for `learner_000000` ..
pub(crate) const KEYS: usize = 10_000;
/// `--chunk-size`.
pub(crate) const CHUNK: usize = 1_000;
/// The longest a test waits for anything.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(20);

pub(crate) fn key(i: usize) -> String {
    format!("KEY-{i:06}")
}

/// A name no other test run uses.
fn fresh_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("fault_{}_{:x}", std::process::id(), nanos)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// One connection (so that "every connection but mine" means the binary's).
async fn connect(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(0)
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    Database::connect(options).await
}

/// A throw-away database holding the fixture, the input file, and a connection of the test's own.
pub(crate) struct Fixture {
    backend: DbBackend,
    /// The URL the binary gets.
    url: String,
    /// The server's admin URL and the database's name (PostgreSQL, MariaDB).
    server: Option<(String, String)>,
    dir: TempDir,
    rt: tokio::runtime::Runtime,
    conn: Option<DatabaseConnection>,
    /// Its users, waiting PEs and input lines: [`KEYS`] unless a test needs fewer.
    keys: usize,
}

impl Fixture {
    /// A fresh SQLite file.
    fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.sqlite3").display());
        Self::build(DbBackend::Sqlite, url, None, dir, KEYS)
    }

    /// A fresh database on the server of `admin_url`.
    pub(crate) fn server(backend: DbBackend, admin_url: &str) -> Fixture {
        Self::server_with_keys(backend, admin_url, KEYS)
    }

    /// [`Fixture::server`] with `keys` keys (a multiple of [`CHUNK`]).
    pub(crate) fn server_with_keys(backend: DbBackend, admin_url: &str, keys: usize) -> Fixture {
        let name = fresh_name();
        let rt = runtime();
        rt.block_on(async {
            let admin = connect(admin_url).await.unwrap();
            admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
            admin.close().await.unwrap();
        });
        let url = with_database(admin_url, &name);
        Self::build(backend, url, Some((admin_url.to_owned(), name)), tempfile::tempdir().unwrap(), keys)
    }

    fn build(backend: DbBackend, url: String, server: Option<(String, String)>, dir: TempDir, keys: usize) -> Fixture {
        let mut fixture = Fixture { backend, url, server, dir, rt: runtime(), conn: None, keys };
        let migrate_url =
            if backend == DbBackend::Sqlite { format!("{}?mode=rwc", fixture.url) } else { fixture.url.clone() };
        let migrate = bin().args(["--database-url", &migrate_url, "--quiet", "migrate"]).output().unwrap();
        assert!(migrate.status.success(), "migrate: {}", String::from_utf8_lossy(&migrate.stderr));
        fixture.reconnect();
        fixture.fill();
        let csv: String = (0..keys).map(|i| format!("{},learner_{i:06}\n", key(i))).collect();
        std::fs::write(fixture.keys_file(), csv).unwrap();
        fixture
    }

    /// Opens the test's own connection again (after a server restart).
    fn reconnect(&mut self) {
        if let Some(old) = self.conn.take() {
            let _ = self.rt.block_on(old.close());
        }
        let url = self.url.clone();
        self.conn = Some(self.rt.block_on(connect(&url)).unwrap());
    }

    fn keys_file(&self) -> PathBuf {
        self.dir.path().join("keys.csv")
    }

    fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("test.sqlite3")
    }

    /// `self.keys` users and waiting PEs, each PE with a waiting PCE in each of the two courses.
    fn fill(&self) {
        let b = self.backend;
        let keys = self.keys;
        let series = match b {
            DbBackend::Postgres => format!("(SELECT generate_series(0, {}) AS i) n", keys - 1),
            _ => format!(
                "(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {}) SELECT i FROM s) n",
                keys - 1
            ),
        };
        let padded = |prefix: &str| match b {
            DbBackend::Sqlite => format!("printf('{prefix}%06d', i)"),
            DbBackend::Postgres => format!("'{prefix}' || lpad(i::text, 6, '0')"),
            _ => format!("CONCAT('{prefix}', LPAD(i, 6, '0'))"),
        };
        let uuid = |hex: &str| if b == DbBackend::Postgres { format!("'{hex}'::uuid") } else { format!("'{hex}'") };
        let (now, truth, falsity) = match b {
            DbBackend::Sqlite => ("'2024-01-01 00:00:00.000000'", "1", "0"),
            DbBackend::Postgres => ("CURRENT_TIMESTAMP", "true", "false"),
            _ => ("CURRENT_TIMESTAMP", "1", "0"),
        };
        let mut statements = vec![
            format!(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
                 is_active, date_joined) SELECT '!', {falsity}, {}, '', '', {}, {falsity}, {truth}, {now} FROM {series}",
                padded("learner_"),
                padded("learner_")
            ),
            format!(
                "INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, \
                 program_uuid, curriculum_uuid, status) SELECT {now}, {now}, {}, {}, {}, 'enrolled' FROM {series}",
                padded("KEY-"),
                uuid(PROGRAM),
                uuid(CURRICULUM)
            ),
        ];
        for course in COURSES {
            statements.push(format!(
                "INSERT INTO course_overviews_courseoverview (id, display_name, start) VALUES ('{course}', 'A course', \
                 '2020-01-01 00:00:00')"
            ));
            statements.push(format!(
                "INSERT INTO program_enrollments_programcourseenrollment (created, modified, program_enrollment_id, \
                 course_key, status) SELECT {now}, {now}, id, '{course}', 'active' \
                 FROM program_enrollments_programenrollment"
            ));
        }
        for sql in statements {
            // MariaDB stops a recursive CTE after 1,000 rows unless told otherwise.
            let sql = if b == DbBackend::MySql {
                format!("SET STATEMENT max_recursive_iterations = 4294967295 FOR {sql}")
            } else {
                sql
            };
            self.exec(&sql);
        }
        assert_eq!(self.count("SELECT COUNT(*) FROM program_enrollments_programcourseenrollment"), 2 * keys as i64);
    }

    fn conn(&self) -> &DatabaseConnection {
        self.conn.as_ref().unwrap()
    }

    pub(crate) fn exec(&self, sql: &str) {
        self.rt.block_on(self.conn().execute_unprepared(sql)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    fn try_count(&self, sql: &str) -> Result<i64, sea_orm::DbErr> {
        let row = self.rt.block_on(self.conn().query_one_raw(Statement::from_string(self.backend, sql)))?;
        row.unwrap().try_get_by_index::<i64>(0)
    }

    pub(crate) fn count(&self, sql: &str) -> i64 {
        self.try_count(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub(crate) fn linked(&self) -> Result<i64, sea_orm::DbErr> {
        self.try_count("SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL")
    }

    /// `link PROGRAM --chunk-size 1000 --file keys.csv` (and `extra`), its output in files.
    pub(crate) fn spawn_link(&self, extra: &[&str], name: &str) -> Child {
        let out = std::fs::File::create(self.dir.path().join(format!("{name}.stdout"))).unwrap();
        let err = std::fs::File::create(self.dir.path().join(format!("{name}.stderr"))).unwrap();
        bin()
            .args(["--database-url", &self.url, "--quiet", "link", PROGRAM, "--chunk-size", &CHUNK.to_string()])
            .arg("--file")
            .arg(self.keys_file())
            .args(extra)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap()
    }

    /// What a run spawned by [`Fixture::spawn_link`] as `name` printed: (stdout, stderr).
    pub(crate) fn printed(&self, name: &str) -> (String, String) {
        let read = |ext: &str| std::fs::read_to_string(self.dir.path().join(format!("{name}.{ext}"))).unwrap();
        (read("stdout"), read("stderr"))
    }

    /// Polls until at least one chunk has committed; returns how many keys are linked then.
    pub(crate) fn wait_for_a_committed_chunk(&self, child: &mut Child) -> i64 {
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the run ended ({status}) before the fault: make the fixture bigger or the chunks smaller")
            }
            // SQLite may be busy while the binary commits: poll again.
            if let Ok(n) = self.linked()
                && n >= CHUNK as i64
            {
                return n;
            }
            assert!(start.elapsed() < TIMEOUT, "no chunk committed within {TIMEOUT:?}");
            std::thread::sleep(POLL);
        }
    }

    /// Checks the database holds exactly `k` linked keys, the first `k` of the input, each whole,
    /// and nothing else written by the links.
    fn check_prefix_linked(&self, k: usize) {
        assert_eq!(self.linked_keys_below(k), k as i64, "the linked PEs are the first keys of the input");
        self.check_linked_whole(k);
    }

    /// How many PEs of the keys before position `end` are linked, each to its own learner.
    fn linked_keys_below(&self, end: usize) -> i64 {
        self.count(&format!(
            "SELECT COUNT(*) FROM program_enrollments_programenrollment pe JOIN auth_user u ON u.id = pe.user_id \
             WHERE pe.external_user_key < '{}' AND SUBSTR(pe.external_user_key, 5) = SUBSTR(u.username, 9)",
            key(end)
        ))
    }

    /// The chunks (from 0) whose keys are linked, each to its own learner; panics on a chunk
    /// linked in part.
    pub(crate) fn linked_chunks(&self) -> Vec<usize> {
        let mut chunks = Vec::new();
        let mut below = 0;
        for c in 0..KEYS / CHUNK {
            let now = self.linked_keys_below((c + 1) * CHUNK);
            match now - below {
                0 => {}
                n if n == CHUNK as i64 => chunks.push(c),
                n => panic!("chunk {} linked in part: {n} keys", c + 1),
            }
            below = now;
        }
        chunks
    }

    /// Checks the database holds exactly `k` linked keys, each whole, and nothing else written
    /// by the links.
    pub(crate) fn check_linked_whole(&self, k: usize) {
        let k = k as i64;
        let counts = |sql: &str| self.count(sql);
        assert_eq!(
            counts("SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL"),
            k,
            "linked PEs"
        );
        // Each linked PE is whole: both PCEs point at a CE of its user in their course.
        assert_eq!(
            counts(
                "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment WHERE course_enrollment_id IS NOT NULL"
            ),
            2 * k,
            "PCEs pointing at a CE"
        );
        assert_eq!(
            counts(
                "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment pce \
                 JOIN program_enrollments_programenrollment pe ON pe.id = pce.program_enrollment_id \
                 JOIN student_courseenrollment ce ON ce.id = pce.course_enrollment_id \
                 WHERE ce.user_id = pe.user_id AND ce.course_id = pce.course_key AND ce.mode = 'masters' AND ce.is_active"
            ),
            2 * k,
            "PCEs pointing at an active masters CE of their PE's user in their course"
        );
        assert_eq!(counts("SELECT COUNT(*) FROM student_courseenrollment"), 2 * k, "CEs");
        // One history row per row written, and only for them.
        let history = [
            (
                "program_enrollments_historicalprogramenrollment",
                "program_enrollments_programenrollment",
                "h.user_id = t.user_id",
                k,
            ),
            (
                "program_enrollments_historicalprogramcourseenrollment",
                "program_enrollments_programcourseenrollment",
                "h.course_enrollment_id = t.course_enrollment_id",
                2 * k,
            ),
            ("student_courseenrollment_history", "student_courseenrollment", "h.user_id = t.user_id", 2 * k),
        ];
        for (table, live, same, expected) in history {
            assert_eq!(counts(&format!("SELECT COUNT(*) FROM {table}")), expected, "{table}");
            assert_eq!(counts(&format!("SELECT COUNT(DISTINCT id) FROM {table}")), expected, "{table}: one per row");
            assert_eq!(
                counts(&format!("SELECT COUNT(*) FROM {table} h JOIN {live} t ON t.id = h.id WHERE {same}")),
                expected,
                "{table}: rows of the written rows, as written"
            );
        }
        if self.backend == DbBackend::Sqlite {
            let row = self
                .rt
                .block_on(self.conn().query_one_raw(Statement::from_string(self.backend, "PRAGMA integrity_check")))
                .unwrap()
                .unwrap();
            assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "ok", "PRAGMA integrity_check");
            let violations = self
                .rt
                .block_on(self.conn().query_all_raw(Statement::from_string(self.backend, "PRAGMA foreign_key_check")))
                .unwrap();
            assert!(violations.is_empty(), "PRAGMA foreign_key_check: {} violations", violations.len());
        }
    }

    /// The rerun of the same input with `--resume` (and `extra`) completes the work, `k` keys
    /// having been linked before.
    pub(crate) fn rerun_completes(&self, k: usize, extra: &[&str]) -> Duration {
        let start = Instant::now();
        let mut child = self.spawn_link(&[&["--resume"][..], extra].concat(), "rerun");
        let status = wait_timeout(&mut child, TIMEOUT);
        let (out, err) = self.printed("rerun");
        assert_eq!(status.code(), Some(0), "rerun: {out}\n{err}");
        assert!(
            out.ends_with(&format!(
                "linked {} of {KEYS}; {k} already linked to the same user before this run\n",
                KEYS - k
            )),
            "rerun: {out}"
        );
        self.check_prefix_linked(KEYS);
        start.elapsed()
    }

    /// Closes the test's connection and drops the database (as a failed test does, on drop).
    pub(crate) fn finish(self) {}
}

impl Drop for Fixture {
    /// A failed test drops its database too.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = self.rt.block_on(conn.close());
        }
        if let Some((admin_url, name)) = self.server.take() {
            let force = if self.backend == DbBackend::Postgres { " WITH (FORCE)" } else { "" };
            let _ = self.rt.block_on(async move {
                let admin = connect(&admin_url).await?;
                admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name}{force}")).await?;
                admin.close().await
            });
        }
    }
}

/// The binary, with no database chosen by the environment.
fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_program-enrollments"));
    cmd.env_remove("DATABASE_URL").env_remove("RUST_LOG");
    cmd
}

/// Waits for `child`, killing it after `timeout`.
pub(crate) fn wait_timeout(child: &mut Child, timeout: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("the binary did not end within {timeout:?}");
        }
        std::thread::sleep(POLL);
    }
}

/// Starts the fault server again when dropped, unless started already: a failed test must not
/// leave it down.
struct StartOnDrop<'a>(Option<&'a str>);

impl StartOnDrop<'_> {
    fn start(mut self) {
        if let Some(command) = self.0.take() {
            shell(command);
        }
    }
}

impl Drop for StartOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(command) = self.0.take() {
            let _ = Command::new("sh").args(["-c", command]).output();
        }
    }
}

/// Runs a shell command of the environment (the fault server's stop or start).
fn shell(command: &str) -> Output {
    let output = Command::new("sh").args(["-c", command]).output().unwrap();
    assert!(
        output.status.success(),
        "`{command}` failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Checks what a run stopped by a fault printed, `k` keys having committed: its exit status 3,
/// the report of the committed chunks on standard output, and the error on standard error.
fn check_stopped_run(status: ExitStatus, out: &str, err: &str, k: usize) -> String {
    assert_eq!(status.code(), Some(3), "exit status\n{out}\n{err}");
    assert_eq!(k % CHUNK, 0, "whole chunks committed");
    let chunks = k / CHUNK;
    let mut expected: String = (0..chunks)
        .map(|c| {
            let (first, last) = (c * CHUNK, (c + 1) * CHUNK - 1);
            format!("chunk {}: keys {}-{} ({} .. {}) committed\n", c + 1, first + 1, last + 1, key(first), key(last))
        })
        .collect();
    expected.push_str(&format!("linked {k} of {KEYS}\n"));
    expected.push_str(&format!(
        "not written: keys {}-{KEYS} (from {} on): the run stopped; rerun the same input with --resume\n",
        k + 1,
        key(k)
    ));
    assert_eq!(out, expected, "standard output");
    let error = err.lines().find(|line| line.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(error.contains("the database failed"), "{error}");
    assert!(
        error.contains(&format!("chunks 1-{chunks} (keys 1-{k}) had committed and stay: {k} linked, 0 with errors")),
        "{error}"
    );
    assert!(error.contains(&format!("keys {}-{KEYS} (from {} on) were not written", k + 1, key(k))), "{error}");
    assert!(error.contains("rerun the same input with --resume"), "{error}");
    error.to_owned()
}

/// Runs of consecutive chunks (from 0) as `(first, last)`.
fn runs(chunks: &[usize]) -> Vec<(usize, usize)> {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &c in chunks {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == c => *last = c,
            _ => runs.push((c, c)),
        }
    }
    runs
}

/// Checks what a run with `--jobs` stopped by a fault or a signal printed, the chunks
/// `committed` (from 0, in order) having committed, in any order and not only at the start:
/// exit status 3; on standard output a line per committed chunk (in the order they committed),
/// `linked`, and the keys not written; the error naming the chunks and the keys not written.
/// Returns the error line.
pub(crate) fn check_stopped_run_with_jobs(
    status: ExitStatus,
    out: &str,
    err: &str,
    committed: &[usize],
    cause: &str,
) -> String {
    assert_eq!(status.code(), Some(3), "exit status\n{out}\n{err}");
    let k = committed.len() * CHUNK;
    let mut lines: Vec<&str> = out.lines().collect();
    let tail: Vec<&str> = lines.split_off(committed.len().min(lines.len()));
    lines.sort_unstable();
    let mut expected: Vec<String> = committed
        .iter()
        .map(|&c| {
            let (first, last) = (c * CHUNK, (c + 1) * CHUNK - 1);
            format!("chunk {}: keys {}-{} ({} .. {}) committed", c + 1, first + 1, last + 1, key(first), key(last))
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "the chunk lines, in any order\n{out}");
    let unwritten: Vec<usize> = (0..KEYS / CHUNK).filter(|c| !committed.contains(c)).collect();
    let first = key(unwritten[0] * CHUNK);
    let not_written = runs(&unwritten)
        .iter()
        .map(|(a, b)| format!("{}-{}", a * CHUNK + 1, (b + 1) * CHUNK))
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        tail,
        [
            format!("linked {k} of {KEYS}"),
            format!(
                "not written: keys {not_written} (from {first} on): the run stopped; rerun the same input with --resume"
            )
        ],
        "standard output"
    );
    let error = err.lines().find(|line| line.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {err}"));
    assert!(error.contains(cause), "{error}");
    if committed.is_empty() {
        return error.to_owned();
    }
    let chunk_runs = runs(committed);
    let numbers = chunk_runs.iter().map(|(a, b)| format!("{}-{}", a + 1, b + 1)).collect::<Vec<_>>().join(", ");
    let keys =
        chunk_runs.iter().map(|(a, b)| format!("{}-{}", a * CHUNK + 1, (b + 1) * CHUNK)).collect::<Vec<_>>().join(", ");
    assert!(
        error.contains(&format!("chunks {numbers} (keys {keys}) had committed and stay: {k} linked, 0 with errors")),
        "{error}"
    );
    assert!(error.contains(&format!("keys {not_written} (from {first} on) were not written")), "{error}");
    assert!(error.contains("rerun the same input with --resume"), "{error}");
    error.to_owned()
}

/// A run with `--jobs` killed by the server, as [`killed_connection`]: the chunks committed
/// are whole, not necessarily the first ones; the report names them and the rest; a rerun with
/// `--resume --jobs` completes the work.
fn killed_connection_with_jobs(fixture: Fixture, label: &str, mut fault: impl FnMut(&Fixture)) {
    let jobs = ["--jobs", "3"];
    let start = Instant::now();
    let mut child = fixture.spawn_link(&jobs, "run");
    let seen = fixture.wait_for_a_committed_chunk(&mut child);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < TIMEOUT, "the binary did not end within {TIMEOUT:?} of the fault");
        fault(&fixture);
        std::thread::sleep(POLL);
    };
    let (out, err) = fixture.printed("run");
    let committed = fixture.linked_chunks();
    let k = committed.len() * CHUNK;
    let error = check_stopped_run_with_jobs(status, &out, &err, &committed, "the database failed");
    fixture.check_linked_whole(k);
    let rerun = fixture.rerun_completes(k, &jobs);
    eprintln!(
        "{label} with --jobs 3: {seen} keys linked when the fault was injected; chunks {:?} stayed committed; the \
         rerun took {rerun:?}\n  {error}",
        committed.iter().map(|c| c + 1).collect::<Vec<_>>()
    );
    fixture.finish();
}

/// A run killed by the server: spawn, wait for a committed chunk, `fault` until the binary
/// ends, then the checks and the rerun. `fault` is called every [`POLL`] while the binary runs.
fn killed_connection(fixture: Fixture, label: &str, mut fault: impl FnMut(&Fixture)) {
    let start = Instant::now();
    let mut child = fixture.spawn_link(&[], "run");
    let seen = fixture.wait_for_a_committed_chunk(&mut child);
    let at_fault = start.elapsed();
    let mut faults = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(start.elapsed() < TIMEOUT, "the binary did not end within {TIMEOUT:?} of the fault");
        fault(&fixture);
        faults += 1;
        std::thread::sleep(POLL);
    };
    let (out, err) = fixture.printed("run");
    let k = usize::try_from(fixture.linked().unwrap()).unwrap();
    let error = check_stopped_run(status, &out, &err, k);
    fixture.check_prefix_linked(k);
    let rerun = fixture.rerun_completes(k, &[]);
    eprintln!(
        "{label}: {seen} keys linked when the fault was injected ({at_fault:?} into the run, {faults} time(s)); \
         chunk {} was interrupted; {k} keys stayed linked; the rerun took {rerun:?}\n  {error}",
        k / CHUNK + 1
    );
    fixture.finish();
}

/// Terminates the binary's connections to the fixture's PostgreSQL database.
fn terminate_postgres_connections(f: &Fixture) {
    // The binary's connections only: an autovacuum worker on this database (after the bulk
    // fixture) has no role, and terminating it is an error for a user who is not superuser.
    f.exec(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() \
         AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND usename = current_user",
    );
}

/// Kills the binary's connections to the fixture's MariaDB database.
fn kill_mariadb_connections(f: &Fixture) {
    let name = &f.server.as_ref().unwrap().1;
    let ids =
        f.rt.block_on(f.conn().query_all_raw(Statement::from_string(
            DbBackend::MySql,
            format!(
                "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST \
                 WHERE DB = '{name}' AND ID <> CONNECTION_ID()"
            ),
        )))
        .unwrap();
    for row in ids {
        let id: i64 = row.try_get_by_index(0).unwrap();
        // The connection may be gone already.
        let _ = f.rt.block_on(f.conn().execute_unprepared(&format!("KILL {id}")));
    }
}

#[test]
fn postgres_connection_terminated_mid_batch() {
    let Some(admin) = env_or_skip_for("TEST_POSTGRES_URL", "postgres_connection_terminated_mid_batch") else { return };
    let fixture = Fixture::server(DbBackend::Postgres, &admin);
    killed_connection(fixture, "postgres pg_terminate_backend", terminate_postgres_connections);
}

#[test]
fn mariadb_connection_killed_mid_batch() {
    let Some(admin) = env_or_skip_for("TEST_MYSQL_URL", "mariadb_connection_killed_mid_batch") else { return };
    let fixture = Fixture::server(DbBackend::MySql, &admin);
    killed_connection(fixture, "mariadb KILL", kill_mariadb_connections);
}

#[test]
fn postgres_connections_terminated_mid_batch_with_jobs() {
    let test = "postgres_connections_terminated_mid_batch_with_jobs";
    let Some(admin) = env_or_skip_for("TEST_POSTGRES_URL", test) else { return };
    let fixture = Fixture::server(DbBackend::Postgres, &admin);
    killed_connection_with_jobs(fixture, "postgres pg_terminate_backend", terminate_postgres_connections);
}

#[test]
fn mariadb_connections_killed_mid_batch_with_jobs() {
    let Some(admin) = env_or_skip_for("TEST_MYSQL_URL", "mariadb_connections_killed_mid_batch_with_jobs") else {
        return;
    };
    let fixture = Fixture::server(DbBackend::MySql, &admin);
    killed_connection_with_jobs(fixture, "mariadb KILL", kill_mariadb_connections);
}

#[test]
fn postgres_server_stopped_mid_batch() {
    let test = "postgres_server_stopped_mid_batch";
    let (Some(admin), Some(stop), Some(start_server)) = (
        env_or_skip_for("FAULT_PG_URL", test),
        env_or_skip_for("FAULT_PG_STOP", test),
        env_or_skip_for("FAULT_PG_START", test),
    ) else {
        return;
    };
    let mut fixture = Fixture::server(DbBackend::Postgres, &admin);
    let start = Instant::now();
    let mut child = fixture.spawn_link(&[], "run");
    let seen = fixture.wait_for_a_committed_chunk(&mut child);
    let at_fault = start.elapsed();
    shell(&stop);
    let restart = StartOnDrop(Some(&start_server));
    let stopped = Instant::now();
    let status = wait_timeout(&mut child, TIMEOUT);
    let ended_after = stopped.elapsed();
    let (out, err) = fixture.printed("run");
    // The run ended while the server was down; it comes back for the checks.
    restart.start();
    fixture.reconnect();
    let k = usize::try_from(fixture.linked().unwrap()).unwrap();
    let error = check_stopped_run(status, &out, &err, k);
    fixture.check_prefix_linked(k);
    let rerun = fixture.rerun_completes(k, &[]);
    eprintln!(
        "postgres server stopped: {seen} keys linked when it was stopped ({at_fault:?} into the run); the binary \
         ended {ended_after:?} later; chunk {} was interrupted; {k} keys stayed linked; the rerun took {rerun:?}\n  {error}",
        k / CHUNK + 1
    );
    fixture.finish();
}

#[test]
fn sqlite_process_killed_mid_write() {
    let fixture = Fixture::sqlite();
    let journal = PathBuf::from(format!("{}-journal", fixture.sqlite_path().display()));
    let start = Instant::now();
    let mut child = fixture.spawn_link(&[], "run");
    let seen = fixture.wait_for_a_committed_chunk(&mut child);
    // Mid-write: the rollback journal exists only while a write transaction is open.
    while !journal.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the run ended ({status}) before the fault: make the fixture bigger or the chunks smaller")
        }
        assert!(start.elapsed() < TIMEOUT, "no write transaction seen within {TIMEOUT:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
    let at_fault = start.elapsed();
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    // The transaction was open: its commit would have deleted the journal, which holds the
    // original of every page the transaction changed.
    let journal_bytes = std::fs::metadata(&journal).map(|m| m.len());
    assert!(journal_bytes.is_ok(), "the kill landed after the transaction committed");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "killed by SIGKILL: {status}");
    // No process is left to report: the database itself says what committed. Its next reader
    // rolls back what the transaction wrote into the file, if anything (a hot journal).
    let k = usize::try_from(fixture.linked().unwrap()).unwrap();
    assert_eq!(k % CHUNK, 0, "whole chunks committed: {k}");
    assert!(k >= seen as usize);
    fixture.check_prefix_linked(k);
    let rerun = fixture.rerun_completes(k, &[]);
    eprintln!(
        "sqlite SIGKILL: {seen} keys linked when a chunk committed; killed {at_fault:?} into the run with a \
         journal of {} bytes; chunk {} was interrupted; {k} keys stayed linked; the rerun took {rerun:?}",
        journal_bytes.unwrap(),
        k / CHUNK + 1
    );
    fixture.finish();
}
