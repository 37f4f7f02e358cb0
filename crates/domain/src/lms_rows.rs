//! What the LMS's own receivers of a course enrollment's save write in the same transaction,
//! which the tool, writing the enrollment directly, must write itself:
//! - on every save (insert or update, active or not), the course's `Student` discussion role
//!   (`django_comment_common`'s `assign_default_role_on_enrollment`);
//! - on an insert, the enrollment's schedule (`schedules.signals.create_schedule`);
//! - on a mode change made through `update_enrollment` (`ENROLLMENT_TRACK_UPDATED`), in a
//!   self-paced course, the schedule's start reset (`reset_self_paced_schedule`).
//!
//! This file holds the values the rules read and compute with; the decisions they make are in
//! `plan.rs` ([`crate::EnrollmentSideRows`]). Times are values here (no clock): an adapter gives
//! the enrollment's `created` and its write time to [`crate::NewSchedule::start_date`] and
//! [`crate::ScheduleReset::start_date`].

use crate::ids::{CourseKey, UserId};

/// A moment, in microseconds since 1970-01-01 00:00:00 UTC (Django keeps microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds in a day.
    pub const MICROS_PER_DAY: i64 = 86_400_000_000;

    /// This moment `days` days later (saturating).
    pub fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(Self::MICROS_PER_DAY)))
    }
}

/// A course overview, as the schedule rules need it (`course_overviews_courseoverview`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseOverviewRecord {
    /// `id`.
    pub course_key: CourseKey,
    /// `start`: a course without one gets no schedules (the LMS's receiver fails and logs).
    pub start: Option<Timestamp>,
    /// `self_paced`: only a self-paced course's schedules are reset on a mode change.
    pub self_paced: bool,
    /// `has_highlights`: `Some(true)` gives schedules the "course updates" experience (1).
    /// `None` (an overview older than the column's cache) is read as no highlights: the LMS
    /// would ask the modulestore, which the tool cannot read.
    pub has_highlights: Option<bool>,
}

impl CourseOverviewRecord {
    /// `schedules_scheduleexperience.experience_type`: 1 (course updates) when the course has
    /// highlights, else 0 (recurring nudge and upgrade reminder).
    pub fn experience_type(&self) -> i16 {
        i16::from(self.has_highlights == Some(true))
    }
}

/// One current row of a dynamic upgrade deadline configuration (courseware's
/// `DynamicUpgradeDeadlineConfiguration`, or its per-organisation or per-course-run model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineSetting {
    /// `enabled`.
    pub enabled: bool,
    /// `deadline_days`.
    pub deadline_days: i64,
    /// `opt_out` (the per-organisation and per-course models only; false for the global one).
    pub opt_out: bool,
}

/// The number of days after content availability a learner has to upgrade, as the LMS's
/// `_get_upgrade_deadline_delta_setting` decides it from the current global, organisation and
/// course run settings (each `None` when it has no row): the global one when enabled, then the
/// organisation's, then the course run's, each overriding when enabled (opting out clears it).
pub fn upgrade_deadline_days(
    global: Option<DeadlineSetting>,
    org: Option<DeadlineSetting>,
    course: Option<DeadlineSetting>,
) -> Option<i64> {
    let mut days = global.filter(|g| g.enabled).map(|g| g.deadline_days);
    for setting in [org, course].into_iter().flatten().filter(|s| s.enabled) {
        days = (!setting.opt_out).then_some(setting.deadline_days);
    }
    days
}

/// How a new schedule's `upgrade_deadline` is computed (`_calculate_upgrade_deadline`): the
/// start plus `days`, but never after the course's verified mode's expiration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeDeadlineRule {
    /// From [`upgrade_deadline_days`].
    pub days: i64,
    /// `expiration_datetime` of the course's unexpired verified mode, if it has one.
    pub verified_expiration: Option<Timestamp>,
}

impl UpgradeDeadlineRule {
    /// The deadline of a schedule starting at `start`.
    pub fn deadline(&self, start: Timestamp) -> Timestamp {
        let deadline = start.plus_days(self.days);
        self.verified_expiration.map_or(deadline, |expiration| deadline.min(expiration))
    }
}

/// Give a user the course's `Student` discussion role: the `django_comment_client_role` row
/// `(course_id, name = 'Student')` is created when missing (reused when present), and the user
/// added to it in `django_comment_client_role_users` unless already there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ForumRoleMembership {
    /// The enrolled user.
    pub user_id: UserId,
    /// The course.
    pub course_key: CourseKey,
}

/// The name of the discussion role every enrolled learner holds.
pub const FORUM_STUDENT_ROLE: &str = "Student";

/// Where a reset schedule starts from, before the course's start is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetFrom {
    /// The moment of the write (a change to a mode other than `audit` or `honor`).
    Now,
    /// The enrollment's `created` (a change to `audit` or `honor`: back to the normal audit
    /// schedule).
    EnrollmentCreated,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{FRUIT, course};

    const DAY: i64 = Timestamp::MICROS_PER_DAY;

    fn overview(start: Option<i64>, self_paced: bool, has_highlights: Option<bool>) -> CourseOverviewRecord {
        CourseOverviewRecord { course_key: course(FRUIT), start: start.map(Timestamp), self_paced, has_highlights }
    }

    fn setting(enabled: bool, deadline_days: i64, opt_out: bool) -> Option<DeadlineSetting> {
        Some(DeadlineSetting { enabled, deadline_days, opt_out })
    }

    #[test]
    fn the_experience_type_follows_the_highlights() {
        assert_eq!(overview(None, false, Some(true)).experience_type(), 1);
        assert_eq!(overview(None, false, Some(false)).experience_type(), 0);
        assert_eq!(overview(None, false, None).experience_type(), 0);
    }

    #[test]
    fn the_upgrade_deadline_days_follow_global_then_org_then_course() {
        assert_eq!(upgrade_deadline_days(None, None, None), None);
        assert_eq!(upgrade_deadline_days(setting(false, 21, false), None, None), None, "global disabled");
        assert_eq!(upgrade_deadline_days(setting(true, 21, false), None, None), Some(21));
        assert_eq!(upgrade_deadline_days(setting(true, 21, false), setting(true, 7, false), None), Some(7));
        assert_eq!(upgrade_deadline_days(setting(true, 21, false), setting(true, 7, true), None), None, "org opts out");
        assert_eq!(upgrade_deadline_days(setting(true, 21, false), setting(false, 7, true), None), Some(21));
        assert_eq!(upgrade_deadline_days(None, setting(true, 7, true), setting(true, 3, false)), Some(3));
        assert_eq!(upgrade_deadline_days(setting(true, 21, false), None, setting(true, 3, true)), None);
    }

    #[test]
    fn the_upgrade_deadline_never_passes_the_verified_expiration() {
        let rule = UpgradeDeadlineRule { days: 21, verified_expiration: Some(Timestamp(30 * DAY)) };
        assert_eq!(rule.deadline(Timestamp(2 * DAY)), Timestamp(23 * DAY));
        assert_eq!(rule.deadline(Timestamp(20 * DAY)), Timestamp(30 * DAY));
        let open = UpgradeDeadlineRule { days: 21, verified_expiration: None };
        assert_eq!(open.deadline(Timestamp(20 * DAY)), Timestamp(41 * DAY));
    }
}
