//! What an operator expects of `link` beyond the linking (issue 15): an interrupted run says
//! what it wrote, error counts, report and log files, delimiters, the empty-program warning,
//! the SQLite lock time-out and the dry run's plan.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::common::{CURRICULUM, Db, PROGRAM};

/// A database of `n` waiting keys `key-1`.. for users `user_1`.., and the CSV file of them.
fn many_keys_db(n: usize) -> (Db, PathBuf) {
    let db = Db::new();
    db.exec(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
             is_active, date_joined) SELECT '!', 0, 'user_' || i, '', '', 'user_' || i || '@example.com', 0, 1, \
             '2024-01-01 00:00:00.000000' FROM n"
        ),
        vec![],
    );
    db.exec(
        &format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
             INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, program_uuid, \
             curriculum_uuid, status, user_id) SELECT '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000', \
             'key-' || i, ?, ?, 'enrolled', NULL FROM n"
        ),
        vec![PROGRAM.replace('-', "").into(), CURRICULUM.into()],
    );
    let csv: String = (1..=n).map(|i| format!("key-{i},user_{i}\n")).collect();
    let file = db.file("many.csv", csv);
    (db, file)
}

/// The binary, as a plain process (to be signalled while it runs).
fn process(db: &Db) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_program-enrollments"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .current_dir(db.dir.path())
        .args(["--database-url", &db.url()]);
    cmd
}

