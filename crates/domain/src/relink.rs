//! Relinking (upstream, May 2020; opt-in): a PE linked to a different user is unlinked from
//! that user, in the key's savepoint, before it is linked to the requested one.

use crate::ids::{CourseEnrollmentId, CourseKey, ProgramCourseEnrollmentId, ProgramEnrollmentId, UserId};
use crate::snapshot::ProgramEnrollmentRecord;
use crate::status::CourseMode;

/// What unlinking does to one PCE that has a course enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseUnlink {
    /// The PCE; its `course_enrollment_id` is set to NULL (history `~`).
    pub program_course_enrollment: ProgramCourseEnrollmentId,
    /// The PCE's course (its own `course_key`, not the enrollment's).
    pub course_key: CourseKey,
    /// The old user's course enrollment.
    pub enrollment: CourseEnrollmentId,
    /// The mode it moves to: `audit` where the course offers it, otherwise `None` (the mode is
    /// left as it is).
    pub mode: Option<CourseMode>,
    /// Whether the enrollment changes, so is written (deactivated and moved to
    /// [`CourseUnlink::mode`], history `~`): not when it is already inactive in the mode it
    /// would get, as upstream's `update_enrollment` saves only on change.
    pub changes: bool,
    /// The enrollment's `mode` and `is_active` as the plan read them; `None` when the call did
    /// not read it (then [`CourseUnlink::changes`]).
    pub read: Option<(CourseMode, bool)>,
}

/// Unlinking a PE from its current user, in this order: each [`CourseUnlink`] (course
/// enrollment, then PCE), then the PE's user set to NULL (history `~`), only if the PE is
/// still linked to [`UnlinkWrites::user_id`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlinkWrites {
    /// The PE.
    pub program_enrollment: ProgramEnrollmentId,
    /// The user it is linked to now.
    pub user_id: UserId,
    /// One entry per PCE with a course enrollment, in id order (PCEs without one are skipped).
    pub courses: Vec<CourseUnlink>,
}

/// Whether a course offers `audit`, given the modes it offers now (unexpired): `credit` is
/// ignored, and a course with no other mode offers `audit` (Open edX's default mode).
pub(crate) fn offers_audit(modes: Option<&Vec<CourseMode>>) -> bool {
    let mut offered = modes.into_iter().flatten().filter(|m| m.as_str() != "credit").peekable();
    offered.peek().is_none() || offered.any(|m| m.as_str() == "audit")
}

/// The unlink of `enrollment` from `user_id`, given the unexpired modes of a course (`modes`,
/// which compares course keys as the database does) and, through
/// `current`, the mode and activity of an enrollment of the user in a course as the call sees
/// them (`None` when it was not read: it is written).
pub(crate) fn plan_unlink<'a, 'm>(
    enrollment: &ProgramEnrollmentRecord,
    user_id: UserId,
    modes: impl Fn(&CourseKey) -> Option<&'m Vec<CourseMode>>,
    current: impl Fn(&CourseKey, CourseEnrollmentId) -> Option<(&'a CourseMode, bool)>,
) -> UnlinkWrites {
    let courses = enrollment
        .course_enrollments
        .iter()
        .filter_map(|pce| {
            let ce = pce.course_enrollment_id?;
            let mode = offers_audit(modes(&pce.course_key)).then(|| CourseMode::new("audit"));
            let read = current(&pce.course_key, ce).map(|(mode, is_active)| (mode.clone(), is_active));
            let changes = match &read {
                Some((current_mode, is_active)) => *is_active || mode.as_ref().is_some_and(|m| m != current_mode),
                None => true,
            };
            Some(CourseUnlink {
                program_course_enrollment: pce.id,
                course_key: pce.course_key.clone(),
                enrollment: ce,
                mode,
                changes,
                read,
            })
        })
        .collect();
    UnlinkWrites { program_enrollment: enrollment.id, user_id, courses }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn an_enrollment_is_written_only_if_unlinking_changes_it() {
        use crate::test_fixtures::{FRUIT, course, waiting};
        let mut pe = waiting(1, "a", 1, &[(10, FRUIT, "active")]);
        pe.course_enrollments[0].course_enrollment_id = Some(CourseEnrollmentId(3));
        let audit = CourseMode::new("audit");
        let masters = CourseMode::masters();
        let changes = |modes: &[&str], current: Option<(&CourseMode, bool)>| {
            let modes = HashMap::from([(course(FRUIT), modes.iter().map(|m| CourseMode::new(*m)).collect())]);
            plan_unlink(&pe, UserId(7), |course| modes.get(course), |_, _| current).courses[0].changes
        };
        assert!(!changes(&[], Some((&audit, false))), "inactive, already audit");
        assert!(!changes(&["masters"], Some((&masters, false))), "inactive, no audit: the mode stays");
        assert!(changes(&[], Some((&audit, true))), "active");
        assert!(changes(&[], Some((&masters, false))), "moves to audit");
        assert!(changes(&[], None), "not read: written");
    }

    #[test]
    fn audit_is_offered_when_listed_or_when_nothing_but_credit_is() {
        let modes = |ms: &[&str]| ms.iter().map(|m| CourseMode::new(*m)).collect::<Vec<_>>();
        assert!(offers_audit(None));
        assert!(offers_audit(Some(&modes(&[]))));
        assert!(offers_audit(Some(&modes(&["credit"]))));
        assert!(offers_audit(Some(&modes(&["audit", "verified"]))));
        assert!(!offers_audit(Some(&modes(&["masters"]))));
        assert!(!offers_audit(Some(&modes(&["verified", "credit"]))));
    }
}
