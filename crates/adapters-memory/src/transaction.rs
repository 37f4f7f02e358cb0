//! Transactions and savepoints over the engine's undo journal, and the ports' reads and
//! writes. Imports the engine only, never the fixture API.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use domain::{
    Collation, CourseEnrollmentId, CourseEnrollmentRecord, CourseEnrollmentRef, CourseKey, CourseMode,
    CourseModeRecord, CourseOverviewRecord, DeadlineSetting, ExternalUserKey, FORUM_STUDENT_ROLE, ForumRoleMembership,
    InvitationRecord, LinkedUser, NewSchedule, PceStatus, ProgramCourseEnrollmentId, ProgramCourseEnrollmentRecord,
    ProgramEnrollmentId, ProgramEnrollmentRecord, ProgramUuid, RoleAssignmentId, RoleAssignmentRecord, ScheduleReset,
    Timestamp, UpgradeDeadlineSettings, UserId, UserProgramEnrollment, UserRecord, Username,
};
use ports::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation,
    InvitationUse, LinkingReads, LinkingWrites, NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink,
    StoreError, StoreResult, Transaction,
};
use tokio::sync::OwnedMutexGuard;

use crate::engine::{Sequence, State, Undo, lock_state, role_violation, same_role};
use crate::rows::{
    CourseAccessRoleRow, CourseEnrollmentRow, ForumRoleRow, ForumRoleUserRow, ProgramCourseEnrollmentRow,
    ProgramEnrollmentRow, ScheduleExperienceRow, ScheduleRow, UpgradeDeadlineScope,
};

/// A transaction (holding the writer lock) or a savepoint (a mark in the undo journal).
pub(crate) struct MemoryTransaction {
    state: Arc<Mutex<State>>,
    mark: usize,
    writer: Option<OwnedMutexGuard<()>>,
    finished: bool,
}

impl MemoryTransaction {
    pub(crate) fn new(state: Arc<Mutex<State>>, mark: usize, writer: Option<OwnedMutexGuard<()>>) -> Self {
        Self { state, mark, writer, finished: false }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock_state(&self.state)
    }

    fn is_outer(&self) -> bool {
        self.writer.is_some()
    }
}

impl Drop for MemoryTransaction {
    fn drop(&mut self) {
        let outer = self.is_outer();
        let mut state = self.lock();
        if !self.finished {
            state.undo_to(self.mark);
        }
        if outer {
            // The writer lock is released with this transaction: the next one names its own user.
            state.history_user = None;
        }
    }
}

#[async_trait]
impl Transaction for MemoryTransaction {
    fn reads(&self) -> &dyn LinkingReads {
        self
    }

    fn writes(&self) -> &dyn LinkingWrites {
        self
    }

    async fn savepoint(&self) -> StoreResult<Box<dyn Transaction>> {
        let mark = self.lock().journal.len();
        Ok(Box::new(MemoryTransaction::new(Arc::clone(&self.state), mark, None)))
    }

    async fn commit(mut self: Box<Self>) -> StoreResult<()> {
        self.finished = true;
        if self.is_outer() {
            // Durable: nothing left to undo.
            let mark = self.mark;
            self.lock().journal.truncate(mark);
        }
        // A released savepoint keeps its journal entries, so the outer rollback undoes them.
        Ok(())
    }

    async fn rollback(mut self: Box<Self>) -> StoreResult<()> {
        self.finished = true;
        let mark = self.mark;
        self.lock().undo_to(mark);
        Ok(())
    }
}

fn corrupt(table: &'static str, detail: String) -> StoreError {
    StoreError::CorruptData { table, detail }
}

/// The texts by which `collation` compares `values`.
fn keys_under<'a>(collation: Collation, values: impl Iterator<Item = &'a str>) -> HashSet<String> {
    values.map(|value| collation.key(value).into_owned()).collect()
}

#[async_trait]
impl LinkingReads for MemoryTransaction {
    fn collation(&self) -> Collation {
        self.lock().collation
    }

