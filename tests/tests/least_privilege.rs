//! Least privilege: a link on PostgreSQL and MariaDB as a user holding exactly
//! `adapters_seaorm::LINK_GRANTS` (the README's grants), on a schema from our migrations and on
//! one Django created. The grants are enough (the link succeeds and writes every row), each one
//! is needed (revoked in turn, the link fails), and they are tight (the user can neither delete
//! from, alter nor create a table, update a read-only table or read a history table).
//! The inspector likewise, as a user holding exactly `adapters_seaorm::INSPECT_GRANTS`: it
//! inspects (by account, by institution and key, SSO records, SAML providers), each grant is
//! needed, and it cannot write nor connect for the linking.
//! The same through the binary: `crates/cli/tests/least_privilege.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acceptance::restricted::{
    PAIRS, RULES, RestrictedUser, assert_linked, every_grant, fixture, inspector_fixture, is_denied,
};
use acceptance::{SeaTestDatabase, Target, TestDatabase, batch};
use adapters_seaorm::{INSPECT_GRANTS, Privilege, Purpose, SeaOrmDatabase};
use domain::{InspectedLearner, InspectorQuery};

/// A dry run (writes made, then rolled back) as the user: `Err` with the reason if it failed.
async fn dry_run(user: &RestrictedUser, program: domain::ProgramUuid) -> Result<(), String> {
    let db = SeaOrmDatabase::connect(&user.url).await.map_err(|e| e.to_string())?;
    let options = app::LinkOptions { dry_run: true, rules: RULES, ..app::LinkOptions::default() };
    let result = app::link_program_enrollments_with(&db, program, &batch(PAIRS), &options).await;
    db.connection().close_by_ref().await.ok();
    result.map(|_| ()).map_err(|e| e.to_string())
}

async fn link_with_exactly_the_grants(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    let f = fixture(&db).await;
    let user = RestrictedUser::create(&db).await;

    // Each grant is needed: without it, the link fails (at connection when the user is left
    // with no privilege on a table, at the statement that needs it otherwise).
    for (table, privilege) in every_grant() {
        user.revoke(&db, privilege, table).await;
        let result = dry_run(&user, f.program).await;
        user.grant(&db, privilege, table).await;
        let error = result.err().unwrap_or_else(|| {
            panic!("{target:?}: the link succeeded without {} on {table}: the grant is not needed", privilege.as_sql())
        });
        assert!(
            error.contains(table)
                && ["permission denied", "command denied", "holds no privilege"].iter().any(|m| error.contains(m)),
            "{target:?}: without {} on {table}: {error}",
            privilege.as_sql()
        );
    }
    assert_eq!(dry_run(&user, f.program).await, Ok(()), "{target:?}: the dry run with every grant");

    // The grants are enough: a real link as the user.
    let restricted = SeaOrmDatabase::connect(&user.url).await.unwrap_or_else(|e| panic!("{target:?}: {e}"));
    let options = app::LinkOptions { rules: RULES, ..app::LinkOptions::default() };
    let errors = app::link_program_enrollments_with(&restricted, f.program, &batch(PAIRS), &options).await.unwrap();
    restricted.connection().close_by_ref().await.ok();
    let messages = errors.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].0, "0003");
    assert_linked(&db.tables().await, &f);

    // The grants are tight.
    for sql in [
        "DELETE FROM program_enrollments_programenrollment WHERE 1 = 0",
        "DELETE FROM student_courseenrollment WHERE 1 = 0",
        "DELETE FROM student_courseaccessrole WHERE 1 = 0",
        "UPDATE program_enrollments_courseaccessroleassignment SET role = role WHERE 1 = 0",
        "ALTER TABLE student_courseenrollment ADD COLUMN lp_extra integer NULL",
        "CREATE TABLE lp_extra (id integer)",
        "UPDATE auth_user SET email = email WHERE 1 = 0",
        "INSERT INTO course_overviews_courseoverview (id) SELECT id FROM course_overviews_courseoverview WHERE 1 = 0",
        "SELECT history_id FROM program_enrollments_historicalprogramenrollment",
        "UPDATE student_courseenrollment_history SET mode = mode WHERE 1 = 0",
        "DROP TABLE student_courseenrollmentallowed",
    ] {
        match user.try_execute(sql).await {
            Ok(()) => panic!("{target:?}: the restricted user may run {sql}"),
            Err(e) => assert!(is_denied(&e), "{target:?}: {sql}: {e}"),
        }
    }
    assert_eq!(db.tables().await.program_enrollments.len(), 4);

    user.drop(&db).await;
    db.finish().await;
}

