//! A unit of work that calls a hook before some writes and then delegates to another one: how
//! the tests inject faults and concurrent writers without an adapter of their own.

use std::sync::Arc;

use async_trait::async_trait;
use domain::{
    ForumRoleMembership, NewSchedule, ProgramCourseEnrollmentId, ProgramEnrollmentId, RoleAssignmentId, ScheduleReset,
};
use ports::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation,
    InvitationUse, LinkingReads, LinkingWrites, NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink,
    StoreResult, Transaction, UnitOfWork,
};

/// Called before a write is delegated; an error is returned instead of making the write.
#[async_trait]
pub trait WriteHook: Send + Sync {
    /// Before `link_program_enrollments`.
    async fn before_link(&self, _links: &[ProgramEnrollmentLink]) -> StoreResult<()> {
        Ok(())
    }
    /// Before `create_course_enrollments`.
    async fn before_create(&self, _enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        Ok(())
    }
    /// Before `change_course_enrollments`.
    async fn before_change(&self, _changes: &[CourseEnrollmentChange]) -> StoreResult<()> {
        Ok(())
    }
    /// Before `attach_course_enrollments`.
    async fn before_attach(&self, _attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        Ok(())
    }
    /// Before `grant_course_access_roles`.
    async fn before_grant(&self, _grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        Ok(())
    }
}

/// `inner`, with `hook` called before its writes, in the transaction and every savepoint.
pub struct Hooked {
    /// The unit of work that does the work.
    pub inner: Arc<dyn UnitOfWork>,
    /// The hook.
    pub hook: Arc<dyn WriteHook>,
}

struct HookedTx {
    inner: Box<dyn Transaction>,
    hook: Arc<dyn WriteHook>,
}

#[async_trait]
impl UnitOfWork for Hooked {
    async fn begin(&self) -> StoreResult<Box<dyn Transaction>> {
        Ok(Box::new(HookedTx { inner: self.inner.begin().await?, hook: Arc::clone(&self.hook) }))
    }
}

#[async_trait]
impl Transaction for HookedTx {
    fn reads(&self) -> &dyn LinkingReads {
        self.inner.reads()
    }
    fn writes(&self) -> &dyn LinkingWrites {
        self
    }
    async fn savepoint(&self) -> StoreResult<Box<dyn Transaction>> {
        Ok(Box::new(HookedTx { inner: self.inner.savepoint().await?, hook: Arc::clone(&self.hook) }))
    }
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.inner.commit().await
    }
    async fn rollback(self: Box<Self>) -> StoreResult<()> {
        self.inner.rollback().await
    }
}

#[async_trait]
impl LinkingWrites for HookedTx {
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>> {
        self.hook.before_link(links).await?;
        self.inner.writes().link_program_enrollments(links).await
    }
    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        self.hook.before_create(enrollments).await?;
        self.inner.writes().create_course_enrollments(enrollments).await
    }
    async fn change_course_enrollments(
        &self,
        changes: &[CourseEnrollmentChange],
    ) -> StoreResult<Vec<domain::CourseEnrollmentRef>> {
        self.hook.before_change(changes).await?;
        self.inner.writes().change_course_enrollments(changes).await
    }
    async fn attach_course_enrollments(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        self.hook.before_attach(attachments).await?;
        self.inner.writes().attach_course_enrollments(attachments).await
    }
    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()> {
        self.inner.writes().mark_invitations_used(uses).await
    }
    async fn unlink_program_enrollments(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>> {
        self.inner.writes().unlink_program_enrollments(unlinks).await
    }
    async fn deactivate_course_enrollments(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()> {
        self.inner.writes().deactivate_course_enrollments(deactivations).await
    }
    async fn detach_course_enrollments(&self, pces: &[ProgramCourseEnrollmentId]) -> StoreResult<()> {
        self.inner.writes().detach_course_enrollments(pces).await
    }
    async fn grant_course_access_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        self.hook.before_grant(grants).await?;
        self.inner.writes().grant_course_access_roles(grants).await
    }
    async fn delete_role_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()> {
        self.inner.writes().delete_role_assignments(assignments).await
    }
    async fn add_forum_student_roles(&self, memberships: &[ForumRoleMembership]) -> StoreResult<()> {
        self.inner.writes().add_forum_student_roles(memberships).await
    }
    async fn create_schedules(&self, schedules: &[NewSchedule]) -> StoreResult<()> {
        self.inner.writes().create_schedules(schedules).await
    }
    async fn reset_schedule_starts(&self, resets: &[ScheduleReset]) -> StoreResult<()> {
        self.inner.writes().reset_schedule_starts(resets).await
    }
}
