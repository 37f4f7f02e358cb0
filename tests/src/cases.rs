//! The acceptance cases (`acceptance.md`: A1–A9, M1–M6, O1–O9) and a few more the spec's
//! "facts worth pinning" imply (`x_…`). Each takes a fresh database.

use adapters_memory::HistoryType;
use domain::{ProgramUuid, UserId};

use crate::database::TestDatabase;
use crate::fixtures::{ANIMAL, FRUIT, World, assert_enrolled_in, ce, pces, pe, pes_of};

pub use crate::acting_cases::*;
pub use crate::inspector_cases::*;
pub use crate::later_cases::*;
pub use crate::ports_contract::*;
pub use crate::side_rows_cases::*;

fn info(text: impl std::fmt::Display) -> String {
    format!("INFO {text}")
}
fn warn(text: impl std::fmt::Display) -> String {
    format!("WARN {text}")
}
fn error(text: impl std::fmt::Display) -> String {
    format!("ERROR {text}")
}
fn linking(user: UserId, key: &str, program: ProgramUuid) -> String {
    info(format!("Linking user id={user} with external_user_key={key} for program uuid={program}"))
}
fn no_pe(program: ProgramUuid, key: &str) -> String {
    format!("No program enrollment found for program uuid={program} and external student key={key}")
}
const A9_MESSAGE: &str = "IntegrityError: UNIQUE constraint failed: program_enrollments_programenrollment.user_id, \
     program_enrollments_programenrollment.program_uuid, program_enrollments_programenrollment.curriculum_uuid";

/// A1 Only the given program is linked.
pub async fn a1_only_the_given_program_is_linked(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    let other = w.waiting_with("0001", w.p2, &[FRUIT, ANIMAL]).await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p)]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert_enrolled_in(&t, w.user_1, w.p, &[FRUIT, ANIMAL]);
    assert_eq!(pe(&t, "0001", w.p2).user_id, None);
    assert!(pces(&t, other).iter().all(|p| p.course_enrollment_id.is_none()));
}

/// A2 Inactive PCE.
pub async fn a2_an_inactive_pce_gives_an_inactive_masters_enrollment(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let pe_id = w.waiting("0001", w.p).await;
    db.add_program_course_enrollment(pe_id, FRUIT, "active", None).await;
    db.add_program_course_enrollment(pe_id, ANIMAL, "inactive", None).await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    let fruit = ce(&t, w.user_1, FRUIT).unwrap();
    assert!(fruit.is_active);
    assert_eq!(fruit.mode, "masters");
    let animal = ce(&t, w.user_1, ANIMAL).unwrap();
    assert!(!animal.is_active);
    assert_eq!(animal.mode, "masters");
    let by_course: Vec<_> = pces(&t, pe_id).iter().map(|p| (p.course_key.clone(), p.course_enrollment_id)).collect();
    assert_eq!(by_course, vec![(FRUIT.to_string(), Some(fruit.id)), (ANIMAL.to_string(), Some(animal.id))]);
}

/// A3 No program enrollment.
pub async fn a3_a_key_without_program_enrollment_is_reported(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("0001", w.p).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![("0002", no_pe(w.p, "0002").as_str())]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p), warn(no_pe(w.p, "0002"))]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert!(pes_of(&t, w.user_2, w.p).is_empty());
}

/// A4 Same key in another program only.
pub async fn a4_a_key_of_another_program_only_is_reported(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("0001", w.p).await;
    w.waiting("0002", w.p2).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![("0002", no_pe(w.p, "0002").as_str())]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p), warn(no_pe(w.p, "0002"))]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert!(pes_of(&t, w.user_2, w.p).is_empty());
    assert_eq!(pe(&t, "0002", w.p2).user_id, None);
}

