//! The writes that link keys, each with its history row.

use async_trait::async_trait;
use domain::{
    CourseEnrollmentId, CourseEnrollmentRef, CourseKey, CourseMode, ForumRoleMembership, InvitationId, NewSchedule,
    ProgramCourseEnrollmentId, ProgramEnrollmentId, RoleAssignmentId, ScheduleReset, UserId,
};

use crate::error::StoreResult;

/// Set a waiting PE's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramEnrollmentLink {
    /// The PE.
    pub program_enrollment: ProgramEnrollmentId,
    /// The user.
    pub user_id: UserId,
}

/// Insert a course enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCourseEnrollment {
    /// `user_id`.
    pub user_id: UserId,
    /// `course_id`.
    pub course_key: CourseKey,
    /// `mode`.
    pub mode: CourseMode,
    /// `is_active`.
    pub is_active: bool,
}

/// Change a course enrollment's mode and activity, if it still has the values read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEnrollmentChange {
    /// The row.
    pub enrollment: CourseEnrollmentRef,
    /// The new `mode`.
    pub mode: CourseMode,
    /// The new `is_active`.
    pub is_active: bool,
    /// The `mode` the row must still have.
    pub read_mode: CourseMode,
    /// The `is_active` the row must still have.
    pub read_active: bool,
}

/// Point a PCE at a course enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEnrollmentAttachment {
    /// The PCE.
    pub program_course_enrollment: ProgramCourseEnrollmentId,
    /// The course enrollment.
    pub enrollment: CourseEnrollmentRef,
}

/// Mark a pending invitation as used by a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvitationUse {
    /// The invitation.
    pub invitation: InvitationId,
    /// The user who used it.
    pub user_id: UserId,
}

/// Set a linked PE's user to NULL (relinking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgramEnrollmentUnlink {
    /// The PE.
    pub program_enrollment: ProgramEnrollmentId,
    /// The user it must still be linked to.
    pub user_id: UserId,
}

/// Deactivate a course enrollment, and move it to another mode (relinking).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseEnrollmentDeactivation {
    /// The row.
    pub enrollment: CourseEnrollmentId,
    /// The new `mode`, or `None` to leave it.
    pub mode: Option<CourseMode>,
}

/// Give a user a course access role (`student_courseaccessrole`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CourseAccessRoleGrant {
    /// `user_id`.
    pub user_id: UserId,
    /// `org`.
    pub org: String,
    /// `course_id`.
    pub course_key: CourseKey,
    /// `role`.
    pub role: String,
}