fn kill(pid: u32, signal: &str) {
    let status = Command::new("kill").args([&format!("-{signal}"), &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

/// Starts `link --chunk-size 100` on 20,000 keys, sends `signals` once the first chunk line is
/// out; returns the exit code, standard output and standard error, and the database.
fn interrupted(signals: &[&str]) -> (Option<i32>, String, String, Db) {
    let (db, file) = many_keys_db(20_000);
    let mut child = process(&db)
        .args(["link", PROGRAM, "--chunk-size", "100", "--file", file.to_str().unwrap()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Standard error is drained meanwhile, so that the run never blocks on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let drain = std::thread::spawn(move || {
        let mut err = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut err).unwrap();
        err
    });
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.starts_with("chunk 1: keys 1-100 (key-1 .. key-100) committed"), "{first}");
    for signal in signals {
        kill(child.id(), signal);
    }
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let err = drain.join().unwrap();
    let status = child.wait().unwrap();
    (status.code(), first + &rest, err, db)
}

/// The chunk lines of a report, and the number of keys they name, checked to be consecutive
/// chunks of 100 from key 1.
fn committed_keys(out: &str) -> usize {
    let chunks: Vec<&str> = out.lines().filter(|line| line.starts_with("chunk ")).collect();
    for (i, line) in chunks.iter().enumerate() {
        let (a, b) = (i * 100 + 1, i * 100 + 100);
        assert_eq!(*line, format!("chunk {}: keys {a}-{b} (key-{a} .. key-{b}) committed", i + 1));
    }
    chunks.len() * 100
}

fn linked_in_db(db: &Db) -> Vec<i64> {
    db.rows(
        "SELECT CAST(SUBSTR(external_user_key, 5) AS INTEGER) FROM program_enrollments_programenrollment \
         WHERE user_id IS NOT NULL ORDER BY 1",
    )
    .into_iter()
    .map(|row| row[0].parse().unwrap())
    .collect()
}

fn a_signal_stops_at_a_safe_point_and_reports(signal: &str) {
    let (code, out, err, db) = interrupted(&[signal]);
    assert_eq!(code, Some(3), "{out}\n{err}");
    let committed = committed_keys(&out);
    assert!(committed > 0 && committed < 20_000, "{out}");
    assert!(out.contains(&format!("linked {committed} of 20000\n")), "{out}");
    assert!(
        out.contains(&format!(
            "not written: keys {}-20000 (from key-{} on): the run stopped; rerun the same input with --resume\n",
            committed + 1,
            committed + 1
        )),
        "{out}"
    );
    assert!(err.contains(&format!("{signal} received: stopping at the next safe point")), "{err}");
    assert!(err.contains("the run was stopped on request; the transaction was rolled back"), "{err}");
    // The database holds exactly the reported chunks, each whole.
    assert_eq!(linked_in_db(&db), (1..=committed as i64).collect::<Vec<_>>());
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment"), committed as i64);
}

#[test]
fn sigint_during_a_chunked_link_stops_at_a_safe_point_and_prints_what_committed() {
    a_signal_stops_at_a_safe_point_and_reports("INT");
}

#[test]
fn sigterm_during_a_chunked_link_stops_at_a_safe_point_and_prints_what_committed() {
    a_signal_stops_at_a_safe_point_and_reports("TERM");
}

#[test]
fn a_second_signal_stops_at_once_and_the_chunk_lines_printed_are_what_committed() {
    let (code, out, err, db) = interrupted(&["INT", "INT"]);
    assert_eq!(code, Some(3), "{out}\n{err}");
    let committed = committed_keys(&out);
    // Stopped at once (or at the safe point, when the two signals came as one): the lines
    // printed are what the database holds, but for a chunk whose commit the second signal
    // may have overtaken before its line was printed, as a SIGKILL may.
    let linked = linked_in_db(&db);
    assert!(
        linked == (1..=committed as i64).collect::<Vec<_>>()
            || linked == (1..=committed as i64 + 100).collect::<Vec<_>>(),
        "{} linked, {committed} printed: {out}\n{err}",
        linked.len()
    );
}

// ---- Error counts, --report, --log-file ------------------------------------------------------

/// Keys with errors of three kinds and one that links.
fn mixed_db() -> Db {
    let db = Db::new();
    let owner = db.user("owner");
    db.user("user_1");
    db.user("user_2");
    db.waiting("ok");
    db.pe("taken", PROGRAM, Some(owner), &[]);
    db
}

const MIXED: [&str; 5] = ["ok:user_1", "nobody-1:ghost", "nobody-2:ghost2", "missing:user_2", "taken:user_2"];

#[test]
fn the_summary_counts_errors_by_kind_in_text_and_json() {
    let db = mixed_db();
    let text = crate::common::stdout(&db.link(&MIXED).args(["--dry-run"]).assert().code(1));
    assert!(
        text.contains("linked 1 of 5\nerrors: 2 no user, 1 no enrollment, 1 already linked to another account\n"),
        "{text}"
    );
    let json = crate::common::stdout(&db.link(&MIXED).args(["--format", "json"]).assert().code(1));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        json["error_counts"],
        serde_json::json!({"no user": 2, "no enrollment": 1, "already linked to another account": 1})
    );
}

#[test]
fn report_writes_the_json_report_to_a_file_while_the_text_goes_to_the_terminal() {
    let db = mixed_db();
    let path = db.dir.path().join("run.json");
    let assert = db.link(&MIXED).args(["--report", path.to_str().unwrap()]).assert().code(1);
    let text = crate::common::stdout(&assert);
    assert!(text.starts_with("nobody-1: No user found with username ghost\n") && text.contains("linked 1 of 5\n"));
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["linked"], serde_json::json!(["ok"]));
    assert_eq!(json["errors"].as_object().unwrap().len(), 4);
    assert_eq!(json["error_counts"]["no user"], 2);
}

#[test]
fn log_file_writes_the_log_lines_to_a_file() {
    let db = mixed_db();
    let path = db.dir.path().join("run.log");
    let assert = db.link(&MIXED).args(["--log-file", path.to_str().unwrap()]).assert().code(1);
    assert_eq!(crate::common::stderr(&assert), "");
    let log = std::fs::read_to_string(&path).unwrap();
    assert!(log.contains("WARN program_enrollments::linking: No user found with username ghost"), "{log}");
    assert!(log.contains("INFO program_enrollments::linking: Linking user id="), "{log}");
    assert!(!log.contains('\u{1b}'), "no colours in a file: {log}");
}

#[test]
fn an_unwritable_report_or_log_path_is_a_usage_error_before_anything_is_written() {
    let db = mixed_db();
    let before = db.bytes();
    for (flag, what) in [("--report", "report"), ("--log-file", "log")] {
        for bad in ["no/such/dir/x.json", "."] {
            let assert = db.link(&MIXED).args([flag, bad]).assert().code(2);
            let err = crate::common::stderr(&assert);
            assert!(err.contains(&format!("cannot write the {what} file {bad}: ")), "{err}");
            assert!(err.contains("nothing was written"), "{err}");
            assert_eq!(crate::common::stdout(&assert), "");
        }
    }
    assert!(db.bytes() == before);
    assert_eq!(db.linked_user("ok"), "NULL");
    assert!(!db.dir.path().join("no").exists());
}

#[test]
fn a_report_file_the_run_could_not_fill_is_not_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    crate::common::bin()
        .current_dir(dir.path())
        .args(["--database-url", "sqlite://missing.sqlite3", "link", PROGRAM, "k:u", "--report", "run.json"])
        .assert()
        .code(3);
    assert!(!path.exists());
}

// ---- --delimiter, the empty-program warning ------------------------------------------------