/// A5 No user.
pub async fn a5_an_unknown_username_is_reported(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("0001", w.p).await;
    w.waiting("0002", w.p).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "nonexistant-user")]).await;

    assert_eq!(run.errors(), vec![("0002", "No user found with username nonexistant-user")]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p), warn("No user found with username nonexistant-user")]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert_eq!(pe(&t, "0002", w.p).user_id, None);
}

/// A6 Already linked to the target.
pub async fn a6_a_key_linked_to_the_target_is_reported(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("0001", w.p).await;
    w.linked("0002", w.p, w.user_2).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    let message =
        "Program enrollment with external_student_key=0002 is already linked to target account username=user_2";
    assert_eq!(run.errors(), vec![("0002", message)]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p), warn(message)]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert_eq!(pe(&t, "0002", w.p).user_id, Some(w.user_2));
    assert_eq!(t.program_enrollment_history.len(), 1, "only 0001 was written");
}

/// A7 Already linked to a different user.
pub async fn a7_a_key_linked_to_a_different_user_is_reported(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let user_3 = db.add_user("user_3", "user_3@example.com").await;
    w.waiting("0001", w.p).await;
    w.linked("0003", w.p, user_3).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0003", "user_2")]).await;

    let message =
        "Program enrollment with external_student_key=0003 is already linked to a different account username=user_3";
    assert_eq!(run.errors(), vec![("0003", message)]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p), warn(message)]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0003", w.p).user_id, Some(user_3));
    assert!(pes_of(&t, w.user_2, w.p).is_empty());
}

/// A8 Missing course rolls back one key only.
pub async fn a8_a_missing_course_rolls_back_one_key_only(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let zilch = "course-v1:edX+Zilch+Bupkis";
    let pe1 = w.waiting_with("0001", w.p, &[zilch, ANIMAL]).await;
    w.waiting_with("0002", w.p, &[FRUIT, ANIMAL]).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![("0001", "NonExistentCourseError")]);
    assert_eq!(
        run.log,
        vec![
            linking(w.user_1, "0001", w.p),
            error(format!("Cannot enroll user={} in non-existent course={zilch}", w.user_1)),
            error(format!(
                "CourseEnrollmentException while linking user id={} with external_user_key=0001 for program uuid={}: ",
                w.user_1, w.p
            )),
            error("Rolling back all operations for 0001:user_1"),
            linking(w.user_2, "0002", w.p),
        ]
    );
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, None);
    assert!(pces(&t, pe1).iter().all(|p| p.course_enrollment_id.is_none()));
    assert!(t.course_enrollments.values().all(|c| c.user_id != w.user_1));
    assert!(t.program_enrollment_history.iter().all(|h| h.row.id != pe1));
    assert!(t.program_course_enrollment_history.iter().all(|h| h.row.program_enrollment_id != pe1));
    assert!(t.course_enrollment_history.iter().all(|h| h.row.user_id != w.user_1));
    assert_enrolled_in(&t, w.user_2, w.p, &[FRUIT, ANIMAL]);
}

/// A9 Unique violation rolls back one key only.
pub async fn a9_a_unique_violation_rolls_back_one_key_only(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.linked("learner-0", w.p, w.user_1).await;
    w.waiting("0001", w.p).await;
    w.waiting("0002", w.p).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![("0001", A9_MESSAGE)]);
    assert_eq!(
        run.log,
        vec![
            linking(w.user_1, "0001", w.p),
            error(format!(
                "Integrity error while linking user id={} with external_user_key=0001 for program uuid={}",
                w.user_1, w.p
            )),
            error("Rolling back all operations for 0001:user_1"),
            linking(w.user_2, "0002", w.p),
        ]
    );
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, None);
    assert_eq!(pe(&t, "0002", w.p).user_id, Some(w.user_2));
    assert_eq!(t.program_enrollment_history.len(), 1);
}