    async fn program_enrollments_by_keys(
        &self,
        program_uuid: ProgramUuid,
        keys: &[ExternalUserKey],
    ) -> StoreResult<Vec<ProgramEnrollmentRecord>> {
        let state = self.lock();
        let t = &state.tables;
        let wanted: HashSet<&str> = keys.iter().map(ExternalUserKey::as_str).collect();
        let mut found: Vec<ProgramEnrollmentRecord> = Vec::new();
        let mut index: HashMap<ProgramEnrollmentId, usize> = HashMap::new();
        for pe in t.program_enrollments.values() {
            let Some(key) = pe.external_user_key.as_deref() else { continue };
            if pe.program_uuid != program_uuid || !wanted.contains(key) {
                continue;
            }
            let user = match pe.user_id {
                Some(id) => {
                    let row = t.users.get(&id).ok_or_else(|| {
                        corrupt("program_enrollments_programenrollment", format!("id={}: no user id={id}", pe.id))
                    })?;
                    let username = Username::parse(row.username.clone())
                        .map_err(|e| corrupt("auth_user", format!("id={id}: {e}")))?;
                    Some(LinkedUser { id, username })
                }
                None => None,
            };
            let external_user_key = ExternalUserKey::parse(key)
                .map_err(|e| corrupt("program_enrollments_programenrollment", format!("id={}: {e}", pe.id)))?;
            index.insert(pe.id, found.len());
            found.push(ProgramEnrollmentRecord {
                id: pe.id,
                external_user_key,
                curriculum_uuid: pe.curriculum_uuid,
                user,
                course_enrollments: Vec::new(),
            });
        }
        for pce in t.program_course_enrollments.values() {
            let Some(&i) = index.get(&pce.program_enrollment_id) else { continue };
            let course_key = CourseKey::parse(pce.course_key.clone())
                .map_err(|e| corrupt("program_enrollments_programcourseenrollment", format!("id={}: {e}", pce.id)))?;
            found[i].course_enrollments.push(ProgramCourseEnrollmentRecord {
                id: pce.id,
                course_key,
                status: PceStatus::parse(&pce.status),
                course_enrollment_id: pce.course_enrollment_id,
            });
        }
        Ok(found)
    }

    async fn program_enrollment_keys(&self, program_uuid: ProgramUuid) -> StoreResult<Vec<ExternalUserKey>> {
        let state = self.lock();
        let mut seen = HashSet::new();
        state
            .tables
            .program_enrollments
            .values()
            .filter(|pe| pe.program_uuid == program_uuid)
            .filter_map(|pe| Some((pe.id, pe.external_user_key.as_deref()?)))
            .filter(|(_, key)| seen.insert(*key))
            .map(|(id, key)| {
                ExternalUserKey::parse(key)
                    .map_err(|e| corrupt("program_enrollments_programenrollment", format!("id={id}: {e}")))
            })
            .collect()
    }