#[tokio::test]
async fn postgres() {
    link_with_exactly_the_grants(Target::Postgres).await;
}

#[tokio::test]
async fn mysql() {
    link_with_exactly_the_grants(Target::MySql).await;
}

#[tokio::test]
async fn django_postgres() {
    link_with_exactly_the_grants(Target::DjangoPostgres).await;
}

#[tokio::test]
async fn django_mysql() {
    link_with_exactly_the_grants(Target::DjangoMySql).await;
}

async fn inspect_with_exactly_the_inspector_grants(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    inspector_fixture(&db).await;
    let user = RestrictedUser::create_inspector(&db).await;

    // Not enough for the linking: a link connection names the tables it may not use.
    let error = SeaOrmDatabase::connect(&user.url).await.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("holds no privilege"), "{target:?}: a link connection: {error:?}");

    // Enough for the inspector.
    let restricted =
        SeaOrmDatabase::connect_for(&user.url, Purpose::Inspect).await.unwrap_or_else(|e| panic!("{target:?}: {e}"));
    for query in [InspectorQuery::new("user_1", "", ""), InspectorQuery::new("", "testX", "KEY-1")] {
        let found = app::inspect_learner(&restricted, &query).await.unwrap().unwrap();
        assert!(
            matches!(&found.learner, InspectedLearner::Account { username, sso_uids, .. }
                if username == "user_1" && sso_uids == &["test:Key-1".to_string()]),
            "{target:?} {query:?}: {found:?}"
        );
        let pces = &found.enrollments[0].program_course_enrollments;
        assert_eq!(pces[0].course_enrollment.as_ref().map(|c| c.mode.as_str()), Some("masters"), "{target:?}");
    }
    assert_eq!(app::saml_provider_orgs(&restricted).await.unwrap(), ["testX"]);
    let records = app::sso_records_of(&restricted, "user_1@example.com").await.unwrap().unwrap();
    assert_eq!((records.len(), records[0].history.len()), (1, 1), "{target:?}");
    restricted.connection().close_by_ref().await.ok();

    // Each grant is needed: without it, the connection names the table.
    for grant in INSPECT_GRANTS {
        user.revoke(&db, Privilege::Select, grant.table).await;
        let result = SeaOrmDatabase::connect_for(&user.url, Purpose::Inspect).await;
        user.grant(&db, Privilege::Select, grant.table).await;
        let error = match result {
            Ok(opened) => {
                opened.connection().close_by_ref().await.ok();
                panic!("{target:?}: connected without SELECT on {}", grant.table)
            }
            Err(e) => e.to_string(),
        };
        assert!(error.contains("holds no privilege") && error.contains(grant.table), "{target:?}: {error}");
    }

    // It reads only.
    for sql in [
        "UPDATE program_enrollments_programenrollment SET status = status WHERE 1 = 0",
        "UPDATE student_courseenrollment SET mode = mode WHERE 1 = 0",
        "INSERT INTO student_courseaccessrole (id) SELECT id FROM student_courseaccessrole WHERE 1 = 0",
        "DELETE FROM social_auth_usersocialauth WHERE 1 = 0",
        "UPDATE auth_user SET email = email WHERE 1 = 0",
        "SELECT history_id FROM program_enrollments_historicalprogramenrollment",
        "SELECT id FROM course_overviews_courseoverview",
        "CREATE TABLE lp_extra (id integer)",
    ] {
        match user.try_execute(sql).await {
            Ok(()) => panic!("{target:?}: the inspector's user may run {sql}"),
            Err(e) => assert!(is_denied(&e), "{target:?}: {sql}: {e}"),
        }
    }
    user.drop(&db).await;
    db.finish().await;
}

#[tokio::test]
async fn inspector_postgres() {
    inspect_with_exactly_the_inspector_grants(Target::Postgres).await;
}

#[tokio::test]
async fn inspector_mysql() {
    inspect_with_exactly_the_inspector_grants(Target::MySql).await;
}

#[tokio::test]
async fn inspector_django_postgres() {
    inspect_with_exactly_the_inspector_grants(Target::DjangoPostgres).await;
}

#[tokio::test]
async fn inspector_django_mysql() {
    inspect_with_exactly_the_inspector_grants(Target::DjangoMySql).await;
}