/// The mode rules' fixture: user_1 has a CE for fruit; waiting PE 0001 with PCE fruit.
async fn mode_case<'a>(db: &'a dyn TestDatabase, mode: &str, active: bool, pce_status: &str) -> (World<'a>, i64) {
    let w = World::new(db).await;
    let existing = db.add_course_enrollment(w.user_1, FRUIT, mode, active).await;
    let pe_id = w.waiting("0001", w.p).await;
    db.add_program_course_enrollment(pe_id, FRUIT, pce_status, None).await;
    (w, existing.0)
}

async fn check_mode(
    db: &dyn TestDatabase,
    (mode, active, pce_status): (&str, bool, &str),
    (want_mode, want_active): (&str, bool),
    extra_log: Option<String>,
) {
    let (w, existing) = mode_case(db, mode, active, pce_status).await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let mut want_log = vec![linking(w.user_1, "0001", w.p)];
    want_log.extend(extra_log.map(|l| l.replace("{user}", &w.user_1.to_string())));
    assert_eq!(run.log, want_log);
    let t = db.tables().await;
    assert_eq!(t.course_enrollments.len(), 1, "no CE was created");
    let fruit = ce(&t, w.user_1, FRUIT).unwrap();
    assert_eq!(fruit.id.0, existing, "the same CE row");
    assert_eq!((fruit.mode.as_str(), fruit.is_active), (want_mode, want_active));
    let pce = pces(&t, pe(&t, "0001", w.p).id)[0];
    assert_eq!(pce.course_enrollment_id, Some(fruit.id), "the PCE points at the CE");
    let changed = (mode, active) != (want_mode, want_active);
    assert_eq!(t.course_enrollment_history.len(), usize::from(changed));
    if changed {
        assert_eq!(t.course_enrollment_history[0].history_type, HistoryType::Update);
        assert_eq!(&t.course_enrollment_history[0].row, fruit);
    }
}

fn converted(mode: &str) -> Option<String> {
    Some(info(format!(
        "Converted course enrollment for user id={{user}} and course key={FRUIT} from mode {mode} to Master's."
    )))
}

/// M1 active `audit` -> same CE row, now `masters`, active.
pub async fn m1_active_audit_becomes_masters(db: &dyn TestDatabase) {
    check_mode(db, ("audit", true, "active"), ("masters", true), converted("audit")).await;
}

/// M2 active `honor` -> likewise.
pub async fn m2_active_honor_becomes_masters(db: &dyn TestDatabase) {
    check_mode(db, ("honor", true, "active"), ("masters", true), converted("honor")).await;
}

/// M3 active `audit` with PCE `inactive` -> `masters`, inactive.
pub async fn m3_active_audit_with_inactive_pce_becomes_inactive_masters(db: &dyn TestDatabase) {
    check_mode(db, ("audit", true, "inactive"), ("masters", false), converted("audit")).await;
}

/// M4 active `verified` -> unchanged, ERROR log, no error entry, PCE points at it.
pub async fn m4_active_verified_is_left_with_an_error_log(db: &dyn TestDatabase) {
    let log = error(format!(
        "Cannot convert CourseEnrollment to Master's from mode verified. user id={{user}}, course_key={FRUIT}."
    ));
    check_mode(db, ("verified", true, "inactive"), ("verified", true), Some(log)).await;
}

/// M5 inactive `verified` -> reused, `masters`, active.
pub async fn m5_inactive_verified_is_reused_as_active_masters(db: &dyn TestDatabase) {
    check_mode(db, ("verified", false, "active"), ("masters", true), None).await;
}

/// M6 active `masters` -> unchanged.
pub async fn m6_active_masters_is_left_unchanged(db: &dyn TestDatabase) {
    check_mode(db, ("masters", true, "active"), ("masters", true), None).await;
}

/// Step 5 applies to a kept `masters` enrollment too: an inactive PCE deactivates it.
pub async fn x_an_existing_masters_enrollment_is_deactivated_for_an_inactive_pce(db: &dyn TestDatabase) {
    check_mode(db, ("masters", true, "inactive"), ("masters", false), None).await;
}

