//! The in-memory tables: one struct per row, the columns of Open edX's tables.

use std::collections::BTreeMap;
use std::time::SystemTime;

use domain::{
    CourseEnrollmentId, CurriculumUuid, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId, ProgramUuid,
    RoleAssignmentId, UserId,
};

/// `auth_user` (the columns the linking reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// `id`.
    pub id: UserId,
    /// `username`.
    pub username: String,
    /// `email`.
    pub email: String,
    /// `is_active`.
    pub is_active: bool,
}

/// `program_enrollments_programenrollment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramEnrollmentRow {
    /// `id`.
    pub id: ProgramEnrollmentId,
    /// `created`.
    pub created: SystemTime,
    /// `modified`.
    pub modified: SystemTime,
    /// `user_id`.
    pub user_id: Option<UserId>,
    /// `external_user_key`.
    pub external_user_key: Option<String>,
    /// `program_uuid`.
    pub program_uuid: ProgramUuid,
    /// `curriculum_uuid`.
    pub curriculum_uuid: CurriculumUuid,
    /// `status`.
    pub status: String,
}

/// `program_enrollments_programcourseenrollment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramCourseEnrollmentRow {
    /// `id`.
    pub id: ProgramCourseEnrollmentId,
    /// `created`.
    pub created: SystemTime,
    /// `modified`.
    pub modified: SystemTime,
    /// `program_enrollment_id`.
    pub program_enrollment_id: ProgramEnrollmentId,
    /// `course_enrollment_id`.
    pub course_enrollment_id: Option<CourseEnrollmentId>,
    /// `course_key`.
    pub course_key: String,
    /// `status`.
    pub status: String,
}

/// `student_courseenrollment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEnrollmentRow {
    /// `id`.
    pub id: CourseEnrollmentId,
    /// `user_id`.
    pub user_id: UserId,
    /// `course_id`.
    pub course_id: String,
    /// `created`.
    pub created: Option<SystemTime>,
    /// `is_active`.
    pub is_active: bool,
    /// `mode`.
    pub mode: String,
}

/// `student_courseenrollmentallowed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationRow {
    /// `id`.
    pub id: InvitationId,
    /// `email`.
    pub email: String,
    /// `course_id`.
    pub course_id: String,
    /// `auto_enroll`.
    pub auto_enroll: bool,
    /// `user_id`.
    pub user_id: Option<UserId>,
    /// `created`.
    pub created: Option<SystemTime>,
}

/// `course_modes_coursemode` (the columns the linking reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseModeRow {
    /// `id`.
    pub id: i64,
    /// `course_id`.
    pub course_id: String,
    /// `mode_slug`.
    pub mode_slug: String,
    /// `expiration_datetime`.
    pub expiration_datetime: Option<SystemTime>,
}

/// `student_courseaccessrole`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseAccessRoleRow {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub user_id: UserId,
    /// `org`.
    pub org: String,
    /// `course_id`.
    pub course_id: String,
    /// `role`.
    pub role: String,
}

/// `program_enrollments_courseaccessroleassignment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignmentRow {
    /// `id`.
    pub id: RoleAssignmentId,
    /// `created`.
    pub created: SystemTime,
    /// `modified`.
    pub modified: SystemTime,
    /// `role`.
    pub role: String,
    /// `enrollment_id`.
    pub enrollment_id: ProgramCourseEnrollmentId,
}

/// The columns of `course_overviews_courseoverview` the schedules read, beside its id and
/// display name. A course without an entry has no `start`, is instructor-paced and has
/// `has_highlights` NULL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseOverviewFields {
    /// `start`.
    pub start: Option<SystemTime>,
    /// `self_paced`.
    pub self_paced: bool,
    /// `has_highlights`.
    pub has_highlights: Option<bool>,
}

/// `django_comment_client_role`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumRoleRow {
    /// `id`.
    pub id: i64,
    /// `name`.
    pub name: String,
    /// `course_id`.
    pub course_id: String,
}

/// `django_comment_client_role_users` (unique `(role_id, user_id)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForumRoleUserRow {
    /// `id`.
    pub id: i64,
    /// `role_id`.
    pub role_id: i64,
    /// `user_id`.
    pub user_id: UserId,
}

/// `schedules_schedule` (unique `enrollment_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRow {
    /// `id`.
    pub id: i64,
    /// `created`.
    pub created: SystemTime,
    /// `modified`.
    pub modified: SystemTime,
    /// `active`.
    pub active: bool,
    /// `start_date`.
    pub start_date: Option<SystemTime>,
    /// `upgrade_deadline`.
    pub upgrade_deadline: Option<SystemTime>,
    /// `enrollment_id`.
    pub enrollment_id: CourseEnrollmentId,
}

/// `schedules_scheduleexperience` (unique `schedule_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleExperienceRow {
    /// `id`.
    pub id: i64,
    /// `experience_type`.
    pub experience_type: i16,
    /// `schedule_id`.
    pub schedule_id: i64,
}

