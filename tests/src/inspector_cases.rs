//! The inspector's cases (`support-web.md` §2, upstream's inspector tests), on every backend:
//! reads through `ports::LearnerRecords`, decisions through `app::inspect_learner`.

use domain::{InspectedLearner, InspectorError, InspectorNote, InspectorQuery, LearnerProgramEnrollments, ProgramUuid};
use ports::{LearnerRecords, StoreError};

use crate::database::{LearnerTestDatabase, TestDatabase};
use crate::fixtures::{FRUIT, World};

async fn search(
    records: &dyn LearnerRecords,
    edx_user: &str,
    org: &str,
    key: &str,
) -> Result<LearnerProgramEnrollments, InspectorError> {
    app::inspect_learner(records, &InspectorQuery::new(edx_user, org, key)).await.unwrap()
}

/// A PCE as a case compares it: course key, status, and its CE's course, activity and mode.
type PceShown<'a> = (&'a str, &'a str, Option<(&'a str, bool, &'a str)>);

fn account_of(found: &LearnerProgramEnrollments) -> (&str, &[String]) {
    match &found.learner {
        InspectedLearner::Account { username, sso_uids, .. } => (username, sso_uids),
        other => panic!("expected an account, got {other:?}"),
    }
}

/// The SSO world: organisation `testX` with SAML provider `test`, `donut_org` with an older
/// disabled row, and `user_1` linked by SSO to the key `AbCdEf123` with a PE in program P (one
/// PCE holding a masters CE, one waiting) and a Google login.
struct Sso<'a> {
    world: World<'a>,
    learners: &'a dyn LearnerTestDatabase,
    records: std::sync::Arc<dyn LearnerRecords>,
}

async fn sso_world(db: &dyn TestDatabase) -> Option<Sso<'_>> {
    let learners = db.learners()?;
    let records = learners.records().await;
    let world = World::new(db).await;
    let test_x = learners.add_organization("testX").await;
    let donut = learners.add_organization("donut_org").await;
    learners.add_saml_provider("test", Some(test_x), true).await;
    learners.add_saml_provider("donut", Some(donut), true).await;
    learners.add_saml_provider("donut", Some(donut), false).await;
    learners.add_social_auth(world.user_1, "tpa-saml", "test:AbCdEf123").await;
    learners.add_social_auth(world.user_1, "google-oauth2", "user_1@gmail.com").await;
    let pe = db.add_program_enrollment(Some("AbCdEf123"), world.p, world.c, Some(world.user_1), "enrolled").await;
    let ce = db.add_course_enrollment(world.user_1, FRUIT, "masters", true).await;
    db.add_program_course_enrollment(pe, FRUIT, "active", Some(ce)).await;
    db.add_program_course_enrollment(pe, crate::fixtures::ANIMAL, "inactive", None).await;
    Some(Sso { world, learners, records })
}

/// I1 By username and by email: the account, all its SSO uids, its program enrollment with
/// both PCEs (one with its course enrollment, one without).
pub async fn i1_an_account_is_found_by_username_or_email_with_sso_and_enrollments(db: &dyn TestDatabase) {
    let Some(sso) = sso_world(db).await else { return };
    for edx_user in ["user_1", "user_1@example.com", "  user_1 "] {
        let found = search(&*sso.records, edx_user, "", "").await.unwrap();
        assert_eq!(account_of(&found), ("user_1", &["test:AbCdEf123".to_string(), "user_1@gmail.com".to_string()][..]));
        assert_eq!(found.enrollments.len(), 1, "{edx_user}");
        let pe = &found.enrollments[0];
        assert_eq!(
            (pe.external_user_key.as_deref(), pe.status.as_str(), pe.program_uuid),
            (Some("AbCdEf123"), "enrolled", sso.world.p)
        );
        let pces: Vec<PceShown> = pe
            .program_course_enrollments
            .iter()
            .map(|p| {
                (
                    p.course_key.as_str(),
                    p.status.as_str(),
                    p.course_enrollment.as_ref().map(|c| (c.course_id.as_str(), c.is_active, c.mode.as_str())),
                )
            })
            .collect();
        assert_eq!(
            pces,
            [(FRUIT, "active", Some((FRUIT, true, "masters"))), (crate::fixtures::ANIMAL, "inactive", None)]
        );
    }
    // An organisation with a provider narrows the SSO records to its backend: SAML only.
    let found = search(&*sso.records, "user_1", "testX", "").await.unwrap();
    assert_eq!(account_of(&found).1, ["test:AbCdEf123".to_string()]);
}

/// I2 An account without SSO records and enrollments; a user whose key waits unlinked gets no
/// enrollments (they are looked up by user); an unknown account gets upstream's message.
pub async fn i2_an_account_without_sso_or_enrollments_and_an_unknown_account(db: &dyn TestDatabase) {
    let Some(sso) = sso_world(db).await else { return };
    db.add_program_enrollment(Some("user-2-key"), sso.world.p, sso.world.c, None, "enrolled").await;
    let found = search(&*sso.records, "user_2", "", "").await.unwrap();
    assert_eq!(account_of(&found), ("user_2", &[][..]));
    assert!(found.enrollments.is_empty());
    assert_eq!(
        search(&*sso.records, "wrongAccount", "", "").await.unwrap_err().to_string(),
        "Could not find edx account with wrongAccount"
    );
    assert_eq!(search(&*sso.records, "", "", "").await, Err(InspectorError::NoSearch));
    assert_eq!(search(&*sso.records, "", "testX", "").await, Err(InspectorError::NoSearch));
}

