//! `link --tracking-log PATH` through the binary, on SQLite, PostgreSQL and MariaDB: after each
//! commit, one line per enrollment event the LMS would have emitted for the keys that
//! committed, in the LMS's tracking-log format, each line parsed and checked field by field
//! (and, with `python3`, re-serialised by `json.dumps` to the same bytes). A key rolled back,
//! a refused key and a dry run leave no line; relinking's unlink emits `deactivated`. A path
//! that cannot be opened is refused before anything is written (exit 2); a file that cannot
//! be written after a commit stops the run (exit 3) with the commit kept.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use acceptance::skip::program_or_skip;
use acceptance::{SeaTestDatabase, Target, TestDatabase};
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::{CurriculumUuid, ProgramUuid, UserId};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};

use crate::common::{ANIMAL, Db, FRUIT, PROGRAM, stderr};

const MISSING: &str = "course-v1:edX+Missing+Course";
const ACTIVATED: &str = "edx.course.enrollment.activated";
const DEACTIVATED: &str = "edx.course.enrollment.deactivated";
const MODE_CHANGED: &str = "edx.course.enrollment.mode_changed";

/// The top-level keys of a JSON object, in order.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    map.next_value::<IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

/// One line of the file, parsed.
struct Line {
    asctime: NaiveDateTime,
    pid: u32,
    json: String,
    value: Value,
}

fn parse(line: &str) -> Line {
    let (prefix, json) = line.split_once(" - ").unwrap_or_else(|| panic!("no ` - ` in {line:?}"));
    let parts: Vec<&str> = prefix.split(' ').collect();
    assert_eq!(parts.len(), 10, "{prefix:?}");
    assert_eq!(parts[2], "INFO", "{prefix:?}");
    assert_eq!(&parts[4..], ["[tracking]", "[user", "None]", "[ip", "None]", "logger.py:41"], "{prefix:?}");
    let asctime = NaiveDateTime::parse_from_str(&format!("{} {}", parts[0], parts[1]), "%Y-%m-%d %H:%M:%S,%3f")
        .unwrap_or_else(|e| panic!("asctime {prefix:?}: {e}"));
    assert_eq!(parts[1].len(), "18:05:01,123".len(), "milliseconds in three digits: {prefix:?}");
    let keys: Keys = serde_json::from_str(json).unwrap();
    assert_eq!(
        keys.0,
        [
            "name",
            "context",
            "username",
            "session",
            "ip",
            "agent",
            "host",
            "referer",
            "accept_language",
            "event",
            "time",
            "event_type",
            "event_source",
            "page"
        ],
        "{json}"
    );
    Line { asctime, pid: parts[3].parse().unwrap(), json: json.to_owned(), value: serde_json::from_str(json).unwrap() }
}

/// An expected event: name, user, course, mode.
type Expected<'a> = (&'a str, UserId, &'a str, &'a str);

/// The run's window, for the times a line carries.
struct Run {
    pid: u32,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    status: Option<i32>,
    stderr: String,
}

fn check(line: &Line, expected: Expected, run: &Run) {
    let (name, user, course, mode) = expected;
    let v = &line.value;
    assert_eq!(v["name"], name, "{}", line.json);
    assert_eq!(v["event_type"], name, "{}", line.json);
    assert_eq!(v["context"], json!({"course_id": course, "org_id": "edX", "enterprise_uuid": ""}), "{}", line.json);
    for field in ["username", "session", "ip", "agent", "host", "referer", "accept_language"] {
        assert_eq!(v[field], "", "{field}: {}", line.json);
    }
    assert_eq!(v["event"], json!({"user_id": user.0, "course_id": course, "mode": mode}), "{}", line.json);
    assert_eq!(v["event_source"], "server", "{}", line.json);
    assert_eq!(v["page"], Value::Null, "{}", line.json);
    let time = v["time"].as_str().unwrap();
    assert!(time.ends_with("+00:00"), "{time}");
    let time = DateTime::parse_from_rfc3339(time).unwrap().with_timezone(&Utc);
    let slack = chrono::Duration::seconds(1);
    assert!(run.started - slack <= time && time <= run.ended + slack, "time {time} outside the run");
    let logged = line.asctime.and_utc();
    assert!(run.started - slack <= logged && logged <= run.ended + slack, "asctime {logged} outside the run");
    assert!(time - slack <= logged, "logged {logged} before the event {time}");
    assert_eq!(line.pid, run.pid, "the process id");
}

