//! The linking rules of `linking.md`, as pure functions over a [`Snapshot`].

use std::collections::{HashMap, HashSet};

use thiserror::Error;

use crate::LinkBatch;
use crate::ids::{
    CourseKey, CurriculumUuid, ExternalUserKey, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId,
    ProgramUuid, UserId, Username,
};
use crate::key_match::{lookup_text, stored_keys_by_lookup};
use crate::messages::{AccountRelation, LinkAttempt, LinkError, LogLine, UniqueViolation};
use crate::options::RuleOptions;
use crate::plan::{CourseEnrollmentRef, CourseEnrollmentWrite, CourseLink, KeyOutcome, KeyPlan, LinkWrites};
use crate::relink::{UnlinkWrites, plan_unlink};
use crate::roles::plan_roles;
use crate::snapshot::{
    FollowUpReads, LinkedUser, ProgramCourseEnrollmentRecord, ProgramEnrollmentRecord, RoleAssignmentRecord, Snapshot,
    UserRecord,
};
use crate::status::{CourseMode, UnknownStatus};

/// Data the rules cannot work with: the whole call must abort (rule 3.4).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("corrupt data in program course enrollment id={program_course_enrollment}: {source}")]
pub struct CorruptData {
    /// The row.
    pub program_course_enrollment: ProgramCourseEnrollmentId,
    /// What is wrong with it.
    pub source: UnknownStatus,
}

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
    course_modes: HashMap<CourseKey, Vec<CourseMode>>,
    role_assignments: HashMap<ProgramCourseEnrollmentId, Vec<RoleAssignmentRecord>>,
    users_by_name: HashMap<Username, UserRecord>,
    user_curricula: HashSet<(UserId, CurriculumUuid)>,
    course_enrollments: HashMap<(UserId, CourseKey), EnrollmentState>,
    existing_courses: HashSet<CourseKey>,
    pending_invitations: HashMap<(String, CourseKey), Vec<InvitationId>>,
}

impl Planner {
    /// Builds the rules' view of a call from its snapshot.
    ///
    /// When several PEs of the program share a key (in different curricula), the one with the
    /// highest id is used, as upstream's dictionary keeps the last row of an id-ordered read.
    pub fn new(program_uuid: ProgramUuid, snapshot: Snapshot) -> Self {
        Self::with_options(program_uuid, snapshot, RuleOptions::default())
    }

