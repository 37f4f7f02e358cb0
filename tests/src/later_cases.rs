//! The cases of `later-upstream.md` (relinking `l…`, case-insensitive keys `k…`, course access
//! role fulfilment `r…`), each on a fresh database, written once for every target.

use std::sync::Arc;

use adapters_memory::{HistoryType, Tables};
use async_trait::async_trait;
use domain::{ProgramUuid, UniqueViolation, UserId};
use ports::{NewCourseEnrollment, StoreError, StoreResult};

use crate::capture::capture_logs;
use crate::database::TestDatabase;
use crate::fixtures::{ANIMAL, FRUIT, World, assert_enrolled_in, batch, ce, link_rules, pces, pe, pes_of};
use crate::hooked::{Hooked, WriteHook};

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
fn relinking(key: &str, old: &str, new: &str, program: ProgramUuid) -> Vec<String> {
    vec![
        info(format!(
            "Program enrollment with external_student_key={key} is already linked to a different account username={old}"
        )),
        info(format!(
            "Unlinking user with username={old} from program enrollment with program uuid={program} with \
             external_student_key={key} and linking user with username={new} to program enrollment."
        )),
    ]
}
fn creating(role: &str, user: UserId, key: &str, course: &str, program: ProgramUuid) -> String {
    info(format!(
        "Creating access role {role} for user with user id {user} and external user key {key} for course with course \
         key {course} in program with uuid {program}."
    ))
}
fn relink() -> app::RuleOptions {
    app::RuleOptions { relink: true, ..app::RuleOptions::default() }
}
fn case_insensitive() -> app::RuleOptions {
    app::RuleOptions { case_insensitive_keys: true, ..app::RuleOptions::default() }
}
fn plain() -> app::RuleOptions {
    app::RuleOptions::default()
}
/// `(user, org, course, role)` of every course access role.
fn roles(t: &Tables) -> Vec<(UserId, String, String, String)> {
    let mut roles: Vec<_> = t
        .course_access_roles
        .iter()
        .flat_map(|m| m.values())
        .map(|r| (r.user_id, r.org.clone(), r.course_id.clone(), r.role.clone()))
        .collect();
    roles.sort();
    roles
}
fn assignments(t: &Tables) -> usize {
    t.role_assignments.as_ref().map_or(0, |m| m.len())
}
const A9_MESSAGE: &str = "IntegrityError: UNIQUE constraint failed: program_enrollments_programenrollment.user_id, \
     program_enrollments_programenrollment.program_uuid, program_enrollments_programenrollment.curriculum_uuid";

/// Relinking, upstream's case: `fruit` offers `audit` only, `animal` `masters` only.
pub async fn l1_relinking_moves_the_enrollment_to_the_new_user(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_course_mode(FRUIT, "audit", false).await;
    db.add_course_mode(ANIMAL, "masters", false).await;
    let pe_id = w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    assert_eq!(link_rules(db, w.p, &[("0001", "user_1")], plain()).await.errors(), vec![]);

    let run = link_rules(db, w.p, &[("0001", "user_2")], relink()).await;

    assert_eq!(run.errors(), vec![]);
    let mut expected = relinking("0001", "user_1", "user_2", w.p);
    expected.push(linking(w.user_2, "0001", w.p));
    assert_eq!(run.log, expected);
    let t = db.tables().await;
    assert_enrolled_in(&t, w.user_2, w.p, &[FRUIT, ANIMAL]);
    assert!(pes_of(&t, w.user_1, w.p).is_empty());
    let fruit = ce(&t, w.user_1, FRUIT).unwrap();
    assert_eq!((fruit.mode.as_str(), fruit.is_active), ("audit", false));
    let animal = ce(&t, w.user_1, ANIMAL).unwrap();
    assert_eq!((animal.mode.as_str(), animal.is_active), ("masters", false));
    // History: the PE unlinked then linked; each PCE detached then attached; the old CEs `~`.
    let pe_history: Vec<Option<UserId>> =
        t.program_enrollment_history.iter().filter(|h| h.row.id == pe_id).map(|h| h.row.user_id).collect();
    assert_eq!(pe_history, vec![Some(w.user_1), None, Some(w.user_2)]);
    for pce in pces(&t, pe_id) {
        let rows: Vec<bool> = t
            .program_course_enrollment_history
            .iter()
            .filter(|h| h.row.id == pce.id)
            .map(|h| h.row.course_enrollment_id.is_some())
            .collect();
        assert_eq!(rows, vec![true, false, true], "PCE {}", pce.id);
    }
    let old: Vec<(&str, bool, HistoryType)> = t
        .course_enrollment_history
        .iter()
        .filter(|h| h.row.user_id == w.user_1 && h.row.course_id == FRUIT)
        .map(|h| (h.row.mode.as_str(), h.row.is_active, h.history_type))
        .collect();
    assert_eq!(old, vec![("masters", true, HistoryType::Insert), ("audit", false, HistoryType::Update)]);
}

