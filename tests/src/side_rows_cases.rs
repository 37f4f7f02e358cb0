//! What the LMS's receivers of a course enrollment's save write with it (issue 17), written by
//! the linking in the same savepoint: the course's `Student` discussion role and the
//! enrollment's schedule (`s…`), each on a fresh database, written once for every target.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use adapters_memory::{HistoryType, ScheduleRow, Tables, UpgradeDeadlineScope};
use async_trait::async_trait;
use domain::{CourseEnrollmentId, CourseEnrollmentRef, UniqueViolation, UserId};
use ports::{CourseEnrollmentAttachment, StoreError, StoreResult};

use crate::database::{TestDatabase, course_start};
use crate::fixtures::{ANIMAL, FRUIT, World, batch, ce, link_rules};
use crate::hooked::{Hooked, WriteHook};

/// `(course, name, members)` of every discussion role, members sorted.
fn forum_roles(t: &Tables) -> Vec<(String, String, Vec<UserId>)> {
    let mut roles: Vec<_> = t
        .forum_roles
        .iter()
        .flat_map(|m| m.values())
        .map(|r| {
            let mut members: Vec<UserId> = t
                .forum_role_users
                .iter()
                .flat_map(|m| m.values())
                .filter(|u| u.role_id == r.id)
                .map(|u| u.user_id)
                .collect();
            members.sort();
            (r.course_id.clone(), r.name.clone(), members)
        })
        .collect();
    roles.sort();
    roles
}

fn student(course: &str, members: &[UserId]) -> (String, String, Vec<UserId>) {
    (course.to_owned(), "Student".to_owned(), members.to_vec())
}

/// The schedule of a course enrollment, if any.
fn schedule_of(t: &Tables, enrollment: CourseEnrollmentId) -> Option<&ScheduleRow> {
    t.schedules.iter().flat_map(|m| m.values()).find(|s| s.enrollment_id == enrollment)
}

/// The experience type of a schedule.
fn experience_of(t: &Tables, schedule: i64) -> Option<i16> {
    t.schedule_experiences
        .iter()
        .flat_map(|m| m.values())
        .find(|e| e.schedule_id == schedule)
        .map(|e| e.experience_type)
}

/// Whole microseconds (what the databases keep).
fn micros(at: SystemTime) -> u128 {
    at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_micros()
}

fn relink() -> app::RuleOptions {
    app::RuleOptions { relink: true, ..app::RuleOptions::default() }
}

/// S1 A new course enrollment brings the course's `Student` role: the role row is created
/// (one per course) and the learner is its member.
pub async fn s1_a_new_enrollment_brings_its_forum_role_created_when_missing(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    w.waiting_with("0002", w.p, &[FRUIT]).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(forum_roles(&t), vec![student(ANIMAL, &[w.user_1]), student(FRUIT, &[w.user_1, w.user_2])]);
}

/// S2 An existing `Student` role is reused (no second row) and a learner already in it is not
/// added again; another course's role and another role name are left alone.
pub async fn s2_an_existing_forum_role_is_reused_and_a_membership_not_duplicated(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let fruit_student = db.add_forum_role(FRUIT, "Student").await;
    db.add_forum_role_user(fruit_student, w.user_1).await;
    let moderator = db.add_forum_role(FRUIT, "Moderator").await;
    db.add_forum_role_user(moderator, w.user_2).await;
    // user_1's inactive enrollment is reactivated (a save): the role is ensured again.
    db.add_course_enrollment(w.user_1, FRUIT, "masters", false).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    w.waiting_with("0002", w.p, &[FRUIT]).await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(
        forum_roles(&t),
        vec![(FRUIT.to_owned(), "Moderator".to_owned(), vec![w.user_2]), student(FRUIT, &[w.user_1, w.user_2]),]
    );
    assert_eq!(t.forum_role_users.as_ref().map_or(0, |m| m.len()), 3, "no duplicate membership");
}

