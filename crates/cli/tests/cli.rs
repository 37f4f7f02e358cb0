//! The real `program-enrollments` binary on real SQLite files: every line of `cli.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{ANIMAL, Db, FRUIT, OTHER_PROGRAM, PROGRAM, bin, files_in, stderr, stdout};

const NOT_WRITTEN: &str = "nothing was written";

/// Runs `link` with `args` (and `stdin`), expects exit 2 with `message` on standard error, and
/// checks that the database file did not change by a byte.
fn refused(db: &Db, args: &[&str], stdin: Option<&str>, message: &str) {
    let before = db.bytes();
    let mut cmd = db.link(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin);
    }
    let assert = cmd.assert().code(2);
    let err = stderr(&assert);
    assert!(err.contains(message), "expected {message:?} in {err:?}");
    assert_eq!(err.lines().count(), 1, "one message only: {err:?}");
    assert_eq!(stdout(&assert), "");
    assert!(db.bytes() == before, "the database changed");
}

fn pairs_db() -> Db {
    let db = Db::new();
    db.user("user_1");
    db.user("user_2");
    db.waiting("key-1");
    db.waiting("key-2");
    db
}

// ---- Database ------------------------------------------------------------------------------

#[test]
fn the_default_database_is_program_enrollments_sqlite3_in_the_current_directory() {
    let dir = tempfile::tempdir().unwrap();
    let assert = bin().current_dir(dir.path()).arg("migrate").assert().success();
    assert!(stdout(&assert).contains("sqlite://program_enrollments.sqlite3"));
    assert_eq!(files_in(dir.path()), ["program_enrollments.sqlite3"]);
    bin().current_dir(dir.path()).args(["link", PROGRAM, "--allow-empty"]).assert().success().stdout("linked 0 of 0\n");
}

#[test]
fn the_database_url_variable_selects_the_database() {
    let db = pairs_db();
    bin()
        .current_dir(db.dir.path())
        .env("DATABASE_URL", db.url())
        .args(["link", PROGRAM, "key-1:user_1"])
        .assert()
        .success()
        .stdout("linked 1 of 1\n");
    assert_eq!(db.linked_user("key-1"), "1");
}

#[test]
fn the_database_url_option_wins_over_the_variable() {
    let db = pairs_db();
    bin()
        .current_dir(db.dir.path())
        .env("DATABASE_URL", "sqlite://elsewhere.sqlite3")
        .args(["--database-url", &db.url(), "link", PROGRAM, "key-1:user_1"])
        .assert()
        .success();
    assert_eq!(db.linked_user("key-1"), "1");
    assert!(!db.dir.path().join("elsewhere.sqlite3").exists());
}

// ---- Commands ------------------------------------------------------------------------------

#[test]
fn migrate_creates_the_tables_and_is_idempotent() {
    let db = Db::new();
    db.user("kept");
    db.cmd().arg("migrate").assert().success().stdout(format!("the database at {} is up to date\n", db.url()));
    assert_eq!(db.count("SELECT COUNT(*) FROM auth_user"), 1);
    // Four migrations: the linking tables, those of upstream's later rules, the tables the LMS's
    // enrollment receivers write (forum roles, schedules), and those the inspector reads.
    assert_eq!(db.count("SELECT COUNT(*) FROM seaql_migrations"), 4);
}

#[test]
fn link_without_our_tables_exits_3_and_names_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.sqlite3");
    std::fs::write(&path, b"").unwrap();
    let assert = bin()
        .args(["--database-url", &format!("sqlite://{}", path.display()), "link", PROGRAM, "k:u"])
        .assert()
        .code(3);
    let err = stderr(&assert);
    assert!(err.contains("program-enrollments migrate") && err.contains(NOT_WRITTEN), "{err}");
    assert!(std::fs::read(&path).unwrap().is_empty());
}

#[test]
fn link_on_a_missing_sqlite_file_exits_3_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let assert = bin().current_dir(dir.path()).args(["link", PROGRAM, "k:u"]).assert().code(3);
    assert_eq!(
        stderr(&assert),
        "error: there is no SQLite database at program_enrollments.sqlite3: create one with `program-enrollments \
         migrate`, or choose the database with --database-url or DATABASE_URL; nothing was written\n"
    );
    assert!(files_in(dir.path()).is_empty());
    // A percent-encoded URL names the file as sqlx decodes it.
    let assert = bin()
        .current_dir(dir.path())
        .args(["--database-url", "sqlite://no%20such.db", "link", PROGRAM, "k:u"])
        .assert()
        .code(3);
    assert!(stderr(&assert).starts_with("error: there is no SQLite database at no such.db: "), "{}", stderr(&assert));
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn percent_encoded_sqlite_paths_name_the_file_sqlx_opens() {
    let dir = tempfile::tempdir().unwrap();
    let at = |url: &str| {
        let mut cmd = bin();
        cmd.current_dir(dir.path()).args(["--database-url", url]);
        cmd
    };
    // `migrate` creates the file `%20` names, with its space; `link` finds it under either spelling.
    at("sqlite://my%20data.sqlite3").arg("migrate").assert().success();
    assert_eq!(files_in(dir.path()), ["my data.sqlite3"]);
    at("sqlite://my%20data.sqlite3")
        .args(["link", PROGRAM, "--allow-empty"])
        .assert()
        .success()
        .stdout("linked 0 of 0\n");
    at("sqlite:my data.sqlite3").args(["link", PROGRAM, "--allow-empty"]).assert().success().stdout("linked 0 of 0\n");
    // `%25` is a `%`, `%3F` a `?` (not the start of the query).
    at("sqlite://50%25%3F.sqlite3?mode=rw").arg("migrate").assert().success();
    assert_eq!(files_in(dir.path()), ["50%?.sqlite3", "my data.sqlite3"]);
    // `mode=ro` does not create the file: the missing file is named as sqlx reads it.
    let assert = at("sqlite://read%20only.sqlite3?mode=ro").args(["link", PROGRAM, "k:u"]).assert().code(3);
    assert!(
        stderr(&assert).starts_with("error: there is no SQLite database at read only.sqlite3: "),
        "{}",
        stderr(&assert)
    );
    assert_eq!(files_in(dir.path()).len(), 2);
}