/// Relinking a key whose old user has a `verified` enrollment: deactivated and moved to
/// `audit` where the course offers it (credit and expired modes ignored), kept otherwise.
pub async fn l2_relinking_moves_a_verified_enrollment_to_audit(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_course_mode(FRUIT, "audit", false).await;
    db.add_course_mode(FRUIT, "verified", false).await;
    db.add_course_mode(ANIMAL, "audit", true).await;
    db.add_course_mode(ANIMAL, "verified", false).await;
    db.add_course_mode(ANIMAL, "credit", false).await;
    let fruit = db.add_course_enrollment(w.user_1, FRUIT, "verified", true).await;
    let animal = db.add_course_enrollment(w.user_1, ANIMAL, "verified", true).await;
    let pe_id = w.linked("0001", w.p, w.user_1).await;
    db.add_program_course_enrollment(pe_id, FRUIT, "active", Some(fruit)).await;
    db.add_program_course_enrollment(pe_id, ANIMAL, "active", Some(animal)).await;

    let run = link_rules(db, w.p, &[("0001", "user_2")], relink()).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_enrolled_in(&t, w.user_2, w.p, &[FRUIT, ANIMAL]);
    let fruit = &t.course_enrollments[&fruit];
    assert_eq!((fruit.mode.as_str(), fruit.is_active), ("audit", false));
    let animal = &t.course_enrollments[&animal];
    assert_eq!((animal.mode.as_str(), animal.is_active), ("verified", false));
}

/// Relinking with a course that has no overview row: the key fails as linking does, its
/// unlink is rolled back with it, and the call goes on.
pub async fn l3_relinking_with_a_missing_course_overview_fails_that_key_only(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let gone = "course-v1:edX+Gone+1";
    let user_3 = db.add_user("user_3", "user_3@example.com").await;
    let fruit = db.add_course_enrollment(w.user_1, FRUIT, "masters", true).await;
    let pe_id = w.linked("0001", w.p, w.user_1).await;
    db.add_program_course_enrollment(pe_id, FRUIT, "active", Some(fruit)).await;
    db.add_program_course_enrollment(pe_id, gone, "active", None).await;
    w.waiting_with("0002", w.p, &[ANIMAL]).await;

    let run = link_rules(db, w.p, &[("0001", "user_2"), ("0002", "user_3")], relink()).await;

    assert_eq!(run.errors(), vec![("0001", "NonExistentCourseError")]);
    let mut expected = relinking("0001", "user_1", "user_2", w.p);
    expected.extend([
        linking(w.user_2, "0001", w.p),
        error(format!("Cannot enroll user={} in non-existent course={gone}", w.user_2)),
        error(format!(
            "CourseEnrollmentException while linking user id={} with external_user_key=0001 for program uuid={}: ",
            w.user_2, w.p
        )),
        error("Rolling back all operations for 0001:user_2"),
        linking(user_3, "0002", w.p),
    ]);
    assert_eq!(run.log, expected);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    let kept = &t.course_enrollments[&fruit];
    assert_eq!((kept.mode.as_str(), kept.is_active), ("masters", true));
    assert!(t.program_enrollment_history.iter().all(|h| h.row.id != pe_id));
    assert_eq!(pces(&t, pe_id)[0].course_enrollment_id, Some(fruit));
    assert_enrolled_in(&t, user_3, w.p, &[ANIMAL]);
}

