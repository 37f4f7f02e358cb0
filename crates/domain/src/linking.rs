//! The linking rules of `linking.md` and `later-upstream.md`, as pure functions over a
//! [`Snapshot`]: the [`Planner`] and [`plan_batch`].

use std::collections::{HashMap, HashSet};

use crate::batch::LinkBatch;
use crate::collation::Collation;
use crate::ids::{
    CourseKey, CurriculumUuid, ExternalUserKey, InvitationId, ProgramCourseEnrollmentId, ProgramUuid, UserId, Username,
};
use crate::key_match::{lookup_text, stored_keys_by_lookup};
use crate::lms_rows::{CourseOverviewRecord, ForumRoleMembership, UpgradeDeadlineRule, upgrade_deadline_days};
use crate::messages::{AccountRelation, CorruptData, LinkAttempt, LinkError, LogLine, UniqueViolation};
use crate::options::RuleOptions;
use crate::plan::{
    CourseEnrollmentRef, CourseEnrollmentWrite, CourseLink, EnrollmentSideRows, KeyOutcome, KeyPlan, LinkWrites,
    NewSchedule, ScheduleReset,
};
use crate::reads::reconcile;
use crate::relink::{UnlinkWrites, plan_unlink};
use crate::roles::plan_roles;
use crate::snapshot::{
    LinkedUser, ProgramCourseEnrollmentRecord, ProgramEnrollmentRecord, RoleAssignmentRecord, Snapshot,
    UpgradeDeadlineSettings, UserRecord,
};
use crate::status::{CourseMode, PceStatus};

/// A course enrollment as the rules track it through the call.
#[derive(Debug, Clone)]
struct EnrollmentState {
    reference: CourseEnrollmentRef,
    mode: CourseMode,
    is_active: bool,
}

/// The rules, holding the snapshot and the effects of the keys linked so far, so that each key
/// sees what earlier keys of the same call did.
///
/// Use [`Planner::plan`] for a key, write its [`KeyOutcome::Link`] writes, and then tell the
/// planner with [`Planner::record`] that they were written. A plan that was not written (its
/// savepoint rolled back) is simply not recorded.
#[derive(Debug, Clone)]
pub struct Planner {
    program_uuid: ProgramUuid,
    options: RuleOptions,
    enrollments_by_key: HashMap<ExternalUserKey, ProgramEnrollmentRecord>,
    /// Distinct stored keys by lookup text (the key, or its case fold).
    stored_keys: HashMap<String, Vec<ExternalUserKey>>,
    /// How the database compares course keys and emails: the maps below are keyed by
    /// [`Collation::key`] of them, so that a PCE finds the rows the database would find.
    collation: Collation,
    course_modes: HashMap<String, Vec<CourseMode>>,
    role_assignments: HashMap<ProgramCourseEnrollmentId, Vec<RoleAssignmentRecord>>,
    users_by_name: HashMap<Username, UserRecord>,
    user_curricula: HashSet<(UserId, CurriculumUuid)>,
    course_enrollments: HashMap<(UserId, String), EnrollmentState>,
    existing_courses: HashSet<String>,
    pending_invitations: HashMap<(String, String), Vec<InvitationId>>,
    /// Keyed as `existing_courses` (the course key under the collation).
    course_overviews: HashMap<String, CourseOverviewRecord>,
    upgrade_deadlines: UpgradeDeadlineSettings,
}

impl Planner {
    /// Builds the rules' view of a call from its snapshot (its reads reconciled first, see
    /// `reads.rs`), following upstream's later rules that `options` turns on.
    ///
    /// When several PEs of the program share a key (in different curricula), the one with the
    /// highest id is used, as upstream's dictionary keeps the last row of an id-ordered read.
    pub fn from_snapshot(program_uuid: ProgramUuid, mut snapshot: Snapshot, options: RuleOptions) -> Self {
        reconcile(&mut snapshot);
        let stored_keys = stored_keys_by_lookup(
            snapshot.program_enrollments.iter().map(|pe| &pe.external_user_key),
            options.case_insensitive_keys,
        );
        let collation = snapshot.collation;
        let text = |value: &str| collation.key(value).into_owned();
        let mut course_modes: HashMap<String, Vec<CourseMode>> = HashMap::new();
        for mode in snapshot.course_modes {
            course_modes.entry(text(mode.course_key.as_str())).or_default().push(mode.mode);
        }
        let mut role_assignments: HashMap<ProgramCourseEnrollmentId, Vec<RoleAssignmentRecord>> = HashMap::new();
        for assignment in snapshot.role_assignments {
            role_assignments.entry(assignment.program_course_enrollment).or_default().push(assignment);
        }
        let mut enrollments_by_key: HashMap<ExternalUserKey, ProgramEnrollmentRecord> = HashMap::new();
        for mut pe in snapshot.program_enrollments {
            pe.course_enrollments.sort_by_key(|pce| pce.id);
            match enrollments_by_key.get(&pe.external_user_key) {
                Some(kept) if kept.id > pe.id => {}
                _ => {
                    enrollments_by_key.insert(pe.external_user_key.clone(), pe);
                }
            }
        }
        let users_by_name = snapshot.users.into_iter().map(|u| (u.username.clone(), u)).collect();
        let user_curricula =
            snapshot.user_program_enrollments.iter().map(|pe| (pe.user_id, pe.curriculum_uuid)).collect();
        let course_enrollments = snapshot
            .course_enrollments
            .into_iter()
            .map(|ce| {
                let state = EnrollmentState {
                    reference: CourseEnrollmentRef::Stored(ce.id),
                    mode: ce.mode,
                    is_active: ce.is_active,
                };
                ((ce.user_id, text(ce.course_key.as_str())), state)
            })
            .collect();
        let mut pending_invitations: HashMap<(String, String), Vec<InvitationId>> = HashMap::new();
        for invitation in snapshot.invitations {
            let place = (text(&invitation.email), text(invitation.course_key.as_str()));
            pending_invitations.entry(place).or_default().push(invitation.id);
        }
        for ids in pending_invitations.values_mut() {
            ids.sort();
        }
        Self {
            program_uuid,
            options,
            enrollments_by_key,
            stored_keys,
            collation,
            course_modes,
            role_assignments,
            users_by_name,
            user_curricula,
            course_enrollments,
            existing_courses: snapshot.existing_courses.iter().map(|course| text(course.as_str())).collect(),
            pending_invitations,
            course_overviews: snapshot.course_overviews.into_iter().map(|o| (text(o.course_key.as_str()), o)).collect(),
            upgrade_deadlines: snapshot.upgrade_deadlines,
        }
    }