#[test]
fn link_takes_pairs_from_arguments_then_from_the_file() {
    let db = Db::new();
    for i in 1..=4 {
        db.user(&format!("user_{i}"));
        db.waiting(&format!("key-{i}"));
    }
    let file = db.file("pairs.csv", "key-3,user_3\nkey-9,user_4\n");
    let assert = db
        .link(&["key-1:user_1", "key-8:user_2", "--file", file.to_str().unwrap(), "--format", "json"])
        .assert()
        .code(1);
    let out = stdout(&assert);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["linked"], serde_json::json!(["key-1", "key-3"]));
    assert!(out.find("\"key-8\"").unwrap() < out.find("\"key-9\"").unwrap(), "errors in input order: {out}");
}

#[test]
fn link_reads_standard_input_for_a_dash() {
    let db = pairs_db();
    db.link(&["--file", "-"])
        .write_stdin("external_user_key,lms_username\nkey-1,user_1\nkey-2,user_2\n")
        .assert()
        .success()
        .stdout("linked 2 of 2\n");
    assert_eq!(db.linked_user("key-2"), "2");
}

#[test]
fn help_lists_the_commands_and_exits_0() {
    let assert = bin().arg("--help").assert().success();
    let out = stdout(&assert);
    for word in ["migrate", "link", "demo", "--database-url", "DATABASE_URL", "Exit status"] {
        assert!(out.contains(word), "{word} in {out}");
    }
    let link = stdout(&bin().args(["link", "--help"]).assert().success());
    for word in ["PROGRAM_UUID", "KEY:USERNAME", "--file", "--format", "--dry-run", "text", "json"] {
        assert!(link.contains(word), "{word} in {link}");
    }
}

#[test]
fn usage_errors_exit_2() {
    bin().assert().code(2);
    bin().arg("link").assert().code(2);
    bin().args(["link", PROGRAM, "--format", "xml"]).assert().code(2);
    bin().arg("frobnicate").assert().code(2);
}

// ---- Input ---------------------------------------------------------------------------------

#[test]
fn the_program_uuid_may_be_written_in_any_common_form() {
    let db = pairs_db();
    let forms = [
        "9B7D3D1C-3F0E-4A8E-9A55-3C6A5D9B2F10",
        "9b7d3d1c3f0e4a8e9a553c6a5d9b2f10",
        "{9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10}",
        "urn:uuid:9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10",
    ];
    for form in forms {
        let assert = db.cmd().args(["link", form, "nokey:user_1", "--format", "json"]).assert().code(1);
        let json: serde_json::Value = serde_json::from_str(&stdout(&assert)).unwrap();
        assert_eq!(json["program_uuid"], PROGRAM);
        assert_eq!(
            json["errors"]["nokey"],
            format!("No program enrollment found for program uuid={PROGRAM} and external student key=nokey")
        );
    }
    db.cmd().args(["link", "9B7D3D1C3F0E4A8E9A553C6A5D9B2F10", "key-1:user_1"]).assert().success();
}

#[test]
fn a_malformed_program_uuid_is_refused() {
    let db = pairs_db();
    for bad in ["not-a-uuid", "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f1", " 9b7d3d1c3f0e4a8e9a553c6a5d9b2f10"] {
        let before = db.bytes();
        let assert = db.cmd().args(["link", bad, "key-1:user_1"]).assert().code(2);
        assert_eq!(stderr(&assert), format!("error: supplied program_uuid '{bad}' is not a valid UUID\n"));
        assert!(db.bytes() == before);
    }
}

