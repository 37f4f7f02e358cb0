//! The linking rules of `linking.md`, as pure functions over a [`Snapshot`].

use std::collections::{HashMap, HashSet};

use thiserror::Error;

use crate::LinkBatch;
use crate::ids::{
    CourseKey, CurriculumUuid, ExternalUserKey, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId,
    ProgramUuid, UserId, Username,
};
use crate::messages::{AccountRelation, LinkAttempt, LinkError, LogLine, UniqueViolation};
use crate::plan::{CourseEnrollmentRef, CourseEnrollmentWrite, CourseLink, KeyOutcome, KeyPlan, LinkWrites};
use crate::snapshot::{
    FollowUpReads, LinkedUser, ProgramCourseEnrollmentRecord, ProgramEnrollmentRecord, Snapshot, UserRecord,
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
    enrollments_by_key: HashMap<ExternalUserKey, ProgramEnrollmentRecord>,
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
            enrollments_by_key,
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
        let Some(enrollment) = self.enrollments_by_key.get(key) else {
            return Ok(refuse(LinkError::NoProgramEnrollment { program_uuid: self.program_uuid, key: key.clone() }));
        };
        if let Some(linked) = &enrollment.user {
            let relation = if linked.id == user.id { AccountRelation::Target } else { AccountRelation::Different };
            return Ok(refuse(LinkError::AlreadyLinked {
                key: enrollment.external_user_key.clone(),
                relation,
                existing_username: linked.username.clone(),
            }));
        }
        self.plan_link(key, username, user, enrollment)
    }

    fn plan_link(
        &self,
        key: &ExternalUserKey,
        username: &Username,
        user: &UserRecord,
        enrollment: &ProgramEnrollmentRecord,
    ) -> Result<KeyPlan, CorruptData> {
        let attempt = LinkAttempt {
            user_id: user.id,
            key: enrollment.external_user_key.clone(),
            program_uuid: self.program_uuid,
        };
        let mut log = vec![LogLine::Linking(attempt.clone())];
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
        for pce in &enrollment.course_enrollments {
            match self.plan_course(user, pce, &mut log)? {
                Some(course) => courses.push(course),
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
        if let Some(pe) = self.enrollments_by_key.get_mut(&plan.key) {
            pe.user = Some(LinkedUser { id: writes.user_id, username: plan.username.clone() });
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
    let mut planner = Planner::new(program_uuid, snapshot);
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
    let waiting: HashMap<&ExternalUserKey, &ProgramEnrollmentRecord> =
        program_enrollments.iter().filter(|pe| pe.user.is_none()).map(|pe| (&pe.external_user_key, pe)).collect();
    let users: HashMap<&Username, &UserRecord> = users.iter().map(|u| (&u.username, u)).collect();
    let mut by_key: HashMap<&ExternalUserKey, Vec<&ProgramEnrollmentRecord>> = HashMap::new();
    for pe in program_enrollments {
        by_key.entry(&pe.external_user_key).or_default().push(pe);
    }
    let mut reads = FollowUpReads::default();
    let mut seen_users = HashSet::new();
    let mut seen_courses = HashSet::new();
    for (key, username) in batch.iter() {
        let (Some(user), Some(_)) = (users.get(username), waiting.get(key)) else {
            continue;
        };
        if seen_users.insert(user.id) {
            reads.user_ids.push(user.id);
            reads.emails.push(user.email.clone());
        }
        // Every PE that shares the key, not only the one the planner keeps: cheap and safe.
        for pe in by_key.get(key).into_iter().flatten() {
            for pce in &pe.course_enrollments {
                if seen_courses.insert(&pce.course_key) {
                    reads.course_keys.push(pce.course_key.clone());
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
        UserRecord { id: UserId(id), username: name(u), email: format!("{u}@example.com") }
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