    /// The text by which the database compares `course_key` ([`Collation::key`]).
    fn text(&self, course_key: &CourseKey) -> String {
        self.collation.key(course_key.as_str()).into_owned()
    }

    /// Decides one input pair, seeing the effects of the keys recorded so far.
    ///
    /// # Errors
    /// [`CorruptData`] when the rules reach a PCE whose status is neither `active` nor
    /// `inactive`: the call must abort.
    pub fn plan(&self, key: &ExternalUserKey, username: &Username) -> Result<KeyPlan, CorruptData> {
        let refuse = |error: LinkError| KeyPlan {
            key: key.clone(),
            username: username.clone(),
            log: vec![LogLine::Refused(error.clone())],
            outcome: KeyOutcome::Refused(error),
        };
        // Rule 1 before rule 2: an unknown username masks an unknown key.
        let Some(user) = self.users_by_name.get(username) else {
            return Ok(refuse(LinkError::NoUser { username: username.clone() }));
        };
        let stored = self.stored_keys.get(&lookup_text(key, self.options.case_insensitive_keys));
        let enrollment = match stored.map(Vec::as_slice) {
            Some([stored]) => self.enrollments_by_key.get(stored),
            Some([_, _, ..]) => {
                return Ok(refuse(LinkError::MultipleCaseInsensitiveMatches { key: key.clone() }));
            }
            _ => None,
        };
        let Some(enrollment) = enrollment else {
            return Ok(refuse(LinkError::NoProgramEnrollment { program_uuid: self.program_uuid, key: key.clone() }));
        };
        let mut log = Vec::new();
        let mut unlink = None;
        if let Some(linked) = &enrollment.user {
            if linked.id == user.id || !self.options.relink {
                let relation = if linked.id == user.id { AccountRelation::Target } else { AccountRelation::Different };
                return Ok(refuse(LinkError::AlreadyLinked {
                    key: enrollment.external_user_key.clone(),
                    relation,
                    existing_username: linked.username.clone(),
                }));
            }
            // Relinking: unlink from the current user first, in the key's savepoint.
            log.push(LogLine::LinkedToDifferent {
                key: enrollment.external_user_key.clone(),
                old_username: linked.username.clone(),
            });
            log.push(LogLine::Unlinking {
                old_username: linked.username.clone(),
                program_uuid: self.program_uuid,
                key: enrollment.external_user_key.clone(),
                new_username: username.clone(),
            });
            let modes = |course_key: &CourseKey| self.course_modes.get(&self.text(course_key));
            unlink = Some(plan_unlink(enrollment, linked.id, modes, |course_key, id| {
                self.course_enrollments
                    .get(&(linked.id, self.text(course_key)))
                    .filter(|state| state.reference == CourseEnrollmentRef::Stored(id))
                    .map(|state| (&state.mode, state.is_active))
            }));
        }
        self.plan_link(key, username, user, enrollment, log, unlink)
    }

    /// What the LMS's receivers write when unlinking saves the old user's enrollments: the
    /// forum role on every save, and a schedule reset (to the enrollment's start) where the
    /// mode changes (to `audit`) in a self-paced course.
    fn unlink_side_rows(&self, unlink: &UnlinkWrites, side_rows: &mut EnrollmentSideRows) {
        for course in unlink.courses.iter().filter(|c| c.changes) {
            side_rows
                .forum_roles
                .push(ForumRoleMembership { user_id: unlink.user_id, course_key: course.course_key.clone() });
            let Some(mode) = &course.mode else { continue };
            let current = self
                .course_enrollments
                .get(&(unlink.user_id, self.text(&course.course_key)))
                .filter(|state| state.reference == CourseEnrollmentRef::Stored(course.enrollment));
            if current.is_none_or(|state| &state.mode != mode) {
                side_rows.schedule_resets.extend(ScheduleReset::on_mode_change(
                    CourseEnrollmentRef::Stored(course.enrollment),
                    mode,
                    self.course_overviews.get(&self.text(&course.course_key)),
                ));
            }
        }
    }