/// Relinking skips a PCE without a course enrollment (upstream crashed there).
pub async fn l4_relinking_skips_a_pce_without_course_enrollment(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let fruit = db.add_course_enrollment(w.user_1, FRUIT, "masters", true).await;
    let pe_id = w.linked("0001", w.p, w.user_1).await;
    db.add_program_course_enrollment(pe_id, FRUIT, "active", Some(fruit)).await;
    let animal_pce = db.add_program_course_enrollment(pe_id, ANIMAL, "active", None).await;

    let run = link_rules(db, w.p, &[("0001", "user_2")], relink()).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_enrolled_in(&t, w.user_2, w.p, &[FRUIT, ANIMAL]);
    // A course without modes offers `audit` (Open edX's default mode).
    let old = &t.course_enrollments[&fruit];
    assert_eq!((old.mode.as_str(), old.is_active), ("audit", false));
    let animal_rows = t.program_course_enrollment_history.iter().filter(|h| h.row.id == animal_pce).count();
    assert_eq!(animal_rows, 1, "attached only");
}

/// A unique violation while relinking rolls back the unlink too: the old user keeps everything.
pub async fn l5_a_failed_relink_leaves_the_old_user_linked(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let fruit = db.add_course_enrollment(w.user_1, FRUIT, "masters", true).await;
    let pe_id = w.linked("0001", w.p, w.user_1).await;
    db.add_program_course_enrollment(pe_id, FRUIT, "active", Some(fruit)).await;
    w.linked("0002", w.p, w.user_2).await;

    let run = link_rules(db, w.p, &[("0001", "user_2")], relink()).await;

    assert_eq!(run.errors(), vec![("0001", A9_MESSAGE)]);
    let mut expected = relinking("0001", "user_1", "user_2", w.p);
    expected.extend([
        linking(w.user_2, "0001", w.p),
        error(format!(
            "Integrity error while linking user id={} with external_user_key=0001 for program uuid={}",
            w.user_2, w.p
        )),
        error("Rolling back all operations for 0001:user_2"),
    ]);
    assert_eq!(run.log, expected);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert!(t.course_enrollments[&fruit].is_active);
    assert!(t.program_enrollment_history.is_empty() && t.course_enrollment_history.is_empty());
}

/// The same batch without and with relinking; the same user is refused either way.
pub async fn l6_the_same_batch_with_and_without_relinking(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.linked("0001", w.p, w.user_1).await;
    w.linked("0002", w.p2, w.user_2).await;
    let pairs = [("0001", "user_2")];
    let different = "Program enrollment with external_student_key=0001 is already linked to a different account \
                     username=user_1";

    let without = link_rules(db, w.p, &pairs, plain()).await;
    assert_eq!(without.errors(), vec![("0001", different)]);
    assert_eq!(without.log, vec![warn(different)]);
    assert_eq!(pe(&db.tables().await, "0001", w.p).user_id, Some(w.user_1));

    let with = link_rules(db, w.p, &pairs, relink()).await;
    assert_eq!(with.errors(), vec![]);
    assert_eq!(pe(&db.tables().await, "0001", w.p).user_id, Some(w.user_2));

    let target = "Program enrollment with external_student_key=0002 is already linked to target account \
                  username=user_2";
    let same = link_rules(db, w.p2, &[("0002", "user_2")], relink()).await;
    assert_eq!(same.errors(), vec![("0002", target)]);
}

