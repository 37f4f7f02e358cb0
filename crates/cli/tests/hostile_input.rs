//! Hostile input through the real binary on real SQLite files: every kind is refused with its
//! position and exit status 2, the database file unchanged to the byte; keys full of SQL and
//! LIKE metacharacters link exactly the enrollments they name and no other.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use crate::common::{Db, PROGRAM, stderr, stdout};

const FORMAT: &str = "must be in the format 'external_user_key,lms_username'";

/// A database where linking `key-1` and `key-2` to `user_1` and `user_2` would write rows.
fn pairs_db() -> Db {
    let db = Db::new();
    db.user("user_1");
    db.user("user_2");
    db.waiting("key-1");
    db.waiting("key-2");
    db
}

/// Runs `link` on `args` (with `stdin`), expects exit status 2 and exactly `message` as the one
/// line on standard error, nothing on standard output, and the database file unchanged.
fn refused(db: &Db, args: &[&std::ffi::OsStr], stdin: Option<Vec<u8>>, message: &str) {
    let before = db.bytes();
    let mut cmd = db.link(&[]);
    cmd.args(args);
    if let Some(stdin) = stdin {
        cmd.write_stdin(stdin);
    }
    let assert = cmd.assert().code(2);
    assert_eq!(stderr(&assert), format!("error: {message}\n"));
    assert_eq!(stdout(&assert), "");
    assert!(db.bytes() == before, "the database changed");
}

/// `refused` for a file holding `contents`: the message is `{path}: {tail}`.
fn file_refused(db: &Db, contents: &[u8], tail: &str) {
    let file = db.file("hostile.csv", contents);
    let tail = tail.replace("{F}", FORMAT);
    refused(db, &["--file".as_ref(), file.as_os_str()], None, &format!("{}: {tail}", file.display()));
}

fn file_arg(db: &Db, contents: &[u8]) -> std::path::PathBuf {
    db.file("hostile.csv", contents)
}

#[test]
fn hostile_files_are_refused_at_their_line_and_nothing_is_written() {
    let db = pairs_db();
    let cases: Vec<(&[u8], &str)> = vec![
        // Invalid UTF-8 at various places.
        (b"key-1,user_1\nkey-2,J\xfcrgen\n", "line 2: not valid UTF-8"),
        (b"key-1,user_1\r\n\xff\xfekey-2,user_2\r\n", "line 2: not valid UTF-8"),
        (b"key-1,user_1\nkey-2,user_2,\xed\xa0\x80\n", "line 2: not valid UTF-8"),
        // A byte order mark is accepted at the start only; UTF-16 is named as such.
        (
            b"key-1,user_1\n\xef\xbb\xbfkey-2,user_2\n",
            "line 2: external user key contains the non-printing character U+FEFF",
        ),
        (b"\xff\xfek\x00,\x00u\x00\n", "the text is UTF-16; save as UTF-8 CSV"),
        // NUL and other non-printing characters inside a value.
        (b"key-1,user_1\nkey\x002,user_2\n", "line 2: external user key contains the non-printing character U+0000"),
        (b"key-1,user_1\nkey-2,user\x1b[31m_2\n", "line 2: username contains the non-printing character U+001B"),
        (
            "key-1,user_1\nkey\u{202e}2-yek,user_2\n".as_bytes(),
            "line 2: external user key contains the non-printing character U+202E",
        ),
        (b"key-1,user_1\n\x00\n", "line 2: {F}"),
        // CR-only and mixed line ends count lines.
        (b"key-1,user_1\r\rkey-2\r", "line 3: {F}"),
        (b"key-1,user_1\n\r\n\rkey-2,\n", "line 4: {F}"),
        // Quotes: unbalanced, stray, after a closing quote, around padding, across lines.
        (b"key-1,user_1\n\"key-2,user_2\nkey-3,user_3\n", "line 2: unbalanced quotes"),
        (b"key-1,user_1\nkey\"2,user_2\n", "line 2: unbalanced quotes"),
        (b"key-1,user_1\n\"key\"-2,user_2\n", "line 2: unbalanced quotes"),
        (b"key-1,user_1\n \"key-2\",user_2\n", "line 2: unbalanced quotes"),
        (b"key-1,user_1,\"notes\nkey-2,user_2,\"x\n", "line 1: unbalanced quotes"),
        // Empty fields.
        (b"key-1,user_1\n,user_2\n", "line 2: {F}"),
        (b"key-1,user_1\n\"\",user_2\n", "line 2: {F}"),
        (b"key-1,user_1\nkey-2, \t \n", "line 2: {F}"),
    ];
    for (contents, tail) in cases {
        file_refused(&db, contents, tail);
    }
    // Standard input is read by the same rules.
    refused(
        &db,
        &["--file".as_ref(), "-".as_ref()],
        Some(b"key-1,user_1\nkey-2\x00,user_2\n".to_vec()),
        "standard input: line 2: external user key contains the non-printing character U+0000",
    );
    assert_eq!(db.written(), 0);
}