#[test]
fn bad_input_never_opens_the_database() {
    let dir = tempfile::tempdir().unwrap();
    bin().current_dir(dir.path()).args(["link", "nope", "k:u"]).assert().code(2);
    bin()
        .current_dir(dir.path())
        .args(["--database-url", "postgres://u:secret@127.0.0.1:1/db", "link", PROGRAM, "k"])
        .assert()
        .code(2);
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn argument_pairs_split_at_the_last_colon_and_are_trimmed() {
    let db = Db::new();
    db.user("user_1");
    db.waiting("urn:univ:42");
    db.link(&["  urn:univ:42 :  user_1 "]).assert().success().stdout("linked 1 of 1\n");
    assert_eq!(db.linked_user("urn:univ:42"), "1");
}

#[test]
fn malformed_argument_pairs_are_refused_naming_the_argument() {
    let db = pairs_db();
    for bad in ["key-1", ":user_1", "key-1:", " : ", "key-1:  "] {
        refused(
            &db,
            &["key-2:user_2", bad],
            None,
            &format!(
                "error: incorrectly formatted argument '{bad}', must be in form <external user key>:<lms username>"
            ),
        );
    }
    assert_eq!(db.written(), 0);
}

#[test]
fn csv_files_skip_the_header_and_blank_lines_trim_fields_ignore_extra_fields_and_honour_quotes() {
    let db = Db::new();
    for i in 1..=4 {
        db.user(&format!("user_{i}"));
    }
    for key in ["plain", "a,comma", "say \"hi\"", "spaced"] {
        db.waiting(key);
    }
    let file = db.file(
        "pairs.csv",
        "external_user_key,lms_username\n\nplain,user_1\n   \n\"a,comma\",user_2,extra,fields\n\"say \"\"hi\"\"\",user_3\n  spaced  ,  user_4  \n\n",
    );
    let assert = db.link(&["--file", file.to_str().unwrap(), "--format", "json"]).assert().success();
    let json: serde_json::Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(json["linked"], serde_json::json!(["plain", "a,comma", "say \"hi\"", "spaced"]));
    assert_eq!(db.linked_user("a,comma"), "2");
}

#[test]
fn csv_files_with_crlf_line_ends_and_a_byte_order_mark() {
    let db = pairs_db();
    let file = db.file("pairs.csv", "\u{feff}external_user_key,lms_username\r\nkey-1,user_1\r\n\r\nkey-2,user_2\r\n");
    db.link(&["--file", file.to_str().unwrap()]).assert().success().stdout("linked 2 of 2\n");
}

#[test]
fn a_csv_line_without_key_or_username_is_refused_with_its_line() {
    let db = pairs_db();
    for (text, line) in [
        ("key-1,user_1\nkey-2,\n", 2),
        ("key-1,user_1\n\n,user_2\n", 3),
        ("external_user_key,lms_username\nkey-2\n", 2),
        ("key-1,user_1\n  ,  \n", 2),
        ("\"\",user_1\n", 1),
    ] {
        let file = db.file("bad.csv", text);
        refused(
            &db,
            &["--file", file.to_str().unwrap()],
            None,
            &format!("{}: line {line}: must be in the format 'external_user_key,lms_username'", file.display()),
        );
    }
    refused(
        &db,
        &["--file", "-"],
        Some("key-1,user_1\nkey-2;user_2\n"),
        "error: standard input: line 2: must be in the format 'external_user_key,lms_username'",
    );
}

#[test]
fn the_same_key_twice_is_refused_across_arguments_and_file() {
    let db = pairs_db();
    let file = db.file("pairs.csv", "key-2,user_2\nkey-1,user_2\n");
    refused(
        &db,
        &["key-1:user_1", "--file", file.to_str().unwrap()],
        None,
        &format!("error: {}: line 2: external user key key-1 provided multiple times", file.display()),
    );
    refused(
        &db,
        &["key-1:user_1", "key-1 :user_2"],
        None,
        "error: argument 'key-1 :user_2': external user key key-1 provided multiple times",
    );
    // Keys differing by case are different keys.
    db.link(&["key-1:user_1", "KEY-1:user_2", "--dry-run"]).assert().code(1);
}

#[test]
fn values_too_long_for_their_columns_are_refused() {
    let db = pairs_db();
    let long_key = "k".repeat(256);
    let arg = format!("{long_key}:user_1");
    refused(&db, &[&arg], None, &format!("error: argument '{arg}': external user key is longer than 255 characters"));
    let file = db.file("pairs.csv", format!("key-1,{}\n", "u".repeat(151)));
    refused(
        &db,
        &["--file", file.to_str().unwrap()],
        None,
        &format!("error: {}: line 1: username is longer than 150 characters", file.display()),
    );
    // The longest values fit (counted in characters, not bytes).
    let ok = format!("{}:{}", "é".repeat(255), "ü".repeat(150));
    db.link(&[&ok]).assert().code(1);
}

#[test]
fn a_missing_file_is_refused_naming_it() {
    let db = pairs_db();
    let missing = db.dir.path().join("missing.csv");
    refused(&db, &["--file", missing.to_str().unwrap()], None, &format!("error: cannot read {}: ", missing.display()));
}

#[test]
fn an_unreadable_file_is_refused_naming_it() {
    let db = pairs_db();
    // A directory cannot be read as a file (permissions would not stop root).
    let dir = db.dir.path().join("a-directory.csv");
    std::fs::create_dir(&dir).unwrap();
    refused(&db, &["--file", dir.to_str().unwrap()], None, &format!("error: cannot read {}: ", dir.display()));
}

#[test]
fn a_file_that_is_not_utf8_is_refused_naming_the_line() {
    let db = pairs_db();
    let file = db.file("latin1.csv", b"key-1,user_1\nkey-2,J\xfcrgen\n".as_slice());
    refused(
        &db,
        &["--file", file.to_str().unwrap()],
        None,
        &format!("error: {}: line 2: not valid UTF-8", file.display()),
    );
}

#[test]
fn unbalanced_quotes_are_refused_naming_the_line() {
    let db = pairs_db();
    let file = db.file("quotes.csv", "key-1,user_1\n\"key-2,user_2\nkey-3,user_3\n");
    refused(
        &db,
        &["--file", file.to_str().unwrap()],
        None,
        &format!("error: {}: line 2: unbalanced quotes", file.display()),
    );
    let file = db.file("stray.csv", "key-1,user_1\nkey\"2,user_2\n");
    refused(
        &db,
        &["--file", file.to_str().unwrap()],
        None,
        &format!("error: {}: line 2: unbalanced quotes", file.display()),
    );
}

// ---- Output and exit status ----------------------------------------------------------------

/// Every error of the spec in one batch.
fn every_error_db() -> Db {
    let db = Db::new();
    let user_1 = db.user("user_1");
    let owner = db.user("owner");
    db.user("user_2");
    db.user("user_3");
    db.user("double");
    db.waiting("ok-1");
    db.pe("ok-2", PROGRAM, None, &[(FRUIT, "active"), (ANIMAL, "inactive")]);
    db.pe("target", PROGRAM, Some(user_1), &[]);
    db.pe("different", PROGRAM, Some(owner), &[]);
    db.pe("nocourse", PROGRAM, None, &[(FRUIT, "active"), ("course-v1:edX+None+None", "active")]);
    db.waiting("double-1");
    db.waiting("double-2");
    db.pe("other-program", OTHER_PROGRAM, None, &[]);
    db
}

const EVERY_ERROR_ARGS: [&str; 9] = [
    "ok-1:user_2",
    "unknown-user:nobody",
    "other-program:user_3",
    "target:user_1",
    "different:user_3",
    "nocourse:user_3",
    "double-1:double",
    "double-2:double",
    "ok-2:user_3",
];

fn every_error_text() -> String {
    format!(
        "unknown-user: No user found with username nobody\n\
         other-program: No program enrollment found for program uuid={PROGRAM} and external student key=other-program\n\
         target: Program enrollment with external_student_key=target is already linked to target account username=user_1\n\
         different: Program enrollment with external_student_key=different is already linked to a different account username=owner\n\
         nocourse: NonExistentCourseError\n\
         double-2: IntegrityError: UNIQUE constraint failed: program_enrollments_programenrollment.user_id, \
         program_enrollments_programenrollment.program_uuid, program_enrollments_programenrollment.curriculum_uuid\n\
         linked 3 of 9\n\
         errors: 1 no user, 1 no enrollment, 1 already linked to the requested user, \
         1 already linked to another account, 1 no course, 1 integrity error\n\
         note: 1 of the errors above is a key already linked to the requested user before this run; \
         --resume counts such keys as done\n"
    )
}

#[test]
fn the_text_report_lists_each_error_in_input_order_then_the_summary_and_exits_1() {
    let db = every_error_db();
    db.link(&EVERY_ERROR_ARGS).assert().code(1).stdout(every_error_text());
    assert_eq!(db.linked_user("ok-2"), "4");
    assert_eq!(db.linked_user("nocourse"), "NULL");
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE external_user_key='double-1' AND user_id=5"), 1);
    assert_eq!(
        db.rows("SELECT mode, is_active FROM student_courseenrollment WHERE user_id = 4 ORDER BY course_id"),
        [["masters", "0"], ["masters", "1"]]
    );
}

#[test]
fn the_json_report_is_one_object_with_the_library_result_in_input_order() {
    let db = every_error_db();
    let assert = db.link(&EVERY_ERROR_ARGS).arg("--format").arg("json").assert().code(1);
    let out = stdout(&assert);
    assert_eq!(out.lines().count(), 1);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let object = json.as_object().unwrap();
    assert_eq!(
        object.keys().collect::<Vec<_>>(),
        [
            "already_linked",
            "chunks",
            "dry_run",
            "error_counts",
            "errors",
            "linked",
            "not_written",
            "program_uuid",
            "retries"
        ]
    );
    assert_eq!(json["already_linked"], serde_json::json!([]));
    assert_eq!(json["not_written"], serde_json::Value::Null);
    assert_eq!(json["chunks"], serde_json::json!([{"first": 1, "last": 9, "first_key": "ok-1", "last_key": "ok-2"}]));
    assert_eq!(json["program_uuid"], PROGRAM);
    assert_eq!(json["dry_run"], false);
    assert_eq!(json["linked"], serde_json::json!(["ok-1", "double-1", "ok-2"]));
    let expected: Vec<(String, String)> = every_error_text()
        .lines()
        .filter(|l| !l.starts_with("linked ") && !l.starts_with("note: ") && !l.starts_with("errors: "))
        .map(|l| {
            let (k, m) = l.split_once(": ").unwrap();
            (k.to_owned(), m.to_owned())
        })
        .collect();
    let errors = json["errors"].as_object().unwrap();
    assert_eq!(errors.len(), expected.len());
    for (key, message) in &expected {
        assert_eq!(errors[key], message.as_str());
    }
    let positions: Vec<usize> = expected.iter().map(|(k, _)| out.find(&format!("\"{k}\":")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "errors in input order: {out}");
}

#[test]
fn exit_0_when_every_key_is_linked() {
    let db = pairs_db();
    db.link(&["key-1:user_1", "key-2:user_2"]).assert().success().stdout("linked 2 of 2\n");
    let json = stdout(&db.link(&["--format", "json", "--allow-empty"]).assert().success());
    assert_eq!(
        json,
        format!(
            "{{\"program_uuid\":\"{PROGRAM}\",\"linked\":[],\"errors\":{{}},\"error_counts\":{{}},\"already_linked\":[],\"chunks\":[],\
             \"not_written\":null,\"retries\":0,\"dry_run\":false}}\n"
        )
    );
}

#[test]
fn acting_user_is_recorded_in_every_history_row_and_an_unknown_one_is_refused() {
    let db = pairs_db();
    let staff = db.user("support_staff");
    refused(&db, &["key-1:user_1", "--acting-user", "nobody"], None, "the acting user 'nobody' does not exist");
    db.link(&["key-1:user_1", "--acting-user", "support_staff"]).assert().success();
    let users = db.rows(
        "SELECT history_user_id FROM program_enrollments_historicalprogramenrollment \
         UNION ALL SELECT history_user_id FROM program_enrollments_historicalprogramcourseenrollment \
         UNION ALL SELECT history_user_id FROM student_courseenrollment_history",
    );
    assert!(!users.is_empty());
    assert!(users.iter().all(|row| row[0] == staff.to_string()), "{users:?}");
    db.link(&["key-2:user_2"]).assert().success();
    assert_eq!(
        db.count("SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment WHERE history_user_id IS NULL"),
        1
    );
}

#[test]
fn running_the_same_batch_twice_reports_already_linked_and_changes_nothing() {
    let db = pairs_db();
    db.link(&["key-1:user_1"]).assert().success();
    let before = db.bytes();
    db.link(&["key-1:user_1"]).assert().code(1).stdout(
        "key-1: Program enrollment with external_student_key=key-1 is already linked to target account username=user_1\n\
         linked 0 of 1\n\
         errors: 1 already linked to the requested user\n\
         note: 1 of the errors above is a key already linked to the requested user before this run; \
         --resume counts such keys as done\n",
    );
    assert!(db.bytes() == before);
    // With --resume the key counts as done.
    db.link(&["key-1:user_1", "--resume"])
        .assert()
        .success()
        .stdout("linked 0 of 1; 1 already linked to the same user before this run\n");
    assert!(db.bytes() == before);
}

#[test]
fn logs_go_to_standard_error_at_info_by_default_and_rust_log_controls_them() {
    let db = pairs_db();
    let assert = db.link(&["key-1:user_1", "key-2:nobody"]).assert().code(1);
    let err = stderr(&assert);
    assert!(
        err.contains("INFO")
            && err.contains(&format!("Linking user id=1 with external_user_key=key-1 for program uuid={PROGRAM}")),
        "{err}"
    );
    assert!(err.contains("WARN") && err.contains("No user found with username nobody"), "{err}");
    assert!(!stdout(&assert).contains("Linking user"));

    let db = pairs_db();
    let assert = db.link(&["key-1:user_1", "key-2:nobody"]).env("RUST_LOG", "warn").assert().code(1);
    let err = stderr(&assert);
    assert!(!err.contains("Linking user") && err.contains("No user found"), "{err}");

    let db = pairs_db();
    db.link(&["key-1:user_1"]).env("RUST_LOG", "off").assert().success().stderr("");
}

#[test]
fn quiet_shows_only_warnings_and_errors() {
    let db = pairs_db();
    let assert = db.link(&["key-1:user_1", "key-2:nobody", "--quiet"]).assert().code(1);
    let err = stderr(&assert);
    assert!(!err.contains("INFO") && err.contains("No user found with username nobody"), "{err}");
}

#[test]
fn an_unreachable_database_exits_3_without_showing_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let commands = [vec!["link", PROGRAM, "k:u"], vec!["migrate"]];
    for (backend, command) in ["postgres", "mysql"].into_iter().flat_map(|b| commands.iter().map(move |c| (b, c))) {
        let assert = bin()
            .current_dir(dir.path())
            .args(["--database-url", &format!("{backend}://u:s3cr3t-pw@127.0.0.1:1/db")])
            .args(command)
            .assert()
            .code(3);
        let err = stderr(&assert);
        assert!(
            err.contains(&format!("cannot connect to the {backend} database at {backend}://u:***@127.0.0.1:1/db")),
            "{err}"
        );
        assert!(!err.contains("s3cr3t-pw"), "{err}");
        assert!(err.contains(NOT_WRITTEN) || command[0] == "migrate", "{err}");
    }
    let assert = bin().env("DATABASE_URL", "oracle://u:s3cr3t-pw@h/db").args(["link", PROGRAM, "k:u"]).assert().code(2);
    assert!(!stderr(&assert).contains("s3cr3t-pw"));
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn an_aborted_run_exits_3_rolls_everything_back_and_says_so() {
    let db = pairs_db();
    db.user("user_3");
    // A program course enrollment status the rules cannot work with aborts the call.
    db.pe("corrupt", PROGRAM, None, &[(FRUIT, "bogus")]);
    let before = db.bytes();
    let assert = db.link(&["key-1:user_1", "key-2:user_2", "corrupt:user_3"]).assert().code(3);
    let err = stderr(&assert);
    assert!(err.contains("rolled back") && err.contains(NOT_WRITTEN), "{err}");
    assert_eq!(
        stdout(&assert),
        "linked 0 of 3\nnot written: keys 1-3 (from key-1 on): the run stopped; rerun the same input with --resume\n"
    );
    assert!(db.bytes() == before);
    assert_eq!(db.written(), 0);
}

// ---- Chunks, interruption and resume --------------------------------------------------------

/// Six waiting keys `k1`..`k6` for `u1`..`u6`; `k5`'s PCE has a status the rules cannot read
/// (it aborts the transaction that meets it) unless `healthy`.
fn six_keys_db() -> Db {
    let db = Db::new();
    for i in 1..=6 {
        db.user(&format!("u{i}"));
        let status = if i == 5 { "bogus" } else { "active" };
        db.pe(&format!("k{i}"), PROGRAM, None, &[(FRUIT, status)]);
    }
    db
}

const SIX_PAIRS: [&str; 6] = ["k1:u1", "k2:u2", "k3:u3", "k4:u4", "k5:u5", "k6:u6"];

#[test]
fn chunk_size_commits_every_n_keys_and_names_the_chunks() {
    let db = six_keys_db();
    db.exec("UPDATE program_enrollments_programcourseenrollment SET status = 'active'", vec![]);
    let assert = db.link(&SIX_PAIRS).args(["--chunk-size", "4"]).assert().success();
    assert_eq!(
        stdout(&assert),
        "chunk 1: keys 1-4 (k1 .. k4) committed\nchunk 2: keys 5-6 (k5 .. k6) committed\nlinked 6 of 6\n"
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL"), 6);
    assert!(stderr(&assert).contains("committing every 4 keys"));
    db.link(&["k1:u1", "--chunk-size", "0"]).assert().code(2);
}

#[test]
fn an_interrupted_chunked_run_keeps_its_committed_chunks_and_a_resumed_rerun_completes_it() {
    let db = six_keys_db();
    let assert = db.link(&SIX_PAIRS).args(["--chunk-size", "2"]).assert().code(3);
    // Chunks 1 and 2 committed whole; chunk 3 (k5, k6) was rolled back.
    assert_eq!(
        stdout(&assert),
        "chunk 1: keys 1-2 (k1 .. k2) committed\nchunk 2: keys 3-4 (k3 .. k4) committed\nlinked 4 of 6\n\
         not written: keys 5-6 (from k5 on): the run stopped; rerun the same input with --resume\n"
    );
    let err = stderr(&assert);
    assert!(
        err.contains("chunks 1-2 (keys 1-4) had committed and stay: 4 linked, 0 with errors")
            && err.contains("keys 5-6 (from k5 on) were not written")
            && err.contains("--resume"),
        "{err}"
    );
    let linked = |key: &str| db.linked_user(key) != "NULL";
    assert!(["k1", "k2", "k3", "k4"].iter().all(|k| linked(k)) && !linked("k5") && !linked("k6"));
    // Every committed key is whole: its course enrollment, its PCE pointing at it, its history.
    assert_eq!(db.count("SELECT COUNT(*) FROM student_courseenrollment"), 4);
    assert_eq!(
        db.count(
            "SELECT COUNT(*) FROM program_enrollments_programcourseenrollment WHERE course_enrollment_id IS NOT NULL"
        ),
        4
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment"), 4);

    // The operator repairs the data and reruns the same input with --resume.
    db.exec("UPDATE program_enrollments_programcourseenrollment SET status = 'active'", vec![]);
    let rerun = db.link(&SIX_PAIRS).args(["--chunk-size", "2", "--resume"]).assert().success();
    assert!(
        stdout(&rerun).ends_with("linked 2 of 6; 4 already linked to the same user before this run\n"),
        "{}",
        stdout(&rerun)
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL"), 6);
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment"), 6);
    // Without --resume the same rerun reports the keys as errors, with a hint.
    let again = db.link(&SIX_PAIRS).assert().code(1);
    assert!(stdout(&again).contains("note: 6 of the errors above are keys already linked to the requested user"));
}

// ---- Dry run -------------------------------------------------------------------------------

#[test]
fn a_dry_run_reports_what_a_real_run_would_and_leaves_the_file_unchanged_byte_for_byte() {
    let db = every_error_db();
    let before = db.bytes();
    let written = db.written();
    let dry = db.link(&EVERY_ERROR_ARGS).arg("--dry-run").assert().code(1);
    // The report after the plan's lines (`would link …` and its indented course lines).
    let report: String = stdout(&dry)
        .lines()
        .filter(|l| !l.starts_with("would link ") && !l.starts_with("  "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(report, every_error_text() + cli::report::DRY_RUN_LINE);
    assert!(db.bytes() == before, "the dry run changed the database file");
    assert_eq!(db.written(), written);
    assert!(stderr(&dry).contains("Linking user id="));

    let json = stdout(&db.link(&EVERY_ERROR_ARGS).args(["--dry-run", "--format", "json"]).assert().code(1));
    assert!(db.bytes() == before);
    let real = stdout(&db.link(&EVERY_ERROR_ARGS).args(["--format", "json"]).assert().code(1));
    // The same report, except that a dry run commits no chunk and adds its plan.
    let mut dry: serde_json::Value = serde_json::from_str(&json).unwrap();
    let plan = dry.as_object_mut().unwrap().remove("plan").unwrap();
    assert_eq!(plan.as_array().unwrap().len(), 3);
    dry["dry_run"] = false.into();
    dry["chunks"] = serde_json::json!([{"first": 1, "last": 9, "first_key": "ok-1", "last_key": "ok-2"}]);
    assert_eq!(dry, serde_json::from_str::<serde_json::Value>(&real).unwrap());
    assert!(db.written() > written);
}

#[test]
fn a_dry_run_where_every_key_links_exits_0() {
    let db = pairs_db();
    let before = db.bytes();
    let out = stdout(&db.link(&["key-1:user_1", "--dry-run"]).assert().success());
    assert!(out.starts_with("would link key-1 to user_1 (user id 1): program enrollment 1\n"), "{out}");
    assert!(out.ends_with(&format!("linked 1 of 1\n{}", cli::report::DRY_RUN_LINE)), "{out}");
    assert!(db.bytes() == before);
}

// ---- Progress bar --------------------------------------------------------------------------

fn thousand_db() -> (Db, std::path::PathBuf) {
    let db = Db::new();
    db.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
         INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, \
         date_joined) SELECT '!', 0, 'user_' || i, '', '', 'user_' || i || '@example.com', 0, 1, \
         '2024-01-01 00:00:00.000000' FROM n",
        vec![],
    );
    db.exec(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
         INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, program_uuid, \
         curriculum_uuid, status, user_id) SELECT '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000', \
         'key-' || i, ?, ?, 'enrolled', NULL FROM n",
        vec![PROGRAM.replace('-', "").into(), crate::common::CURRICULUM.into()],
    );
    let csv: String = (1..=1000).map(|i| format!("key-{i},user_{i}\n")).collect();
    let file = db.file("thousand.csv", csv);
    (db, file)
}

#[test]
fn no_progress_bar_when_standard_error_is_not_a_terminal() {
    let (db, file) = thousand_db();
    let assert = db.link(&["--file", file.to_str().unwrap()]).env("RUST_LOG", "off").assert().success();
    assert_eq!(stdout(&assert), "linked 1000 of 1000\n");
    assert_eq!(stderr(&assert), "");
}

/// `script` (util-linux) runs the binary on a pseudo-terminal.
fn on_a_terminal(script: &std::path::Path, db: &Db, args: &str) -> String {
    let bin = assert_cmd::cargo::cargo_bin!("program-enrollments");
    let command = format!("RUST_LOG=off {} --database-url {} link {PROGRAM} {args}", bin.display(), db.url());
    let output = std::process::Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_progress_bar_for_1000_keys_on_a_terminal_and_none_with_quiet() {
    let what = "the progress bar on a terminal (`script` makes one)";
    let Some(script) = acceptance::skip::program_or_skip("script", what) else { return };
    let (db, file) = thousand_db();
    let quiet = on_a_terminal(&script, &db, &format!("--file {} --dry-run --quiet", file.display()));
    assert!(quiet.contains("linked 1000 of 1000"), "{quiet}");
    assert!(!quiet.contains("/1000 keys"), "{quiet}");
    // 999 keys get no bar.
    let csv: String = (1..=999).map(|i| format!("key-{i},user_{i}\n")).collect();
    let small = db.file("small.csv", csv);
    let none = on_a_terminal(&script, &db, &format!("--file {} --chunk-size 500", small.display()));
    assert!(none.contains("linked 999 of 999") && !none.contains("/999 keys"), "{none}");
    // A dry run plans from one read: no bar either. A real run of 1000 keys gets one.
    let csv: String = (1..=1000).map(|i| format!("key-{i},user_{i}\n")).collect();
    let file = db.file("thousand.csv", csv);
    let shown = on_a_terminal(&script, &db, &format!("--file {} --resume", file.display()));
    assert!(shown.contains("/1000 keys"), "{shown}");
}

// ---- Demo ----------------------------------------------------------------------------------

#[test]
fn the_demo_works_in_an_empty_directory_and_says_how_to_look_at_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let assert = bin().current_dir(dir.path()).arg("demo").assert().success();
    let out = stdout(&assert);
    assert!(out.starts_with("univ-unknown: No user found with username no_such_user\n"), "{out}");
    assert!(out.contains("univ-nocourse: NonExistentCourseError\n"), "{out}");
    assert!(out.contains("univ-double-2: IntegrityError: UNIQUE constraint failed: "), "{out}");
    assert!(out.contains("linked 301 of 307\n"), "{out}");
    assert!(out.contains("sqlite3 demo.sqlite3"), "{out}");
    assert_eq!(files_in(dir.path()), ["demo.sqlite3"]);
    let err = stderr(&assert);
    assert!(err.contains("Cannot convert CourseEnrollment to Master's from mode verified."), "{err}");
    assert!(err.contains("Rolling back all operations for univ-nocourse:learner_nocourse"), "{err}");
    assert!(!err.contains("Linking user id="), "the demo logs WARNING and ERROR only: {err}");
}

#[test]
fn the_demo_then_link_on_a_csv_file_as_the_readme_shows() {
    let dir = tempfile::tempdir().unwrap();
    bin().current_dir(dir.path()).args(["demo", "--quiet"]).assert().success();
    std::fs::write(
        dir.path().join("batch.csv"),
        "external_user_key,lms_username\nuniv-late-1,late_learner_1\nuniv-late-2,late_learner_2\n\"univ-late,3\",late_learner_3\n",
    )
    .unwrap();
    bin()
        .current_dir(dir.path())
        .args(["--database-url", "sqlite://demo.sqlite3", "link", PROGRAM, "--file", "batch.csv"])
        .assert()
        .success()
        .stdout("linked 3 of 3\n");
    let file = dir.path().join("more.csv");
    std::fs::write(&file, "univ-00000,learner_000\n").unwrap();
    bin()
        .current_dir(dir.path())
        .args(["--database-url", "sqlite://demo.sqlite3", "link", PROGRAM, "--file", "more.csv"])
        .assert()
        .code(1);
}

#[test]
fn the_demo_writes_what_the_spec_says_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    bin().current_dir(dir.path()).args(["demo", "--quiet", "x.sqlite3"]).assert().success();
    let db = Db { path: dir.path().join("x.sqlite3"), dir };
    assert_eq!(db.count("SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL"), 303);
    assert_eq!(db.count("SELECT COUNT(*) FROM student_courseenrollment WHERE mode = 'verified' AND is_active = 1"), 6);
    assert_eq!(db.count("SELECT COUNT(*) FROM student_courseenrollment WHERE mode = 'audit'"), 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM student_courseenrollmentallowed WHERE user_id IS NOT NULL"), 3);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM program_enrollments_programcourseenrollment WHERE course_enrollment_id IS NULL"),
        2 + 2 + 2 + 2 + 6
    );
    assert_eq!(db.count("SELECT COUNT(*) FROM student_courseenrollment WHERE user_id IN (SELECT id FROM auth_user WHERE username = 'learner_nocourse')"), 0);
}

#[test]
fn the_demo_replaces_its_own_file_and_refuses_any_other() {
    let dir = tempfile::tempdir().unwrap();
    bin().current_dir(dir.path()).args(["demo", "-q"]).assert().success();
    let again = bin().current_dir(dir.path()).args(["demo", "-q"]).assert().success();
    assert!(stdout(&again).contains("linked 301 of 307"));

    std::fs::write(dir.path().join("notes.txt"), "precious").unwrap();
    let assert = bin().current_dir(dir.path()).args(["demo", "notes.txt"]).assert().code(2);
    assert!(stderr(&assert).contains("refusing to overwrite notes.txt"), "{}", stderr(&assert));
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "precious");

    let other = Db::new();
    let before = other.bytes();
    bin().args(["demo", other.path.to_str().unwrap()]).assert().code(2);
    assert!(other.bytes() == before);
}

#[test]
fn the_demo_report_in_json_is_one_object_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let assert = bin().current_dir(dir.path()).args(["demo", "--format", "json"]).assert().success();
    let json: serde_json::Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(json["program_uuid"], PROGRAM);
    assert_eq!(json["linked"].as_array().unwrap().len(), 301);
    assert_eq!(json["errors"].as_object().unwrap().len(), 6);
    assert_eq!(json["dry_run"], false);
}