/// Relinking writes an old user's course enrollment only if that changes it, as upstream's
/// `update_enrollment` saves only on change: one already inactive in `audit` (the course offers
/// it) or, where the course offers no `audit`, in its own mode gets no write and no history
/// row. Its PCE is still detached (`~`).
pub async fn l7_relinking_writes_an_old_enrollment_only_if_it_changes(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_course_mode(ANIMAL, "masters", false).await;
    let fruit = db.add_course_enrollment(w.user_1, FRUIT, "audit", false).await;
    let animal = db.add_course_enrollment(w.user_1, ANIMAL, "masters", false).await;
    let pe_id = w.linked("0001", w.p, w.user_1).await;
    db.add_program_course_enrollment(pe_id, FRUIT, "active", Some(fruit)).await;
    db.add_program_course_enrollment(pe_id, ANIMAL, "active", Some(animal)).await;

    let run = link_rules(db, w.p, &[("0001", "user_2")], relink()).await;

    assert_eq!(run.errors(), vec![]);
    let mut expected = relinking("0001", "user_1", "user_2", w.p);
    expected.push(linking(w.user_2, "0001", w.p));
    assert_eq!(run.log, expected);
    let t = db.tables().await;
    assert_enrolled_in(&t, w.user_2, w.p, &[FRUIT, ANIMAL]);
    let old = |id| (t.course_enrollments[&id].mode.as_str(), t.course_enrollments[&id].is_active);
    assert_eq!((old(fruit), old(animal)), (("audit", false), ("masters", false)));
    let old_history = t.course_enrollment_history.iter().filter(|h| h.row.user_id == w.user_1).count();
    assert_eq!(old_history, 0, "no write, no history row for an enrollment that does not change");
    for pce in pces(&t, pe_id) {
        let rows: Vec<Option<UserId>> = t
            .program_course_enrollment_history
            .iter()
            .filter(|h| h.row.id == pce.id)
            .map(|h| h.row.course_enrollment_id.map(|id| t.course_enrollments[&id].user_id))
            .collect();
        assert_eq!(rows, vec![None, Some(w.user_2)], "PCE {}: detached, then attached", pce.id);
    }
}

/// Fails every course enrollment creation for one user with a unique violation: one the rules
/// cannot foresee, so it persists through the re-plans.
struct CreateViolation(UserId);

#[async_trait]
impl WriteHook for CreateViolation {
    async fn before_create(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        if enrollments.iter().any(|e| e.user_id == self.0) {
            return Err(StoreError::UniqueViolation(UniqueViolation::new(
                "student_courseenrollment",
                ["user_id", "course_id"],
            )));
        }
        Ok(())
    }
}

/// With case-insensitive keys, the ERROR `Rolling back all operations for {key}:{username}`
/// line of a key whose writes fail names the key as the input gave it, on both write paths
/// (the batched path's chunk falls back to the per-key path, which writes it).
pub async fn k6_the_rolling_back_line_names_the_input_key_on_both_paths(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let pe_id = w.waiting_with("student-43", w.p, &[FRUIT]).await;
    let uow = Hooked { inner: db.unit_of_work().await, hook: Arc::new(CreateViolation(w.user_1)) };
    let message = "IntegrityError: UNIQUE constraint failed: student_courseenrollment.user_id, \
                   student_courseenrollment.course_id";
    let chunk = std::num::NonZeroUsize::MIN.saturating_add(99);
    for path in [app::WritePath::PerKey, app::WritePath::Batched(chunk)] {
        let (log, _guard) = capture_logs();
        let options = app::LinkOptions { write_path: path, rules: case_insensitive(), ..app::LinkOptions::default() };
        let errors = app::link_program_enrollments_with(&uow, w.p, &batch(&[("STUDEnt-43", "user_1")]), &options)
            .await
            .expect("the call aborted");

        assert_eq!(errors.messages(), vec![("STUDEnt-43".to_string(), message.to_string())], "{path:?}");
        assert_eq!(
            log.lines(),
            vec![
                linking(w.user_1, "student-43", w.p),
                error(format!(
                    "Integrity error while linking user id={} with external_user_key=student-43 for program uuid={}",
                    w.user_1, w.p
                )),
                error("Rolling back all operations for STUDEnt-43:user_1"),
            ],
            "{path:?}"
        );
        let t = db.tables().await;
        assert_eq!(t.program_enrollments[&pe_id].user_id, None, "{path:?}: the key's writes were undone");
        assert!(t.program_enrollment_history.is_empty() && t.course_enrollments.is_empty(), "{path:?}");
    }
}

