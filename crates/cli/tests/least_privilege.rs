//! Least privilege through the binary: `program-enrollments link` on PostgreSQL and MariaDB as
//! a user holding exactly the README's grants (`adapters_seaorm::LINK_GRANTS`) links the
//! fixture and writes every row; a user missing a grant is told which table it lacks, and
//! nothing is written. The user's password never appears on standard output or standard error,
//! not even with every log on (`RUST_LOG=trace`), in the URL's user information or (PostgreSQL)
//! its `password` query parameter. `inspect` as a user holding exactly the README's inspector
//! grants (`adapters_seaorm::INSPECT_GRANTS`) finds the learner, by account and by institution
//! and key; such a user cannot `link`. The grants themselves (each needed, none too
//! wide) are checked through the library by `tests/tests/least_privilege.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acceptance::restricted::{RestrictedUser, assert_linked, fixture, inspector_fixture};
use acceptance::{SeaTestDatabase, Target, TestDatabase};
use adapters_seaorm::Privilege;
use assert_cmd::Command;

fn link(url: &str, program: &str) -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("program-enrollments");
    cmd.env_remove("DATABASE_URL").env("RUST_LOG", "trace").args([
        "--database-url",
        url,
        "link",
        program,
        "0001:user_1",
        "0002:user_2",
        "0003:nobody",
        "0004:user_4",
        "--relink",
    ]);
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_no_password(user: &RestrictedUser, output: &std::process::Output) {
    for (name, stream) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
        let stream = text(stream);
        assert!(!stream.contains(&user.password), "the password shows on {name}:\n{stream}");
    }
}

async fn link_as_a_restricted_user(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    let f = fixture(&db).await;
    let user = RestrictedUser::create(&db).await;
    let program = f.program.to_string();
    let before = db.tables().await;

    // Without a grant: refused at connection, naming the table; nothing written.
    let history = "student_courseenrollment_history";
    user.revoke(&db, Privilege::Insert, history).await;
    let output = link(&user.url, &program).output().unwrap();
    user.grant(&db, Privilege::Insert, history).await;
    assert_no_password(&user, &output);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(&format!("holds no privilege on the table(s) {history}")), "{stderr}");
    assert!(stderr.contains(&format!("{}:***@", user.name)), "{stderr}");

    // Without a privilege a statement needs: the transaction fails and is rolled back.
    let invitations = "student_courseenrollmentallowed";
    user.revoke(&db, Privilege::Update, invitations).await;
    let output = link(&user.url, &program).output().unwrap();
    user.grant(&db, Privilege::Update, invitations).await;
    assert_no_password(&user, &output);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains(invitations), "{stderr}");
    assert_eq!(db.tables().await, before, "a failed run wrote");

    // With exactly the grants: linked, one key reported.
    let output = link(&user.url, &program).output().unwrap();
    assert_no_password(&user, &output);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{}", text(&output.stderr));
    assert!(stdout.contains("0003: No user found with username nobody"), "{stdout}");
    assert!(stdout.contains("linked 3 of 4"), "{stdout}");
    assert_linked(&db.tables().await, &f);

    // PostgreSQL also reads the password from the query (`?password=`): hidden there too, on a
    // connection that succeeds (every key is now already linked: exit 1).
    if db.backend() == adapters_seaorm::Backend::Postgres {
        let in_query = user.url.replacen(&format!(":{}@", user.password), "@", 1);
        let separator = if in_query.contains('?') { '&' } else { '?' };
        let output = link(&format!("{in_query}{separator}password={}", user.password), &program).output().unwrap();
        assert_no_password(&user, &output);
        assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("linked 0 of 4"), "{}", text(&output.stdout));
    }

    user.drop(&db).await;
    db.finish().await;
}

#[tokio::test]
async fn postgres() {
    link_as_a_restricted_user(Target::Postgres).await;
}

#[tokio::test]
async fn mysql() {
    link_as_a_restricted_user(Target::MySql).await;
}

async fn inspect_as_the_inspectors_user(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    let program = inspector_fixture(&db).await;
    let user = RestrictedUser::create_inspector(&db).await;
    let inspect = |args: &[&str]| {
        let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("program-enrollments");
        cmd.env_remove("DATABASE_URL")
            .env("RUST_LOG", "trace")
            .args(["--database-url", &user.url, "inspect"])
            .args(args);
        cmd.output().unwrap()
    };
    for args in [&["--user", "user_1"][..], &["--org", "testX", "--key", "KEY-1", "--format", "json"]] {
        let output = inspect(args);
        assert_no_password(&user, &output);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{target:?} {args:?}: {stdout}\n{}", text(&output.stderr));
        assert!(stdout.contains("user_1") && stdout.contains("test:Key-1"), "{stdout}");
        assert!(stdout.contains("masters"), "{stdout}");
    }
    let output = inspect(&["--user", "nobody"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    // Not the linking's grants: `link` is refused at connection, naming the tables.
    let output = link(&user.url, &program.to_string()).output().unwrap();
    assert_no_password(&user, &output);
    assert_eq!(output.status.code(), Some(3), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("holds no privilege on the table(s)"), "{}", text(&output.stderr));
    user.drop(&db).await;
    db.finish().await;
}

#[tokio::test]
async fn inspect_postgres() {
    inspect_as_the_inspectors_user(Target::Postgres).await;
}

#[tokio::test]
async fn inspect_mysql() {
    inspect_as_the_inspectors_user(Target::MySql).await;
}
