//! `POST /support/link_program_enrollments_details/` as the MFE calls it: every validation
//! case of the spec (`support-web.md` §1.3, §3.2), a real link with successes and each kind of
//! per-key error, a key given twice, and the success strings against Python's `str()` of the
//! tuple; on SQLite, PostgreSQL and MariaDB, the rows read back after each call.

use acceptance::{ANIMAL, FRUIT, SeaTestDatabase, Target, TestDatabase};
use serde_json::json;

use super::harness::*;

/// A course without an overview row.
const MISSING_COURSE: &str = "course-v1:edX+Zilch+Bupkis";

/// The fixture of the API tests: the people, a program with one waiting key `k1`, `learner_1`.
struct Site {
    db: SeaTestDatabase,
    people: People,
    program: Program,
    server: Server,
}

impl Site {
    async fn new(target: Target) -> Option<Site> {
        let db = database(target).await?;
        db.add_course_overview(FRUIT).await;
        db.add_course_overview(ANIMAL).await;
        let people = People::add(&db).await;
        let program = Program::new();
        program.waiting(&db, "k1", &[FRUIT]).await;
        db.add_user("learner_1", "learner_1@example.com").await;
        let server = ServeOptions::new(db.url()).start();
        Some(Site { db, people, program, server })
    }

    fn staff(&self) -> Caller {
        Caller::mfe(&Jwt::lms("support_staff").token())
    }

    async fn finish(self) {
        self.server.assert_no_panic();
        drop(self.server);
        self.db.finish().await;
    }
}

/// The response envelope.
fn envelope(successes: &[&str], errors: &[&str], program_uuid: &str, text: &str) -> serde_json::Value {
    json!({"successes": successes, "errors": errors, "program_uuid": program_uuid, "username_pair_text": text})
}