/// Case-insensitive keys, upstream's case, and the same batch without the option.
pub async fn k1_a_key_matches_up_to_case(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("student-43", w.p, &[FRUIT, ANIMAL]).await;
    let no_pe = format!("No program enrollment found for program uuid={} and external student key=STUDEnt-43", w.p);

    let without = link_rules(db, w.p, &[("STUDEnt-43", "user_1")], plain()).await;
    assert_eq!(without.errors(), vec![("STUDEnt-43", no_pe.as_str())]);

    let run = link_rules(db, w.p, &[("STUDEnt-43", "user_1")], case_insensitive()).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(run.log, vec![linking(w.user_1, "student-43", w.p)]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "student-43", w.p).user_id, Some(w.user_1));
    assert_enrolled_in(&t, w.user_1, w.p, &[FRUIT, ANIMAL]);
}

/// Two input keys equal up to case: refused before anything is written.
pub async fn k2_input_keys_equal_up_to_case_are_refused(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting("abc", w.p).await;
    w.waiting("ABC", w.p2).await;
    let options = app::LinkOptions { rules: case_insensitive(), ..app::LinkOptions::default() };
    let pairs = batch(&[("abc", "user_1"), ("ABC", "user_2")]);

    let result = app::link_program_enrollments_with(&*db.unit_of_work().await, w.p, &pairs, &options).await;

    let err = result.unwrap_err();
    assert!(matches!(err, app::LinkCallError::DuplicateKeyIgnoringCase(_)), "{err:?}");
    assert_eq!(err.to_string(), "external user key ABC provided multiple times (case-insensitively)");
    let t = db.tables().await;
    assert!(t.program_enrollments.values().all(|pe| pe.user_id.is_none()));
    // Without the option they are two keys.
    let run = link_rules(db, w.p, &[("abc", "user_1"), ("ABC", "user_2")], plain()).await;
    assert_eq!(run.errors().len(), 1);
}

/// Two stored keys equal up to case for one input key: that key's error, nothing written.
pub async fn k3_several_stored_keys_equal_up_to_case_are_an_error(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let c2 = domain::CurriculumUuid::from_uuid(uuid::Uuid::new_v4());
    w.waiting("student-43", w.p).await;
    db.add_program_enrollment(Some("STUDENT-43"), w.p, c2, None, "enrolled").await;
    w.waiting("0002", w.p).await;
    let message = "Multiple program enrollments match external student key=Student-43 case-insensitively";

    let run = link_rules(db, w.p, &[("Student-43", "user_1"), ("0002", "user_2")], case_insensitive()).await;

    assert_eq!(run.errors(), vec![("Student-43", message)]);
    assert_eq!(run.log, vec![warn(message), linking(w.user_2, "0002", w.p)]);
    let t = db.tables().await;
    assert!(pes_of(&t, w.user_1, w.p).is_empty());
    assert_eq!(pe(&t, "0002", w.p).user_id, Some(w.user_2));
}

/// Keys are matched literally: pattern characters are ordinary characters.
pub async fn k4_keys_are_matched_literally(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    for key in ["a%c", "a_c", "a.c", "a*c", "a(c", "a\\c", "abc"] {
        w.waiting(key, w.p).await;
    }

    let run = link_rules(db, w.p, &[("A_C", "user_1"), ("A\\C", "user_2")], case_insensitive()).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    let linked: Vec<(&str, Option<UserId>)> = t
        .program_enrollments
        .values()
        .map(|pe| (pe.external_user_key.as_deref().unwrap_or(""), pe.user_id))
        .filter(|(_, user)| user.is_some())
        .collect();
    assert_eq!(linked, vec![("a_c", Some(w.user_1)), ("a\\c", Some(w.user_2))]);
}

/// Messages name the key as given, except "already linked", which names the stored key.
pub async fn k5_messages_name_the_input_key_except_already_linked(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.linked("student-43", w.p, w.user_1).await;
    let linked = "Program enrollment with external_student_key=student-43 is already linked to target account \
                  username=user_1";
    let no_pe = format!("No program enrollment found for program uuid={} and external student key=NOPE-1", w.p);

    let run = link_rules(db, w.p, &[("STUDENT-43", "user_1"), ("NOPE-1", "user_2")], case_insensitive()).await;

    assert_eq!(run.errors(), vec![("STUDENT-43", linked), ("NOPE-1", no_pe.as_str())]);
}

