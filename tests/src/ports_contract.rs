//! Contract cases of the ports themselves, below the use case: what every adapter MUST do.

use adapters_memory::HistoryType;
use domain::{CourseEnrollmentRef, CourseKey, CourseMode, ExternalUserKey, UniqueViolation, Username};
use ports::{CourseEnrollmentAttachment, CourseEnrollmentChange, NewCourseEnrollment, ProgramEnrollmentLink};

use crate::database::TestDatabase;
use crate::fixtures::{ANIMAL, FRUIT, World, ce, pe};

fn course(key: &str) -> CourseKey {
    CourseKey::parse(key).unwrap()
}

fn new_ce(user: domain::UserId, key: &str) -> NewCourseEnrollment {
    NewCourseEnrollment { user_id: user, course_key: course(key), mode: CourseMode::masters(), is_active: true }
}

/// Linking a user into a curriculum where they already have a PE fails with the constraint's
/// columns in declared order, whatever the backend names its constraints.
pub async fn port_link_reports_the_violated_constraint_columns(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.linked("learner-0", w.p, w.user_1).await;
    let waiting = w.waiting("0001", w.p).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let err = tx
        .writes()
        .link_program_enrollments(&[ProgramEnrollmentLink { program_enrollment: waiting, user_id: w.user_1 }])
        .await
        .unwrap_err();
    assert_eq!(err.unique_violation(), Some(&UniqueViolation::program_enrollment_user()), "{err}");
    // The message a key gets from the database's own error is byte-identical everywhere.
    let message = domain::LinkError::Integrity(err.unique_violation().unwrap().clone()).to_string();
    assert_eq!(
        message,
        "IntegrityError: UNIQUE constraint failed: program_enrollments_programenrollment.user_id, \
         program_enrollments_programenrollment.program_uuid, program_enrollments_programenrollment.curriculum_uuid"
    );
    tx.rollback().await.unwrap();
}

/// A PE that already has a user is not overwritten: it is returned as not waiting.
pub async fn port_link_skips_a_program_enrollment_that_is_not_waiting(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let taken = w.linked("0001", w.p, w.user_2).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let not_waiting = tx
        .writes()
        .link_program_enrollments(&[ProgramEnrollmentLink { program_enrollment: taken, user_id: w.user_1 }])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(not_waiting, vec![taken]);
    let t = db.tables().await;
    assert_eq!(pe(&t, "0001", w.p).user_id, Some(w.user_2));
    assert!(t.program_enrollment_history.is_empty());
}

/// A second CE for one (user, course) violates `(user_id, course_id)`.
pub async fn port_creating_a_duplicate_course_enrollment_is_a_unique_violation(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.add_course_enrollment(w.user_1, FRUIT, "audit", true).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let err = tx.writes().create_course_enrollments(&[new_ce(w.user_1, FRUIT)]).await.unwrap_err();
    assert_eq!(
        err.unique_violation(),
        Some(&UniqueViolation::new("student_courseenrollment", ["user_id", "course_id"])),
        "{err}"
    );
    tx.rollback().await.unwrap();
}

/// Rolling back a savepoint undoes its rows and history rows, and keeps the parent's.
pub async fn port_savepoint_rollback_undoes_only_its_writes_and_history(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    tx.writes().create_course_enrollments(&[new_ce(w.user_1, FRUIT)]).await.unwrap();
    let sp = tx.savepoint().await.unwrap();
    sp.writes().create_course_enrollments(&[new_ce(w.user_1, ANIMAL)]).await.unwrap();
    sp.rollback().await.unwrap();
    let sp = tx.savepoint().await.unwrap();
    sp.writes().create_course_enrollments(&[new_ce(w.user_2, ANIMAL)]).await.unwrap();
    sp.commit().await.unwrap();
    tx.commit().await.unwrap();
    let t = db.tables().await;
    assert!(ce(&t, w.user_1, FRUIT).is_some());
    assert!(ce(&t, w.user_1, ANIMAL).is_none());
    assert!(ce(&t, w.user_2, ANIMAL).is_some());
    assert_eq!(t.course_enrollment_history.len(), 2);
}

/// Rolling back the outer transaction undoes released savepoints too.
pub async fn port_outer_rollback_undoes_released_savepoints(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let before = db.tables().await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let sp = tx.savepoint().await.unwrap();
    sp.writes().create_course_enrollments(&[new_ce(w.user_1, FRUIT)]).await.unwrap();
    sp.commit().await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(db.tables().await, before);
}

/// A transaction dropped without commit leaves nothing.
pub async fn port_dropping_a_transaction_leaves_nothing(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let waiting = w.waiting("0001", w.p).await;
    let before = db.tables().await;
    {
        let tx = db.unit_of_work().await.begin().await.unwrap();
        tx.writes()
            .link_program_enrollments(&[ProgramEnrollmentLink { program_enrollment: waiting, user_id: w.user_1 }])
            .await
            .unwrap();
    }
    assert_eq!(db.tables().await, before);
}

