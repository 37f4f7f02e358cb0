//! The writes that link keys, each with its history row.

use async_trait::async_trait;
use domain::{
    CourseEnrollmentId, CourseEnrollmentRef, CourseKey, CourseMode, InvitationId, ProgramCourseEnrollmentId,
    ProgramEnrollmentId, RoleAssignmentId, UserId,
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
/// # Contract
/// - Every insert or update of a PE, PCE or course enrollment MUST also insert its history
///   row (django-simple-history's `+` for an insert, `~` for an update, a copy of the live row
///   after the write, `history_date` the write's time, `history_user_id` the acting user the
///   transaction was begun with ([`crate::UnitOfWork::begin_as`]) or none, no change reason), in the same
///   transaction: a write without its history is not possible through this port.
/// - `created` (inserts) and `modified` (every PE and PCE write) are set to the write's time.
/// - Each method takes any number of items and may use multi-row statements.
/// - A [`CourseEnrollmentRef::New`] is the row with that `(user_id, course_id)`; it MUST exist
///   (created earlier in the transaction).
///
/// # Errors
/// [`crate::StoreError::UniqueViolation`] when a write violates a unique constraint; the
/// transaction's state is then unspecified until its savepoint is rolled back.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LinkingWrites: Send + Sync {
    /// Sets `user_id` (and `modified`) of each PE that is still waiting (`user_id IS NULL`) at
    /// the moment of the write. Returns the PEs that were not waiting any more, untouched.
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>>;

    /// Inserts course enrollments (`created` now).
    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()>;

    /// Updates the mode and activity of each course enrollment that still has its
    /// `read_mode` and `read_active` at the moment of the write (another writer's change since
    /// the read is never overwritten). Returns an empty list when every one was written. If any
    /// had changed, returns a non-empty list naming at least those (an adapter that cannot tell
    /// which may name them all); the changed ones are untouched, but the others may have been
    /// written without their history: the caller MUST roll its savepoint back.
    async fn change_course_enrollments(
        &self,
        changes: &[CourseEnrollmentChange],
    ) -> StoreResult<Vec<CourseEnrollmentRef>>;

    /// Sets `course_enrollment_id` (and `modified`) of PCEs.
    async fn attach_course_enrollments(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()>;

    /// Sets `user_id` of pending invitations. No history (the table has none). A no-op where
    /// the invitation table does not exist.
    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()>;

    /// Sets `user_id` to NULL (and `modified`) of each PE still linked to the given user at the
    /// moment of the write. Returns the PEs that were not, untouched.
    async fn unlink_program_enrollments(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>>;

    /// Sets `is_active` to false, and `mode` where given, of course enrollments.
    async fn deactivate_course_enrollments(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()>;

    /// Sets `course_enrollment_id` to NULL (and `modified`) of PCEs.
    async fn detach_course_enrollments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<()>;

    /// Inserts each course access role unless a row with the same `(user_id, org, course_id,
    /// role)` exists (then nothing happens, no error). No history (the table has none).
    async fn grant_course_access_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()>;

    /// Deletes role assignments (the only rows the linking ever deletes).
    async fn delete_role_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()>;
}