async fn validation(target: Target) {
    let Some(site) = Site::new(target).await else { return };
    let p = site.program.text();
    let upper = p.to_uppercase();
    let simple = p.replace('-', "");
    // Python's UUID() drops every hyphen, braces and `urn:uuid:`: odd hyphens are fine.
    let odd_hyphens = format!("{}-{}", &simple[..3], &simple[3..]);
    let no_pe = |key: &str| format!("No program enrollment found for program uuid={p} and external student key={key}");
    let good = "k1,learner_1";
    let before = site.db.tables().await;
    // (what, fields, errors, echoed program_uuid, echoed text)
    let cases: Vec<(&str, Fields, Vec<String>, String, String)> = vec![
        ("neither field", Fields::default(), vec![MSG_BOTH.into()], "".into(), "".into()),
        (
            "no username_pair_text",
            Fields { program_uuid: Some(p.clone()), username_pair_text: None },
            vec![MSG_BOTH.into()],
            p.clone(),
            "".into(),
        ),
        (
            "no program_uuid",
            Fields { program_uuid: None, username_pair_text: Some(good.into()) },
            vec![MSG_BOTH.into()],
            "".into(),
            good.into(),
        ),
        ("empty text", Fields::new(&p, ""), vec![MSG_BOTH.into()], p.clone(), "".into()),
        ("empty uuid", Fields::new("", good), vec![MSG_BOTH.into()], "".into(), good.into()),
        ("blank uuid (stripped)", Fields::new(" \t ", good), vec![MSG_BOTH.into()], "".into(), good.into()),
        ("not a uuid", Fields::new("notauuid", good), vec![msg_uuid("notauuid")], "notauuid".into(), good.into()),
        (
            "not a uuid, stripped",
            Fields::new("  notauuid \t", good),
            vec![msg_uuid("notauuid")],
            "notauuid".into(),
            good.into(),
        ),
        (
            "31 hex digits",
            Fields::new(&p[..p.len() - 1], good),
            vec![msg_uuid(&p[..p.len() - 1])],
            p[..p.len() - 1].into(),
            good.into(),
        ),
        (
            "the MFE's empty uuid: `undefined`",
            Fields::mfe("", good),
            vec![msg_uuid("undefined")],
            "undefined".into(),
            good.into(),
        ),
        (
            "the MFE's empty text: `undefined`",
            Fields::mfe(&p, ""),
            vec![MSG_LINES.into()],
            p.clone(),
            "undefined".into(),
        ),
        (
            "the MFE with both empty",
            Fields::mfe("", ""),
            vec![msg_uuid("undefined")],
            "undefined".into(),
            "undefined".into(),
        ),
        ("junk text", Fields::new(&p, "garbage_text"), vec![MSG_LINES.into()], p.clone(), "garbage_text".into()),
        ("empty username", Fields::new(&p, "0001,"), vec![MSG_LINES.into()], p.clone(), "0001,".into()),
        ("empty key", Fields::new(&p, ",learner_1"), vec![MSG_LINES.into()], p.clone(), ",learner_1".into()),
        ("blank key and username", Fields::new(&p, " , "), vec![MSG_LINES.into()], p.clone(), " , ".into()),
        (
            "one bad line refuses the batch",
            Fields::new(&p, "k1,learner_1\r\nbad_line"),
            vec![MSG_LINES.into()],
            p.clone(),
            "k1,learner_1\r\nbad_line".into(),
        ),
        // Accepted UUID spellings: the lines are read; `nokey` has no PE (nothing written).
        (
            "upper-case uuid",
            Fields::new(&upper, "nokey,learner_1"),
            vec![no_pe("nokey")],
            upper.clone(),
            "nokey,learner_1".into(),
        ),
        (
            "uuid without hyphens",
            Fields::new(&simple, "nokey,learner_1"),
            vec![no_pe("nokey")],
            simple.clone(),
            "nokey,learner_1".into(),
        ),
        (
            "uuid in braces",
            Fields::new(&format!("{{{p}}}"), "nokey,learner_1"),
            vec![no_pe("nokey")],
            format!("{{{p}}}"),
            "nokey,learner_1".into(),
        ),
        (
            "urn:uuid:",
            Fields::new(&format!("urn:uuid:{p}"), "nokey,learner_1"),
            vec![no_pe("nokey")],
            format!("urn:uuid:{p}"),
            "nokey,learner_1".into(),
        ),
        (
            "hyphens where Python ignores them",
            Fields::new(&odd_hyphens, "nokey,learner_1"),
            vec![no_pe("nokey")],
            odd_hyphens.clone(),
            "nokey,learner_1".into(),
        ),
        (
            "uuid stripped, text raw",
            Fields::new(&format!("  {p}\t"), " nokey , learner_1 \r\n"),
            vec![no_pe("nokey")],
            p.clone(),
            " nokey , learner_1 \r\n".into(),
        ),
    ];
    let staff = site.staff();
    let mut failures = Failures::default();
    let matches = |got: &Reply, want: &serde_json::Value| {
        got.status == 200 && serde_json::from_str::<serde_json::Value>(&got.body).ok().as_ref() == Some(want)
    };
    for (what, fields, errors, program_uuid, text) in &cases {
        let errors: Vec<&str> = errors.iter().map(String::as_str).collect();
        let want = envelope(&[], &errors, program_uuid, text);
        let got = staff.link(&site.server, fields).await;
        failures.check(matches(&got, &want), || {
            format!("{what} (multipart): want 200 {want}, got {} {}", got.status, got.body)
        });
        // The same as `application/x-www-form-urlencoded`.
        let got = staff.link_urlencoded(&site.server, fields).await;
        failures.check(matches(&got, &want), || {
            format!("{what} (urlencoded): want 200 {want}, got {} {}", got.status, got.body)
        });
    }
    // The slash is optional.
    let got = staff.link_at(&site.server, API.trim_end_matches('/'), &Fields::new("notauuid", good)).await;
    let want = envelope(&[], &[&msg_uuid("notauuid")], "notauuid", good);
    failures.check(matches(&got, &want), || format!("without the trailing slash: got {} {}", got.status, got.body));
    failures.check(site.db.tables().await == before, || "a validation case wrote".into());
    site.finish().await;
    failures.finish();
}

#[tokio::test]
async fn validation_sqlite() {
    validation(Target::SqliteFile).await;
}

#[tokio::test]
async fn validation_postgres() {
    validation(Target::Postgres).await;
}

