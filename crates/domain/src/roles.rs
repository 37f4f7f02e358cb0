//! Course access role fulfilment (upstream, April 2020): a PCE's pending role assignments are
//! given to the user its PE gets linked to.

use crate::ids::{CourseKey, ExternalUserKey, ProgramCourseEnrollmentId, ProgramUuid};
use crate::messages::{LogLine, RoleAttempt};
use crate::snapshot::{RoleAssignmentRecord, UserRecord};

/// The roles an assignment may name (Open edX's `ProgramCourseEnrollmentRoles`).
pub const KNOWN_ROLES: [&str; 1] = ["staff"];

/// What fulfilling one assignment writes, in its own savepoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleAction {
    /// Insert the `student_courseaccessrole` row unless it exists, then delete the assignment.
    Grant {
        /// `org`: the course key's organisation.
        org: String,
    },
    /// The user is inactive: grant nothing, but delete the assignment (as upstream does).
    ConsumeOnly,
    /// An unknown role or a course key without organisation: nothing is written, the
    /// assignment is kept, and the failure is already in the plan's log.
    Fail,
}

/// One assignment to fulfil while linking a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleFulfilment {
    /// Who, what, where (the log lines' values).
    pub attempt: RoleAttempt,
    /// The writes.
    pub action: RoleAction,
}

impl RoleFulfilment {
    /// Whether it writes anything.
    pub fn writes(&self) -> bool {
        !matches!(self.action, RoleAction::Fail)
    }

    /// The ERROR line of a failed fulfilment.
    pub fn failure_log(&self) -> LogLine {
        LogLine::UnableToCreateAccessRole(self.attempt.clone())
    }
}

/// The fulfilments of one PCE's assignments (in id order), with their INFO lines (and the ERROR
/// line of those that cannot work) appended to `log`.
pub(crate) fn plan_roles(
    assignments: &[RoleAssignmentRecord],
    user: &UserRecord,
    key: &ExternalUserKey,
    course_key: &CourseKey,
    pce: ProgramCourseEnrollmentId,
    program_uuid: ProgramUuid,
    log: &mut Vec<LogLine>,
) -> Vec<RoleFulfilment> {
    let mut sorted: Vec<&RoleAssignmentRecord> = assignments.iter().collect();
    sorted.sort_by_key(|a| a.id);
    sorted
        .into_iter()
        .map(|assignment| {
            let attempt = RoleAttempt {
                assignment: assignment.id,
                role: assignment.role.clone(),
                user_id: user.id,
                key: key.clone(),
                course_key: course_key.clone(),
                program_uuid,
                program_course_enrollment: pce,
            };
            log.push(LogLine::CreatingAccessRole(attempt.clone()));
            let action = match course_key.org() {
                _ if !KNOWN_ROLES.contains(&assignment.role.as_str()) => RoleAction::Fail,
                None => RoleAction::Fail,
                Some(_) if !user.is_active => RoleAction::ConsumeOnly,
                Some(org) => RoleAction::Grant { org: org.to_owned() },
            };
            let fulfilment = RoleFulfilment { attempt, action };
            if !fulfilment.writes() {
                log.push(fulfilment.failure_log());
            }
            fulfilment
        })
        .collect()
}