    /// [`Planner::new`] following upstream's later rules that `options` turns on.
    pub fn with_options(program_uuid: ProgramUuid, snapshot: Snapshot, options: RuleOptions) -> Self {
        let stored_keys = stored_keys_by_lookup(
            snapshot.program_enrollments.iter().map(|pe| &pe.external_user_key),
            options.case_insensitive_keys,
        );
        let mut course_modes: HashMap<CourseKey, Vec<CourseMode>> = HashMap::new();
        for mode in snapshot.course_modes {
            course_modes.entry(mode.course_key).or_default().push(mode.mode);
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
        // The reads are separate statements, each seeing what other writers had committed when
        // it ran (READ COMMITTED): a PE read as waiting can show up linked in the later read of
        // its users' enrollments, linked by another writer in between. The later read wins, so
        // rule 3 sees the link (rather than the unique constraint, which it would meet).
        let linked_since: HashMap<ProgramEnrollmentId, UserId> =
            snapshot.user_program_enrollments.iter().map(|pe| (pe.id, pe.user_id)).collect();
        for pe in enrollments_by_key.values_mut() {
            if pe.user.is_none()
                && let Some(&user_id) = linked_since.get(&pe.id)
                && let Some(user) = snapshot.users.iter().find(|u| u.id == user_id)
            {
                pe.user = Some(LinkedUser { id: user_id, username: user.username.clone() });
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
                ((ce.user_id, ce.course_key), state)
            })
            .collect();
        let mut pending_invitations: HashMap<(String, CourseKey), Vec<InvitationId>> = HashMap::new();
        for invitation in snapshot.invitations {
            pending_invitations.entry((invitation.email, invitation.course_key)).or_default().push(invitation.id);
        }
        for ids in pending_invitations.values_mut() {
            ids.sort();
        }
        Self {
            program_uuid,
            options,
            enrollments_by_key,
            stored_keys,
            course_modes,
            role_assignments,
            users_by_name,
            user_curricula,
            course_enrollments,
            existing_courses: snapshot.existing_courses.into_iter().collect(),
            pending_invitations,
        }
    }

    /// The user with `username`, if the snapshot has one.
    pub fn user(&self, username: &Username) -> Option<&UserRecord> {
        self.users_by_name.get(username)
    }

    /// The program of the call.
    pub fn program_uuid(&self) -> ProgramUuid {
        self.program_uuid
    }

    /// The later rules this planner follows.
    pub fn options(&self) -> RuleOptions {
        self.options
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
            unlink = Some(plan_unlink(enrollment, linked.id, &self.course_modes));
        }
        self.plan_link(key, username, user, enrollment, log, unlink)
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
        let attempt = LinkAttempt {
            user_id: user.id,
            key: enrollment.external_user_key.clone(),
            program_uuid: self.program_uuid,
        };
        log.push(LogLine::Linking(attempt.clone()));
        let fail = |mut log: Vec<LogLine>, error: LinkError| KeyPlan {
            key: key.clone(),
            username: username.clone(),
            log: {
                log.push(LogLine::RollingBack { key: key.clone(), username: username.clone() });
                log
            },
            outcome: KeyOutcome::Failed(error),
        };
        // Saving the PE's user is where a second PE of the user in the same program and
        // curriculum violates the unique constraint.
        if self.user_curricula.contains(&(user.id, enrollment.curriculum_uuid)) {
            log.push(LogLine::IntegrityErrorWhileLinking(attempt));
            return Ok(fail(log, LinkError::Integrity(UniqueViolation::program_enrollment_user())));
        }
        // Effects of this key's earlier PCEs on later ones: none can share a course (the
        // `(program_enrollment_id, course_key)` constraint), so each PCE reads the call's state.
        let mut courses = Vec::with_capacity(enrollment.course_enrollments.len());
        let mut roles = Vec::new();
        for pce in &enrollment.course_enrollments {
            match self.plan_course(user, pce, &mut log)? {
                Some(course) => {
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
                    return Ok(fail(log, LinkError::NonExistentCourse));
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
        if !self.existing_courses.contains(&pce.course_key) {
            log.push(LogLine::NonExistentCourse { user_id: user.id, course_key: pce.course_key.clone() });
            return Ok(None);
        }
        let status = pce.status.clone().map_err(|source| CorruptData { program_course_enrollment: pce.id, source })?;
        let current = self.course_enrollments.get(&(user.id, pce.course_key.clone()));
        let mut invitations = Vec::new();
        let (reference, mode, mut is_active, before) = match current {
            Some(ce) if ce.is_active => {
                let mut mode = ce.mode.clone();
                if mode.converts_to_masters() {
                    log.push(LogLine::Converted {
                        user_id: user.id,
                        course_key: pce.course_key.clone(),
                        old_mode: ce.mode.clone(),
                    });
                    mode = CourseMode::masters();
                } else if !mode.is_masters() {
                    log.push(LogLine::CannotConvert {
                        user_id: user.id,
                        course_key: pce.course_key.clone(),
                        mode: ce.mode.clone(),
                    });
                }
                (ce.reference.clone(), mode, true, Some((ce.mode.clone(), ce.is_active)))
            }
            // No enrollment, or an inactive one in any mode: enroll in the Master's track,
            // which also consumes the learner's pending invitations to the course.
            other => {
                if let Some(ids) = self.pending_invitations.get(&(user.email.clone(), pce.course_key.clone())) {
                    invitations.clone_from(ids);
                }
                match other {
                    Some(ce) => {
                        (ce.reference.clone(), CourseMode::masters(), true, Some((ce.mode.clone(), ce.is_active)))
                    }
                    None => (
                        CourseEnrollmentRef::New { user_id: user.id, course_key: pce.course_key.clone() },
                        CourseMode::masters(),
                        true,
                        None,
                    ),
                }
            }
        };
        if mode.is_masters() && status == crate::PceStatus::Inactive {
            is_active = false;
        }
        let write = match before {
            None => Some(CourseEnrollmentWrite::Create { mode, is_active }),
            Some((read_mode, read_active)) if read_mode != mode || read_active != is_active => {
                Some(CourseEnrollmentWrite::Update { mode, is_active, read_mode, read_active })
            }
            Some(_) => None,
        };
        Ok(Some(CourseLink {
            program_course_enrollment: pce.id,
            course_key: pce.course_key.clone(),
            status,
            enrollment: reference,
            write,
            invitations,
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
                if let Some(state) = self.course_enrollments.get_mut(&(unlink.user_id, course.course_key.clone()))
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
        let email = self.users_by_name.get(&plan.username).map(|u| u.email.clone()).unwrap_or_default();
        for course in &writes.courses {
            if let Some(write) = &course.write {
                let (mode, is_active) = match write {
                    CourseEnrollmentWrite::Create { mode, is_active }
                    | CourseEnrollmentWrite::Update { mode, is_active, .. } => (mode.clone(), *is_active),
                };
                self.course_enrollments.insert(
                    (writes.user_id, course.course_key.clone()),
                    EnrollmentState { reference: course.enrollment.clone(), mode, is_active },
                );
            }
            if !course.invitations.is_empty() {
                self.pending_invitations.remove(&(email.clone(), course.course_key.clone()));
            }
        }
    }
}

/// Decides every pair of a batch in input order, each key seeing the effects of the earlier
/// ones as if all their writes succeeded.
///
/// # Errors
/// [`CorruptData`] as [`Planner::plan`].
pub fn plan_batch(
    program_uuid: ProgramUuid,
    snapshot: Snapshot,
    batch: &LinkBatch,
) -> Result<Vec<KeyPlan>, CorruptData> {
    plan_batch_with(program_uuid, snapshot, batch, RuleOptions::default())
}

/// [`plan_batch`] following the later rules `options` turns on.
///
/// # Errors
/// [`CorruptData`] as [`Planner::plan`].
pub fn plan_batch_with(
    program_uuid: ProgramUuid,
    snapshot: Snapshot,
    batch: &LinkBatch,
    options: RuleOptions,
) -> Result<Vec<KeyPlan>, CorruptData> {
    let mut planner = Planner::with_options(program_uuid, snapshot, options);
    let mut plans = Vec::with_capacity(batch.len());
    for (key, username) in batch.iter() {
        let plan = planner.plan(key, username)?;
        planner.record(&plan);
        plans.push(plan);
    }
    Ok(plans)
}

/// From the first two bulk reads, what else must be read: the users that may be linked
/// (found, with a waiting PE), their emails, and the courses of those PEs.
pub fn follow_up_reads(
    batch: &LinkBatch,
    program_enrollments: &[ProgramEnrollmentRecord],
    users: &[UserRecord],
) -> FollowUpReads {
    follow_up_reads_with(batch, program_enrollments, users, RuleOptions::default())
}

/// [`follow_up_reads`] under `options`: keys match up to case with case-insensitive keys, and
/// with relinking a PE linked to a different user may link too; its current user's course
/// enrollments are read as well (unlinking changes them), and the modes of its courses.
pub fn follow_up_reads_with(
    batch: &LinkBatch,
    program_enrollments: &[ProgramEnrollmentRecord],
    users: &[UserRecord],
    options: RuleOptions,
) -> FollowUpReads {
    let users: HashMap<&Username, &UserRecord> = users.iter().map(|u| (&u.username, u)).collect();
    let mut by_key: HashMap<String, Vec<&ProgramEnrollmentRecord>> = HashMap::new();
    for pe in program_enrollments {
        by_key.entry(lookup_text(&pe.external_user_key, options.case_insensitive_keys)).or_default().push(pe);
    }
    let mut reads = FollowUpReads::default();
    let mut seen_users = HashSet::new();
    let mut seen_targets = HashSet::new();
    let mut seen_courses = HashSet::new();
    let mut seen_mode_courses = HashSet::new();
    for (key, username) in batch.iter() {
        let Some(user) = users.get(username) else { continue };
        let sharing = by_key.get(&lookup_text(key, options.case_insensitive_keys)).map_or(&[][..], Vec::as_slice);
        let can_link = |pe: &&&ProgramEnrollmentRecord| match &pe.user {
            None => true,
            Some(linked) => options.relink && linked.id != user.id,
        };
        if !sharing.iter().any(|pe| can_link(&pe)) {
            continue;
        }
        if seen_users.insert(user.id) {
            reads.user_ids.push(user.id);
        }
        if seen_targets.insert(user.id) {
            reads.emails.push(user.email.clone());
        }
        // Every PE that shares the key, not only the one the planner keeps: cheap and safe.
        for pe in sharing {
            for pce in &pe.course_enrollments {
                if seen_courses.insert(&pce.course_key) {
                    reads.course_keys.push(pce.course_key.clone());
                }
                reads.program_course_enrollments.push(pce.id);
            }
            let Some(linked) = pe.user.as_ref().filter(|linked| options.relink && linked.id != user.id) else {
                continue;
            };
            // The current user's enrollments change when the PE is unlinked: later keys must
            // see that.
            if seen_users.insert(linked.id) {
                reads.user_ids.push(linked.id);
            }
            for pce in pe.course_enrollments.iter().filter(|pce| pce.course_enrollment_id.is_some()) {
                if seen_mode_courses.insert(&pce.course_key) {
                    reads.mode_courses.push(pce.course_key.clone());
                }
            }
        }
    }
    reads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CourseEnrollmentId, ProgramEnrollmentId};
    use crate::snapshot::{CourseEnrollmentRecord, InvitationRecord, UserProgramEnrollment};
    use crate::status::PceStatus;

    const PROGRAM: &str = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";
    const FRUIT: &str = "course-v1:edX+Oranges+Apples";

    fn program() -> ProgramUuid {
        ProgramUuid::parse(PROGRAM).unwrap()
    }
    fn curriculum(n: u8) -> CurriculumUuid {
        CurriculumUuid::parse(&format!("00000000-0000-0000-0000-0000000000{n:02x}")).unwrap()
    }
    fn key(k: &str) -> ExternalUserKey {
        ExternalUserKey::parse(k).unwrap()
    }
    fn name(u: &str) -> Username {
        Username::parse(u).unwrap()
    }
    fn course(c: &str) -> CourseKey {
        CourseKey::parse(c).unwrap()
    }
    fn user(id: i64, u: &str) -> UserRecord {
        UserRecord { id: UserId(id), username: name(u), email: format!("{u}@example.com"), is_active: true }
    }
    fn waiting(id: i64, k: &str, c: u8, courses: &[(i64, &str, &str)]) -> ProgramEnrollmentRecord {
        ProgramEnrollmentRecord {
            id: ProgramEnrollmentId(id),
            external_user_key: key(k),
            curriculum_uuid: curriculum(c),
            user: None,
            course_enrollments: courses
                .iter()
                .map(|(id, ck, status)| ProgramCourseEnrollmentRecord {
                    id: ProgramCourseEnrollmentId(*id),
                    course_key: course(ck),
                    status: PceStatus::parse(status),
                    course_enrollment_id: None,
                })
                .collect(),
        }
    }
    fn batch(pairs: &[(&str, &str)]) -> LinkBatch {
        LinkBatch::from_pairs(pairs.iter().map(|(k, u)| (key(k), name(u)))).unwrap()
    }
    fn errors(plans: &[KeyPlan]) -> Vec<(String, String)> {
        plans.iter().filter_map(|p| p.outcome.error().map(|e| (p.key.to_string(), e.to_string()))).collect()
    }

    #[test]
    fn a_later_key_sees_the_curriculum_an_earlier_key_took() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "a", 1, &[]), waiting(2, "b", 1, &[]), waiting(3, "c", 2, &[])],
            users: vec![user(7, "u")],
            ..Snapshot::default()
        };
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u"), ("b", "u"), ("c", "u")])).unwrap();
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
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u"), ("b", "u")])).unwrap();
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
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u"), ("b", "u")])).unwrap();
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
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")])).unwrap();
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
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "u")])).unwrap();
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
        let plans = plan_batch(program(), snapshot.clone(), &batch(&[("a", "u")])).unwrap();
        assert_eq!(
            plans[0].outcome.error().map(ToString::to_string).as_deref(),
            Some("Program enrollment with external_student_key=a is already linked to target account username=u")
        );
        let plans = plan_batch(program(), snapshot, &batch(&[("a", "v")])).unwrap();
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
        let err = plan_batch(program(), snapshot.clone(), &batch(&[("a", "u")])).unwrap_err();
        assert_eq!(err.program_course_enrollment, ProgramCourseEnrollmentId(10));
        // A missing course is reached first and fails the key without aborting.
        let no_course = Snapshot { existing_courses: vec![], ..snapshot };
        let plans = plan_batch(program(), no_course, &batch(&[("a", "u")])).unwrap();
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
        let plain = plan_batch(program(), snapshot.clone(), &pairs).unwrap();
        assert!(matches!(plain[0].outcome, KeyOutcome::Refused(LinkError::AlreadyLinked { .. })));
        assert!(matches!(plain[1].outcome, KeyOutcome::Failed(LinkError::Integrity(_))), "old keeps curriculum 1");

        let options = RuleOptions { relink: true, ..RuleOptions::default() };
        let plans = plan_batch_with(program(), snapshot, &pairs, options).unwrap();
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
    fn case_insensitive_keys_find_one_stored_key_or_report_several() {
        let snapshot = Snapshot {
            program_enrollments: vec![waiting(1, "Ab", 1, &[]), waiting(2, "x-Y", 1, &[]), waiting(3, "X-y", 2, &[])],
            users: vec![user(7, "u"), user(8, "v")],
            ..Snapshot::default()
        };
        let options = RuleOptions { case_insensitive_keys: true, ..RuleOptions::default() };
        let pairs = batch(&[("aB", "u"), ("X-Y", "v")]);
        let reads = follow_up_reads_with(&pairs, &snapshot.program_enrollments, &snapshot.users, options);
        assert_eq!(reads.user_ids, vec![UserId(7), UserId(8)]);
        let plans = plan_batch_with(program(), snapshot, &pairs, options).unwrap();
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
    fn follow_up_reads_cover_only_keys_that_can_link() {
        let mut linked = waiting(2, "b", 1, &[(11, "course-v1:x+B+1", "active")]);
        linked.user = Some(LinkedUser { id: UserId(8), username: name("v") });
        let pes = vec![waiting(1, "a", 1, &[(10, FRUIT, "active")]), linked];
        let users = vec![user(7, "u"), user(8, "v")];
        let reads = follow_up_reads(&batch(&[("a", "u"), ("b", "v"), ("c", "u")]), &pes, &users);
        assert_eq!(reads.user_ids, vec![UserId(7)]);
        assert_eq!(reads.emails, vec!["u@example.com".to_string()]);
        assert_eq!(reads.course_keys, vec![course(FRUIT)]);
    }
}
