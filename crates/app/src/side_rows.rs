//! The rows the LMS's receivers of a course enrollment's save would write with it (the
//! `Student` forum role, the schedule, its reset on a mode change), planned by the domain
//! ([`domain::EnrollmentSideRows`]) and written here in the key's (or chunk's) savepoint, right
//! after the enrollments: a rolled-back savepoint leaves none of them.

use std::collections::HashSet;

use domain::{ForumRoleMembership, LinkWrites, LogLine, NewSchedule, ScheduleReset};
use ports::{LinkingReads, LinkingWrites, StoreResult};

use crate::log::emit;
use crate::roles;

/// Logs, once per call, each kind of write skipped on a database without its tables: course
/// access roles, discussion roles, schedules.
pub(crate) async fn announce_skipped(reads: &dyn LinkingReads) -> StoreResult<()> {
    roles::announce(reads).await?;
    if !reads.forum_roles_supported().await? {
        emit(&LogLine::ForumRolesSkipped);
    }
    if !reads.schedules_supported().await? {
        emit(&LogLine::SchedulesSkipped);
    }
    Ok(())
}

/// Writes the side rows of `plans`, one port call per kind (the adapters skip a kind whose
/// tables do not exist). A membership two keys of a chunk share is written once.
pub(crate) async fn write(writes: &dyn LinkingWrites, plans: &[&LinkWrites]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    let memberships: Vec<ForumRoleMembership> = plans
        .iter()
        .flat_map(|plan| plan.side_rows.forum_roles.iter())
        .filter(|membership| seen.insert(*membership))
        .cloned()
        .collect();
    if !memberships.is_empty() {
        writes.add_forum_student_roles(&memberships).await?;
    }
    let schedules: Vec<NewSchedule> = plans.iter().flat_map(|plan| plan.side_rows.schedules.iter().cloned()).collect();
    if !schedules.is_empty() {
        writes.create_schedules(&schedules).await?;
    }
    let resets: Vec<ScheduleReset> =
        plans.iter().flat_map(|plan| plan.side_rows.schedule_resets.iter().cloned()).collect();
    if !resets.is_empty() {
        writes.reset_schedule_starts(&resets).await?;
    }
    Ok(())
}