    async fn course_modes(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseModeRecord>> {
        let state = self.lock();
        let now = SystemTime::now();
        let courses = keys_under(state.collation, course_keys.iter().map(CourseKey::as_str));
        state
            .tables
            .course_modes
            .values()
            .filter(|m| m.expiration_datetime.is_none_or(|at| at > now))
            .filter(|m| courses.contains(state.collation.key(&m.course_id).as_ref()))
            .map(|m| {
                let course_key = CourseKey::parse(m.course_id.clone())
                    .map_err(|e| corrupt("course_modes_coursemode", format!("id={}: {e}", m.id)))?;
                Ok(CourseModeRecord { course_key, mode: CourseMode::new(m.mode_slug.clone()) })
            })
            .collect()
    }

    async fn course_access_roles_supported(&self) -> StoreResult<bool> {
        let state = self.lock();
        Ok(state.tables.course_access_roles.is_some() && state.tables.role_assignments.is_some())
    }

    async fn role_assignments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<Vec<RoleAssignmentRecord>> {
        let state = self.lock();
        let (Some(_), Some(assignments)) = (&state.tables.course_access_roles, &state.tables.role_assignments) else {
            return Ok(Vec::new());
        };
        let wanted: HashSet<ProgramCourseEnrollmentId> = program_course_enrollments.iter().copied().collect();
        Ok(assignments
            .values()
            .filter(|a| wanted.contains(&a.enrollment_id))
            .map(|a| RoleAssignmentRecord {
                id: a.id,
                program_course_enrollment: a.enrollment_id,
                role: a.role.clone(),
            })
            .collect())
    }

    async fn users_by_usernames(&self, usernames: &[Username]) -> StoreResult<Vec<UserRecord>> {
        let state = self.lock();
        let wanted: HashSet<&str> = usernames.iter().map(Username::as_str).collect();
        state
            .tables
            .users
            .values()
            .filter(|u| wanted.contains(u.username.as_str()))
            .map(|u| {
                let username = Username::parse(u.username.clone())
                    .map_err(|e| corrupt("auth_user", format!("id={}: {e}", u.id)))?;
                Ok(UserRecord { id: u.id, username, email: u.email.clone(), is_active: u.is_active })
            })
            .collect()
    }

    async fn program_enrollments_of_users(
        &self,
        program_uuid: ProgramUuid,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<UserProgramEnrollment>> {
        let state = self.lock();
        let wanted: HashSet<UserId> = user_ids.iter().copied().collect();
        Ok(state
            .tables
            .program_enrollments
            .values()
            .filter(|pe| pe.program_uuid == program_uuid)
            .filter_map(|pe| {
                let user_id = pe.user_id.filter(|u| wanted.contains(u))?;
                Some(UserProgramEnrollment { id: pe.id, user_id, curriculum_uuid: pe.curriculum_uuid })
            })
            .collect())
    }

    async fn course_enrollments(
        &self,
        user_ids: &[UserId],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<CourseEnrollmentRecord>> {
        let state = self.lock();
        let users: HashSet<UserId> = user_ids.iter().copied().collect();
        let courses = keys_under(state.collation, course_keys.iter().map(CourseKey::as_str));
        state
            .tables
            .course_enrollments
            .values()
            .filter(|ce| users.contains(&ce.user_id) && courses.contains(state.collation.key(&ce.course_id).as_ref()))
            .map(|ce| {
                let course_key = CourseKey::parse(ce.course_id.clone())
                    .map_err(|e| corrupt("student_courseenrollment", format!("id={}: {e}", ce.id)))?;
                Ok(CourseEnrollmentRecord {
                    id: ce.id,
                    user_id: ce.user_id,
                    course_key,
                    mode: CourseMode::new(ce.mode.clone()),
                    is_active: ce.is_active,
                })
            })
            .collect()
    }

    async fn existing_courses(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseKey>> {
        let state = self.lock();
        let present = keys_under(state.collation, state.tables.course_overviews.keys().map(String::as_str));
        Ok(course_keys.iter().filter(|k| present.contains(state.collation.key(k.as_str()).as_ref())).cloned().collect())
    }

    async fn course_overviews(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseOverviewRecord>> {
        let state = self.lock();
        let t = &state.tables;
        Ok(course_keys
            .iter()
            .filter(|k| t.course_overviews.contains_key(k.as_str()))
            .map(|k| {
                let fields = t.course_overview_fields.get(k.as_str()).cloned().unwrap_or_default();
                CourseOverviewRecord {
                    course_key: k.clone(),
                    start: fields.start.map(timestamp),
                    self_paced: fields.self_paced,
                    has_highlights: fields.has_highlights,
                }
            })
            .collect())
    }

    async fn upgrade_deadline_settings(&self, course_keys: &[CourseKey]) -> StoreResult<UpgradeDeadlineSettings> {
        let state = self.lock();
        let t = &state.tables;
        // A configuration's current row: its latest by `change_date` (then by id).
        let current = |scope: &UpgradeDeadlineScope| {
            t.upgrade_deadline_configurations
                .iter()
                .filter(|row| &row.scope == scope)
                .max_by_key(|row| (row.change_date, row.id))
                .map(|row| DeadlineSetting {
                    enabled: row.enabled,
                    deadline_days: row.deadline_days,
                    opt_out: row.opt_out,
                })
        };
        let mut settings =
            UpgradeDeadlineSettings { global: current(&UpgradeDeadlineScope::Global), ..Default::default() };
        let mut orgs: Vec<&str> = course_keys.iter().filter_map(CourseKey::org).collect();
        orgs.sort_unstable();
        orgs.dedup();
        for org in orgs {
            if let Some(setting) = current(&UpgradeDeadlineScope::Org(org.to_owned())) {
                settings.orgs.push((org.to_owned(), setting));
            }
        }
        let now = SystemTime::now();
        for course_key in course_keys {
            if let Some(setting) = current(&UpgradeDeadlineScope::Course(course_key.as_str().to_owned())) {
                settings.courses.push((course_key.clone(), setting));
            }
            // `CourseMode.verified_mode_for_course`: the unexpired `professional` mode, else
            // `verified`; its expiration caps the deadline.
            let unexpired = |slug: &str| {
                t.course_modes.values().find(|m| {
                    m.course_id == course_key.as_str()
                        && m.mode_slug == slug
                        && m.expiration_datetime.is_none_or(|at| at > now)
                })
            };
            if let Some(at) =
                unexpired("professional").or_else(|| unexpired("verified")).and_then(|m| m.expiration_datetime)
            {
                settings.verified_expirations.push((course_key.clone(), timestamp(at)));
            }
        }
        Ok(settings)
    }

    async fn forum_roles_supported(&self) -> StoreResult<bool> {
        let state = self.lock();
        Ok(state.tables.forum_roles.is_some() && state.tables.forum_role_users.is_some())
    }

    async fn schedules_supported(&self) -> StoreResult<bool> {
        let state = self.lock();
        Ok(state.tables.schedules.is_some() && state.tables.schedule_experiences.is_some())
    }

    async fn pending_invitations(
        &self,
        emails: &[String],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<InvitationRecord>> {
        let state = self.lock();
        let Some(invitations) = state.tables.invitations.as_ref() else { return Ok(Vec::new()) };
        let collation = state.collation;
        let emails = keys_under(collation, emails.iter().map(String::as_str));
        let courses = keys_under(collation, course_keys.iter().map(CourseKey::as_str));
        invitations
            .values()
            .filter(|i| i.user_id.is_none() && emails.contains(collation.key(&i.email).as_ref()))
            .filter(|i| courses.contains(collation.key(&i.course_id).as_ref()))
            .map(|i| {
                let course_key = CourseKey::parse(i.course_id.clone())
                    .map_err(|e| corrupt("student_courseenrollmentallowed", format!("id={}: {e}", i.id)))?;
                Ok(InvitationRecord { id: i.id, email: i.email.clone(), course_key })
            })
            .collect()
    }
}

/// A PE, the user it must still have, and the user to give it.
type UserMove = (ProgramEnrollmentId, Option<UserId>, Option<UserId>);

impl MemoryTransaction {
    /// Gives each PE of `moves` its new user (and `modified` now), with its history row, if it
    /// still has the user the move expects; returns the PEs that did not, untouched. Linking
    /// (from no user) and unlinking (to none) are both this.
    fn move_program_enrollments(&self, moves: &[UserMove]) -> StoreResult<Vec<ProgramEnrollmentId>> {
        let now = SystemTime::now();
        let untouched = self.lock().update_each(
            moves,
            now,
            |&(id, _, _)| id,
            |&(_, from, to), pe: &mut ProgramEnrollmentRow| {
                let still = pe.user_id == from;
                if still {
                    pe.user_id = to;
                    pe.modified = now;
                }
                still
            },
        )?;
        Ok(untouched.into_iter().map(|&(id, _, _)| id).collect())
    }
}

/// Finds the row a reference names.
fn resolve(state: &State, enrollment: &CourseEnrollmentRef) -> StoreResult<CourseEnrollmentId> {
    let found = match enrollment {
        CourseEnrollmentRef::Stored(id) => state.tables.course_enrollments.contains_key(id).then_some(*id),
        CourseEnrollmentRef::New { user_id, course_key } => state
            .tables
            .course_enrollments
            .values()
            .find(|ce| ce.user_id == *user_id && state.collation.equal(&ce.course_id, course_key.as_str()))
            .map(|ce| ce.id),
    };
    found.ok_or(StoreError::Misuse("a write names a course enrollment that does not exist"))
}

#[async_trait]
impl LinkingWrites for MemoryTransaction {
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>> {
        let moves: Vec<UserMove> = links.iter().map(|l| (l.program_enrollment, None, Some(l.user_id))).collect();
        self.move_program_enrollments(&moves)
    }

    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        let mut state = self.lock();
        let now = SystemTime::now();
        for new in enrollments {
            let id = CourseEnrollmentId(state.next_id(Sequence::CourseEnrollment));
            let row = CourseEnrollmentRow {
                id,
                user_id: new.user_id,
                course_id: new.course_key.as_str().into(),
                created: Some(now),
                is_active: new.is_active,
                mode: new.mode.as_str().into(),
            };
            state.save(None, row, now)?;
        }
        Ok(())
    }

    async fn change_course_enrollments(
        &self,
        changes: &[CourseEnrollmentChange],
    ) -> StoreResult<Vec<CourseEnrollmentRef>> {
        let mut state = self.lock();
        let now = SystemTime::now();
        let rows = changes.iter().map(|c| Ok((c, resolve(&state, &c.enrollment)?))).collect::<StoreResult<Vec<_>>>()?;
        let changed_meanwhile = state.update_each(
            &rows,
            now,
            |&(_, id)| id,
            |(change, _), ce: &mut CourseEnrollmentRow| {
                let as_read = ce.mode == change.read_mode.as_str() && ce.is_active == change.read_active;
                if as_read {
                    ce.mode = change.mode.as_str().into();
                    ce.is_active = change.is_active;
                }
                as_read
            },
        )?;
        Ok(changed_meanwhile.into_iter().map(|(change, _)| change.enrollment.clone()).collect())
    }

    async fn attach_course_enrollments(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        let mut state = self.lock();
        let now = SystemTime::now();
        let rows =
            attachments.iter().map(|a| Ok((a, resolve(&state, &a.enrollment)?))).collect::<StoreResult<Vec<_>>>()?;
        let id_of = |&(attachment, _): &(&CourseEnrollmentAttachment, _)| attachment.program_course_enrollment;
        state.update_each(&rows, now, id_of, |&(_, ce), pce: &mut ProgramCourseEnrollmentRow| {
            pce.course_enrollment_id = Some(ce);
            pce.modified = now;
            true
        })?;
        Ok(())
    }

    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()> {
        let mut state = self.lock();
        for used in uses {
            let Some(invitations) = state.tables.invitations.as_mut() else { return Ok(()) };
            let Some(row) = invitations.get_mut(&used.invitation) else { continue };
            // Only a still-pending invitation is taken, as upstream's `user__isnull=True` filter.
            if row.user_id.is_some() {
                continue;
            }
            let before = row.clone();
            row.user_id = Some(used.user_id);
            state.journal.push(Undo::Invitation(used.invitation, Some(before)));
        }
        Ok(())
    }

    async fn unlink_program_enrollments(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>> {
        let moves: Vec<UserMove> = unlinks.iter().map(|u| (u.program_enrollment, Some(u.user_id), None)).collect();
        self.move_program_enrollments(&moves)
    }

    async fn deactivate_course_enrollments(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()> {
        let id_of = |deactivation: &CourseEnrollmentDeactivation| deactivation.enrollment;
        self.lock().update_each(
            deactivations,
            SystemTime::now(),
            id_of,
            |deactivation, ce: &mut CourseEnrollmentRow| {
                ce.is_active = false;
                if let Some(mode) = &deactivation.mode {
                    ce.mode = mode.as_str().into();
                }
                true
            },
        )?;
        Ok(())
    }

    async fn detach_course_enrollments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<()> {
        let now = SystemTime::now();
        self.lock().update_each(
            program_course_enrollments,
            now,
            |&id| id,
            |_, pce: &mut ProgramCourseEnrollmentRow| {
                pce.course_enrollment_id = None;
                pce.modified = now;
                true
            },
        )?;
        Ok(())
    }

    async fn grant_course_access_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        let mut state = self.lock();
        for grant in grants {
            let id = state.next_id(Sequence::CourseAccessRole);
            let row = CourseAccessRoleRow {
                id,
                user_id: grant.user_id,
                org: grant.org.clone(),
                course_id: grant.course_key.as_str().into(),
                role: grant.role.clone(),
            };
            if !state.tables.users.contains_key(&grant.user_id) {
                return Err(StoreError::Misuse("a role names a user that does not exist"));
            }
            let same = same_role(state.collation);
            let Some(roles) = state.tables.course_access_roles.as_mut() else {
                return Err(StoreError::Misuse("the course access role table does not exist"));
            };
            let existing: Vec<&CourseAccessRoleRow> = roles.values().filter(|r| same(r, &row)).collect();
            match existing.len() {
                0 => {
                    roles.insert(id, row);
                    state.journal.push(Undo::CourseAccessRole(id, None));
                }
                1 => {}
                _ => return Err(StoreError::UniqueViolation(role_violation())),
            }
        }
        Ok(())
    }

    async fn delete_role_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()> {
        let mut state = self.lock();
        for id in assignments {
            let Some(table) = state.tables.role_assignments.as_mut() else {
                return Err(StoreError::Misuse("the role assignment table does not exist"));
            };
            if let Some(before) = table.remove(id) {
                state.journal.push(Undo::RoleAssignment(*id, Some(before)));
            }
        }
        Ok(())
    }

    async fn add_forum_student_roles(&self, memberships: &[ForumRoleMembership]) -> StoreResult<()> {
        let mut state = self.lock();
        if state.tables.forum_roles.is_none() || state.tables.forum_role_users.is_none() {
            return Ok(());
        }
        for membership in memberships {
            if !state.tables.users.contains_key(&membership.user_id) {
                return Err(StoreError::Misuse("a discussion role names a user that does not exist"));
            }
            let course_id = membership.course_key.as_str();
            let existing = state
                .tables
                .forum_roles
                .iter()
                .flat_map(|roles| roles.values())
                .filter(|r| r.course_id == course_id && r.name == FORUM_STUDENT_ROLE)
                .map(|r| r.id)
                .min();
            let role_id = match existing {
                Some(id) => id,
                None => {
                    let id = state.next_id(Sequence::ForumRole);
                    let row = ForumRoleRow { id, name: FORUM_STUDENT_ROLE.into(), course_id: course_id.into() };
                    if let Some(roles) = state.tables.forum_roles.as_mut() {
                        roles.insert(id, row);
                    }
                    state.journal.push(Undo::ForumRole(id, None));
                    id
                }
            };
            let member = |u: &ForumRoleUserRow| u.role_id == role_id && u.user_id == membership.user_id;
            if state.tables.forum_role_users.iter().flat_map(|users| users.values()).any(member) {
                continue;
            }
            let id = state.next_id(Sequence::ForumRoleUser);
            if let Some(users) = state.tables.forum_role_users.as_mut() {
                users.insert(id, ForumRoleUserRow { id, role_id, user_id: membership.user_id });
            }
            state.journal.push(Undo::ForumRoleUser(id, None));
        }
        Ok(())
    }

    async fn create_schedules(&self, schedules: &[NewSchedule]) -> StoreResult<()> {
        let mut state = self.lock();
        if state.tables.schedules.is_none() || state.tables.schedule_experiences.is_none() {
            return Ok(());
        }
        let now = SystemTime::now();
        for schedule in schedules {
            let enrollment_id = resolve(&state, &schedule.enrollment)?;
            let created = state.tables.course_enrollments.get(&enrollment_id).and_then(|ce| ce.created).unwrap_or(now);
            let start = schedule.start_date(timestamp(created));
            let id = state.next_id(Sequence::Schedule);
            let row = ScheduleRow {
                id,
                created: now,
                modified: now,
                active: true,
                start_date: Some(system_time(start)),
                upgrade_deadline: schedule.upgrade_deadline(start).map(system_time),
                enrollment_id,
            };
            state.save_schedule(None, row, now)?;
            let experience_id = state.next_id(Sequence::ScheduleExperience);
            let experience =
                ScheduleExperienceRow { id: experience_id, experience_type: schedule.experience_type, schedule_id: id };
            if let Some(experiences) = state.tables.schedule_experiences.as_mut() {
                experiences.insert(experience_id, experience);
            }
            state.journal.push(Undo::ScheduleExperience(experience_id, None));
        }
        Ok(())
    }

    async fn reset_schedule_starts(&self, resets: &[ScheduleReset]) -> StoreResult<()> {
        let mut state = self.lock();
        if state.tables.schedules.is_none() {
            return Ok(());
        }
        let now = SystemTime::now();
        for reset in resets {
            let enrollment_id = resolve(&state, &reset.enrollment)?;
            let created = state.tables.course_enrollments.get(&enrollment_id).and_then(|ce| ce.created).unwrap_or(now);
            let found =
                state.tables.schedules.iter().flat_map(|s| s.values()).find(|s| s.enrollment_id == enrollment_id);
            let Some(before) = found.cloned() else { continue };
            let mut after = before.clone();
            after.start_date = Some(system_time(reset.start_date(timestamp(created), timestamp(now))));
            after.modified = now;
            state.save_schedule(Some(before), after, now)?;
        }
        Ok(())
    }
}

/// A [`SystemTime`] as the rules' [`Timestamp`] (microseconds; earlier digits are dropped).
fn timestamp(at: SystemTime) -> Timestamp {
    let micros = |d: Duration| i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => Timestamp(micros(after)),
        Err(before) => Timestamp(-micros(before.duration())),
    }
}

/// A [`Timestamp`] as a [`SystemTime`].
fn system_time(at: Timestamp) -> SystemTime {
    let span = Duration::from_micros(at.0.unsigned_abs());
    if at.0 >= 0 { UNIX_EPOCH + span } else { UNIX_EPOCH - span }
}
