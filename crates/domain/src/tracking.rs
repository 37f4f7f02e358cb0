//! The tracking-log events the LMS emits for the course enrollment writes of a link: which
//! events a written plan implies, in the order the LMS emits them. A pure rule: the time of an
//! event and the process that logs it are the caller's.
//!
//! Upstream enrolls through `CourseEnrollment`. Only its `update_enrollment` emits events (a
//! plain `save()` emits none): `edx.course.enrollment.activated` or `…deactivated` when
//! `is_active` changes, then `edx.course.enrollment.mode_changed` when `mode` changes, each
//! with the enrollment's mode after the update. Linking calls it through `enroll` (a new or an
//! inactive enrollment: from a new row's `audit`, inactive, to `masters`, active) and
//! `deactivate` (an inactive PCE of an enrollment now in `masters`); an active `audit` or
//! `honor` enrollment is moved to `masters` by a plain save, so emits nothing. Relinking's
//! unlink calls `update_enrollment(is_active=False, mode=…)` on each enrollment it changes.

use crate::ids::{CourseKey, UserId};
use crate::plan::{CourseLink, LinkWrites};
use crate::relink::CourseUnlink;
use crate::status::{CourseMode, PceStatus};

/// The name of an enrollment event in the LMS's tracking log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnrollmentEventName {
    /// `edx.course.enrollment.activated`: the enrollment became active.
    Activated,
    /// `edx.course.enrollment.deactivated`: the enrollment became inactive.
    Deactivated,
    /// `edx.course.enrollment.mode_changed`: the enrollment's mode changed.
    ModeChanged,
}

impl EnrollmentEventName {
    /// The event's name (and `event_type`), as the LMS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activated => "edx.course.enrollment.activated",
            Self::Deactivated => "edx.course.enrollment.deactivated",
            Self::ModeChanged => "edx.course.enrollment.mode_changed",
        }
    }
}

/// One event the LMS would have emitted: its name and its `event` data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentEvent {
    /// The event.
    pub name: EnrollmentEventName,
    /// `event.user_id`: the enrollment's user.
    pub user_id: UserId,
    /// `event.course_id` and `context.course_id`.
    pub course_key: CourseKey,
    /// `event.mode`: the enrollment's mode after the change.
    pub mode: CourseMode,
}

impl EnrollmentEvent {
    /// `context.org_id`: the course key's organisation (`edX` in `course-v1:edX+Cats+Dogs`),
    /// empty for a key of neither of Open edX's forms.
    pub fn org_id(&self) -> &str {
        self.course_key.org().unwrap_or_default()
    }
}

/// The events of `update_enrollment` taking an enrollment from `before` (`mode`, `is_active`)
/// to `after`: the activity's event first, then the mode's, each with the mode after.
fn update_enrollment(
    user_id: UserId,
    course_key: &CourseKey,
    before: (&CourseMode, bool),
    after: (&CourseMode, bool),
) -> Vec<EnrollmentEvent> {
    let event = |name| EnrollmentEvent { name, user_id, course_key: course_key.clone(), mode: after.0.clone() };
    let mut events = Vec::new();
    if before.1 != after.1 {
        events.push(event(if after.1 { EnrollmentEventName::Activated } else { EnrollmentEventName::Deactivated }));
    }
    if before.0 != after.0 {
        events.push(event(EnrollmentEventName::ModeChanged));
    }
    events
}

/// The events of linking one PCE (`enroll_in_masters_track`).
fn link_events(user_id: UserId, course: &CourseLink) -> Vec<EnrollmentEvent> {
    let masters = CourseMode::masters();
    let (mut events, mode) = match &course.read {
        // Active: kept, or moved from `audit`/`honor` to `masters` by a plain save.
        Some((mode, true)) => (Vec::new(), if mode.converts_to_masters() { masters.clone() } else { mode.clone() }),
        // `enroll`: a new row starts as `audit`, inactive (the LMS's default mode).
        read => {
            let audit = CourseMode::new(CourseMode::AUDIT);
            let before = read.as_ref().map_or((&audit, false), |(mode, active)| (mode, *active));
            (update_enrollment(user_id, &course.course_key, before, (&masters, true)), masters.clone())
        }
    };
    // `deactivate`: the enrollment is active at this point on either path.
    if mode.is_masters() && course.status == PceStatus::Inactive {
        events.extend(update_enrollment(user_id, &course.course_key, (&mode, true), (&mode, false)));
    }
    events
}