/// O1 Unknown username and unknown key -> only `No user found with username ...`.
pub async fn o1_an_unknown_username_masks_an_unknown_key(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let run = w.link(w.p, &[("nokey", "nobody")]).await;
    assert_eq!(run.errors(), vec![("nokey", "No user found with username nobody")]);
    assert_eq!(run.log, vec![warn("No user found with username nobody")]);
}

/// O2 Empty input -> `{}`, nothing written.
pub async fn o2_empty_input_writes_nothing(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let before = db.tables().await;
    let run = w.link(w.p, &[]).await;
    assert_eq!(run.errors(), vec![]);
    assert!(run.log.is_empty());
    assert_eq!(db.tables().await, before);
}

/// O3 PE without PCEs -> linked, no CE created.
pub async fn o3_a_program_enrollment_without_pces_links_without_enrollments(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("0001", w.p).await;
    let run = w.link(w.p, &[("0001", "user_1")]).await;
    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert!(t.course_enrollments.is_empty());
    assert!(t.course_enrollment_history.is_empty());
}

/// O4 Two keys, one username, same curriculum -> first linked, second gets the A9 message.
pub async fn o4_one_username_twice_in_one_curriculum_links_the_first_only(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let second = w.waiting_with("0002", w.p, &[ANIMAL]).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_1")]).await;

    assert_eq!(run.errors(), vec![("0002", A9_MESSAGE)]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert_eq!(pe(&t, "0002", w.p).user_id, None);
    assert!(pces(&t, second).iter().all(|p| p.course_enrollment_id.is_none()));
    assert!(ce(&t, w.user_1, ANIMAL).is_none());
}

/// O5 Same, different curricula -> both linked.
pub async fn o5_one_username_twice_in_two_curricula_links_both(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let c2 = domain::CurriculumUuid::from_uuid(uuid::Uuid::new_v4());
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let second = db.add_program_enrollment(Some("0002"), w.p, c2, None, "enrolled").await;
    db.add_program_course_enrollment(second, ANIMAL, "active", None).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert_eq!(pe(&t, "0002", w.p).user_id, Some(w.user_1));
    assert!(ce(&t, w.user_1, FRUIT).is_some() && ce(&t, w.user_1, ANIMAL).is_some());
}

/// Two PEs of one user (different curricula) waiting on the same course: the second key finds
/// the CE the first created (active `masters`) and points its PCE at it.
pub async fn x_a_second_key_of_the_user_reuses_the_enrollment_the_first_created(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let c2 = domain::CurriculumUuid::from_uuid(uuid::Uuid::new_v4());
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let second = db.add_program_enrollment(Some("0002"), w.p, c2, None, "enrolled").await;
    db.add_program_course_enrollment(second, FRUIT, "inactive", None).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(t.course_enrollments.len(), 1);
    let fruit = ce(&t, w.user_1, FRUIT).unwrap();
    assert_eq!((fruit.mode.as_str(), fruit.is_active), ("masters", false), "the second PCE is inactive");
    assert!(t.program_course_enrollments.values().all(|p| p.course_enrollment_id == Some(fruit.id)));
    let kinds: Vec<_> = t.course_enrollment_history.iter().map(|h| (h.history_type, h.row.is_active)).collect();
    assert_eq!(kinds, vec![(HistoryType::Insert, true), (HistoryType::Update, false)]);
}

/// O6 The same batch twice -> second run: already linked to target for every key, no write.
pub async fn o6_the_same_batch_twice_changes_nothing_the_second_time(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    w.waiting_with("0002", w.p, &[FRUIT]).await;
    let pairs = [("0001", "user_1"), ("0002", "user_2")];
    assert_eq!(w.link(w.p, &pairs).await.errors(), vec![]);
    let after_first = db.tables().await;

    let run = w.link(w.p, &pairs).await;

    let target = |key: &str, user: &str| {
        format!(
            "Program enrollment with external_student_key={key} is already linked to target account username={user}"
        )
    };
    assert_eq!(run.errors, vec![("0001".into(), target("0001", "user_1")), ("0002".into(), target("0002", "user_2"))]);
    assert_eq!(db.tables().await, after_first);
}

/// O7 History: after A1, one `~` for the PE, one `~` per PCE, one `+` per new CE; after A8,
/// none for `0001`.
pub async fn o7_history_rows_follow_the_writes(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let pe_id = w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    w.waiting_with("0001", w.p2, &[FRUIT, ANIMAL]).await;
    let failing = w.waiting_with("0002", w.p, &["course-v1:edX+Zilch+Bupkis", ANIMAL]).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![("0002", "NonExistentCourseError")]);
    let t = db.tables().await;
    let live_pe = pe(&t, "0001", w.p);
    assert_eq!(t.program_enrollment_history.len(), 1);
    let h = &t.program_enrollment_history[0];
    assert_eq!((h.history_type, &h.row), (HistoryType::Update, live_pe));
    assert_eq!(h.history_user_id, None);
    let live_pces = pces(&t, pe_id);
    assert_eq!(t.program_course_enrollment_history.len(), 2);
    for (h, live) in t.program_course_enrollment_history.iter().zip(&live_pces) {
        assert_eq!((h.history_type, &h.row), (HistoryType::Update, *live));
    }
    assert_eq!(t.course_enrollment_history.len(), 2);
    for h in &t.course_enrollment_history {
        assert_eq!(h.history_type, HistoryType::Insert);
        assert_eq!(&h.row, &t.course_enrollments[&h.row.id], "a copy of the live row");
    }
    assert!(t.program_enrollment_history.iter().all(|h| h.row.id != failing));
    assert!(t.course_enrollment_history.iter().all(|h| h.row.user_id != w.user_2));
}

