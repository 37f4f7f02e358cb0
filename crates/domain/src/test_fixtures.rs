//! Snapshot builders shared by the unit tests of the rules and of the reads.
#![allow(clippy::unwrap_used)]

use crate::batch::LinkBatch;
use crate::ids::{
    CourseKey, CurriculumUuid, ExternalUserKey, ProgramCourseEnrollmentId, ProgramEnrollmentId, ProgramUuid, UserId,
    Username,
};
use crate::plan::KeyPlan;
use crate::snapshot::{ProgramCourseEnrollmentRecord, ProgramEnrollmentRecord, UserRecord};
use crate::status::PceStatus;

pub const PROGRAM: &str = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";
pub const FRUIT: &str = "course-v1:edX+Oranges+Apples";

pub fn program() -> ProgramUuid {
    ProgramUuid::parse(PROGRAM).unwrap()
}
pub fn curriculum(n: u8) -> CurriculumUuid {
    CurriculumUuid::parse(&format!("00000000-0000-0000-0000-0000000000{n:02x}")).unwrap()
}
pub fn key(k: &str) -> ExternalUserKey {
    ExternalUserKey::parse(k).unwrap()
}
pub fn name(u: &str) -> Username {
    Username::parse(u).unwrap()
}
pub fn course(c: &str) -> CourseKey {
    CourseKey::parse(c).unwrap()
}
pub fn user(id: i64, u: &str) -> UserRecord {
    UserRecord { id: UserId(id), username: name(u), email: format!("{u}@example.com"), is_active: true }
}
pub fn waiting(id: i64, k: &str, c: u8, courses: &[(i64, &str, &str)]) -> ProgramEnrollmentRecord {
    ProgramEnrollmentRecord {
        id: ProgramEnrollmentId(id),
        external_user_key: key(k),
        curriculum_uuid: curriculum(c),
        user: None,
        course_enrollments: courses
            .iter()
            .map(|(id, ck, status)| ProgramCourseEnrollmentRecord {
                id: ProgramCourseEnrollmentId(*id),
                course_key: course(ck),
                status: PceStatus::parse(status),
                course_enrollment_id: None,
            })
            .collect(),
    }
}
pub fn batch(pairs: &[(&str, &str)]) -> LinkBatch {
    LinkBatch::from_pairs(pairs.iter().map(|(k, u)| (key(k), name(u)))).unwrap()
}
pub fn errors(plans: &[KeyPlan]) -> Vec<(String, String)> {
    plans.iter().filter_map(|p| p.outcome.error().map(|e| (p.key.to_string(), e.to_string()))).collect()
}