/// I3 By institution and key: well connected (found without case), not connected (the key and
/// its enrollments, in any program), not in the system (upstream's message).
pub async fn i3_an_external_key_is_found_connected_unconnected_or_not_at_all(db: &dyn TestDatabase) {
    let Some(sso) = sso_world(db).await else { return };
    for key in ["AbCdEf123", "aBcDeF123"] {
        let found = search(&*sso.records, "", "testX", key).await.unwrap();
        assert_eq!(account_of(&found).0, "user_1", "{key}");
        assert_eq!(found.enrollments.len(), 1, "{key}");
        assert!(found.notes.is_empty());
    }
    let other_program = ProgramUuid::from_uuid(uuid::Uuid::new_v4());
    db.add_program_enrollment(Some("abcaaa"), sso.world.p, sso.world.c, None, "pending").await;
    db.add_program_enrollment(Some("ABCAAA"), other_program, sso.world.c, None, "enrolled").await;
    let found = search(&*sso.records, "", "testX", "abcaaa").await.unwrap();
    assert_eq!(found.learner, InspectedLearner::ExternalKeyOnly { external_user_key: "abcaaa".into() });
    assert_eq!(found.enrollments.len(), 2);
    assert_eq!(
        search(&*sso.records, "", "testX", "nobody").await.unwrap_err().to_string(),
        "No user found for external key nobody for institution testX"
    );
    // An organisation without a current enabled provider finds no user, but still the key's enrollments.
    let found = search(&*sso.records, "", "donut_org", "abcaaa").await.unwrap();
    assert!(matches!(found.learner, InspectedLearner::ExternalKeyOnly { .. }));
    assert_eq!(
        search(&*sso.records, "", "undefined", "AbCdEf123").await.map(|f| f.learner),
        Ok(InspectedLearner::ExternalKeyOnly { external_user_key: "AbCdEf123".into() })
    );
}

/// I4 Where upstream fails with a server error: two accounts matching one value (one's
/// username is the other's email), and an SSO record whose slug differs in case.
pub async fn i4_where_upstream_crashes_the_inspector_reports(db: &dyn TestDatabase) {
    let Some(sso) = sso_world(db).await else { return };
    db.add_user("user_2@example.com", "third@example.com").await;
    assert_eq!(
        search(&*sso.records, "user_2@example.com", "", "").await.unwrap_err().to_string(),
        "More than one edx account matches user_2@example.com (by username or email): user_2, user_2@example.com"
    );
    sso.learners.add_social_auth(sso.world.user_2, "tpa-saml", "TEST:key-2").await;
    let found = search(&*sso.records, "", "testX", "key-2").await.unwrap();
    assert_eq!(account_of(&found).0, "user_2");
    assert!(matches!(&found.notes[..], [InspectorNote::UnfittingSsoRecord { uid, .. }] if uid == "TEST:key-2"));
}

/// I5 The SAML provider organisations (current rows, enabled, with an organisation) and the
/// SSO records with their history, newest first.
pub async fn i5_saml_providers_and_sso_records_with_history(db: &dyn TestDatabase) {
    let Some(sso) = sso_world(db).await else { return };
    assert_eq!(app::saml_provider_orgs(&*sso.records).await.unwrap(), ["testX"]);
    let records = app::sso_records_of(&*sso.records, "user_1").await.unwrap().unwrap();
    let uids: Vec<&str> = records.iter().map(|r| r.record.uid.as_str()).collect();
    assert_eq!(uids, ["test:AbCdEf123", "user_1@gmail.com"]);
    sso.learners.change_social_auth_uid(records[0].record.id, "test:renamed").await;
    let records = app::sso_records_of(&*sso.records, "user_1@example.com").await.unwrap().unwrap();
    let history: Vec<&str> = records[0].history.iter().map(|h| h.uid.as_str()).collect();
    assert_eq!(history, ["test:renamed", "test:AbCdEf123"]);
    assert_eq!(records[0].record.extra_data, "{}");
    assert!(app::sso_records_of(&*sso.records, "nobody").await.unwrap().unwrap().is_empty());
}

/// I6 A database without the SSO tables: the searches that need them are refused naming the
/// table; the rest still works.
pub async fn i6_missing_tables_are_named(db: &dyn TestDatabase) {
    let Some(learners) = db.learners() else { return };
    let world = World::new(db).await;
    learners.drop_learner_tables().await;
    let records = learners.records().await;
    let err = app::inspect_learner(&*records, &InspectorQuery::new("user_1", "", "")).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingTable { table: "social_auth_usersocialauth" }), "{err}");
    let err = app::saml_provider_orgs(&*records).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingTable { .. }), "{err}");
    assert_eq!(
        app::inspect_learner(&*records, &InspectorQuery::new("nobody", "", "")).await.unwrap().unwrap_err().to_string(),
        "Could not find edx account with nobody"
    );
    let _ = world;
}
