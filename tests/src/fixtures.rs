//! Fixtures of `acceptance.md` and the one helper that calls the use case.

use adapters_memory::{CourseEnrollmentRow, ProgramCourseEnrollmentRow, ProgramEnrollmentRow, Tables};
use domain::{CurriculumUuid, ExternalUserKey, LinkBatch, ProgramEnrollmentId, ProgramUuid, UserId, Username};

use crate::capture::capture_logs;
use crate::database::TestDatabase;

/// `course-v1:edX+Oranges+Apples`, with a course overview row.
pub const FRUIT: &str = "course-v1:edX+Oranges+Apples";
/// `course-v1:edX+Cats+Dogs`, with a course overview row.
pub const ANIMAL: &str = "course-v1:edX+Cats+Dogs";

/// The fixtures every case starts from: programs P and P2, curriculum C (random UUIDs), the
/// two courses, and users `user_1`, `user_2`.
pub struct World<'a> {
    /// The database.
    pub db: &'a dyn TestDatabase,
    /// Program P.
    pub p: ProgramUuid,
    /// Program P2.
    pub p2: ProgramUuid,
    /// Curriculum C.
    pub c: CurriculumUuid,
    /// `user_1`.
    pub user_1: UserId,
    /// `user_2`.
    pub user_2: UserId,
}

impl<'a> World<'a> {
    /// Creates the fixtures.
    pub async fn new(db: &'a dyn TestDatabase) -> World<'a> {
        db.add_course_overview(FRUIT).await;
        db.add_course_overview(ANIMAL).await;
        let user_1 = db.add_user("user_1", "user_1@example.com").await;
        let user_2 = db.add_user("user_2", "user_2@example.com").await;
        World {
            db,
            p: ProgramUuid::from_uuid(uuid::Uuid::new_v4()),
            p2: ProgramUuid::from_uuid(uuid::Uuid::new_v4()),
            c: CurriculumUuid::from_uuid(uuid::Uuid::new_v4()),
            user_1,
            user_2,
        }
    }

    /// A waiting PE (no user, status `enrolled`) in curriculum C.
    pub async fn waiting(&self, key: &str, program: ProgramUuid) -> ProgramEnrollmentId {
        self.db.add_program_enrollment(Some(key), program, self.c, None, "enrolled").await
    }

    /// A waiting PE with waiting PCEs (`active`) for `courses`, created in that order.
    pub async fn waiting_with(&self, key: &str, program: ProgramUuid, courses: &[&str]) -> ProgramEnrollmentId {
        let pe = self.waiting(key, program).await;
        for course in courses {
            self.db.add_program_course_enrollment(pe, course, "active", None).await;
        }
        pe
    }

    /// A PE linked to `user` in curriculum C.
    pub async fn linked(&self, key: &str, program: ProgramUuid, user: UserId) -> ProgramEnrollmentId {
        self.db.add_program_enrollment(Some(key), program, self.c, Some(user), "enrolled").await
    }

    /// Links `pairs` in `program`, capturing the log lines.
    pub async fn link(&self, program: ProgramUuid, pairs: &[(&str, &str)]) -> Run {
        link(self.db, program, pairs).await
    }
}

/// The result of one call: its errors as text in order, and its log lines as `LEVEL text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `(key, message)` in order.
    pub errors: Vec<(String, String)>,
    /// `LEVEL text` in order.
    pub log: Vec<String>,
}

impl Run {
    /// The errors as `(&str, &str)`, for comparing with literals.
    pub fn errors(&self) -> Vec<(&str, &str)> {
        self.errors.iter().map(|(k, m)| (k.as_str(), m.as_str())).collect()
    }
}

/// Calls [`app::link_program_enrollments`] with `pairs`. Panics if the call aborts.
pub async fn link(db: &dyn TestDatabase, program: ProgramUuid, pairs: &[(&str, &str)]) -> Run {
    link_with(db, program, pairs, db.write_path()).await
}