#[test]
fn delimiter_reads_semicolon_and_tab_separated_files_with_the_same_header_and_quoting() {
    for (flag, sep) in [(";", ";"), ("tab", "\t")] {
        let db = Db::new();
        db.user("user_1");
        db.user("user_2");
        db.waiting("key;1");
        db.waiting("key-2");
        let csv = format!("External_User_Key{sep}lms_username\n\"key;1\"{sep}user_1\nkey-2{sep} user_2 {sep}extra\n");
        let file = db.file("pairs.txt", csv);
        db.link(&["--file", file.to_str().unwrap(), "--delimiter", flag]).assert().success().stdout("linked 2 of 2\n");
        assert_ne!(db.linked_user("key;1"), "NULL");
    }
    // A comma is then an ordinary character.
    let db = Db::new();
    let file = db.file("pairs.txt", "a,b;user_1\n");
    db.user("user_1");
    db.pe("a,b", PROGRAM, None, &[]);
    db.link(&["--file", file.to_str().unwrap(), "--delimiter", ";"]).assert().success();
    db.link(&["k:u", "--delimiter", "|"]).assert().code(2);
}

#[test]
fn a_program_without_any_enrollment_is_warned_about_before_linking() {
    let db = Db::new();
    db.user("user_1");
    db.pe("key-1", crate::common::OTHER_PROGRAM, None, &[]);
    let assert = db.link(&["key-1:user_1", "--quiet"]).assert().code(1);
    let err = crate::common::stderr(&assert);
    assert!(
        err.contains(&format!("WARN program_enrollments::cli: program {PROGRAM} has no enrollments in this database")),
        "{err}"
    );
    let linking = err.find("No program enrollment found").unwrap();
    assert!(err.find("has no enrollments").unwrap() < linking, "before linking: {err}");
    // A program with enrollments: no warning.
    let err = crate::common::stderr(
        &db.cmd().args(["link", crate::common::OTHER_PROGRAM, "key-1:user_1"]).assert().success(),
    );
    assert!(!err.contains("has no enrollments"), "{err}");
}

// ---- --lock-timeout ------------------------------------------------------------------------