/// O8 Error map order follows input order, not key order.
pub async fn o8_errors_follow_input_order(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("b", w.p).await;
    let run = w.link(w.p, &[("c", "user_1"), ("a", "nobody"), ("b", "user_1"), ("0", "user_2")]).await;
    let keys: Vec<&str> = run.errors.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, vec!["c", "a", "0"]);
}

/// O9 Invitations.
pub async fn o9_pending_invitations_are_marked_used(db: &dyn TestDatabase) {
    // Enrolling consumes the pending invitation of that course only.
    let w = World::new(db).await;
    let fruit_invite = db.add_invitation("user_1@example.com", FRUIT, None).await;
    let other_invite = db.add_invitation("user_1@example.com", "course-v1:edX+Other+Course", None).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let run = w.link(w.p, &[("0001", "user_1")]).await;
    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    let invitations = t.invitations.as_ref().unwrap();
    assert_eq!(invitations[&fruit_invite].user_id, Some(w.user_1));
    assert_eq!(invitations[&other_invite].user_id, None);

    // With an active `masters` CE already there (M6), the invitation is left untouched.
    let user_3 = db.add_user("user_3", "user_3@example.com").await;
    db.add_course_enrollment(user_3, FRUIT, "masters", true).await;
    let kept = db.add_invitation("user_3@example.com", FRUIT, None).await;
    w.waiting_with("0003", w.p, &[FRUIT]).await;
    let run = w.link(w.p, &[("0003", "user_3")]).await;
    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(t.invitations.as_ref().unwrap()[&kept].user_id, None);
}

/// Rule 3.4: a PCE status other than `active`/`inactive` aborts the call; nothing remains,
/// not even the keys linked before it.
pub async fn x_corrupt_pce_status_aborts_the_whole_call(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let bad = w.waiting("0002", w.p).await;
    db.add_program_course_enrollment(bad, ANIMAL, "bogus", None).await;
    let before = db.tables().await;

    let result = app::link_program_enrollments(
        &*db.unit_of_work().await,
        w.p,
        &crate::fixtures::batch(&[("0001", "user_1"), ("0002", "user_2")]),
    )
    .await;

    let err = result.expect_err("the call must abort");
    assert!(err.to_string().contains("unknown program course enrollment status 'bogus'"), "{err}");
    assert_eq!(db.tables().await, before);
}