/// [`link`] with a given write path.
pub async fn link_with(
    db: &dyn TestDatabase,
    program: ProgramUuid,
    pairs: &[(&str, &str)],
    path: app::WritePath,
) -> Run {
    link_with_rules(db, program, pairs, path, app::RuleOptions::default()).await
}

/// [`link`] following upstream's later rules `rules` (`later-upstream.md`).
pub async fn link_rules(
    db: &dyn TestDatabase,
    program: ProgramUuid,
    pairs: &[(&str, &str)],
    rules: app::RuleOptions,
) -> Run {
    link_with_rules(db, program, pairs, db.write_path(), rules).await
}

/// [`link_with`] following `rules`.
pub async fn link_with_rules(
    db: &dyn TestDatabase,
    program: ProgramUuid,
    pairs: &[(&str, &str)],
    path: app::WritePath,
    rules: app::RuleOptions,
) -> Run {
    let batch = batch(pairs);
    let (log, _guard) = capture_logs();
    let options = app::LinkOptions { write_path: path, rules, ..app::LinkOptions::default() };
    let errors = app::link_program_enrollments_with(&*db.unit_of_work().await, program, &batch, &options)
        .await
        .expect("the call aborted");
    Run { errors: errors.messages(), log: log.lines() }
}

/// A batch from literal pairs.
pub fn batch(pairs: &[(&str, &str)]) -> LinkBatch {
    LinkBatch::from_pairs(
        pairs.iter().map(|(k, u)| (ExternalUserKey::parse(*k).unwrap(), Username::parse(*u).unwrap())),
    )
    .unwrap()
}

/// The PE of `program` with `key`.
pub fn pe<'t>(tables: &'t Tables, key: &str, program: ProgramUuid) -> &'t ProgramEnrollmentRow {
    let mut found = tables
        .program_enrollments
        .values()
        .filter(|pe| pe.external_user_key.as_deref() == Some(key) && pe.program_uuid == program);
    let pe = found.next().unwrap_or_else(|| panic!("no PE {key} in {program}"));
    assert!(found.next().is_none(), "several PEs {key} in {program}");
    pe
}

/// The PCEs of a PE, in id order.
pub fn pces(tables: &Tables, pe: ProgramEnrollmentId) -> Vec<&ProgramCourseEnrollmentRow> {
    tables.program_course_enrollments.values().filter(|p| p.program_enrollment_id == pe).collect()
}

/// The CE of `user` in `course`, if any.
pub fn ce<'t>(tables: &'t Tables, user: UserId, course: &str) -> Option<&'t CourseEnrollmentRow> {
    tables.course_enrollments.values().find(|c| c.user_id == user && c.course_id == course)
}

/// `enrolled_in(u, prog, courses)`: u's PE in prog has PCEs whose CEs are exactly those
/// courses (of u), all active, mode `masters`.
pub fn assert_enrolled_in(tables: &Tables, user: UserId, program: ProgramUuid, courses: &[&str]) {
    let pe = tables
        .program_enrollments
        .values()
        .find(|pe| pe.user_id == Some(user) && pe.program_uuid == program)
        .unwrap_or_else(|| panic!("user {user} has no PE in {program}"));
    let mut got: Vec<&str> = pces(tables, pe.id)
        .iter()
        .map(|pce| {
            let id = pce.course_enrollment_id.unwrap_or_else(|| panic!("PCE {} has no CE", pce.id));
            let ce = &tables.course_enrollments[&id];
            assert_eq!(ce.user_id, user, "CE {id} belongs to another user");
            assert_eq!(ce.course_id, pce.course_key, "CE {id} is for another course");
            assert!(ce.is_active && ce.mode == "masters", "CE {id} is {} active={}", ce.mode, ce.is_active);
            ce.course_id.as_str()
        })
        .collect();
    got.sort();
    let mut want = courses.to_vec();
    want.sort();
    assert_eq!(got, want);
}

/// The user's PEs in a program.
pub fn pes_of(tables: &Tables, user: UserId, program: ProgramUuid) -> Vec<&ProgramEnrollmentRow> {
    tables.program_enrollments.values().filter(|pe| pe.user_id == Some(user) && pe.program_uuid == program).collect()
}