#[test]
fn hostile_arguments_are_refused_naming_them_shown_printably() {
    let db = pairs_db();
    refused(
        &db,
        &["key-1:user_1".as_ref(), "key\n2:user_2".as_ref()],
        None,
        "argument 'key\\u{a}2:user_2': external user key contains the non-printing character U+000A",
    );
    refused(
        &db,
        &["key-1:user_\u{1b}[2J1".as_ref()],
        None,
        "argument 'key-1:user_\\u{1b}[2J1': username contains the non-printing character U+001B",
    );
    refused(
        &db,
        &["key\u{1b}:".as_ref()],
        None,
        "incorrectly formatted argument 'key\\u{1b}:', must be in form <external user key>:<lms username>",
    );
    // An argument is checked before the file is read: the first bad input is named.
    let file = file_arg(&db, b"key-2,\n");
    refused(
        &db,
        &[format!("{}:user_1", "k".repeat(256)).as_ref(), "--file".as_ref(), file.as_os_str()],
        None,
        &format!("argument '{}:user_1': external user key is longer than 255 characters", "k".repeat(256)),
    );
}

#[cfg(unix)]
#[test]
fn an_argument_that_is_not_utf8_is_a_usage_error() {
    use std::os::unix::ffi::OsStrExt;
    let db = pairs_db();
    let before = db.bytes();
    let assert = db.link(&[]).arg(std::ffi::OsStr::from_bytes(b"key-1:user_\xff")).assert().code(2);
    assert!(stderr(&assert).contains("invalid UTF-8"), "{}", stderr(&assert));
    assert!(db.bytes() == before);
}

#[test]
fn a_10_mb_line_is_refused_as_too_long_at_its_line() {
    let db = pairs_db();
    let started = Instant::now();
    let mut contents = b"key-1,user_1\nkey-2,user_2\n".to_vec();
    contents.extend(std::iter::repeat_n(b'k', 10 * 1024 * 1024));
    contents.extend_from_slice(b",user_3\n");
    file_refused(&db, &contents, "line 3: external user key is longer than 255 characters");
    eprintln!("10 MB line refused in {:?}", started.elapsed());
}

#[test]
fn a_million_line_file_is_read_to_its_last_line_and_refused_there() {
    let db = pairs_db();
    let mut contents = String::with_capacity(24_000_000);
    for i in 1..1_000_000 {
        contents.push_str(&format!("key-{i},user_{}\n", i % 2 + 1));
    }
    contents.push_str("key-last;user_1\n");
    let started = Instant::now();
    file_refused(&db, contents.as_bytes(), "line 1000000: {F}");
    let elapsed = started.elapsed();
    eprintln!("1,000,000 lines read and refused in {elapsed:?}");
    assert!(elapsed.as_secs() < 60, "{elapsed:?}");
}

/// Every program enrollment of [`PROGRAM`]: key and user id (or `NULL`), in id order.
fn enrollments(db: &Db) -> Vec<(String, String)> {
    db.rows(&format!(
        "SELECT external_user_key, user_id FROM program_enrollments_programenrollment WHERE program_uuid = '{}' \
         ORDER BY id",
        PROGRAM.replace('-', "")
    ))
    .into_iter()
    .map(|row| (row[0].clone(), row[1].clone()))
    .collect()
}

