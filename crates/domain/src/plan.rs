//! What the rules decide for one key: its error, or the writes that link it.

use std::collections::HashSet;

use crate::ids::{
    CourseEnrollmentId, CourseKey, CurriculumUuid, ExternalUserKey, InvitationId, ProgramCourseEnrollmentId,
    ProgramEnrollmentId, RoleAssignmentId, UserId, Username,
};
use crate::lms_rows::{CourseOverviewRecord, ForumRoleMembership, ResetFrom, Timestamp, UpgradeDeadlineRule};
use crate::messages::{LinkAttempt, LinkError, LogLine, UniqueViolation};
use crate::relink::UnlinkWrites;
use crate::roles::RoleFulfilment;
use crate::status::{CourseMode, PceStatus};

/// The decision for one input pair, with the log lines upstream would have written for it,
/// in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPlan {
    /// The key as given.
    pub key: ExternalUserKey,
    /// The username as given.
    pub username: Username,
    /// The log lines of the decision, in order. For [`KeyOutcome::Link`], the lines of a
    /// successful link ([`KeyPlan::log_with_failed_roles`] adds those of role grants that fail
    /// when written; [`KeyPlan::into_integrity_failure`] gives the plan of writes that fail).
    pub log: Vec<LogLine>,
    /// The decision.
    pub outcome: KeyOutcome,
}

impl KeyPlan {
    /// A key whose linking fails with `error`: nothing is written, and `log` ends with the
    /// ERROR `Rolling back all operations for {key}:{username}` line, naming the key and the
    /// username as the input gave them. The one builder of that line, on every path.
    pub(crate) fn failed(key: ExternalUserKey, username: Username, mut log: Vec<LogLine>, error: LinkError) -> Self {
        log.push(LogLine::RollingBack { key: key.clone(), username: username.clone() });
        Self { key, username, log, outcome: KeyOutcome::Failed(error) }
    }

    /// The plan of a key whose writes violated a unique constraint that fresh reads did not
    /// foresee (the violation persisted through the re-plans): an `IntegrityError`, as upstream
    /// reports it. Its log is the planned lines, then the ERROR `Integrity error while
    /// linking …` and `Rolling back …` lines. A plan that links nothing is returned as it is.
    pub fn into_integrity_failure(self, violation: UniqueViolation) -> Self {
        let KeyOutcome::Link(writes) = &self.outcome else {
            return self;
        };
        let attempt = writes.attempt.clone();
        let mut log = self.log;
        log.push(LogLine::IntegrityErrorWhileLinking(attempt));
        Self::failed(self.key, self.username, log, LinkError::Integrity(violation))
    }

    /// The log lines of a written plan whose role fulfilments `failed` failed when written:
    /// each one's ERROR line ([`RoleFulfilment::failure_log`]) right after its INFO line, as
    /// upstream logs them.
    pub fn log_with_failed_roles(&self, failed: &HashSet<RoleAssignmentId>) -> Vec<LogLine> {
        let roles = match &self.outcome {
            KeyOutcome::Link(writes) if !failed.is_empty() => writes.roles.as_slice(),
            _ => return self.log.clone(),
        };
        let mut log = Vec::with_capacity(self.log.len() + failed.len());
        for line in &self.log {
            log.push(line.clone());
            if let LogLine::CreatingAccessRole(attempt) = line
                && failed.contains(&attempt.assignment)
                && let Some(fulfilment) = roles.iter().find(|f| f.attempt.assignment == attempt.assignment)
            {
                log.push(fulfilment.failure_log());
            }
        }
        log
    }
}

/// The decision for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    /// Refused by rules 1 to 3: nothing is written.
    Refused(LinkError),
    /// Linking would fail (a missing course, or a unique violation foreseen from the snapshot):
    /// nothing is written, as if the key's savepoint had been rolled back.
    Failed(LinkError),
    /// Link: these writes, in one savepoint.
    Link(LinkWrites),
}

impl KeyOutcome {
    /// The key's error, if it is not linked.
    pub fn error(&self) -> Option<&LinkError> {
        match self {
            Self::Refused(error) | Self::Failed(error) => Some(error),
            Self::Link(_) => None,
        }
    }
}

/// A course enrollment as a write refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CourseEnrollmentRef {
    /// A row that existed before the call.
    Stored(CourseEnrollmentId),
    /// The row this call creates (or created, for an earlier key) for the user and course; the
    /// `(user_id, course_id)` unique constraint makes it one row.
    New {
        /// `user_id`.
        user_id: UserId,
        /// `course_id`.
        course_key: CourseKey,
    },
}