#[tokio::test]
async fn validation_mariadb() {
    validation(Target::MySql).await;
}

/// Successes and each kind of per-key error, then the same batch again (URL-encoded).
async fn real_link(target: Target) {
    let Some(site) = Site::new(target).await else { return };
    let (db, program) = (&site.db, &site.program);
    let p = program.text();
    let mut users = std::collections::HashMap::new();
    for name in ["learner_2", "learner_3", "learner_4", "learner_5", "learner_6", "learner_7", "learner_8", "l\"9"] {
        users.insert(name, db.add_user(name, &format!("{}@example.com", name.replace('"', "q"))).await);
    }
    let learner_1 = db.tables().await.users.values().find(|u| u.username == "learner_1").unwrap().id;
    program.waiting(db, "k-ok-1", &[FRUIT, ANIMAL]).await;
    program.waiting(db, "k-nouser", &[FRUIT]).await;
    program.waiting(db, "k-ok-2", &[FRUIT]).await;
    program.linked(db, "k-target", users["learner_4"]).await;
    program.linked(db, "k-other", users["learner_5"]).await;
    program.waiting(db, "k-course", &[MISSING_COURSE, ANIMAL]).await;
    program.linked(db, "k-prior", users["learner_8"]).await;
    program.waiting(db, "k-unique", &[FRUIT]).await;
    program.waiting(db, "o'brien", &[FRUIT]).await;
    // A PE of another program with a key of the batch: never touched.
    let other = Program::new();
    other.waiting(db, "k-ok-1", &[FRUIT]).await;
    let before = db.tables().await;

    // As Chromium sends a textarea: CRLF; a blank line; spaces around values; an extra field;
    // CSV quoting.
    let text = [
        "k-ok-1,learner_1",
        "",
        "k-nouser,nobody",
        "  k-ok-2 , learner_2 ,an extra field",
        "k-nope,learner_3",
        "k-target,learner_4",
        "k-other,learner_6",
        "k-course,learner_7",
        "k-unique,learner_8",
        "\"o'brien\",\"l\"\"9\"",
    ]
    .join("\r\n");
    let staff = site.staff();
    let got = staff.link(&site.server, &Fields::mfe(&p, &text)).await;
    let unique = "IntegrityError: UNIQUE constraint failed: program_enrollments_programenrollment.user_id, \
                  program_enrollments_programenrollment.program_uuid, program_enrollments_programenrollment.curriculum_uuid";
    let no_pe = format!("No program enrollment found for program uuid={p} and external student key=k-nope");
    let want_errors = [
        "No user found with username nobody",
        no_pe.as_str(),
        "Program enrollment with external_student_key=k-target is already linked to target account username=learner_4",
        "Program enrollment with external_student_key=k-other is already linked to a different account username=learner_5",
        "NonExistentCourseError",
        unique,
    ];
    let successes = ["('k-ok-1', 'learner_1')", "('k-ok-2', 'learner_2')", "(\"o'brien\", 'l\"9')"];
    got.assert_json(200, &envelope(&successes, &want_errors, &p, &text), &format!("{target:?}: the link"));
    assert_eq!(
        python_tuple_reprs(&[
            ("k-ok-1".into(), "learner_1".into()),
            ("k-ok-2".into(), "learner_2".into()),
            ("o'brien".into(), "l\"9".into())
        ]),
        successes,
        "the expected strings are Python's"
    );

    // The rows: the three successes linked and enrolled in the Master's track, nothing else.
    let after = db.tables().await;
    let pe = |key: &str| pe_row(&after, key, program.uuid);
    assert_eq!(pe("k-ok-1").user_id, Some(learner_1));
    assert_eq!(pe("k-ok-2").user_id, Some(users["learner_2"]));
    assert_eq!(pe("o'brien").user_id, Some(users["l\"9"]));
    for (key, user) in [("k-nouser", None), ("k-course", None), ("k-unique", None)] {
        assert_eq!(pe(key).user_id, user, "{key}");
    }
    assert_eq!(pe("k-target").user_id, Some(users["learner_4"]));
    assert_eq!(pe("k-other").user_id, Some(users["learner_5"]));
    assert_eq!(pe_row(&after, "k-ok-1", other.uuid).user_id, None, "the other program's PE");
    let mut ces: Vec<(i64, &str, &str, bool)> = after
        .course_enrollments
        .values()
        .map(|c| (c.user_id.0, c.course_id.as_str(), c.mode.as_str(), c.is_active))
        .collect();
    ces.sort();
    let mut want_ces = vec![
        (learner_1.0, FRUIT, "masters", true),
        (learner_1.0, ANIMAL, "masters", true),
        (users["learner_2"].0, FRUIT, "masters", true),
        (users["l\"9"].0, FRUIT, "masters", true),
    ];
    want_ces.sort();
    assert_eq!(ces, want_ces, "{target:?}: course enrollments");
    // History: one `~` per PE and PCE, one `+` per CE, each with the acting user's id.
    let mut history_keys: Vec<String> =
        after.program_enrollment_history.iter().filter_map(|h| h.row.external_user_key.clone()).collect();
    history_keys.sort();
    assert_eq!(history_keys, ["k-ok-1", "k-ok-2", "o'brien"], "{target:?}: PE history rows");
    assert_eq!(after.program_course_enrollment_history.len(), 4, "{target:?}: PCE history rows");
    assert_eq!(after.course_enrollment_history.len(), 4, "{target:?}: CE history rows");
    let acting = history_users(&after);
    assert!(
        acting.iter().all(|u| *u == Some(site.people.staff)),
        "{target:?}: history_user_id must be the acting user's id {:?}: {acting:?}",
        site.people.staff
    );
    assert_ne!(after, before);

    // The request is logged with the acting username and the program.
    let log = site.server.stderr();
    assert!(
        log.lines().any(|l| l.contains("support_staff") && l.contains(&p)),
        "{target:?}: no log line names the acting user and the program:\n{log}"
    );

    // The same batch again, URL-encoded: every former success is now already linked.
    let again = staff.link_urlencoded(&site.server, &Fields::new(&p, &text)).await;
    let already = |key: &str, user: &str| {
        format!(
            "Program enrollment with external_student_key={key} is already linked to target account username={user}"
        )
    };
    let want_again = [
        already("k-ok-1", "learner_1"),
        "No user found with username nobody".into(),
        already("k-ok-2", "learner_2"),
        no_pe.clone(),
        already("k-target", "learner_4"),
        "Program enrollment with external_student_key=k-other is already linked to a different account username=learner_5"
            .into(),
        "NonExistentCourseError".into(),
        unique.into(),
        already("o'brien", "l\"9"),
    ];
    let want_again: Vec<&str> = want_again.iter().map(String::as_str).collect();
    again.assert_json(200, &envelope(&[], &want_again, &p, &text), &format!("{target:?}: the same batch again"));
    assert_eq!(db.tables().await, after, "{target:?}: the second call wrote");
    site.finish().await;
}