/// Which configuration a dynamic upgrade deadline row belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeDeadlineScope {
    /// `courseware_dynamicupgradedeadlineconfiguration`.
    Global,
    /// `courseware_orgdynamicupgradedeadlineconfiguration`, for this `org_id`.
    Org(String),
    /// `courseware_coursedynamicupgradedeadlineconfiguration`, for this `course_id`.
    Course(String),
}

/// A row of one of courseware's three dynamic upgrade deadline configuration tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeDeadlineConfigRow {
    /// `id`.
    pub id: i64,
    /// The table, and its key.
    pub scope: UpgradeDeadlineScope,
    /// `change_date`: the current row of a key is its latest.
    pub change_date: SystemTime,
    /// `enabled`.
    pub enabled: bool,
    /// `deadline_days`.
    pub deadline_days: i64,
    /// `opt_out` (false for the global table, which has none).
    pub opt_out: bool,
}

/// What kind of write a history row records (`history_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryType {
    /// `+`: an insert.
    Insert,
    /// `~`: an update.
    Update,
}

impl HistoryType {
    /// The stored character.
    pub fn as_char(self) -> char {
        match self {
            Self::Insert => '+',
            Self::Update => '~',
        }
    }
}

/// A django-simple-history row: a copy of the live row after a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow<T> {
    /// `history_id` (a counter here; a UUID in `student_courseenrollment_history` on databases).
    pub history_id: u64,
    /// The live row's columns after the write.
    pub row: T,
    /// `history_date`.
    pub history_date: SystemTime,
    /// `history_type`.
    pub history_type: HistoryType,
    /// `history_user_id`: the acting user of the transaction that wrote the row, if any.
    pub history_user_id: Option<UserId>,
    /// `history_change_reason`.
    pub history_change_reason: Option<String>,
}

/// Every table, as plain data. Cloned out by [`crate::MemoryDatabase::tables`] for inspection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    /// `auth_user`.
    pub users: BTreeMap<UserId, UserRow>,
    /// `course_overviews_courseoverview`: id to display name.
    pub course_overviews: BTreeMap<String, String>,
    /// `course_overviews_courseoverview`: id to the columns schedules read.
    pub course_overview_fields: BTreeMap<String, CourseOverviewFields>,
    /// `program_enrollments_programenrollment`.
    pub program_enrollments: BTreeMap<ProgramEnrollmentId, ProgramEnrollmentRow>,
    /// `program_enrollments_programcourseenrollment`.
    pub program_course_enrollments: BTreeMap<ProgramCourseEnrollmentId, ProgramCourseEnrollmentRow>,
    /// `student_courseenrollment`.
    pub course_enrollments: BTreeMap<CourseEnrollmentId, CourseEnrollmentRow>,
    /// `student_courseenrollmentallowed`; `None` where the table does not exist.
    pub invitations: Option<BTreeMap<InvitationId, InvitationRow>>,
    /// `course_modes_coursemode`.
    pub course_modes: BTreeMap<i64, CourseModeRow>,
    /// `student_courseaccessrole`; `None` where the role tables do not exist.
    pub course_access_roles: Option<BTreeMap<i64, CourseAccessRoleRow>>,
    /// `program_enrollments_courseaccessroleassignment`; `None` where the role tables do not
    /// exist.
    pub role_assignments: Option<BTreeMap<RoleAssignmentId, RoleAssignmentRow>>,
    /// `program_enrollments_historicalprogramenrollment`.
    pub program_enrollment_history: Vec<HistoryRow<ProgramEnrollmentRow>>,
    /// `program_enrollments_historicalprogramcourseenrollment`.
    pub program_course_enrollment_history: Vec<HistoryRow<ProgramCourseEnrollmentRow>>,
    /// `student_courseenrollment_history`.
    pub course_enrollment_history: Vec<HistoryRow<CourseEnrollmentRow>>,
    /// The inspector's tables (SSO records, SAML providers, organisations).
    pub learners: crate::learners::LearnerTables,
    /// `django_comment_client_role`; `None` where the discussion role tables do not exist.
    pub forum_roles: Option<BTreeMap<i64, ForumRoleRow>>,
    /// `django_comment_client_role_users`; `None` where the discussion role tables do not exist.
    pub forum_role_users: Option<BTreeMap<i64, ForumRoleUserRow>>,
    /// `schedules_schedule`; `None` where the schedule tables do not exist.
    pub schedules: Option<BTreeMap<i64, ScheduleRow>>,
    /// `schedules_scheduleexperience`; `None` where the schedule tables do not exist.
    pub schedule_experiences: Option<BTreeMap<i64, ScheduleExperienceRow>>,
    /// `schedules_historicalschedule`.
    pub schedule_history: Vec<HistoryRow<ScheduleRow>>,
    /// The three dynamic upgrade deadline configuration tables (the linking only reads them).
    pub upgrade_deadline_configurations: Vec<UpgradeDeadlineConfigRow>,
}