    /// What the LMS's receivers write with a linked course's enrollment write: the forum role
    /// on every save; a schedule on an insert (or the ERROR line for a course with no start);
    /// a schedule reset on a mode change made through `update_enrollment` (a re-enrollment of
    /// an inactive enrollment; an active one converted to Master's is a plain save).
    fn course_side_rows(
        &self,
        user: &UserRecord,
        course: &CourseLink,
        log: &mut Vec<LogLine>,
        rows: &mut EnrollmentSideRows,
    ) {
        let Some(write) = &course.write else { return };
        rows.forum_roles.push(ForumRoleMembership { user_id: user.id, course_key: course.course_key.clone() });
        let overview = self.course_overviews.get(&self.text(&course.course_key));
        match write {
            CourseEnrollmentWrite::Create { .. } => match overview.and_then(|o| Some((o, o.start?))) {
                Some((overview, course_start)) => rows.schedules.push(NewSchedule {
                    enrollment: course.enrollment.clone(),
                    course_start,
                    experience_type: overview.experience_type(),
                    upgrade: self.upgrade_rule(&course.course_key),
                }),
                None => {
                    log.push(LogLine::ScheduleNotCreated { user_id: user.id, course_key: course.course_key.clone() })
                }
            },
            CourseEnrollmentWrite::Update { mode, read_mode, read_active, .. } => {
                if !read_active && mode != read_mode {
                    rows.schedule_resets.extend(ScheduleReset::on_mode_change(
                        course.enrollment.clone(),
                        mode,
                        overview,
                    ));
                }
            }
        }
    }

    /// How a new schedule's upgrade deadline is computed in a course, if it has one.
    fn upgrade_rule(&self, course_key: &CourseKey) -> Option<UpgradeDeadlineRule> {
        let settings = &self.upgrade_deadlines;
        let org = course_key.org().and_then(|org| settings.orgs.iter().find(|(o, _)| o == org)).map(|(_, s)| *s);
        let course = settings.courses.iter().find(|(c, _)| c == course_key).map(|(_, s)| *s);
        let days = upgrade_deadline_days(settings.global, org, course)?;
        let verified_expiration =
            settings.verified_expirations.iter().find(|(c, _)| c == course_key).map(|(_, at)| *at);
        Some(UpgradeDeadlineRule { days, verified_expiration })
    }

    fn plan_link(
        &self,
        key: &ExternalUserKey,
        username: &Username,
        user: &UserRecord,
        enrollment: &ProgramEnrollmentRecord,
        mut log: Vec<LogLine>,
        unlink: Option<UnlinkWrites>,
    ) -> Result<KeyPlan, CorruptData> {
        let mut side_rows = EnrollmentSideRows::default();
        if let Some(unlink) = &unlink {
            self.unlink_side_rows(unlink, &mut side_rows);
        }
        let attempt = LinkAttempt {
            user_id: user.id,
            key: enrollment.external_user_key.clone(),
            program_uuid: self.program_uuid,
        };
        log.push(LogLine::Linking(attempt.clone()));
        // Saving the PE's user is where a second PE of the user in the same program and
        // curriculum violates the unique constraint.
        if self.user_curricula.contains(&(user.id, enrollment.curriculum_uuid)) {
            log.push(LogLine::IntegrityErrorWhileLinking(attempt));
            let error = LinkError::Integrity(UniqueViolation::program_enrollment_user());
            return Ok(KeyPlan::failed(key.clone(), username.clone(), log, error));
        }
        // Effects of this key's earlier PCEs on later ones: none can share a course (the
        // `(program_enrollment_id, course_key)` constraint), so each PCE reads the call's state.
        let mut courses = Vec::with_capacity(enrollment.course_enrollments.len());
        let mut roles = Vec::new();
        for pce in &enrollment.course_enrollments {
            match self.plan_course(user, pce, &mut log)? {
                Some(course) => {
                    self.course_side_rows(user, &course, &mut log, &mut side_rows);
                    courses.push(course);
                    // Upstream fulfils a PCE's roles right after saving the PCE.
                    if let Some(assignments) = self.role_assignments.get(&pce.id) {
                        roles.extend(plan_roles(
                            assignments,
                            user,
                            &enrollment.external_user_key,
                            &pce.course_key,
                            pce.id,
                            self.program_uuid,
                            &mut log,
                        ));
                    }
                }
                None => {
                    log.push(LogLine::CourseEnrollmentErrorWhileLinking { attempt, text: String::new() });
                    return Ok(KeyPlan::failed(key.clone(), username.clone(), log, LinkError::NonExistentCourse));
                }
            }
        }
        Ok(KeyPlan {
            key: key.clone(),
            username: username.clone(),
            log,
            outcome: KeyOutcome::Link(LinkWrites {
                attempt,
                program_enrollment: enrollment.id,
                curriculum_uuid: enrollment.curriculum_uuid,
                user_id: user.id,
                courses,
                unlink,
                roles,
                side_rows,
            }),
        })
    }