// ---- Operator mistakes (issue 15) -----------------------------------------------------------

#[test]
fn no_input_at_all_is_refused_with_exit_2() {
    let db = pairs_db();
    refused(&db, &[], None, "no pairs to link: give KEY:USERNAME arguments or --file PATH");
    db.link(&["--allow-empty"]).assert().success().stdout("linked 0 of 0\n");
}

#[test]
fn an_empty_file_or_standard_input_is_refused_unless_allow_empty() {
    let db = pairs_db();
    let empty = db.file("empty.csv", "");
    let header_only = db.file("header.csv", "external_user_key,lms_username\n\n");
    for file in [&empty, &header_only] {
        let name = file.to_str().unwrap();
        refused(&db, &["--file", name], None, &format!("error: {name}: no pairs\n"));
        db.link(&["--file", name, "--allow-empty"]).assert().success().stdout("linked 0 of 0\n");
    }
    refused(&db, &["--file", "-"], Some(""), "error: standard input: no pairs\n");
    // Standard input closed.
    let before = db.bytes();
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin!("program-enrollments"))
        .current_dir(db.dir.path())
        .env_remove("RUST_LOG")
        .args(["--database-url", &db.url(), "link", PROGRAM, "--file", "-"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stderr), "error: standard input: no pairs\n");
    assert!(db.bytes() == before);
    // Pairs from the arguments with an empty file are input enough.
    db.link(&["key-1:user_1", "--file", empty.to_str().unwrap()]).assert().success().stdout("linked 1 of 1\n");
}