/// S3 A new enrollment's schedule: active, starting at the course's start when the course has
/// not started, else at the enrollment's creation; experience type 1 with highlights, else 0;
/// no upgrade deadline (no configuration); one `+` history row copying it.
pub async fn s3_a_new_enrollment_brings_its_schedule_from_the_course_start_or_the_enrollment(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let future = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800);
    db.set_course_overview_fields(ANIMAL, Some(future), false, Some(true)).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;

    let before = SystemTime::now();
    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    let fruit = ce(&t, w.user_1, FRUIT).unwrap();
    let animal = ce(&t, w.user_1, ANIMAL).unwrap();
    let started = schedule_of(&t, fruit.id).expect("a schedule in the started course");
    let created = fruit.created.unwrap();
    assert_eq!(started.start_date.map(micros), Some(micros(created)), "started: from the enrollment's creation");
    assert!(micros(created) + 1_000_000 >= micros(before), "created by this call");
    assert!(started.active);
    assert_eq!(started.upgrade_deadline, None);
    assert_eq!(experience_of(&t, started.id), Some(0), "no highlights");
    let upcoming = schedule_of(&t, animal.id).expect("a schedule in the upcoming course");
    assert_eq!(upcoming.start_date, Some(future), "not started: from the course's start");
    assert_eq!(experience_of(&t, upcoming.id), Some(1), "highlights");
    assert_eq!(t.schedules.as_ref().map_or(0, |m| m.len()), 2);
    assert_eq!(t.schedule_experiences.as_ref().map_or(0, |m| m.len()), 2);
    let history: Vec<_> = t.schedule_history.iter().map(|h| (h.history_type, &h.row)).collect();
    assert_eq!(history.len(), 2);
    for (kind, row) in history {
        assert_eq!(kind, HistoryType::Insert);
        let live = t.schedules.as_ref().unwrap().get(&row.id).unwrap();
        assert_eq!(row, live, "the history row copies the live row");
    }
}

/// S4 A course whose overview has no `start` gets no schedule; the LMS's ERROR line is logged
/// after the key's line, and the key links.
pub async fn s4_a_course_without_start_gets_no_schedule_and_an_error_line(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.set_course_overview_fields(ANIMAL, None, true, None).await;
    w.waiting_with("0001", w.p, &[ANIMAL]).await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    assert_eq!(
        run.log,
        vec![
            format!("INFO Linking user id={} with external_user_key=0001 for program uuid={}", w.user_1, w.p),
            format!(
                "ERROR Encountered error in creating a Schedule for CourseEnrollment for user {} in course {ANIMAL}",
                w.user_1
            ),
        ]
    );
    let t = db.tables().await;
    assert!(t.schedules.as_ref().unwrap().is_empty());
    assert!(t.schedule_history.is_empty());
    assert_eq!(forum_roles(&t), vec![student(ANIMAL, &[w.user_1])], "the role does not need a start");
}

/// S5 A reused enrollment (an inactive `audit` one re-enrolled in Master's: a mode change)
/// brings the role; in a self-paced course its schedule's start is reset to now (history
/// `~`), in an instructor-paced one it is left; no second schedule is created. An active
/// Master's enrollment left as it is brings nothing.
pub async fn s5_a_reused_enrollment_brings_the_role_and_in_a_self_paced_course_the_reset_start(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.set_course_overview_fields(FRUIT, Some(course_start()), true, None).await;
    let fruit = db.add_course_enrollment(w.user_1, FRUIT, "audit", false).await;
    let animal = db.add_course_enrollment(w.user_1, ANIMAL, "audit", false).await;
    let kept = db.add_course_enrollment(w.user_2, FRUIT, "masters", true).await;
    let fruit_schedule = db.add_schedule(fruit, Some(course_start())).await;
    let animal_schedule = db.add_schedule(animal, Some(course_start())).await;
    db.add_schedule(kept, Some(course_start())).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    w.waiting_with("0002", w.p, &[FRUIT]).await;

    let before = SystemTime::now();
    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    assert_eq!(forum_roles(&t), vec![student(ANIMAL, &[w.user_1]), student(FRUIT, &[w.user_1])], "user_2: no save");
    let schedules = t.schedules.as_ref().unwrap();
    assert_eq!(schedules.len(), 3, "no new schedule for a reused enrollment");
    let reset = schedules.get(&fruit_schedule).unwrap();
    assert!(micros(reset.start_date.unwrap()) + 1_000_000 >= micros(before), "self-paced: reset to now");
    assert_eq!(schedules.get(&animal_schedule).unwrap().start_date, Some(course_start()), "instructor-paced: left");
    assert_eq!(t.schedule_history.len(), 1);
    assert_eq!(t.schedule_history[0].history_type, HistoryType::Update);
    assert_eq!(&t.schedule_history[0].row, reset);
}

