//! `link --relink` and `link --case-insensitive-keys` on real SQLite files
//! (`later-upstream.md`); course access role fulfilment needs no flag.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{Db, PROGRAM, stderr, stdout};

#[test]
fn relink_moves_a_key_to_another_user_only_with_the_flag() {
    let db = Db::new();
    let user_1 = db.user("user_1");
    let user_2 = db.user("user_2");
    db.pe("key-1", PROGRAM, Some(user_1), &[]);

    let assert = db.link(&["key-1:user_2"]).assert().code(1);
    assert!(stdout(&assert).contains("is already linked to a different account username=user_1"));
    assert_eq!(db.linked_user("key-1"), user_1.to_string());

    let assert = db.link(&["key-1:user_2", "--relink"]).assert().success();
    assert_eq!(stdout(&assert), "linked 1 of 1\n");
    assert!(stderr(&assert).contains("Unlinking user with username=user_1 from program enrollment"));
    assert_eq!(db.linked_user("key-1"), user_2.to_string());
}

#[test]
fn case_insensitive_keys_match_up_to_case_and_refuse_duplicates() {
    let db = Db::new();
    db.user("user_1");
    db.user("user_2");
    db.pe("student-43", PROGRAM, None, &[]);

    let before = db.bytes();
    let assert = db.link(&["STUDEnt-43:user_1", "Student-43:user_2", "--case-insensitive-keys"]).assert().code(2);
    assert!(stderr(&assert).contains(
        "argument 'Student-43:user_2': external user key Student-43 provided multiple times (case-insensitively)"
    ));
    assert!(db.bytes() == before, "the database changed");

    db.link(&["STUDEnt-43:user_1"]).assert().code(1);
    let assert = db.link(&["STUDEnt-43:user_1", "--case-insensitive-keys"]).assert().success();
    assert_eq!(stdout(&assert), "linked 1 of 1\n");
    assert_eq!(db.linked_user("student-43"), "1");
}