/// The write, if any, that a course enrollment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CourseEnrollmentWrite {
    /// Insert the row (history `+`).
    Create {
        /// `mode`.
        mode: CourseMode,
        /// `is_active`.
        is_active: bool,
    },
    /// Update `mode` and `is_active` of the row (history `~`), if the row still has the values
    /// the plan was made from: another writer's change in the meantime is not overwritten.
    Update {
        /// `mode`.
        mode: CourseMode,
        /// `is_active`.
        is_active: bool,
        /// The `mode` the plan read.
        read_mode: CourseMode,
        /// The `is_active` the plan read.
        read_active: bool,
    },
}

/// What linking does for one program course enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CourseLink {
    /// The PCE; it is saved pointing at [`CourseLink::enrollment`] (history `~`).
    pub program_course_enrollment: ProgramCourseEnrollmentId,
    /// The PCE's course.
    pub course_key: CourseKey,
    /// The PCE's status.
    pub status: PceStatus,
    /// The course enrollment the PCE ends up pointing at.
    pub enrollment: CourseEnrollmentRef,
    /// The write that enrollment needs, if it changes.
    pub write: Option<CourseEnrollmentWrite>,
    /// Pending invitations to mark as used by the user (`user_id` set).
    pub invitations: Vec<InvitationId>,
    /// The enrollment's `mode` and `is_active` as the plan read them; `None` for a new one.
    pub read: Option<(CourseMode, bool)>,
}

/// All the writes that link one key. Applied in this order: with relinking, the unlink
/// ([`UnlinkWrites`]); the PE's user; new course enrollments; changed ones; invitations; the
/// PCEs; then each role fulfilment in its own savepoint. Every PE, PCE and CE write has its
/// history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkWrites {
    /// The attempt, as the log lines name it.
    pub attempt: LinkAttempt,
    /// The waiting PE that gets the user.
    pub program_enrollment: ProgramEnrollmentId,
    /// The PE's curriculum.
    pub curriculum_uuid: CurriculumUuid,
    /// The user.
    pub user_id: UserId,
    /// One entry per PCE of the PE, in id order.
    pub courses: Vec<CourseLink>,
    /// Relinking: the unlink from the PE's current user, made first.
    pub unlink: Option<UnlinkWrites>,
    /// The PCEs' pending course access roles, in PCE order then assignment order.
    pub roles: Vec<RoleFulfilment>,
    /// What the LMS's receivers of the course enrollment saves would write with them: forum
    /// roles, schedules, schedule resets (after the enrollments, in the same savepoint).
    pub side_rows: EnrollmentSideRows,
}

impl LinkWrites {
    /// Every course enrollment these writes change or create (a chunk never writes one twice).
    pub fn written_enrollments(&self) -> Vec<CourseEnrollmentRef> {
        let unlinked = self
            .unlink
            .iter()
            .flat_map(|u| u.courses.iter().filter(|c| c.changes).map(|c| CourseEnrollmentRef::Stored(c.enrollment)));
        let linked = self.courses.iter().filter(|c| c.write.is_some()).map(|c| c.enrollment.clone());
        unlinked.chain(linked).collect()
    }
}

/// Create an enrollment's schedule (`schedules_schedule`, `active` true, with its
/// `schedules_scheduleexperience` and its `+` history row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    /// The enrollment (created just before, in the same savepoint).
    pub enrollment: CourseEnrollmentRef,
    /// The course overview's `start`.
    pub course_start: Timestamp,
    /// `experience_type` ([`CourseOverviewRecord::experience_type`]).
    pub experience_type: i16,
    /// How `upgrade_deadline` is computed; `None`: NULL.
    pub upgrade: Option<UpgradeDeadlineRule>,
}

impl NewSchedule {
    /// `start_date`: the later of the enrollment's `created` and the course's start.
    pub fn start_date(&self, enrollment_created: Timestamp) -> Timestamp {
        enrollment_created.max(self.course_start)
    }

    /// `upgrade_deadline` of a schedule starting at `start`.
    pub fn upgrade_deadline(&self, start: Timestamp) -> Option<Timestamp> {
        self.upgrade.map(|rule| rule.deadline(start))
    }
}

/// Reset the `start_date` of an enrollment's schedule, if it has one (history `~`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleReset {
    /// The enrollment.
    pub enrollment: CourseEnrollmentRef,
    /// The course overview's `start`.
    pub course_start: Timestamp,
    /// From what.
    pub from: ResetFrom,
}