#[test]
fn the_header_is_recognised_regardless_of_case_and_spaces() {
    for header in
        ["External_User_Key,lms_username", " external_user_key , lms_username ", "EXTERNAL_USER_KEY,LMS_USERNAME"]
    {
        let db = pairs_db();
        let file = db.file("pairs.csv", format!("{header}\nkey-1,user_1\n"));
        db.link(&["--file", file.to_str().unwrap()]).assert().success().stdout("linked 1 of 1\n");
    }
}

#[test]
fn a_repeated_header_mid_file_is_skipped_with_a_warning() {
    let db = pairs_db();
    let file = db.file(
        "pairs.csv",
        "external_user_key,lms_username\nkey-1,user_1\nExternal_User_Key,LMS_username\nkey-2,user_2\n",
    );
    let assert = db.link(&["--quiet", "--file", file.to_str().unwrap()]).assert().success();
    assert_eq!(stdout(&assert), "linked 2 of 2\n");
    let err = stderr(&assert);
    assert!(err.contains("WARN"), "{err}");
    assert!(err.contains(&format!("{}: line 3: a repeated header line is skipped", file.display())), "{err}");
}

#[test]
fn link_help_shows_the_summary_line_on_one_line() {
    let link = stdout(&bin().args(["link", "--help"]).assert().success());
    assert!(link.contains("then `linked N of M`"), "{link}");
    assert!(link.contains("--allow-empty"), "{link}");
    let top = stdout(&bin().arg("--help").assert().success());
    assert!(top.contains("with --chunk-size, the chunks the report names stay committed"), "{top}");
}