/// The events of unlinking one PCE's enrollment (relinking): none when it does not change or
/// was not read (what it was is then unknown).
fn unlink_events(user_id: UserId, course: &CourseUnlink) -> Vec<EnrollmentEvent> {
    match &course.read {
        Some((mode, active)) if course.changes => {
            let after = course.mode.as_ref().unwrap_or(mode);
            update_enrollment(user_id, &course.course_key, (mode, *active), (after, false))
        }
        _ => Vec::new(),
    }
}

/// The tracking-log events the LMS would have emitted for `writes`, in its order: with
/// relinking, the unlink's (the old user's enrollments, in PCE order), then the link's (in
/// PCE order). Only course enrollments emit them; a PE, a PCE or a role emits none.
pub fn enrollment_events(writes: &LinkWrites) -> Vec<EnrollmentEvent> {
    let unlinked = writes.unlink.iter().flat_map(|u| u.courses.iter().flat_map(move |c| unlink_events(u.user_id, c)));
    let linked = writes.courses.iter().flat_map(|c| link_events(writes.user_id, c));
    unlinked.chain(linked).collect()
}

#[cfg(test)]
mod tests {
    use super::EnrollmentEventName::{Activated, Deactivated, ModeChanged};
    use super::*;
    use crate::ids::{CourseEnrollmentId, ProgramCourseEnrollmentId, ProgramEnrollmentId};
    use crate::messages::LinkAttempt;
    use crate::plan::CourseEnrollmentRef;
    use crate::relink::UnlinkWrites;
    use crate::test_fixtures::{FRUIT, course, curriculum, key, program};

    fn writes(courses: Vec<CourseLink>, unlink: Option<UnlinkWrites>) -> LinkWrites {
        LinkWrites {
            attempt: LinkAttempt { user_id: UserId(7), key: key("a"), program_uuid: program() },
            program_enrollment: ProgramEnrollmentId(1),
            curriculum_uuid: curriculum(1),
            user_id: UserId(7),
            courses,
            unlink,
            roles: Vec::new(),
            side_rows: Default::default(),
        }
    }

    /// A PCE of `status` linked to an enrollment read as `read` (`None`: a new one).
    fn link(status: PceStatus, read: Option<(&str, bool)>) -> CourseLink {
        CourseLink {
            program_course_enrollment: ProgramCourseEnrollmentId(10),
            course_key: course(FRUIT),
            status,
            enrollment: CourseEnrollmentRef::Stored(CourseEnrollmentId(3)),
            write: None,
            invitations: Vec::new(),
            read: read.map(|(mode, active)| (CourseMode::new(mode), active)),
        }
    }

    /// The names and modes of the events of one linked PCE.
    fn linked(status: PceStatus, read: Option<(&str, bool)>) -> Vec<(EnrollmentEventName, String)> {
        enrollment_events(&writes(vec![link(status, read)], None))
            .into_iter()
            .map(|e| {
                assert_eq!((e.user_id, e.course_key.as_str()), (UserId(7), FRUIT));
                (e.name, e.mode.to_string())
            })
            .collect()
    }

    fn named(events: &[(EnrollmentEventName, &str)]) -> Vec<(EnrollmentEventName, String)> {
        events.iter().map(|(n, m)| (*n, (*m).to_owned())).collect()
    }

    #[test]
    fn a_new_enrollment_is_activated_and_changes_mode_from_audit() {
        use crate::status::PceStatus::{Active, Inactive};
        assert_eq!(linked(Active, None), named(&[(Activated, "masters"), (ModeChanged, "masters")]));
        assert_eq!(
            linked(Inactive, None),
            named(&[(Activated, "masters"), (ModeChanged, "masters"), (Deactivated, "masters")]),
            "enroll, then deactivate"
        );
    }