/// Corrupt data the rules never reach (a PE already linked) does not abort the call.
pub async fn x_corrupt_status_on_an_untouched_enrollment_does_not_abort(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let linked = w.linked("0002", w.p, w.user_2).await;
    db.add_program_course_enrollment(linked, ANIMAL, "bogus", None).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;
    assert_eq!(run.errors.len(), 1);
    assert_enrolled_in(&db.tables().await, w.user_1, w.p, &[FRUIT]);
}

/// A standalone database without `student_courseenrollmentallowed` links all the same.
pub async fn x_links_without_an_invitation_table(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.drop_invitation_table().await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let run = w.link(w.p, &[("0001", "user_1")]).await;
    assert_eq!(run.errors(), vec![]);
    assert_enrolled_in(&db.tables().await, w.user_1, w.p, &[FRUIT]);
}

/// Neither the PE's status nor the user's activity is checked.
pub async fn x_pe_status_and_user_activity_are_not_checked(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_program_enrollment(Some("0001"), w.p, w.c, None, "canceled").await;
    let run = w.link(w.p, &[("0001", "user_1")]).await;
    assert_eq!(run.errors(), vec![]);
    assert_eq!(pe(&db.tables().await, "0001", w.p).user_id, Some(w.user_1));
}

/// Keys and usernames match exactly: case variants and trailing spaces are other values.
pub async fn x_keys_and_usernames_match_exactly(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("abc", w.p).await;
    // Keys must be unique in one batch, so check the variants one by one.
    for (key, user, want) in [
        ("ABC", "user_1", no_pe(w.p, "ABC")),
        ("abc ", "user_1", no_pe(w.p, "abc ")),
        ("abc", "USER_1", "No user found with username USER_1".to_string()),
        ("abc", "user_1 ", "No user found with username user_1 ".to_string()),
    ] {
        let run = w.link(w.p, &[(key, user)]).await;
        assert_eq!(run.errors(), vec![(key, want.as_str())]);
    }
    assert_eq!(pe(&db.tables().await, "abc", w.p).user_id, None);
}

