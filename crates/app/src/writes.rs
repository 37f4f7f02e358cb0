//! Writes the plans of linked keys through the ports, one port call per kind of write.

use domain::{CourseEnrollmentWrite, LinkWrites};
use ports::{
    CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation, InvitationUse, LinkingWrites,
    NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink, StoreResult,
};

use crate::side_rows;

/// What happened when keys' writes were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// Every write was made.
    All,
    /// Another writer got there first: a PE was no longer waiting when written, or a course
    /// enrollment no longer had the mode and activity the plan read. The caller must roll the
    /// savepoint back: the other writes may have been made.
    Contended,
}

/// Makes the writes of one or more keys, one port call per kind of write, in the order upstream
/// makes them for one key: the PEs' users first (where the `(user_id, program_uuid,
/// curriculum_uuid)` constraint bites), then new course enrollments, changed ones, what the
/// LMS's receivers of those saves write ([`side_rows::write`]), invitations, and the PCEs. Several keys may share a call only if no course enrollment is written twice.
pub(crate) async fn write_links(writes: &dyn LinkingWrites, plans: &[&LinkWrites]) -> StoreResult<Written> {
    if write_unlinks(writes, plans).await? == Written::Contended {
        return Ok(Written::Contended);
    }
    let links: Vec<ProgramEnrollmentLink> = plans
        .iter()
        .map(|plan| ProgramEnrollmentLink { program_enrollment: plan.program_enrollment, user_id: plan.user_id })
        .collect();
    if !writes.link_program_enrollments(&links).await?.is_empty() {
        return Ok(Written::Contended);
    }
    let mut creates = Vec::new();
    let mut changes = Vec::new();
    let mut invitations = Vec::new();
    let mut attachments = Vec::new();
    for (plan, course) in plans.iter().flat_map(|plan| plan.courses.iter().map(move |course| (plan, course))) {
        match &course.write {
            Some(CourseEnrollmentWrite::Create { mode, is_active }) => creates.push(NewCourseEnrollment {
                user_id: plan.user_id,
                course_key: course.course_key.clone(),
                mode: mode.clone(),
                is_active: *is_active,
            }),
            Some(CourseEnrollmentWrite::Update { mode, is_active, read_mode, read_active }) => {
                changes.push(CourseEnrollmentChange {
                    enrollment: course.enrollment.clone(),
                    mode: mode.clone(),
                    is_active: *is_active,
                    read_mode: read_mode.clone(),
                    read_active: *read_active,
                });
            }
            None => {}
        }
        invitations
            .extend(course.invitations.iter().map(|&invitation| InvitationUse { invitation, user_id: plan.user_id }));
        attachments.push(CourseEnrollmentAttachment {
            program_course_enrollment: course.program_course_enrollment,
            enrollment: course.enrollment.clone(),
        });
    }
    if !creates.is_empty() {
        writes.create_course_enrollments(&creates).await?;
    }
    if !changes.is_empty() && !writes.change_course_enrollments(&changes).await?.is_empty() {
        return Ok(Written::Contended);
    }
    // What the LMS's receivers of those saves (and of the unlinks') would write.
    side_rows::write(writes, plans).await?;
    if !invitations.is_empty() {
        writes.mark_invitations_used(&invitations).await?;
    }
    if !attachments.is_empty() {
        writes.attach_course_enrollments(&attachments).await?;
    }
    Ok(Written::All)
}

/// Relinking: unlinks the PEs from their current users before they are linked again. The PEs
/// first (only those still linked to the user the plan saw), then the old users' course
/// enrollments that change (deactivated, moved to `audit` where planned) and the PCEs
/// (detached).
async fn write_unlinks(writes: &dyn LinkingWrites, plans: &[&LinkWrites]) -> StoreResult<Written> {
    let unlinks: Vec<_> = plans.iter().filter_map(|plan| plan.unlink.as_ref()).collect();
    if unlinks.is_empty() {
        return Ok(Written::All);
    }
    let pes: Vec<ProgramEnrollmentUnlink> = unlinks
        .iter()
        .map(|u| ProgramEnrollmentUnlink { program_enrollment: u.program_enrollment, user_id: u.user_id })
        .collect();
    if !writes.unlink_program_enrollments(&pes).await?.is_empty() {
        return Ok(Written::Contended);
    }
    let courses: Vec<_> = unlinks.iter().flat_map(|u| u.courses.iter()).collect();
    // Only the enrollments that change: upstream saves an enrollment only on change.
    let deactivations: Vec<CourseEnrollmentDeactivation> = courses
        .iter()
        .filter(|c| c.changes)
        .map(|c| CourseEnrollmentDeactivation { enrollment: c.enrollment, mode: c.mode.clone() })
        .collect();
    if !deactivations.is_empty() {
        writes.deactivate_course_enrollments(&deactivations).await?;
    }
    if !courses.is_empty() {
        let pces: Vec<_> = courses.iter().map(|c| c.program_course_enrollment).collect();
        writes.detach_course_enrollments(&pces).await?;
    }
    Ok(Written::All)
}