#[tokio::test]
async fn real_link_sqlite() {
    real_link(Target::SqliteFile).await;
}

#[tokio::test]
async fn real_link_postgres() {
    real_link(Target::Postgres).await;
}

#[tokio::test]
async fn real_link_mariadb() {
    real_link(Target::MySql).await;
}

/// A key given twice is refused with one error naming it, and nothing is linked (upstream
/// silently kept the last line).
async fn key_given_twice(target: Target) {
    let Some(site) = Site::new(target).await else { return };
    let (db, program) = (&site.db, &site.program);
    let p = program.text();
    db.add_user("learner_2", "learner_2@example.com").await;
    db.add_user("learner_3", "learner_3@example.com").await;
    program.waiting(db, "k2", &[FRUIT]).await;
    program.waiting(db, "dup-key", &[FRUIT]).await;
    let before = db.tables().await;
    let staff = site.staff();
    for text in [
        "k1,learner_1\r\ndup-key,learner_2\r\nk2,learner_3\r\ndup-key,learner_3",
        "dup-key,learner_2\r\nk1,learner_1\r\n dup-key , learner_2 ",
    ] {
        let got = staff.link(&site.server, &Fields::mfe(&p, text)).await;
        assert_eq!(got.status, 200, "{target:?}: {text:?}: {}", got.body);
        let body = got.json();
        assert_eq!(body["successes"], json!([]), "{target:?}: {text:?}: nothing is linked");
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{target:?}: {text:?}: one error: {errors:?}");
        assert!(errors[0].as_str().unwrap().contains("dup-key"), "{target:?}: the error names the key: {errors:?}");
        assert!(!errors[0].as_str().unwrap().contains("k1"), "{target:?}: the error names only that key: {errors:?}");
        assert_eq!(
            (body["program_uuid"].as_str(), body["username_pair_text"].as_str()),
            (Some(p.as_str()), Some(text))
        );
        assert_eq!(db.tables().await, before, "{target:?}: {text:?}: a refused batch wrote");
    }
    site.finish().await;
}