/// Role fulfilment, upstream's case: `staff` on both courses, assignments consumed.
pub async fn r1_staff_assignments_become_course_staff_roles(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let pe_id = w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    for pce in pces(&db.tables().await, pe_id) {
        db.add_role_assignment(pce.id, "staff").await;
    }

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(
        run.log,
        vec![
            linking(w.user_1, "0001", w.p),
            creating("staff", w.user_1, "0001", FRUIT, w.p),
            creating("staff", w.user_1, "0001", ANIMAL, w.p),
        ]
    );
    let t = db.tables().await;
    assert_enrolled_in(&t, w.user_1, w.p, &[FRUIT, ANIMAL]);
    let staff = |course: &str| (w.user_1, "edX".to_string(), course.to_string(), "staff".to_string());
    let mut expected = vec![staff(FRUIT), staff(ANIMAL)];
    expected.sort();
    assert_eq!(roles(&t), expected);
    assert_eq!(assignments(&t), 0);
}

/// A role the user already has is kept, not duplicated, and the assignment is consumed.
pub async fn r2_an_existing_role_is_kept_without_duplicate(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_course_access_role(w.user_1, "edX", FRUIT, "staff").await;
    let pe_id = w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    for pce in pces(&db.tables().await, pe_id) {
        db.add_role_assignment(pce.id, "staff").await;
    }

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(roles(&t).len(), 2);
    assert_eq!(assignments(&t), 0);
}

/// An inactive user is linked and gets no role, but the assignment is consumed.
pub async fn r3_an_inactive_user_gets_no_role_but_the_assignment_is_consumed(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.deactivate_user(w.user_1).await;
    let pe_id = w.waiting_with("0001", w.p, &[FRUIT]).await;
    let pce = pces(&db.tables().await, pe_id)[0].id;
    db.add_role_assignment(pce, "staff").await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(run.log, vec![linking(w.user_1, "0001", w.p), creating("staff", w.user_1, "0001", FRUIT, w.p)]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert!(roles(&t).is_empty());
    assert_eq!(assignments(&t), 0);
}

/// An unknown role is a failure: logged, the assignment kept, the key linked.
pub async fn r4_an_unknown_role_is_logged_and_kept(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let pe_id = w.waiting_with("0001", w.p, &[FRUIT]).await;
    let pce = pces(&db.tables().await, pe_id)[0].id;
    db.add_role_assignment(pce, "wizard").await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(
        run.log,
        vec![
            linking(w.user_1, "0001", w.p),
            creating("wizard", w.user_1, "0001", FRUIT, w.p),
            error(format!(
                "Unable to create access role wizard for user with user id {} and external user key 0001 for course \
                 with course key {FRUIT} in program with uuid {} or to delete the CourseAccessRoleAssignment with role \
                 wizard and ProgramCourseEnrollment {pce}.",
                w.user_1, w.p
            )),
        ]
    );
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_1));
    assert!(roles(&t).is_empty());
    assert_eq!(assignments(&t), 1);
}

/// Without the role tables, fulfilment is skipped with one INFO line per call.
pub async fn r5_without_the_role_tables_one_info_line(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    w.waiting_with("0002", w.p, &[ANIMAL]).await;
    db.drop_course_access_role_tables().await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(
        run.log,
        vec![
            info(
                "Course access role fulfilment skipped: this database has no \
                 program_enrollments_courseaccessroleassignment or student_courseaccessrole table"
            ),
            linking(w.user_1, "0001", w.p),
            linking(w.user_2, "0002", w.p),
        ]
    );
    assert_enrolled_in(&db.tables().await, w.user_2, w.p, &[ANIMAL]);
}

/// Relinking fulfils the PCEs' remaining assignments for the new user, with both options on.
pub async fn r6_relinking_with_both_options_fulfils_roles_for_the_new_user(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let pe_id = w.linked("Key-1", w.p, w.user_1).await;
    let pce = db.add_program_course_enrollment(pe_id, FRUIT, "active", None).await;
    db.add_role_assignment(pce, "staff").await;
    let both = app::RuleOptions { relink: true, case_insensitive_keys: true };

    let run = link_rules(db, w.p, &[("KEY-1", "user_2")], both).await;

    assert_eq!(run.errors(), vec![]);
    let mut expected = relinking("Key-1", "user_1", "user_2", w.p);
    expected.extend([linking(w.user_2, "Key-1", w.p), creating("staff", w.user_2, "Key-1", FRUIT, w.p)]);
    assert_eq!(run.log, expected);
    let t = db.tables().await;
    assert_eq!(roles(&t), vec![(w.user_2, "edX".into(), FRUIT.into(), "staff".into())]);
    assert_eq!(assignments(&t), 0);
}