/// Writes the linking makes.
///
/// # History
/// This is the one statement of the history contract; the methods refer to it. The PE, PCE,
/// course enrollment and schedule tables have django-simple-history tables. Every row that a method of
/// this trait inserts or updates in one of them MUST get, in the same call, one history row:
/// a copy of every column of the live row as it is after the write, `history_type` `+` for an
/// insert and `~` for an update, `history_date` the write's time, `history_user_id` the acting user the transaction was
/// begun with ([`crate::UnitOfWork::begin_as`]) or none, no `history_change_reason`. A row the call leaves untouched (a PE no longer waiting, a course
/// enrollment changed meanwhile) gets none. A write without its history row is therefore not
/// possible through this port, and rolling a savepoint back removes both. The invitation,
/// course access role, role assignment, discussion role and schedule experience tables have no
/// history: their writes add none.
///
/// # Contract
/// - `created` (inserts) and `modified` (every PE and PCE write) are set to the write's time.
/// - Each method takes any number of items and may use multi-row statements.
/// - Items MUST name rows that exist. A [`CourseEnrollmentRef::New`] is the row with that
///   `(user_id, course_id)`, created earlier in the transaction. An implementation that meets
///   an item naming no row returns [`crate::StoreError::Misuse`] (or, where a method says so,
///   reports the item as untouched).
///
/// # Errors
/// Each method's own section, and the errors of [any statement](crate::StoreError#any-statement).
/// After an error, the transaction's state is unspecified until the savepoint the write ran in
/// is rolled back.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LinkingWrites: Send + Sync {
    /// Sets `user_id` (and `modified`) of each PE that is still waiting (`user_id IS NULL`) at
    /// the moment of the write, each with its `~` row [history](LinkingWrites#history). Returns
    /// the PEs that were not waiting any more, untouched.
    ///
    /// # Errors
    /// [`crate::StoreError::UniqueViolation`] naming `(user_id, program_uuid, curriculum_uuid)`
    /// when the user already has a PE in that curriculum; [`crate::StoreError::Misuse`] for a
    /// PE that does not exist, or it is reported as not waiting.
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>>;

    /// Inserts course enrollments (`created` now), each with its `+`
    /// [history](LinkingWrites#history) row.
    ///
    /// # Errors
    /// [`crate::StoreError::UniqueViolation`] naming `(user_id, course_id)` when the user
    /// already has an enrollment in the course (another writer's, created meanwhile).
    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()>;

    /// Updates the mode and activity of each course enrollment that still has its
    /// `read_mode` and `read_active` at the moment of the write (another writer's change since
    /// the read is never overwritten). Returns an empty list when every one was written. If any
    /// had changed, returns a non-empty list naming at least those (an adapter that cannot tell
    /// which may name them all); the changed ones are untouched, but the others may have been
    /// written without their history: the caller MUST roll its savepoint back. Each one
    /// written gets its `~` [history](LinkingWrites#history) row.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] for a [`CourseEnrollmentRef::New`] that names no row.
    async fn change_course_enrollments(
        &self,
        changes: &[CourseEnrollmentChange],
    ) -> StoreResult<Vec<CourseEnrollmentRef>>;

    /// Sets `course_enrollment_id` (and `modified`) of PCEs, each with its `~`
    /// [history](LinkingWrites#history) row.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] for a course enrollment reference that names no row, or a
    /// PCE that does not exist.
    async fn attach_course_enrollments(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()>;

    /// Sets `user_id` of pending invitations. No history (the table has none). A no-op where
    /// the invitation table does not exist. An invitation no longer pending is left as it is.
    ///
    /// # Errors
    /// Only those of [any statement](crate::StoreError#any-statement).
    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()>;

    /// Sets `user_id` to NULL (and `modified`) of each PE still linked to the given user at the
    /// moment of the write, each with its `~` [history](LinkingWrites#history) row. Returns the
    /// PEs that were not, untouched.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] for a PE that does not exist, or it is reported as not
    /// linked.
    async fn unlink_program_enrollments(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>>;

    /// Sets `is_active` to false, and `mode` where given, of course enrollments, each with its
    /// `~` [history](LinkingWrites#history) row.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] for a course enrollment that does not exist, or it is left
    /// alone.
    async fn deactivate_course_enrollments(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()>;

    /// Sets `course_enrollment_id` to NULL (and `modified`) of PCEs, each with its `~`
    /// [history](LinkingWrites#history) row.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] for a PCE that does not exist, or it is left alone.
    async fn detach_course_enrollments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<()>;

    /// Inserts each course access role unless a row with the same `(user_id, org, course_id,
    /// role)` exists (then nothing happens, no error). No history (the table has none).
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] when `grants` is not empty and the course access role
    /// tables do not exist ([`crate::LinkingReads::course_access_roles_supported`] is false):
    /// the caller MUST NOT grant roles there. [`crate::StoreError::UniqueViolation`] naming
    /// `(user_id, org, course_id, role)` if another writer inserted the same role meanwhile. A
    /// user that does not exist is [`crate::StoreError::Misuse`] or, where the database
    /// enforces its foreign key, [`crate::StoreError::Backend`].
    async fn grant_course_access_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()>;

    /// Deletes role assignments (the only rows the linking ever deletes). No history (the
    /// table has none). An id that names no row is ignored.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] when `assignments` is not empty and the course access
    /// role tables do not exist.
    async fn delete_role_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()>;

    /// Gives each user the course's `Student` discussion role: creates the
    /// `django_comment_client_role` row `(course_id, name = 'Student')` where the course has
    /// none (reusing the one with the lowest id where it has some), then adds the user to it in
    /// `django_comment_client_role_users` unless already there. No history (the tables have
    /// none). A no-op where the discussion role tables do not exist
    /// ([`crate::LinkingReads::forum_roles_supported`]).
    ///
    /// # Errors
    /// [`crate::StoreError::UniqueViolation`] naming `(role_id, user_id)` if another writer
    /// added the same membership meanwhile. A user that does not exist is
    /// [`crate::StoreError::Misuse`] or, where the database enforces its foreign key,
    /// [`crate::StoreError::Backend`].
    async fn add_forum_student_roles(&self, memberships: &[ForumRoleMembership]) -> StoreResult<()>;

    /// Creates each enrollment's schedule (`active` true, `start_date` and `upgrade_deadline`
    /// from [`NewSchedule::start_date`] and [`NewSchedule::upgrade_deadline`] given the
    /// enrollment's `created`, `created` and `modified` now), its
    /// `schedules_scheduleexperience` row and its `+` [history](LinkingWrites#history) row. A
    /// no-op where the schedule tables do not exist
    /// ([`crate::LinkingReads::schedules_supported`]).
    ///
    /// # Errors
    /// [`crate::StoreError::UniqueViolation`] naming `(enrollment_id)` when the enrollment
    /// already has a schedule; [`crate::StoreError::Misuse`] for a course enrollment reference
    /// that names no row.
    async fn create_schedules(&self, schedules: &[NewSchedule]) -> StoreResult<()>;

    /// Sets the `start_date` (and `modified`) of each enrollment's schedule to
    /// [`ScheduleReset::start_date`] given the enrollment's `created` and the write's time,
    /// each with its `~` [history](LinkingWrites#history) row. An enrollment without a
    /// schedule is left as it is. A no-op where the schedule tables do not exist.
    ///
    /// # Errors
    /// [`crate::StoreError::Misuse`] for a course enrollment reference that names no row.
    async fn reset_schedule_starts(&self, resets: &[ScheduleReset]) -> StoreResult<()>;
}