#[test]
fn an_unsupported_or_unparsable_database_url_is_a_usage_error_that_never_echoes_it() {
    for url in [
        "postgres//u:s3cr3t@127.0.0.1/db",
        "u:s3cr3t@127.0.0.1/db",
        "postgres:/u:s3cr3t@127.0.0.1:56432/x",
        "mysql:u:s3cr3t@h/db",
        "postgres://u:s3cr3t@127.0.0.1:notaport/db",
    ] {
        for args in [vec!["link", PROGRAM, "key-1:user_1"], vec!["migrate"]] {
            let dir = tempfile::tempdir().unwrap();
            let assert = bin().current_dir(dir.path()).args(["--database-url", url]).args(&args).assert().code(2);
            let err = stderr(&assert);
            assert!(!err.contains("s3cr3t") && stdout(&assert).is_empty(), "{url}: {err}");
            assert!(err.starts_with("error: ") && err.contains("database URL"), "{url}: {err}");
            assert!(files_in(dir.path()).is_empty());
        }
    }
}

#[test]
fn urn_uuid_with_32_hex_digits_is_a_program_uuid() {
    let db = pairs_db();
    let urn = format!("urn:uuid:{}", PROGRAM.replace('-', ""));
    db.cmd().args(["link", &urn, "key-1:user_1"]).assert().success().stdout("linked 1 of 1\n");
}