    /// Enrolling in the Master's track; `None` for a course that does not exist.
    fn plan_course(
        &self,
        user: &UserRecord,
        pce: &ProgramCourseEnrollmentRecord,
        log: &mut Vec<LogLine>,
    ) -> Result<Option<CourseLink>, CorruptData> {
        if !self.existing_courses.contains(&self.text(&pce.course_key)) {
            log.push(LogLine::NonExistentCourse { user_id: user.id, course_key: pce.course_key.clone() });
            return Ok(None);
        }
        let status = pce.status.clone().map_err(|source| CorruptData { program_course_enrollment: pce.id, source })?;
        let current = self.course_enrollments.get(&(user.id, self.text(&pce.course_key)));
        let mut invitations = Vec::new();
        let mode = match current {
            // An active enrollment keeps its mode, unless that mode converts to Master's.
            Some(ce) if ce.is_active => {
                if ce.mode.converts_to_masters() {
                    log.push(LogLine::Converted {
                        user_id: user.id,
                        course_key: pce.course_key.clone(),
                        old_mode: ce.mode.clone(),
                    });
                    CourseMode::masters()
                } else {
                    if !ce.mode.is_masters() {
                        log.push(LogLine::CannotConvert {
                            user_id: user.id,
                            course_key: pce.course_key.clone(),
                            mode: ce.mode.clone(),
                        });
                    }
                    ce.mode.clone()
                }
            }
            // No enrollment, or an inactive one in any mode: enroll in the Master's track,
            // which also consumes the learner's pending invitations to the course.
            _ => {
                let place = (self.collation.key(&user.email).into_owned(), self.text(&pce.course_key));
                if let Some(ids) = self.pending_invitations.get(&place) {
                    invitations.clone_from(ids);
                }
                CourseMode::masters()
            }
        };
        // Enrolled, except in the Master's track of an inactive PCE.
        let is_active = !(mode.is_masters() && status == PceStatus::Inactive);
        let (enrollment, write) = match current {
            None => (
                CourseEnrollmentRef::New { user_id: user.id, course_key: pce.course_key.clone() },
                Some(CourseEnrollmentWrite::Create { mode, is_active }),
            ),
            Some(ce) if ce.mode != mode || ce.is_active != is_active => (
                ce.reference.clone(),
                Some(CourseEnrollmentWrite::Update {
                    mode,
                    is_active,
                    read_mode: ce.mode.clone(),
                    read_active: ce.is_active,
                }),
            ),
            Some(ce) => (ce.reference.clone(), None),
        };
        Ok(Some(CourseLink {
            program_course_enrollment: pce.id,
            course_key: pce.course_key.clone(),
            status,
            enrollment,
            write,
            invitations,
            read: current.map(|ce| (ce.mode.clone(), ce.is_active)),
        }))
    }

    /// Records that a plan's writes were made, so that later keys see them. Plans that are not
    /// [`KeyOutcome::Link`] change nothing.
    pub fn record(&mut self, plan: &KeyPlan) {
        let KeyOutcome::Link(writes) = &plan.outcome else {
            return;
        };
        if let Some(pe) = self.enrollments_by_key.get_mut(&writes.attempt.key) {
            pe.user = Some(LinkedUser { id: writes.user_id, username: plan.username.clone() });
            for pce in &pe.course_enrollments {
                self.role_assignments.remove(&pce.id);
            }
        }
        if let Some(unlink) = &writes.unlink {
            self.user_curricula.remove(&(unlink.user_id, writes.curriculum_uuid));
            for course in &unlink.courses {
                let place = (unlink.user_id, self.text(&course.course_key));
                if let Some(state) = self.course_enrollments.get_mut(&place)
                    && state.reference == CourseEnrollmentRef::Stored(course.enrollment)
                {
                    state.is_active = false;
                    if let Some(mode) = &course.mode {
                        state.mode = mode.clone();
                    }
                }
            }
        }
        self.user_curricula.insert((writes.user_id, writes.curriculum_uuid));
        let email = self.users_by_name.get(&plan.username).map(|u| self.collation.key(&u.email).into_owned());
        let email = email.unwrap_or_default();
        for course in &writes.courses {
            if let Some(write) = &course.write {
                let (mode, is_active) = match write {
                    CourseEnrollmentWrite::Create { mode, is_active }
                    | CourseEnrollmentWrite::Update { mode, is_active, .. } => (mode.clone(), *is_active),
                };
                self.course_enrollments.insert(
                    (writes.user_id, self.text(&course.course_key)),
                    EnrollmentState { reference: course.enrollment.clone(), mode, is_active },
                );
            }
            if !course.invitations.is_empty() {
                self.pending_invitations.remove(&(email.clone(), self.text(&course.course_key)));
            }
        }
    }
}