/// Adds a user named `username` (bound, whatever its characters); returns its id as text.
fn user(db: &Db, username: &str) -> String {
    db.exec(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
         is_active, date_joined) VALUES ('!', 0, ?, '', '', ?, 0, 1, '2024-01-01 00:00:00.000000')",
        vec![username.into(), format!("{}@example.com", db.count("SELECT COUNT(*) FROM auth_user")).into()],
    );
    db.count("SELECT MAX(id) FROM auth_user").to_string()
}

#[test]
fn keys_full_of_metacharacters_link_exactly_the_enrollments_they_name() {
    let db = Db::new();
    let stored = [
        "a%",
        "a_b",
        "aXb",
        "a\\b",
        "a\\\\b",
        "a'b;--",
        "a\"b",
        "ab",
        "a",
        "abc",
        "%",
        "_",
        "a;b",
        "a b",
        "x' OR '1'='1",
    ];
    for key in stored {
        db.waiting(key);
    }
    // Usernames with LIKE metacharacters, next to names a pattern would also match.
    let u_percent = user(&db, "u%");
    let u_under = user(&db, "u_1");
    user(&db, "uX1");
    let u_back = user(&db, "u\\1");
    let u_quote = user(&db, "o'brien");
    let u_x = user(&db, "x");
    // Links some keys, by argument and by file; asks for patterns that exist only as patterns.
    let file = db.file(
        "pairs.csv",
        "external_user_key,lms_username\n\"a_b\",u_1\na\\b,u\\1\n\"a'b;--\",o'brien\n\"x' OR '1'='1\",x\n\"a_\",u_1\n",
    );
    let assert = db
        .link(&["a%:u%", "a%b:u%", "*:u%", "a.b:u%", "--file", file.to_str().unwrap(), "--format", "json"])
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(json["linked"], serde_json::json!(["a%", "a_b", "a\\b", "a'b;--", "x' OR '1'='1"]));
    let errors = json["errors"].as_object().unwrap();
    let mut missing: Vec<&str> = errors.keys().map(String::as_str).collect();
    missing.sort_unstable();
    assert_eq!(missing, ["*", "a%b", "a.b", "a_"], "{errors:?}");
    for key in missing {
        assert_eq!(
            errors[key],
            format!("No program enrollment found for program uuid={PROGRAM} and external student key={key}")
        );
    }
    let expected: Vec<(String, String)> = stored
        .iter()
        .map(|&key| {
            let user = match key {
                "a%" => u_percent.clone(),
                "a_b" => u_under.clone(),
                "a\\b" => u_back.clone(),
                "a'b;--" => u_quote.clone(),
                "x' OR '1'='1" => u_x.clone(),
                _ => "NULL".to_owned(),
            };
            (key.to_owned(), user)
        })
        .collect();
    assert_eq!(enrollments(&db), expected);
    assert_eq!(db.count("SELECT COUNT(*) FROM auth_user"), 6, "no user was added or removed");
}

#[test]
fn keys_and_usernames_differing_by_case_or_trailing_space_do_not_match() {
    let db = Db::new();
    db.waiting("Key-1");
    db.waiting("key-2 ");
    db.waiting("key-3");
    db.user("Alice");
    db.user("bob");
    let assert = db.link(&["key-1:bob", "key-2:bob", "key-3:alice", "--format", "json"]).assert().code(1);
    let json: serde_json::Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(json["linked"], serde_json::json!([]));
    assert_eq!(
        json["errors"],
        serde_json::json!({
            "key-1": format!("No program enrollment found for program uuid={PROGRAM} and external student key=key-1"),
            "key-2": format!("No program enrollment found for program uuid={PROGRAM} and external student key=key-2"),
            "key-3": "No user found with username alice",
        })
    );
    assert_eq!(db.written(), 0);
    // The exact spellings link.
    db.link(&["Key-1:bob", "key-3:Alice"]).assert().success().stdout("linked 2 of 2\n");
    assert_eq!(
        enrollments(&db),
        [("Key-1".into(), "2".into()), ("key-2 ".into(), "NULL".into()), ("key-3".into(), "1".into())]
    );
}