/// The binary with `args`, its process id and times.
fn run(args: &[&str]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_program-enrollments"));
    command.env_remove("DATABASE_URL").env_remove("RUST_LOG").args(args);
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let started = Utc::now();
    let child = command.spawn().unwrap();
    let pid = child.id();
    let output = child.wait_with_output().unwrap();
    Run {
        pid,
        started,
        ended: Utc::now(),
        status: output.status.code(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(str::to_owned).collect()
}

/// With `python3`: each line's JSON is what `json.dumps` writes for it (separators, escapes,
/// key order).
fn assert_python_writes_the_same(lines: &[Line]) {
    let Some(python) = program_or_skip("python3", "the json.dumps comparison") else { return };
    let input: String = lines.iter().map(|l| format!("{}\n", l.json)).collect();
    let script = "import json, sys\nfor line in sys.stdin:\n    print(json.dumps(json.loads(line)))\n";
    let mut child = Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), input);
}

async fn tracking_log_of_committed_keys(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    let program = ProgramUuid::parse(PROGRAM).unwrap();
    let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
    db.add_course_overview(FRUIT).await;
    db.add_course_overview(ANIMAL).await;
    let mut users = Vec::new();
    for n in 1..=7 {
        users.push(db.add_user(&format!("user_{n}"), &format!("user_{n}@example.com")).await);
    }
    let user = |n: usize| users[n - 1];
    let waiting = async |key: &str, courses: &[(&str, &str)]| {
        let pe = db.add_program_enrollment(Some(key), program, curriculum, None, "enrolled").await;
        for (course, status) in courses {
            db.add_program_course_enrollment(pe, course, status, None).await;
        }
    };
    // New enrollments, one for an inactive PCE.
    waiting("key-1", &[(FRUIT, "active"), (ANIMAL, "inactive")]).await;
    // An active audit enrollment: moved to masters by a plain save, no event.
    waiting("key-2", &[(FRUIT, "active")]).await;
    db.add_course_enrollment(user(2), FRUIT, "audit", true).await;
    // An inactive verified enrollment: reactivated in masters.
    waiting("key-3", &[(FRUIT, "active")]).await;
    db.add_course_enrollment(user(3), FRUIT, "verified", false).await;
    // Rolled back by its missing course, after its first course's writes.
    waiting("key-4", &[(FRUIT, "active"), (MISSING, "active")]).await;
    // An active masters enrollment of an inactive PCE: deactivated.
    waiting("key-6", &[(FRUIT, "inactive")]).await;
    db.add_course_enrollment(user(6), FRUIT, "masters", true).await;
    waiting("key-7", &[(FRUIT, "active")]).await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracking.log");
    let log = path.to_str().unwrap();
    let link = |pairs: &[&str], extra: &[&str]| {
        let mut args = vec!["--database-url", db.url(), "link", PROGRAM];
        args.extend(pairs);
        args.extend(["--tracking-log", log]);
        args.extend(extra);
        run(&args)
    };

    // Three transactions of two keys: each appends its own keys' lines after its commit.
    let pairs = ["key-1:user_1", "key-2:user_2", "key-3:user_3", "key-4:user_4", "key-5:nobody", "key-6:user_6"];
    let first = link(&pairs, &["--chunk-size", "2"]);
    assert_eq!(first.status, Some(1), "{}", first.stderr);
    assert!(first.stderr.contains("Rolling back all operations for key-4:user_4"), "{}", first.stderr);
    let expected: Vec<Expected> = vec![
        (ACTIVATED, user(1), FRUIT, "masters"),
        (MODE_CHANGED, user(1), FRUIT, "masters"),
        (ACTIVATED, user(1), ANIMAL, "masters"),
        (MODE_CHANGED, user(1), ANIMAL, "masters"),
        (DEACTIVATED, user(1), ANIMAL, "masters"),
        (ACTIVATED, user(3), FRUIT, "masters"),
        (MODE_CHANGED, user(3), FRUIT, "masters"),
        (DEACTIVATED, user(6), FRUIT, "masters"),
    ];
    let written = lines(&path);
    assert_eq!(written.len(), expected.len(), "{written:#?}");
    let parsed: Vec<Line> = written.iter().map(|l| parse(l)).collect();
    for (line, expected) in parsed.iter().zip(&expected) {
        check(line, *expected, &first);
    }
    assert_python_writes_the_same(&parsed);

    // A dry run appends nothing.
    let before = std::fs::read(&path).unwrap();
    let dry = link(&["key-7:user_7"], &["--dry-run"]);
    assert_eq!(dry.status, Some(0), "{}", dry.stderr);
    assert_eq!(std::fs::read(&path).unwrap(), before, "a dry run wrote to the tracking log");

    // Relinking: the old user's enrollments are deactivated and moved to audit, then the new
    // user's enrolled; the lines are appended after the earlier ones.
    let relink = link(&["key-1:user_7"], &["--relink"]);
    assert_eq!(relink.status, Some(0), "{}", relink.stderr);
    let expected: Vec<Expected> = vec![
        (DEACTIVATED, user(1), FRUIT, "audit"),
        (MODE_CHANGED, user(1), FRUIT, "audit"),
        (MODE_CHANGED, user(1), ANIMAL, "audit"),
        (ACTIVATED, user(7), FRUIT, "masters"),
        (MODE_CHANGED, user(7), FRUIT, "masters"),
        (ACTIVATED, user(7), ANIMAL, "masters"),
        (MODE_CHANGED, user(7), ANIMAL, "masters"),
        (DEACTIVATED, user(7), ANIMAL, "masters"),
    ];
    let all = lines(&path);
    assert_eq!(all[..written.len()], written[..], "earlier lines kept");
    let appended: Vec<Line> = all[written.len()..].iter().map(|l| parse(l)).collect();
    assert_eq!(appended.len(), expected.len(), "{:#?}", &all[written.len()..]);
    for (line, expected) in appended.iter().zip(&expected) {
        check(line, *expected, &relink);
    }
    db.finish().await;
}