impl ScheduleReset {
    /// The new `start_date`, given the enrollment's `created` and the write's time: never
    /// before the course starts.
    pub fn start_date(&self, enrollment_created: Timestamp, now: Timestamp) -> Timestamp {
        let from = match self.from {
            ResetFrom::Now => now,
            ResetFrom::EnrollmentCreated => enrollment_created,
        };
        from.max(self.course_start)
    }

    /// The reset a change of an existing enrollment to `new_mode` brings in the course of
    /// `overview`: `None` unless the course is self-paced and has a start.
    pub(crate) fn on_mode_change(
        enrollment: CourseEnrollmentRef,
        new_mode: &CourseMode,
        overview: Option<&CourseOverviewRecord>,
    ) -> Option<Self> {
        let overview = overview.filter(|o| o.self_paced)?;
        let from =
            if matches!(new_mode.as_str(), "audit" | "honor") { ResetFrom::EnrollmentCreated } else { ResetFrom::Now };
        Some(Self { enrollment, course_start: overview.start?, from })
    }
}

/// The rows the LMS's receivers would write along with one key's course enrollment writes, in
/// the key's savepoint, after the enrollments themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnrollmentSideRows {
    /// One per course enrollment created or changed (the unlinked user's too).
    pub forum_roles: Vec<ForumRoleMembership>,
    /// One per course enrollment created in a course with a start.
    pub schedules: Vec<NewSchedule>,
    /// One per mode change (through `update_enrollment`) in a self-paced course.
    pub schedule_resets: Vec<ScheduleReset>,
}

impl EnrollmentSideRows {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.forum_roles.is_empty() && self.schedules.is_empty() && self.schedule_resets.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{FRUIT, course};

    const DAY: i64 = Timestamp::MICROS_PER_DAY;

    fn overview(start: Option<i64>, self_paced: bool, has_highlights: Option<bool>) -> CourseOverviewRecord {
        CourseOverviewRecord { course_key: course(FRUIT), start: start.map(Timestamp), self_paced, has_highlights }
    }

    #[test]
    fn a_schedule_starts_at_the_later_of_enrollment_and_course_start() {
        let schedule = NewSchedule {
            enrollment: CourseEnrollmentRef::Stored(CourseEnrollmentId(1)),
            course_start: Timestamp(10 * DAY),
            experience_type: 0,
            upgrade: None,
        };
        assert_eq!(schedule.start_date(Timestamp(3 * DAY)), Timestamp(10 * DAY), "course not started yet");
        assert_eq!(schedule.start_date(Timestamp(12 * DAY)), Timestamp(12 * DAY), "course already started");
        assert_eq!(schedule.upgrade_deadline(Timestamp(12 * DAY)), None);
    }

    #[test]
    fn a_mode_change_resets_only_self_paced_schedules_from_now_or_from_enrollment() {
        let ce = CourseEnrollmentRef::Stored(CourseEnrollmentId(1));
        let masters = CourseMode::masters();
        let audit = CourseMode::new("audit");
        assert_eq!(ScheduleReset::on_mode_change(ce.clone(), &masters, Some(&overview(Some(DAY), false, None))), None);
        assert_eq!(ScheduleReset::on_mode_change(ce.clone(), &masters, Some(&overview(None, true, None))), None);
        assert_eq!(ScheduleReset::on_mode_change(ce.clone(), &masters, None), None);
        let to_masters =
            ScheduleReset::on_mode_change(ce.clone(), &masters, Some(&overview(Some(10 * DAY), true, None)));
        let to_masters = to_masters.unwrap();
        assert_eq!(to_masters.from, ResetFrom::Now);
        assert_eq!(to_masters.start_date(Timestamp(DAY), Timestamp(20 * DAY)), Timestamp(20 * DAY));
        assert_eq!(to_masters.start_date(Timestamp(DAY), Timestamp(5 * DAY)), Timestamp(10 * DAY));
        let to_audit = ScheduleReset::on_mode_change(ce, &audit, Some(&overview(Some(10 * DAY), true, None))).unwrap();
        assert_eq!(to_audit.from, ResetFrom::EnrollmentCreated);
        assert_eq!(to_audit.start_date(Timestamp(12 * DAY), Timestamp(20 * DAY)), Timestamp(12 * DAY));
        assert_eq!(to_audit.start_date(Timestamp(2 * DAY), Timestamp(20 * DAY)), Timestamp(10 * DAY));
    }
}