/// S6 Relinking moves the old user's enrollment to `audit`: in a self-paced course its schedule
/// starts again at the enrollment's creation (the later of that and the course start); the
/// old user keeps the role (the save ensures it); the new user gets a new enrollment with its
/// own schedule and role.
pub async fn s6_relinking_resets_the_old_schedule_to_the_enrollment_start(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    db.set_course_overview_fields(FRUIT, Some(course_start()), true, None).await;
    let pe = w.linked("0001", w.p, w.user_1).await;
    let old = db.add_course_enrollment(w.user_1, FRUIT, "masters", true).await;
    db.add_program_course_enrollment(pe, FRUIT, "active", Some(old)).await;
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800);
    let old_schedule = db.add_schedule(old, Some(far)).await;

    let run = link_rules(db, w.p, &[("0001", "user_2")], relink()).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    let old_ce = t.course_enrollments.get(&old).unwrap();
    assert_eq!((old_ce.mode.as_str(), old_ce.is_active), ("audit", false));
    let reset = t.schedules.as_ref().unwrap().get(&old_schedule).unwrap();
    assert_eq!(reset.start_date.map(micros), old_ce.created.map(micros), "back to the enrollment's creation");
    let new_ce = ce(&t, w.user_2, FRUIT).unwrap();
    assert!(schedule_of(&t, new_ce.id).is_some(), "the new enrollment's schedule");
    assert_eq!(forum_roles(&t), vec![student(FRUIT, &[w.user_1, w.user_2])]);
    let kinds: Vec<_> = t.schedule_history.iter().map(|h| (h.history_type, h.row.enrollment_id)).collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&(HistoryType::Update, old)) && kinds.contains(&(HistoryType::Insert, new_ce.id)));
}

/// Fails the PCE attachment of one user's new enrollments with a unique violation: after the
/// enrollments and their side rows were written, and persisting through the re-plans.
struct AttachViolation(UserId);

#[async_trait]
impl WriteHook for AttachViolation {
    async fn before_attach(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        let mine = |a: &CourseEnrollmentAttachment| matches!(a.enrollment, CourseEnrollmentRef::New { user_id, .. } if user_id == self.0);
        if attachments.iter().any(mine) {
            return Err(StoreError::UniqueViolation(UniqueViolation::new(
                "program_enrollments_programcourseenrollment",
                ["program_enrollment_id", "course_key"],
            )));
        }
        Ok(())
    }
}