    #[test]
    fn an_inactive_enrollment_is_reactivated_and_changes_mode_unless_in_masters() {
        use crate::status::PceStatus::{Active, Inactive};
        assert_eq!(
            linked(Active, Some(("verified", false))),
            named(&[(Activated, "masters"), (ModeChanged, "masters")])
        );
        assert_eq!(linked(Active, Some(("masters", false))), named(&[(Activated, "masters")]));
        assert_eq!(
            linked(Inactive, Some(("masters", false))),
            named(&[(Activated, "masters"), (Deactivated, "masters")]),
            "enroll then deactivate, though the row ends as it was"
        );
    }

    #[test]
    fn an_active_enrollment_emits_only_its_deactivation() {
        use crate::status::PceStatus::{Active, Inactive};
        assert_eq!(linked(Active, Some(("audit", true))), named(&[]), "a plain save to masters");
        assert_eq!(linked(Active, Some(("honor", true))), named(&[]));
        assert_eq!(linked(Active, Some(("masters", true))), named(&[]));
        assert_eq!(linked(Inactive, Some(("audit", true))), named(&[(Deactivated, "masters")]));
        assert_eq!(linked(Inactive, Some(("masters", true))), named(&[(Deactivated, "masters")]));
        assert_eq!(linked(Active, Some(("verified", true))), named(&[]), "left as it is");
        assert_eq!(linked(Inactive, Some(("verified", true))), named(&[]), "not masters: not deactivated");
    }

    fn unlink(read: Option<(&str, bool)>, mode: Option<&str>, changes: bool) -> CourseUnlink {
        CourseUnlink {
            program_course_enrollment: ProgramCourseEnrollmentId(10),
            course_key: course(FRUIT),
            enrollment: CourseEnrollmentId(3),
            mode: mode.map(CourseMode::new),
            changes,
            read: read.map(|(mode, active)| (CourseMode::new(mode), active)),
        }
    }

    fn unlinked(course: CourseUnlink) -> Vec<(EnrollmentEventName, String, UserId)> {
        let unlink =
            UnlinkWrites { program_enrollment: ProgramEnrollmentId(1), user_id: UserId(9), courses: vec![course] };
        enrollment_events(&writes(Vec::new(), Some(unlink)))
            .into_iter()
            .map(|e| (e.name, e.mode.to_string(), e.user_id))
            .collect()
    }

    #[test]
    fn an_unlinked_enrollment_is_deactivated_and_moved_to_audit_for_the_old_user() {
        let old = UserId(9);
        assert_eq!(
            unlinked(unlink(Some(("masters", true)), Some("audit"), true)),
            vec![(Deactivated, "audit".into(), old), (ModeChanged, "audit".into(), old)]
        );
        assert_eq!(
            unlinked(unlink(Some(("masters", false)), Some("audit"), true)),
            vec![(ModeChanged, "audit".into(), old)]
        );
        assert_eq!(unlinked(unlink(Some(("masters", true)), None, true)), vec![(Deactivated, "masters".into(), old)]);
        assert_eq!(unlinked(unlink(Some(("audit", false)), Some("audit"), false)), vec![], "unchanged: not written");
        assert_eq!(unlinked(unlink(None, Some("audit"), true)), vec![], "not read: unknown");
    }

    #[test]
    fn the_unlink_comes_first_then_the_courses_in_order() {
        let unlink = UnlinkWrites {
            program_enrollment: ProgramEnrollmentId(1),
            user_id: UserId(9),
            courses: vec![unlink(Some(("masters", true)), Some("audit"), true)],
        };
        let mut second = link(PceStatus::Active, Some(("masters", true)));
        second.course_key = course("course-v1:edX+Cats+Dogs");
        let events = enrollment_events(&writes(vec![link(PceStatus::Active, None), second], Some(unlink)));
        let seen: Vec<(EnrollmentEventName, UserId)> = events.iter().map(|e| (e.name, e.user_id)).collect();
        assert_eq!(
            seen,
            vec![(Deactivated, UserId(9)), (ModeChanged, UserId(9)), (Activated, UserId(7)), (ModeChanged, UserId(7))]
        );
        assert_eq!(events[0].org_id(), "edX");
        assert_eq!(Activated.as_str(), "edx.course.enrollment.activated");
        assert_eq!(Deactivated.as_str(), "edx.course.enrollment.deactivated");
        assert_eq!(ModeChanged.as_str(), "edx.course.enrollment.mode_changed");
    }
}