/// Course keys and the invitation's email compare as the database compares them, since
/// upstream looks them up in SQL (issue 15): on MariaDB's case-insensitive collations
/// `course-v1:REFX+C000+2024` is the course enrollment of `course-v1:refx+c000+2024`, and
/// `USER_1@EXAMPLE.COM` user_1's invitation; on SQLite and PostgreSQL they are other values.
/// The PCEs name `course-v1:refx+c000+2024`, its overview is stored as
/// `course-v1:RefX+C000+2024`; user_2 has an audit enrollment stored as
/// `course-v1:REFX+C000+2024`, user_3 one in `course-v1:EDX+ORANGES+APPLES` (`FRUIT` upper).
/// The `course-v1:` prefix stays lower-case: the LMS's key parser (and so the Django read-back
/// of these rows) refuses any other, so no LMS stores one.
pub async fn x_course_keys_and_emails_compare_as_the_database_compares_them(db: &dyn TestDatabase) {
    const PCE_KEY: &str = "course-v1:refx+c000+2024";
    const STORED_UPPER: &str = "course-v1:REFX+C000+2024";
    let fruit_upper = FRUIT.to_uppercase().replacen("COURSE-V1:", "course-v1:", 1);
    let w = World::new(db).await;
    db.add_course_overview("course-v1:RefX+C000+2024").await;
    let user_3 = db.add_user("user_3", "user_3@example.com").await;
    let audit_2 = db.add_course_enrollment(w.user_2, STORED_UPPER, "audit", true).await;
    let audit_3 = db.add_course_enrollment(user_3, &fruit_upper, "audit", true).await;
    let invitation = db.add_invitation("USER_1@EXAMPLE.COM", "course-v1:RefX+c000+2024", None).await;
    let pe_1 = w.waiting_with("0001", w.p, &[PCE_KEY]).await;
    let pe_2 = w.waiting_with("0002", w.p, &[PCE_KEY]).await;
    let pe_3 = w.waiting_with("0003", w.p, &[FRUIT]).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2"), ("0003", "user_3")]).await;

    let t = db.tables().await;
    let enrollment_of = |pe_id| {
        let id = pces(&t, pe_id)[0].course_enrollment_id.unwrap_or_else(|| panic!("PE {pe_id}'s PCE has no CE"));
        t.course_enrollments[&id].clone()
    };
    if db.ignores_case_in_course_keys() {
        // The original links all three: user_1's enrollment is created under the PCE's course
        // key and takes the invitation; user_2's and user_3's audit enrollments become masters.
        assert_eq!(run.errors(), vec![]);
        let created = enrollment_of(pe_1);
        assert_eq!((created.user_id, created.course_id.as_str()), (w.user_1, PCE_KEY));
        assert!(created.is_active && created.mode == "masters");
        assert_eq!(t.invitations.as_ref().unwrap()[&invitation].user_id, Some(w.user_1));
        for (pe_id, audit, stored) in [(pe_2, audit_2, STORED_UPPER), (pe_3, audit_3, fruit_upper.as_str())] {
            let converted = enrollment_of(pe_id);
            assert_eq!(
                (converted.id, converted.course_id.as_str(), converted.mode.as_str()),
                (audit, stored, "masters")
            );
        }
        assert_eq!(t.course_enrollments.len(), 3);
        assert!(run.log.contains(&info(format!(
            "Converted course enrollment for user id={} and course key={PCE_KEY} from mode audit to Master's.",
            w.user_2
        ))));
    } else {
        // Exact: no overview is `course-v1:refx+c000+2024`, and user_3 has no enrollment in
        // `FRUIT`, so one is created beside the upper-case audit one, which stays.
        assert_eq!(run.errors(), vec![("0001", "NonExistentCourseError"), ("0002", "NonExistentCourseError")]);
        assert_eq!(pe(&t, "0001", w.p).user_id, None);
        assert_eq!(pe(&t, "0002", w.p).user_id, None);
        assert_eq!(t.invitations.as_ref().unwrap()[&invitation].user_id, None);
        let created = enrollment_of(pe_3);
        assert_eq!((created.user_id, created.course_id.as_str(), created.mode.as_str()), (user_3, FRUIT, "masters"));
        assert_ne!(created.id, audit_3);
        for (id, stored) in [(audit_2, STORED_UPPER), (audit_3, fruit_upper.as_str())] {
            let kept = &t.course_enrollments[&id];
            assert_eq!((kept.course_id.as_str(), kept.mode.as_str(), kept.is_active), (stored, "audit", true));
        }
        assert_eq!(t.course_enrollments.len(), 3);
    }
}

/// A dry run returns what a real run would, and writes nothing (no row, no history row).
pub async fn x_a_dry_run_reports_like_a_real_run_and_writes_nothing(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    w.waiting_with("0002", w.p, &["course-v1:edX+Zilch+Bupkis"]).await;
    let before = db.tables().await;
    let batch = crate::fixtures::batch(&[("0001", "user_1"), ("0002", "user_2"), ("0003", "user_1")]);
    let options = app::LinkOptions { dry_run: true, write_path: db.write_path(), ..app::LinkOptions::default() };

    let dry = app::link_program_enrollments_with(&*db.unit_of_work().await, w.p, &batch, &options).await.unwrap();

    assert_eq!(db.tables().await, before);
    let real = app::link_program_enrollments(&*db.unit_of_work().await, w.p, &batch).await.unwrap();
    assert_eq!(dry, real);
    assert_eq!(dry.len(), 2);
}