/// S7 A key whose savepoint is rolled back after its enrollments and their side rows were
/// written leaves no discussion role, membership, schedule, experience or schedule history: the
/// chunk's savepoint (both keys) is rolled back, then the per-key fall back rolls back the
/// failing key's; the other key's rows stay.
pub async fn s7_a_rolled_back_key_leaves_no_role_or_schedule(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    w.waiting_with("0002", w.p, &[ANIMAL]).await;
    let uow = Hooked { inner: db.unit_of_work().await, hook: Arc::new(AttachViolation(w.user_1)) };
    let chunk = std::num::NonZeroUsize::MIN.saturating_add(99);
    let options = app::LinkOptions { write_path: app::WritePath::Batched(chunk), ..app::LinkOptions::default() };
    let pairs = batch(&[("0001", "user_1"), ("0002", "user_2")]);

    let errors = app::link_program_enrollments_with(&uow, w.p, &pairs, &options).await.expect("the call aborted");

    let keys: Vec<String> = errors.messages().into_iter().map(|(key, _)| key).collect();
    assert_eq!(keys, vec!["0001".to_owned()]);
    let t = db.tables().await;
    assert!(ce(&t, w.user_1, FRUIT).is_none(), "the key's enrollment was rolled back");
    assert_eq!(forum_roles(&t), vec![student(ANIMAL, &[w.user_2])]);
    let animal = ce(&t, w.user_2, ANIMAL).unwrap().id;
    let schedules: Vec<CourseEnrollmentId> =
        t.schedules.iter().flat_map(|m| m.values()).map(|s| s.enrollment_id).collect();
    assert_eq!(schedules, vec![animal]);
    assert_eq!(t.schedule_experiences.as_ref().map_or(0, |m| m.len()), 1);
    let history: Vec<CourseEnrollmentId> = t.schedule_history.iter().map(|h| h.row.enrollment_id).collect();
    assert_eq!(history, vec![animal]);
}

/// S8 Without the discussion role tables and without the schedule tables: one INFO line each
/// per call, and the keys link.
pub async fn s8_without_the_tables_one_info_line_each_and_the_link_works(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    w.waiting_with("0002", w.p, &[ANIMAL]).await;
    db.drop_forum_role_tables().await;
    db.drop_schedule_tables().await;

    let run = w.link(w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

    assert_eq!(run.errors(), vec![]);
    let linking = |user: UserId, key: &str| {
        format!("INFO Linking user id={user} with external_user_key={key} for program uuid={}", w.p)
    };
    assert_eq!(
        run.log,
        vec![
            "INFO Discussion role assignment skipped: this database has no django_comment_client_role or \
             django_comment_client_role_users table"
                .to_owned(),
            "INFO Schedule creation skipped: this database has no schedules_schedule, schedules_scheduleexperience \
             or schedules_historicalschedule table"
                .to_owned(),
            linking(w.user_1, "0001"),
            linking(w.user_2, "0002"),
        ]
    );
    let t = db.tables().await;
    assert!(ce(&t, w.user_2, ANIMAL).is_some());
    assert!(t.forum_roles.is_none() && t.schedules.is_none());
}

/// S9 The upgrade deadline, as the LMS computes it from the dynamic upgrade deadline
/// configuration: the global setting (21 days), overridden per course run (7 days), from the
/// schedule's start, but never after the course's unexpired verified mode's expiration. An older
/// configuration row is not the current one.
pub async fn s9_the_upgrade_deadline_follows_the_configuration(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    let day = Duration::from_secs(86_400);
    let future = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800);
    db.set_course_overview_fields(ANIMAL, Some(future), false, None).await;
    db.add_upgrade_deadline_configuration(UpgradeDeadlineScope::Global, false, 99, false).await;
    db.add_upgrade_deadline_configuration(UpgradeDeadlineScope::Global, true, 21, false).await;
    db.add_upgrade_deadline_configuration(UpgradeDeadlineScope::Course(ANIMAL.to_owned()), true, 7, false).await;
    let expiration =
        SystemTime::UNIX_EPOCH + Duration::from_secs(micros_to_secs(micros(SystemTime::now())) + 10 * 86_400);
    db.add_course_mode_expiring(FRUIT, "verified", expiration).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;

    let run = w.link(w.p, &[("0001", "user_1")]).await;

    assert_eq!(run.errors(), vec![]);
    let t = db.tables().await;
    let fruit = schedule_of(&t, ce(&t, w.user_1, FRUIT).unwrap().id).unwrap();
    assert_eq!(fruit.upgrade_deadline, Some(expiration), "capped by the verified mode's expiration");
    let animal = schedule_of(&t, ce(&t, w.user_1, ANIMAL).unwrap().id).unwrap();
    assert_eq!(animal.upgrade_deadline, Some(future + 7 * day), "the course run's 7 days from its start");
}

fn micros_to_secs(micros: u128) -> u64 {
    u64::try_from(micros / 1_000_000).unwrap()
}