#[test]
fn a_read_only_sqlite_file_does_not_suggest_resume() {
    let db = pairs_db();
    let url = format!("{}?mode=ro", db.url());
    for extra in [&[][..], &["--chunk-size", "1"][..]] {
        let mut cmd = bin();
        cmd.current_dir(db.dir.path()).args(["--database-url", &url, "link", PROGRAM, "key-1:user_1", "key-2:user_2"]);
        let assert = cmd.args(extra).assert().code(3);
        let (out, err) = (stdout(&assert), stderr(&assert));
        assert!(!out.contains("--resume") && !err.contains("--resume"), "{out}{err}");
        assert!(out.contains("the database is read-only"), "{out}");
    }
}

#[test]
fn a_utf16_file_is_reported_as_utf16() {
    let db = pairs_db();
    let text = "external_user_key,lms_username\r\nkey-1,user_1\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for (name, bytes) in [
        ("le-bom.txt", [&[0xFF, 0xFE][..], &le].concat()),
        ("be-bom.txt", [&[0xFE, 0xFF][..], &be].concat()),
        ("le.txt", le.clone()),
        ("be.txt", be.clone()),
    ] {
        let file = db.file(name, bytes);
        let message = format!("error: {}: the text is UTF-16; save as UTF-8 CSV\n", file.display());
        refused(&db, &["--file", file.to_str().unwrap()], None, &message);
    }
}