/// Decides every pair of a batch in input order under `options`, each key seeing the effects
/// of the earlier ones as if all their writes succeeded.
///
/// # Errors
/// [`CorruptData`] as [`Planner::plan`].
pub fn plan_batch(
    program_uuid: ProgramUuid,
    snapshot: Snapshot,
    batch: &LinkBatch,
    options: RuleOptions,
) -> Result<Vec<KeyPlan>, CorruptData> {
    let mut planner = Planner::from_snapshot(program_uuid, snapshot, options);
    let mut plans = Vec::with_capacity(batch.len());
    for (key, username) in batch.iter() {
        let plan = planner.plan(key, username)?;
        planner.record(&plan);
        plans.push(plan);
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CourseEnrollmentId, ProgramEnrollmentId};
    use crate::snapshot::{CourseEnrollmentRecord, InvitationRecord, UserProgramEnrollment};
    use crate::test_fixtures::*;

    #[test]
    fn a_later_key_sees_the_curriculum_an_earlier_key_took() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "a", 1, &[]), waiting(2, "b", 1, &[]), waiting(3, "c", 2, &[])],
            users: vec![user(7, "u")],
            ..Snapshot::default()
        };
        let plans =
            plan_batch(program(), snapshot, &batch(&[("a", "u"), ("b", "u"), ("c", "u")]), RuleOptions::default())
                .unwrap();
        assert_eq!(
            errors(&plans),
            vec![("b".into(), LinkError::Integrity(UniqueViolation::program_enrollment_user()).to_string())]
        );
        assert!(matches!(plans[2].outcome, KeyOutcome::Link(_)), "another curriculum links");
    }

    #[test]
    fn a_failed_key_leaves_no_effect_for_later_keys() {
        // `a` fails on a missing course, so `b` (same user, same curriculum) may link.
        let snapshot = Snapshot {
            program_enrollments: vec![
                waiting(1, "a", 1, &[(10, "course-v1:x+Missing+1", "active")]),
                waiting(2, "b", 1, &[]),
            ],
            users: vec![user(7, "u")],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u"), ("b", "u")]), RuleOptions::default()).unwrap();
        assert_eq!(errors(&plans), vec![("a".into(), "NonExistentCourseError".into())]);
    }

    #[test]
    fn an_earlier_keys_new_enrollment_is_reused_and_its_invitation_is_consumed_once() {
        let snapshot = Snapshot {
            program_enrollments: vec![
                waiting(1, "a", 1, &[(10, FRUIT, "active")]),
                waiting(2, "b", 2, &[(11, FRUIT, "inactive")]),
            ],
            users: vec![user(7, "u")],
            existing_courses: vec![course(FRUIT)],
            invitations: vec![InvitationRecord {
                id: InvitationId(5),
                email: "u@example.com".into(),
                course_key: course(FRUIT),
            }],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u"), ("b", "u")]), RuleOptions::default()).unwrap();
        let links: Vec<&CourseLink> = plans
            .iter()
            .map(|p| match &p.outcome {
                KeyOutcome::Link(w) => &w.courses[0],
                other => panic!("{other:?}"),
            })
            .collect();
        let new_ref = CourseEnrollmentRef::New { user_id: UserId(7), course_key: course(FRUIT) };
        assert_eq!(
            links[0].write,
            Some(CourseEnrollmentWrite::Create { mode: CourseMode::masters(), is_active: true })
        );
        assert_eq!(links[0].invitations, vec![InvitationId(5)]);
        assert_eq!(links[1].enrollment, new_ref);
        assert_eq!(
            links[1].write,
            Some(CourseEnrollmentWrite::Update {
                mode: CourseMode::masters(),
                is_active: false,
                read_mode: CourseMode::masters(),
                read_active: true,
            })
        );
        assert!(links[1].invitations.is_empty(), "already consumed by the first key");
    }

    #[test]
    fn the_highest_id_wins_among_enrollments_sharing_a_key() {
        let mut older = waiting(1, "a", 1, &[]);
        older.user = Some(LinkedUser { id: UserId(9), username: name("other") });
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(2, "a", 2, &[]), older],
            users: vec![user(7, "u")],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
        let KeyOutcome::Link(writes) = &plans[0].outcome else { panic!("{:?}", plans[0]) };
        assert_eq!(writes.program_enrollment, ProgramEnrollmentId(2));
    }

    #[test]
    fn an_existing_enrollment_of_the_user_in_the_curriculum_is_foreseen() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(2, "a", 1, &[])],
            users: vec![user(7, "u")],
            user_program_enrollments: vec![UserProgramEnrollment {
                id: ProgramEnrollmentId(1),
                user_id: UserId(7),
                curriculum_uuid: curriculum(1),
            }],
            course_enrollments: vec![CourseEnrollmentRecord {
                id: CourseEnrollmentId(3),
                user_id: UserId(7),
                course_key: course(FRUIT),
                mode: CourseMode::new("audit"),
                is_active: true,
            }],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
        let lines: Vec<String> = plans[0].log.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            vec![
                format!("Linking user id=7 with external_user_key=a for program uuid={PROGRAM}"),
                format!("Integrity error while linking user id=7 with external_user_key=a for program uuid={PROGRAM}"),
                "Rolling back all operations for a:u".to_string(),
            ]
        );
    }

    #[test]
    fn a_waiting_enrollment_seen_linked_by_the_later_read_is_already_linked() {
        // Read as waiting by key; the read of its user's enrollments, a statement later, finds
        // it linked to that user (another writer in between): rule 3, not the constraint.
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(2, "a", 1, &[(10, FRUIT, "active")])],
            users: vec![user(7, "u"), user(8, "v")],
            user_program_enrollments: vec![UserProgramEnrollment {
                id: ProgramEnrollmentId(2),
                user_id: UserId(7),
                curriculum_uuid: curriculum(1),
            }],
            existing_courses: vec![course(FRUIT)],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot.clone(), &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
        assert_eq!(
            plans[0].outcome.error().map(ToString::to_string).as_deref(),
            Some("Program enrollment with external_student_key=a is already linked to target account username=u")
        );
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "v")]), RuleOptions::default()).unwrap();
        assert_eq!(
            plans[0].outcome.error().map(ToString::to_string).as_deref(),
            Some("Program enrollment with external_student_key=a is already linked to a different account username=u")
        );
    }

    #[test]
    fn a_corrupt_status_aborts_only_when_reached() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "a", 1, &[(10, FRUIT, "bogus")])],
            users: vec![user(7, "u")],
            existing_courses: vec![course(FRUIT)],
            ..Snapshot::default()
        };
        let err = plan_batch(program(), snapshot.clone(), &batch(&[("a", "u")]), RuleOptions::default()).unwrap_err();
        assert_eq!(err.program_course_enrollment, ProgramCourseEnrollmentId(10));
        // A missing course is reached first and fails the key without aborting.
        let no_course = Snapshot { existing_courses: vec![], ..snapshot };
        let plans = plan_batch(program(), no_course, &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
        assert_eq!(errors(&plans), vec![("a".into(), "NonExistentCourseError".into())]);
    }

    #[test]
    fn relinking_unlinks_first_and_later_keys_see_the_old_users_changes() {
        let mut linked = waiting(1, "a", 1, &[(10, FRUIT, "active")]);
        linked.user = Some(LinkedUser { id: UserId(7), username: name("old") });
        linked.course_enrollments[0].course_enrollment_id = Some(CourseEnrollmentId(3));
        let snapshot = Snapshot {
            program_enrollments: vec![linked, waiting(2, "b", 1, &[(11, FRUIT, "active")])],
            users: vec![user(7, "old"), user(8, "new")],
            user_program_enrollments: vec![UserProgramEnrollment {
                id: ProgramEnrollmentId(1),
                user_id: UserId(7),
                curriculum_uuid: curriculum(1),
            }],
            course_enrollments: vec![CourseEnrollmentRecord {
                id: CourseEnrollmentId(3),
                user_id: UserId(7),
                course_key: course(FRUIT),
                mode: CourseMode::masters(),
                is_active: true,
            }],
            existing_courses: vec![course(FRUIT)],
            ..Snapshot::default()
        };
        let pairs = batch(&[("a", "new"), ("b", "old")]);
        let plain = plan_batch(program(), snapshot.clone(), &pairs, RuleOptions::default()).unwrap();
        assert!(matches!(plain[0].outcome, KeyOutcome::Refused(LinkError::AlreadyLinked { .. })));
        assert!(matches!(plain[1].outcome, KeyOutcome::Failed(LinkError::Integrity(_))), "old keeps curriculum 1");

        let options = RuleOptions { relink: true, ..RuleOptions::default() };
        let plans = plan_batch(program(), snapshot, &pairs, options).unwrap();
        let KeyOutcome::Link(first) = &plans[0].outcome else { panic!("{:?}", plans[0]) };
        let unlink = first.unlink.as_ref().unwrap();
        assert_eq!((unlink.program_enrollment, unlink.user_id), (ProgramEnrollmentId(1), UserId(7)));
        assert_eq!(unlink.courses[0].mode, Some(CourseMode::new("audit")), "no modes: audit is offered");
        assert_eq!(first.written_enrollments()[0], CourseEnrollmentRef::Stored(CourseEnrollmentId(3)));
        let lines: Vec<String> = plans[0].log.iter().map(ToString::to_string).collect();
        assert!(lines[0].ends_with("is already linked to a different account username=old"), "{lines:?}");
        assert!(lines[1].starts_with("Unlinking user with username=old from program enrollment"), "{lines:?}");
        // `old` may now link `b` in curriculum 1, reusing its (now inactive, audit) enrollment.
        let KeyOutcome::Link(second) = &plans[1].outcome else { panic!("{:?}", plans[1]) };
        assert_eq!(second.courses[0].enrollment, CourseEnrollmentRef::Stored(CourseEnrollmentId(3)));
        assert_eq!(
            second.courses[0].write,
            Some(CourseEnrollmentWrite::Update {
                mode: CourseMode::masters(),
                is_active: true,
                read_mode: CourseMode::new("audit"),
                read_active: false,
            })
        );
    }

    #[test]
    fn a_persisting_violation_fails_the_key_naming_it_as_given() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "Ab", 1, &[])],
            users: vec![user(7, "u")],
            ..Snapshot::default()
        };
        let options = RuleOptions { case_insensitive_keys: true, ..RuleOptions::default() };
        let plan = plan_batch(program(), snapshot, &batch(&[("aB", "u")]), options).unwrap().remove(0);
        let violation = UniqueViolation::new("student_courseenrollment", ["user_id", "course_id"]);
        let failed = plan.into_integrity_failure(violation.clone());
        assert_eq!(failed.outcome, KeyOutcome::Failed(LinkError::Integrity(violation)));
        let lines: Vec<String> = failed.log.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            vec![
                format!("Linking user id=7 with external_user_key=Ab for program uuid={PROGRAM}"),
                format!("Integrity error while linking user id=7 with external_user_key=Ab for program uuid={PROGRAM}"),
                "Rolling back all operations for aB:u".to_string(),
            ]
        );
    }

    #[test]
    fn a_failed_role_grant_is_logged_right_after_its_info_line() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(
                1,
                "a",
                1,
                &[(10, FRUIT, "active"), (11, "course-v1:edX+B+1", "active")],
            )],
            users: vec![user(7, "u")],
            existing_courses: vec![course(FRUIT), course("course-v1:edX+B+1")],
            course_overviews: vec![
                overview(FRUIT, Some(1), false, None),
                overview("course-v1:edX+B+1", Some(1), false, None),
            ],
            role_assignments: [(3, 10), (4, 11)]
                .map(|(id, pce)| crate::snapshot::RoleAssignmentRecord {
                    id: crate::ids::RoleAssignmentId(id),
                    program_course_enrollment: ProgramCourseEnrollmentId(pce),
                    role: "staff".into(),
                })
                .to_vec(),
            ..Snapshot::default()
        };
        let plan = plan_batch(program(), snapshot, &batch(&[("a", "u")]), RuleOptions::default()).unwrap().remove(0);
        assert_eq!(plan.log_with_failed_roles(&HashSet::new()), plan.log);
        let failed = HashSet::from([crate::ids::RoleAssignmentId(3)]);
        let lines: Vec<String> = plan.log_with_failed_roles(&failed).iter().map(ToString::to_string).collect();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[1].starts_with("Creating access role staff") && lines[1].contains(FRUIT), "{lines:?}");
        assert!(lines[2].starts_with("Unable to create access role staff") && lines[2].contains(FRUIT), "{lines:?}");
        assert!(lines[3].starts_with("Creating access role staff") && lines[3].contains("+B+1"), "{lines:?}");
    }

    #[test]
    fn case_insensitive_keys_find_one_stored_key_or_report_several() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "Ab", 1, &[]), waiting(2, "x-Y", 1, &[]), waiting(3, "X-y", 2, &[])],
            users: vec![user(7, "u"), user(8, "v")],
            ..Snapshot::default()
        };
        let options = RuleOptions { case_insensitive_keys: true, ..RuleOptions::default() };
        let pairs = batch(&[("aB", "u"), ("X-Y", "v")]);
        let reads = crate::reads::follow_up_reads(&pairs, &snapshot.program_enrollments, &snapshot.users, options);
        assert_eq!(reads.user_ids, vec![UserId(7), UserId(8)]);
        let plans = plan_batch(program(), snapshot, &pairs, options).unwrap();
        let KeyOutcome::Link(writes) = &plans[0].outcome else { panic!("{:?}", plans[0]) };
        assert_eq!(writes.attempt.key.as_str(), "Ab", "the log names the stored key");
        assert_eq!(
            errors(&plans),
            vec![(
                "X-Y".into(),
                "Multiple program enrollments match external student key=X-Y case-insensitively".into()
            )]
        );
    }

    #[test]
    fn course_keys_and_emails_compare_as_the_database_compares_them() {
        // The case: the PCEs say `course-v1:refx+c000+2024`, the overview is stored as
        // `course-v1:RefX+C000+2024`, user 8's audit enrollment as `COURSE-V1:REFX+C000+2024`,
        // and user 7's invitation as `U@EXAMPLE.COM` for `Course-V1:RefX+C000+2024`.
        let lower = "course-v1:refx+c000+2024";
        let snapshot = Snapshot {
            program_enrollments: vec![
                waiting(1, "a", 1, &[(10, lower, "active")]),
                waiting(2, "b", 1, &[(11, lower, "active")]),
            ],
            users: vec![user(7, "u"), user(8, "v")],
            course_enrollments: vec![CourseEnrollmentRecord {
                id: CourseEnrollmentId(3),
                user_id: UserId(8),
                course_key: course("COURSE-V1:REFX+C000+2024"),
                mode: CourseMode::new("audit"),
                is_active: true,
            }],
            existing_courses: vec![course("course-v1:RefX+C000+2024")],
            invitations: vec![InvitationRecord {
                id: InvitationId(5),
                email: "U@EXAMPLE.COM".into(),
                course_key: course("Course-V1:RefX+C000+2024"),
            }],
            ..Snapshot::default()
        };
        let pairs = batch(&[("a", "u"), ("b", "v")]);
        let exact = plan_batch(program(), snapshot.clone(), &pairs, RuleOptions::default()).unwrap();
        assert_eq!(
            errors(&exact),
            vec![("a".into(), "NonExistentCourseError".into()), ("b".into(), "NonExistentCourseError".into())]
        );

        let snapshot = Snapshot { collation: Collation::CaseInsensitive, ..snapshot };
        let plans = plan_batch(program(), snapshot, &pairs, RuleOptions::default()).unwrap();
        assert_eq!(errors(&plans), vec![]);
        let course_of = |plan: &KeyPlan| match &plan.outcome {
            KeyOutcome::Link(writes) => writes.courses[0].clone(),
            other => panic!("{other:?}"),
        };
        let created = course_of(&plans[0]);
        assert_eq!(created.enrollment, CourseEnrollmentRef::New { user_id: UserId(7), course_key: course(lower) });
        assert_eq!(created.write, Some(CourseEnrollmentWrite::Create { mode: CourseMode::masters(), is_active: true }));
        assert_eq!(created.invitations, vec![InvitationId(5)]);
        let converted = course_of(&plans[1]);
        assert_eq!(converted.enrollment, CourseEnrollmentRef::Stored(CourseEnrollmentId(3)));
        assert!(
            matches!(converted.write, Some(CourseEnrollmentWrite::Update { ref read_mode, .. }) if read_mode.as_str() == "audit")
        );
    }
    fn overview(key: &str, start: Option<i64>, self_paced: bool, has_highlights: Option<bool>) -> CourseOverviewRecord {
        CourseOverviewRecord { course_key: course(key), start: start.map(crate::Timestamp), self_paced, has_highlights }
    }

    fn side_rows(plan: &KeyPlan) -> &EnrollmentSideRows {
        match &plan.outcome {
            KeyOutcome::Link(writes) => &writes.side_rows,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_new_enrollment_brings_its_forum_role_and_schedule_or_the_error_line_without_a_start() {
        const ANIMAL: &str = "course-v1:edX+Cats+Dogs";
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "a", 1, &[(10, FRUIT, "active"), (11, ANIMAL, "active")])],
            users: vec![user(7, "u")],
            existing_courses: vec![course(FRUIT), course(ANIMAL)],
            course_overviews: vec![overview(FRUIT, Some(5), false, Some(true)), overview(ANIMAL, None, true, None)],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
        let rows = side_rows(&plans[0]);
        let roles: Vec<&str> = rows.forum_roles.iter().map(|r| r.course_key.as_str()).collect();
        assert_eq!(roles, vec![FRUIT, ANIMAL], "every enrollment written gets the role");
        assert_eq!(
            rows.schedules,
            vec![NewSchedule {
                enrollment: CourseEnrollmentRef::New { user_id: UserId(7), course_key: course(FRUIT) },
                course_start: crate::Timestamp(5),
                experience_type: 1,
                upgrade: None,
            }]
        );
        assert!(rows.schedule_resets.is_empty());
        let line = plans[0].log.iter().find(|l| matches!(l, LogLine::ScheduleNotCreated { .. })).unwrap();
        assert_eq!(line.level(), crate::LogLevel::Error);
        assert_eq!(
            line.to_string(),
            "Encountered error in creating a Schedule for CourseEnrollment for user 7 in course course-v1:edX+Cats+Dogs"
        );
    }

    #[test]
    fn the_upgrade_deadline_rule_comes_from_the_configuration() {
        let setting = |days, opt_out| crate::DeadlineSetting { enabled: true, deadline_days: days, opt_out };
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "a", 1, &[(10, FRUIT, "active")])],
            users: vec![user(7, "u")],
            existing_courses: vec![course(FRUIT)],
            course_overviews: vec![overview(FRUIT, Some(5), false, None)],
            upgrade_deadlines: UpgradeDeadlineSettings {
                global: Some(setting(21, false)),
                orgs: vec![("edX".into(), setting(10, false))],
                courses: vec![],
                verified_expirations: vec![(course(FRUIT), crate::Timestamp(99))],
            },
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
        let upgrade = side_rows(&plans[0]).schedules[0].upgrade;
        assert_eq!(upgrade, Some(UpgradeDeadlineRule { days: 10, verified_expiration: Some(crate::Timestamp(99)) }));
    }

    #[test]
    fn a_reused_enrollment_brings_the_role_and_in_a_self_paced_course_a_reset_only_through_update_enrollment() {
        let ce = |id, mode: &str, is_active| CourseEnrollmentRecord {
            id: CourseEnrollmentId(id),
            user_id: UserId(7),
            course_key: course(FRUIT),
            mode: CourseMode::new(mode),
            is_active,
        };
        let plan_with = |enrollment: CourseEnrollmentRecord, self_paced: bool| {
            let snapshot = Snapshot {
                program_enrollments: vec![waiting(1, "a", 1, &[(10, FRUIT, "active")])],
                users: vec![user(7, "u")],
                existing_courses: vec![course(FRUIT)],
                course_enrollments: vec![enrollment],
                course_overviews: vec![overview(FRUIT, Some(5), self_paced, None)],
                ..Snapshot::default()
            };
            let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")]), RuleOptions::default()).unwrap();
            side_rows(&plans[0]).clone()
        };
        // An inactive audit enrollment re-enrolled in Master's: a mode change.
        let rows = plan_with(ce(3, "audit", false), true);
        assert_eq!(rows.forum_roles.len(), 1);
        assert!(rows.schedules.is_empty(), "only a new enrollment gets a schedule");
        assert_eq!(
            rows.schedule_resets,
            vec![ScheduleReset {
                enrollment: CourseEnrollmentRef::Stored(CourseEnrollmentId(3)),
                course_start: crate::Timestamp(5),
                from: crate::ResetFrom::Now,
            }]
        );
        assert!(plan_with(ce(3, "audit", false), false).schedule_resets.is_empty(), "instructor-paced");
        // An active audit enrollment converted by a plain save: the role, no reset.
        let converted = plan_with(ce(3, "audit", true), true);
        assert_eq!((converted.forum_roles.len(), converted.schedule_resets.len()), (1, 0));
        // An active Master's enrollment left alone: nothing saved, nothing brought.
        assert!(plan_with(ce(3, "masters", true), true).is_empty());
    }

    #[test]
    fn unlinking_brings_the_old_users_role_and_a_reset_to_the_enrollment_start() {
        let mut linked = waiting(1, "a", 1, &[(10, FRUIT, "active")]);
        linked.user = Some(LinkedUser { id: UserId(7), username: name("old") });
        linked.course_enrollments[0].course_enrollment_id = Some(CourseEnrollmentId(3));
        let snapshot = Snapshot {
            program_enrollments: vec![linked],
            users: vec![user(7, "old"), user(8, "new")],
            course_enrollments: vec![CourseEnrollmentRecord {
                id: CourseEnrollmentId(3),
                user_id: UserId(7),
                course_key: course(FRUIT),
                mode: CourseMode::masters(),
                is_active: true,
            }],
            existing_courses: vec![course(FRUIT)],
            course_overviews: vec![overview(FRUIT, Some(5), true, None)],
            ..Snapshot::default()
        };
        let options = RuleOptions { relink: true, ..RuleOptions::default() };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "new")]), options).unwrap();
        let rows = side_rows(&plans[0]);
        let roles: Vec<UserId> = rows.forum_roles.iter().map(|r| r.user_id).collect();
        assert_eq!(roles, vec![UserId(7), UserId(8)], "the old user's enrollment is saved too");
        assert_eq!(
            rows.schedule_resets,
            vec![ScheduleReset {
                enrollment: CourseEnrollmentRef::Stored(CourseEnrollmentId(3)),
                course_start: crate::Timestamp(5),
                from: crate::ResetFrom::EnrollmentCreated,
            }]
        );
        assert_eq!(rows.schedules.len(), 1, "the new user's new enrollment");
    }
}