/// Reads see the transaction's own writes; exact matching of keys and usernames.
pub async fn port_reads_see_writes_of_the_same_transaction(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let waiting = w.waiting("Key-1", w.p).await;
    db.add_program_course_enrollment(waiting, FRUIT, "active", None).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    tx.writes()
        .link_program_enrollments(&[ProgramEnrollmentLink { program_enrollment: waiting, user_id: w.user_1 }])
        .await
        .unwrap();
    let keys: Vec<_> = ["Key-1", "key-1", "Key-1 "].iter().map(|k| ExternalUserKey::parse(*k).unwrap()).collect();
    let found = tx.reads().program_enrollments_by_keys(w.p, &keys).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].external_user_key.as_str(), "Key-1");
    assert_eq!(found[0].user.as_ref().map(|u| u.username.as_str()), Some("user_1"));
    assert_eq!(found[0].course_enrollments.len(), 1);
    let names: Vec<_> = ["user_1", "USER_1", "user_1 "].iter().map(|u| Username::parse(*u).unwrap()).collect();
    let users = tx.reads().users_by_usernames(&names).await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email, "user_1@example.com");
    let mine = tx.reads().program_enrollments_of_users(w.p, &[w.user_1, w.user_2]).await.unwrap();
    assert_eq!(mine.len(), 1);
    let courses = tx.reads().existing_courses(&[course(FRUIT), course("course-v1:edX+No+Such")]).await.unwrap();
    assert_eq!(courses, vec![course(FRUIT)]);
    tx.rollback().await.unwrap();
}

/// Each write leaves a history row that copies the live row.
pub async fn port_writes_record_history_rows(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let waiting = w.waiting("0001", w.p).await;
    let pce = db.add_program_course_enrollment(waiting, FRUIT, "active", None).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let writes = tx.writes();
    writes
        .link_program_enrollments(&[ProgramEnrollmentLink { program_enrollment: waiting, user_id: w.user_1 }])
        .await
        .unwrap();
    writes.create_course_enrollments(&[new_ce(w.user_1, FRUIT)]).await.unwrap();
    let new_ref = CourseEnrollmentRef::New { user_id: w.user_1, course_key: course(FRUIT) };
    writes
        .change_course_enrollments(&[CourseEnrollmentChange {
            enrollment: new_ref.clone(),
            mode: CourseMode::masters(),
            is_active: false,
            read_mode: CourseMode::masters(),
            read_active: true,
        }])
        .await
        .unwrap();
    writes
        .attach_course_enrollments(&[CourseEnrollmentAttachment {
            program_course_enrollment: pce,
            enrollment: new_ref,
        }])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let t = db.tables().await;
    let live_ce = ce(&t, w.user_1, FRUIT).unwrap();
    let ce_history: Vec<_> = t.course_enrollment_history.iter().map(|h| (h.history_type, h.row.is_active)).collect();
    assert_eq!(ce_history, vec![(HistoryType::Insert, true), (HistoryType::Update, false)]);
    assert_eq!(&t.course_enrollment_history[1].row, live_ce);
    assert_eq!(t.program_course_enrollment_history.len(), 1);
    assert_eq!(t.program_course_enrollment_history[0].row.course_enrollment_id, Some(live_ce.id));
    assert_eq!(&t.program_course_enrollment_history[0].row, &t.program_course_enrollments[&pce]);
    assert_eq!(t.program_enrollment_history.len(), 1);
    assert_eq!(&t.program_enrollment_history[0].row, pe(&t, "0001", w.p));
    let pe_row = pe(&t, "0001", w.p);
    assert!(pe_row.modified >= pe_row.created);
}

/// A course enrollment changed by another writer since it was read is not overwritten: the
/// change is refused and named, the row and its history untouched.
pub async fn port_a_course_enrollment_changed_since_read_is_not_overwritten(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let audit = db.add_course_enrollment(w.user_1, FRUIT, "audit", true).await;
    let honor = db.add_course_enrollment(w.user_2, FRUIT, "honor", true).await;
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let change = |id, read_mode: &str| CourseEnrollmentChange {
        enrollment: CourseEnrollmentRef::Stored(id),
        mode: CourseMode::masters(),
        is_active: true,
        read_mode: CourseMode::new(read_mode),
        read_active: true,
    };
    // Read as `verified` (another writer has made it `audit` since): refused.
    let changed = tx.writes().change_course_enrollments(&[change(audit, "verified")]).await.unwrap();
    assert_eq!(changed, vec![CourseEnrollmentRef::Stored(audit)]);
    tx.rollback().await.unwrap();
    let t = db.tables().await;
    assert_eq!(t.course_enrollments[&audit].mode, "audit");
    assert!(t.course_enrollment_history.is_empty());

    // Read as it is: written.
    let tx = db.unit_of_work().await.begin().await.unwrap();
    let changed = tx.writes().change_course_enrollments(&[change(honor, "honor")]).await.unwrap();
    assert!(changed.is_empty());
    tx.commit().await.unwrap();
    let t = db.tables().await;
    assert_eq!(t.course_enrollments[&honor].mode, "masters");
    assert_eq!(t.course_enrollment_history.len(), 1);
}
