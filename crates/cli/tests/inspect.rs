//! `program-enrollments inspect` on the demo's database, as support staff run it: by account,
//! by institution and external key (without case), not found, bad arguments, JSON as the
//! inspector API's `learner_program_enrollments`, and a database without the SSO tables.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Db, bin, stderr, stdout};

/// A temporary directory holding the demo's database (linked: every learner but the waiting
/// three and the error cases).
fn demo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    bin().current_dir(dir.path()).args(["demo", "--quiet"]).assert().success();
    dir
}

fn inspect(dir: &tempfile::TempDir, args: &[&str]) -> assert_cmd::assert::Assert {
    bin().current_dir(dir.path()).args(["--database-url", "sqlite://demo.sqlite3", "inspect"]).args(args).assert()
}

#[test]
fn by_account_and_by_institution_key_the_learner_and_every_enrollment_are_shown() {
    let dir = demo();
    let expected = "account: learner_001 <learner_001@example.com>\n\
                    sso: univ:univ-00001\n";
    for args in [
        &["--user", "learner_001"][..],
        &["--user", "learner_001@example.com"],
        &["--org", "univ", "--key", "UNIV-00001"],
    ] {
        let out = stdout(&inspect(&dir, args).success());
        assert!(out.starts_with(expected), "{args:?}: {out}");
        assert!(
            out.contains("program 9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10 (enrolled), external key univ-00001, created "),
            "{out}"
        );
        assert!(out.contains("  course-v1:edX+Oranges+Apples (active): masters, active\n"), "{out}");
        assert!(out.contains("  course-v1:edX+Cats+Dogs (active): masters, active\n"), "{out}");
    }
    // A learner with no SSO record, and a waiting key that no account holds.
    let out = stdout(&inspect(&dir, &["--user", "late_learner_1"]).success());
    assert_eq!(out, "account: late_learner_1 <late_learner_1@example.com>\nsso: none\nprogram enrollments: none\n");
    let out = stdout(&inspect(&dir, &["--org", "univ", "--key", "univ-late-1"]).success());
    assert!(out.starts_with("account: none holds the external key univ-late-1\nprogram "), "{out}");
    assert!(out.contains("(active): no course enrollment yet\n"), "{out}");
}

#[test]
fn not_found_is_exit_1_with_the_inspectors_message_and_bad_arguments_exit_2() {
    let dir = demo();
    let assert = inspect(&dir, &["--user", "wrongAccount"]).code(1);
    assert_eq!(stderr(&assert), "Could not find edx account with wrongAccount\n");
    assert_eq!(stdout(&assert), "");
    let assert = inspect(&dir, &["--org", "univ", "--key", "nobody"]).code(1);
    assert_eq!(stderr(&assert), "No user found for external key nobody for institution univ\n");
    inspect(&dir, &["--org", "univ"]).code(2);
    inspect(&dir, &["--user", "a", "--key", "b"]).code(2);
    inspect(&dir, &[]).code(2);
}

#[test]
fn json_is_the_apis_learner_program_enrollments() {
    let dir = demo();
    let out = stdout(&inspect(&dir, &["--user", "learner_002", "--format", "json"]).success());
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["error"], "");
    let found = &value["learner_program_enrollments"];
    assert_eq!(
        found["user"],
        serde_json::json!({"username": "learner_002", "email": "learner_002@example.com", "sso_list": [{"uid": "univ:univ-00002"}]})
    );
    let pe = &found["enrollments"][0];
    assert_eq!(pe["program_uuid"], "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10");
    assert_eq!(pe["status"], "enrolled");
    assert_eq!(pe["program_name"], "");
    let created = pe["created"].as_str().unwrap();
    assert_eq!(created.len(), "2026-12-01T19:32:10".len(), "{created}");
    assert_eq!(&created[10..11], "T");
    let pce = &pe["program_course_enrollments"][0];
    assert_eq!(pce["course_key"], "course-v1:edX+Oranges+Apples");
    assert_eq!(pce["course_url"], "/courses/course-v1:edX+Oranges+Apples/course/");
    assert_eq!(
        pce["course_enrollment"],
        serde_json::json!({"course_id": "course-v1:edX+Oranges+Apples", "is_active": true, "mode": "masters"})
    );
    let out = stdout(&inspect(&dir, &["--user", "nobody", "--format", "json"]).code(1));
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"error": "Could not find edx account with nobody", "learner_program_enrollments": {}})
    );
}

#[test]
fn a_database_without_the_sso_tables_names_the_missing_table_exit_3() {
    let db = Db::new();
    db.user("someone");
    db.exec("DROP TABLE support_historicalusersocialauth", vec![]);
    db.exec("DROP TABLE social_auth_usersocialauth", vec![]);
    let assert = db.cmd().args(["inspect", "--user", "someone"]).assert().code(3);
    assert_eq!(stderr(&assert), "error: cannot inspect: this database has no table social_auth_usersocialauth\n");
    // What needs no SSO table still answers.
    db.cmd().args(["inspect", "--user", "nobody"]).assert().code(1);
}