#[tokio::test]
async fn key_given_twice_sqlite() {
    key_given_twice(Target::SqliteFile).await;
}

#[tokio::test]
async fn key_given_twice_postgres() {
    key_given_twice(Target::Postgres).await;
}

#[tokio::test]
async fn key_given_twice_mariadb() {
    key_given_twice(Target::MySql).await;
}

/// Characters that need care in Python's `repr`: quotes, backslashes, C0 and C1 controls,
/// DEL, non-ASCII spaces and format characters (escaped), accents, CJK, combining marks and
/// emoji (kept), a private-use character (escaped). Line breaks of `splitlines()` and NUL are
/// left out (they cannot be inside one line of the text).
const TRICKY: &[char] = &[
    'a',
    'Z',
    '0',
    '_',
    '-',
    ' ',
    '\'',
    '"',
    '\\',
    ',',
    '\t',
    '\u{1}',
    '\u{1b}',
    '\u{7f}',
    '\u{80}',
    '\u{9f}',
    '\u{a0}',
    'é',
    'ß',
    '中',
    '\u{200b}',
    '\u{301}',
    '\u{e000}',
    '😀',
    '\u{1d11e}',
    '\u{ad}',
    '\u{2060}',
];

/// A deterministic generator (the seed is printed on failure).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn tricky(&mut self, i: usize) -> String {
        let len = (self.next() % 9) as usize;
        let middle: String = (0..len).map(|_| TRICKY[(self.next() % TRICKY.len() as u64) as usize]).collect();
        // Letters at both ends: Python's strip() is then a no-op.
        format!("a{middle}{i}z")
    }
}

fn csv_quote(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// The success strings are exactly Python's `str((key, username))` on random strings.
#[tokio::test]
async fn successes_are_python_tuple_reprs() {
    let Some(site) = Site::new(Target::SqliteFile).await else { return };
    let (db, program) = (&site.db, &site.program);
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let pairs: Vec<(String, String)> = (0..40).map(|i| (rng.tricky(i), rng.tricky(i))).collect();
    for (key, username) in &pairs {
        program.waiting(db, key, &[]).await;
        db.add_user(username, &format!("{}@example.com", uuid::Uuid::new_v4().simple())).await;
    }
    let text: String = pairs.iter().map(|(k, u)| format!("{},{}\r\n", csv_quote(k), csv_quote(u))).collect();
    let got = site.staff().link(&site.server, &Fields::mfe(&program.text(), &text)).await;
    assert_eq!(got.status, 200, "seed {seed}: {}", got.body);
    let body = got.json();
    assert_eq!(body["errors"], json!([]), "seed {seed}: every pair links");
    let want = python_tuple_reprs(&pairs);
    let successes: Vec<String> =
        body["successes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect();
    for (i, (got, want)) in successes.iter().zip(&want).enumerate() {
        assert_eq!(got, want, "seed {seed}: pair {i} {:?}", pairs[i]);
    }
    assert_eq!(successes.len(), want.len(), "seed {seed}");
    for (key, username) in &pairs {
        let user = db.tables().await.users.values().find(|u| &u.username == username).unwrap().id;
        assert_eq!(linked_user(db, program, key).await, Some(user), "seed {seed}: {key:?}");
    }
    site.finish().await;
}
