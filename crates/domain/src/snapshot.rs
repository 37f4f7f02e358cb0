//! What the bulk reads return: the part of the database one call can touch.

use crate::collation::Collation;
use crate::ids::{
    CourseEnrollmentId, CourseKey, CurriculumUuid, ExternalUserKey, InvitationId, ProgramCourseEnrollmentId,
    ProgramEnrollmentId, RoleAssignmentId, UserId, Username,
};
use crate::lms_rows::{CourseOverviewRecord, DeadlineSetting, Timestamp};
use crate::status::{CourseMode, PceStatus, UnknownStatus};

/// A user, as the rules need it (`auth_user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// `id`.
    pub id: UserId,
    /// `username`.
    pub username: Username,
    /// `email`, used to find the user's pending course invitations.
    pub email: String,
    /// `is_active`: an inactive user is linked, but is granted no course access role.
    pub is_active: bool,
}

/// The user a program enrollment is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedUser {
    /// `auth_user.id`.
    pub id: UserId,
    /// `auth_user.username`.
    pub username: Username,
}

/// A program enrollment of the call's program whose key is one of the input keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramEnrollmentRecord {
    /// `id`.
    pub id: ProgramEnrollmentId,
    /// `external_user_key`, as stored.
    pub external_user_key: ExternalUserKey,
    /// `curriculum_uuid`.
    pub curriculum_uuid: CurriculumUuid,
    /// The linked user, if any (`user_id` joined to `auth_user`).
    pub user: Option<LinkedUser>,
    /// Its program course enrollments, in any order (the planner sorts them by id).
    pub course_enrollments: Vec<ProgramCourseEnrollmentRecord>,
}

/// A program course enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramCourseEnrollmentRecord {
    /// `id`.
    pub id: ProgramCourseEnrollmentId,
    /// `course_key`.
    pub course_key: CourseKey,
    /// `status` as stored. Text other than `active`/`inactive` is corrupt data; it aborts the
    /// call only when the rules reach this row, as upstream does.
    pub status: Result<PceStatus, UnknownStatus>,
    /// `course_enrollment_id`.
    pub course_enrollment_id: Option<CourseEnrollmentId>,
}

/// Another program enrollment of a target user in the call's program: what the
/// `(user_id, program_uuid, curriculum_uuid)` unique constraint is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserProgramEnrollment {
    /// `id`.
    pub id: ProgramEnrollmentId,
    /// `user_id`.
    pub user_id: UserId,
    /// `curriculum_uuid`.
    pub curriculum_uuid: CurriculumUuid,
}

/// A course enrollment of a target user in a course of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEnrollmentRecord {
    /// `id`.
    pub id: CourseEnrollmentId,
    /// `user_id`.
    pub user_id: UserId,
    /// `course_id`.
    pub course_key: CourseKey,
    /// `mode`.
    pub mode: CourseMode,
    /// `is_active`.
    pub is_active: bool,
}

/// A pending course invitation (`student_courseenrollmentallowed` with no `user_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRecord {
    /// `id`.
    pub id: InvitationId,
    /// `email`, as stored (compared with the user's as the database compares it).
    pub email: String,
    /// `course_id`.
    pub course_key: CourseKey,
}

/// A pending course access role (`program_enrollments_courseaccessroleassignment`): the role to
/// give, on the PCE's course, to whoever the PE gets linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignmentRecord {
    /// `id`.
    pub id: RoleAssignmentId,
    /// `enrollment_id`: the PCE.
    pub program_course_enrollment: ProgramCourseEnrollmentId,
    /// `role`, as stored (`staff` is the only role Open edX defines).
    pub role: String,
}

/// A mode a course offers now (`course_modes_coursemode` rows whose `expiration_datetime` is
/// NULL or in the future).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseModeRecord {
    /// `course_id`.
    pub course_key: CourseKey,
    /// `mode_slug`.
    pub mode: CourseMode,
}

/// Everything the rules look at for one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The program's enrollments whose key is an input key (any curriculum, any status).
    pub program_enrollments: Vec<ProgramEnrollmentRecord>,
    /// The users whose username is an input username.
    pub users: Vec<UserRecord>,
    /// The target users' program enrollments in the program (linked ones, any key).
    pub user_program_enrollments: Vec<UserProgramEnrollment>,
    /// The target users' course enrollments in the courses of the waiting enrollments.
    pub course_enrollments: Vec<CourseEnrollmentRecord>,
    /// Which of those courses exist (have a course overview row).
    pub existing_courses: Vec<CourseKey>,
    /// The target users' pending invitations to those courses.
    pub invitations: Vec<InvitationRecord>,
    /// The unexpired modes of the courses of PEs that may be relinked (relinking only).
    pub course_modes: Vec<CourseModeRecord>,
    /// The pending role assignments of the PCEs of PEs that may be linked.
    pub role_assignments: Vec<RoleAssignmentRecord>,
    /// How the database compares course keys and emails: the rules match the course
    /// enrollments, courses, modes and invitations read here to the PCEs as it does.
    pub collation: Collation,
    /// The course overviews of those courses (start, pacing, highlights), for schedules.
    pub course_overviews: Vec<CourseOverviewRecord>,
    /// The dynamic upgrade deadline configuration, where its tables exist.
    pub upgrade_deadlines: UpgradeDeadlineSettings,
}

/// The current rows of courseware's dynamic upgrade deadline configuration and the courses'
/// verified mode expirations: what a new schedule's `upgrade_deadline` is computed from. Empty
/// (every deadline NULL) where the configuration tables do not exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpgradeDeadlineSettings {
    /// `courseware_dynamicupgradedeadlineconfiguration`'s current row.
    pub global: Option<DeadlineSetting>,
    /// `courseware_orgdynamicupgradedeadlineconfiguration`'s current row per `org_id`.
    pub orgs: Vec<(String, DeadlineSetting)>,
    /// `courseware_coursedynamicupgradedeadlineconfiguration`'s current row per course.
    pub courses: Vec<(CourseKey, DeadlineSetting)>,
    /// The `expiration_datetime` of each course's unexpired `verified` mode that has one.
    pub verified_expirations: Vec<(CourseKey, Timestamp)>,
}