/// Holds the SQLite file's write lock from another process (python3's sqlite3) for `seconds`;
/// returns once it holds it.
fn hold_write_lock(db: &Db, seconds: f64) -> std::process::Child {
    let script = format!(
        "import sqlite3, sys, time\n\
         c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
         c.execute('BEGIN IMMEDIATE')\n\
         print('locked', flush=True)\n\
         time.sleep({seconds})\n\
         c.execute('COMMIT')\n"
    );
    let mut child = Command::new("python3")
        .args(["-c", &script, db.path.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert_eq!(line, "locked\n");
    child
}

#[test]
fn lock_timeout_waits_for_another_process_to_release_the_sqlite_file() {
    let db = Db::new();
    db.user("user_1");
    db.waiting("key-1");
    // Without it, the run gives up quickly.
    let mut holder = hold_write_lock(&db, 6.0);
    let started = std::time::Instant::now();
    db.link(&["key-1:user_1"]).assert().code(3);
    assert!(started.elapsed().as_secs_f64() < 5.0);
    holder.wait().unwrap();
    // With it, the run waits for the lock and links.
    let mut holder = hold_write_lock(&db, 2.0);
    let started = std::time::Instant::now();
    db.link(&["key-1:user_1", "--lock-timeout", "30"]).assert().success().stdout("linked 1 of 1\n");
    assert!(started.elapsed().as_secs_f64() >= 1.5);
    holder.wait().unwrap();
}

#[test]
fn lock_timeout_gives_up_after_the_time_given_and_says_so() {
    let db = Db::new();
    db.user("user_1");
    db.waiting("key-1");
    let mut holder = hold_write_lock(&db, 6.0);
    let started = std::time::Instant::now();
    let assert = db.link(&["key-1:user_1", "--lock-timeout", "1"]).assert().code(3);
    let elapsed = started.elapsed().as_secs_f64();
    assert!((1.0..5.0).contains(&elapsed), "{elapsed}");
    let err = crate::common::stderr(&assert);
    assert!(err.contains("lock time-out (1 s)") && err.contains("nothing was written"), "{err}");
    holder.wait().unwrap();
    assert_eq!(db.linked_user("key-1"), "NULL");
    db.link(&["k:u", "--lock-timeout", "soon"]).assert().code(2);
}

// ---- --dry-run: the plan ---------------------------------------------------------------------

/// `fresh` (no course enrollment yet in either course, an invitation in the second), `audit`
/// (an audit enrollment to convert), `verified` (a verified one left as it is), `nobody`.
fn plan_db() -> (Db, [i64; 3]) {
    use crate::common::{ANIMAL, FRUIT};
    let db = Db::new();
    let users = [db.user("u_fresh"), db.user("u_audit"), db.user("u_verified")];
    let pes = [
        db.pe("fresh", PROGRAM, None, &[(FRUIT, "active"), (ANIMAL, "inactive")]),
        db.pe("audit", PROGRAM, None, &[(FRUIT, "active")]),
        db.pe("verified", PROGRAM, None, &[(FRUIT, "active")]),
    ];
    db.exec(
        "INSERT INTO student_courseenrollment (id, created, is_active, mode, course_id, user_id) VALUES \
         (41, '2024-01-01 00:00:00.000000', 1, 'audit', ?, ?), (42, '2024-01-01 00:00:00.000000', 1, 'verified', ?, ?)",
        vec![FRUIT.into(), users[1].into(), FRUIT.into(), users[2].into()],
    );
    db.exec(
        "INSERT INTO student_courseenrollmentallowed (id, email, course_id, auto_enroll, created, user_id) \
         VALUES (7, 'u_fresh@example.com', ?, 1, '2024-01-01 00:00:00.000000', NULL)",
        vec![ANIMAL.into()],
    );
    let _ = users;
    (db, pes)
}

const PLAN_PAIRS: [&str; 4] = ["fresh:u_fresh", "audit:u_audit", "verified:u_verified", "nobody:ghost"];

#[test]
fn a_dry_run_lists_the_plan_per_key_and_course_and_writes_nothing() {
    use crate::common::{ANIMAL, FRUIT};
    let (db, pes) = plan_db();
    let before = db.bytes();
    let assert = db.link(&PLAN_PAIRS).arg("--dry-run").assert().code(1);
    let out = crate::common::stdout(&assert);
    assert_eq!(
        out,
        format!(
            "would link fresh to u_fresh (user id 1): program enrollment {}\n  \
             {FRUIT}: course enrollment created (masters, active)\n  \
             {ANIMAL}: course enrollment created (masters, inactive); invitation(s) 7 marked used\n\
             would link audit to u_audit (user id 2): program enrollment {}\n  \
             {FRUIT}: course enrollment 41 converted from audit to masters (active)\n\
             would link verified to u_verified (user id 3): program enrollment {}\n  \
             {FRUIT}: course enrollment 42 left as it is\n\
             nobody: No user found with username ghost\n\
             linked 3 of 4\n\
             errors: 1 no user\n\
             dry run: nothing was written; planned from reads only, so conflicts with other writers cannot be foreseen\n",
            pes[0], pes[1], pes[2]
        )
    );
    assert!(db.bytes() == before);
    // The real run does what the plan said.
    db.link(&PLAN_PAIRS).assert().code(1);
    assert_eq!(
        db.rows(
            "SELECT id, mode, is_active FROM student_courseenrollment WHERE user_id = 2 OR user_id = 3 ORDER BY id"
        ),
        [["41", "masters", "1"], ["42", "verified", "1"]]
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM student_courseenrollmentallowed WHERE id = 7 AND user_id = 1"), 1);
}

#[test]
fn a_dry_run_gives_its_plan_in_json_and_works_on_a_read_only_database() {
    use crate::common::FRUIT;
    let (db, pes) = plan_db();
    let before = db.bytes();
    let url = format!("{}?mode=ro", db.url());
    let assert = crate::common::bin()
        .current_dir(db.dir.path())
        .args(["--database-url", &url, "link", PROGRAM])
        .args(PLAN_PAIRS)
        .args(["--dry-run", "--format", "json"])
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_str(&crate::common::stdout(&assert)).unwrap();
    assert_eq!(json["dry_run"], true);
    assert_eq!(json["linked"], serde_json::json!(["fresh", "audit", "verified"]));
    let plan = json["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 3);
    assert_eq!(plan[1]["key"], "audit");
    assert_eq!(plan[1]["program_enrollment"], pes[1]);
    assert_eq!(
        plan[1]["courses"],
        serde_json::json!([{"course_key": FRUIT, "course_enrollment": 41, "action": "convert", "from_mode": "audit",
            "mode": "masters", "is_active": true, "invitations": []}])
    );
    assert_eq!(plan[0]["courses"][1]["invitations"], serde_json::json!([7]));
    assert_eq!(plan[2]["courses"][0]["action"], "leave");
    assert!(db.bytes() == before);
}