/// `migrate` on a database whose schema Django made: refused, nothing changed.
async fn migrate_refuses_a_django_database(target: acceptance::Target) {
    use acceptance::TestDatabase as _;
    let Some(db) = acceptance::SeaTestDatabase::create(target).await else { return };
    let before = db.tables().await;
    let url = db.url().to_owned();
    let output = tokio::task::spawn_blocking(move || bin().args(["--database-url", &url, "migrate"]).output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("belongs to Django (Open edX's own migrations)"), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty());
    assert!(db.tables().await == before, "migrate wrote");
    db.finish().await;
}

#[tokio::test]
async fn migrate_refuses_a_django_sqlite_database() {
    migrate_refuses_a_django_database(acceptance::Target::DjangoSqlite).await;
}

#[tokio::test]
async fn migrate_refuses_a_django_postgres_database() {
    migrate_refuses_a_django_database(acceptance::Target::DjangoPostgres).await;
}

#[tokio::test]
async fn migrate_refuses_a_django_mysql_database() {
    migrate_refuses_a_django_database(acceptance::Target::DjangoMySql).await;
}

#[test]
fn with_resume_keys_already_linked_log_at_info_not_warn() {
    let db = pairs_db();
    db.link(&["key-1:user_1"]).assert().success();
    let line = "Program enrollment with external_student_key=key-1 is already linked to target account username=user_1";
    let err = stderr(&db.link(&["key-1:user_1", "key-2:user_2", "--resume"]).assert().success());
    let logged: Vec<&str> = err.lines().filter(|l| l.contains(line)).collect();
    assert_eq!(logged.len(), 1, "{err}");
    assert!(logged[0].contains(" INFO ") && !logged[0].contains("WARN"), "{err}");
    assert!(logged[0].ends_with(&format!("program_enrollments::linking: {line}")), "{err}");
    // At the default level of --quiet the line is gone; without --resume it stays a warning.
    db.exec(
        "UPDATE program_enrollments_programenrollment SET user_id = NULL WHERE external_user_key = 'key-2'",
        vec![],
    );
    let err = stderr(&db.link(&["--quiet", "key-1:user_1", "key-2:user_2", "--resume"]).assert().success());
    assert!(!err.contains(line), "{err}");
    let err = stderr(&db.link(&["--quiet", "key-1:user_1"]).assert().code(1));
    assert!(err.contains("WARN") && err.contains(line), "{err}");
}