#[tokio::test]
async fn sqlite() {
    tracking_log_of_committed_keys(Target::SqliteFile).await;
}

#[tokio::test]
async fn postgres() {
    tracking_log_of_committed_keys(Target::Postgres).await;
}

#[tokio::test]
async fn mysql() {
    tracking_log_of_committed_keys(Target::MySql).await;
}

#[test]
fn a_path_that_cannot_be_opened_is_refused_before_anything_is_written() {
    let db = Db::new();
    db.user("user_1");
    db.waiting("key-1");
    let before = db.bytes();
    let missing = db.dir.path().join("no-such-dir").join("tracking.log");
    let directory = db.dir.path().display().to_string();
    for path in [missing.display().to_string(), directory] {
        let assert = db.link(&["key-1:user_1", "--tracking-log", &path]).assert().code(2);
        let stderr = stderr(&assert);
        assert!(stderr.starts_with(&format!("error: cannot open the tracking log {path} for appending: ")), "{stderr}");
        assert!(stderr.trim_end().ends_with("; nothing was written"), "{stderr}");
        assert!(db.bytes() == before, "the database changed");
    }
    assert!(!missing.exists());
}

#[test]
fn a_tracking_log_that_cannot_be_written_stops_the_run_after_its_commit() {
    if !Path::new("/dev/full").exists() {
        acceptance::skip::skip::<()>("the /dev/full test", "no /dev/full");
        return;
    }
    let db = Db::new();
    let user_1 = db.user("user_1");
    db.user("user_2");
    db.waiting("key-1");
    db.waiting("key-2");
    let assert =
        db.link(&["key-1:user_1", "key-2:user_2", "--chunk-size", "1", "--tracking-log", "/dev/full"]).assert().code(3);
    let stderr = stderr(&assert);
    assert!(stderr.contains("error: cannot append to the tracking log /dev/full: "), "{stderr}");
    assert!(stderr.contains("the transaction had committed"), "{stderr}");
    assert!(stderr.contains("the run stopped after its last commit: 1 linked, 0 with errors"), "{stderr}");
    assert!(stderr.contains("keys 2-2 (from key-2 on) were not written"), "{stderr}");
    assert_eq!(db.linked_user("key-1"), user_1.to_string(), "the first chunk committed");
    assert_eq!(db.linked_user("key-2"), "NULL", "no later chunk ran");
}