/// Port contract: unlinking skips a PE no longer linked to the given user; granting a role
/// that exists (or twice in one call) is no error and no duplicate; deleting assignments.
pub async fn port_unlink_grant_and_delete_follow_their_contract(db: &dyn TestDatabase) {
    use ports::{CourseAccessRoleGrant, ProgramEnrollmentUnlink};
    let w = World::new(db).await;
    let mine = w.linked("0001", w.p, w.user_1).await;
    let theirs = w.linked("0002", w.p, w.user_2).await;
    let pce = db.add_program_course_enrollment(mine, FRUIT, "active", None).await;
    let assignment = db.add_role_assignment(pce, "staff").await;
    db.add_course_access_role(w.user_1, "edX", FRUIT, "staff").await;
    let grant = |user: UserId, course: &str| CourseAccessRoleGrant {
        user_id: user,
        org: "edX".into(),
        course_key: domain::CourseKey::parse(course).unwrap(),
        role: "staff".into(),
    };
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let not_linked = tx
        .writes()
        .unlink_program_enrollments(&[
            ProgramEnrollmentUnlink { program_enrollment: mine, user_id: w.user_1 },
            ProgramEnrollmentUnlink { program_enrollment: theirs, user_id: w.user_1 },
        ])
        .await
        .unwrap();
    assert_eq!(not_linked, vec![theirs]);
    tx.writes()
        .grant_course_access_roles(&[grant(w.user_1, FRUIT), grant(w.user_1, ANIMAL), grant(w.user_2, ANIMAL)])
        .await
        .unwrap();
    tx.writes().grant_course_access_roles(&[grant(w.user_2, ANIMAL)]).await.unwrap();
    tx.writes().delete_role_assignments(&[assignment]).await.unwrap();
    assert!(tx.reads().course_access_roles_supported().await.unwrap());
    assert!(tx.reads().role_assignments(&[pce]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, None);
    assert_eq!(pe(&t, "0002", w.p).user_id, Some(w.user_2));
    let history: Vec<Option<UserId>> = t.program_enrollment_history.iter().map(|h| h.row.user_id).collect();
    assert_eq!(history, vec![None], "one `~` row, for the PE unlinked");
    assert_eq!(roles(&t).len(), 3);
    assert_eq!(assignments(&t), 0);
}

/// Port contract: course modes are those unexpired now, matched exactly; the program's stored
/// keys come each once, case kept.
pub async fn port_course_modes_and_stored_keys(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_course_mode(FRUIT, "audit", true).await;
    db.add_course_mode(FRUIT, "verified", false).await;
    db.add_course_mode(ANIMAL, "audit", false).await;
    // Different curricula: MariaDB's collation makes `Key-1` and `key-1` one value in the unique index.
    w.waiting("Key-1", w.p).await;
    for _ in 0..2 {
        let curriculum = domain::CurriculumUuid::from_uuid(uuid::Uuid::new_v4());
        db.add_program_enrollment(Some("key-1"), w.p, curriculum, None, "enrolled").await;
    }
    w.waiting("other", w.p2).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let modes = tx.reads().course_modes(&[domain::CourseKey::parse(FRUIT).unwrap()]).await.unwrap();
    let modes: Vec<&str> = modes.iter().map(|m| m.mode.as_str()).collect();
    assert_eq!(modes, vec!["verified"]);
    let mut keys: Vec<String> =
        tx.reads().program_enrollment_keys(w.p).await.unwrap().iter().map(ToString::to_string).collect();
    keys.sort();
    assert_eq!(keys, vec!["Key-1".to_string(), "key-1".to_string()]);
    tx.rollback().await.unwrap();
}
