//! The fixture API: [`MemoryDatabase`], its fixture inserts and other writers' changes, and
//! its [`UnitOfWork`] (which opens a [`MemoryTransaction`] over the engine).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use async_trait::async_trait;
use domain::{
    Collation, CourseEnrollmentId, CurriculumUuid, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId,
    ProgramUuid, RoleAssignmentId, UniqueViolation, UserId,
};
use ports::{StoreError, StoreResult, Transaction, UnitOfWork};

use crate::engine::{
    Historied, Sequence, State, forum_role_violation, insert_unique, lock_state, role_violation, same_role,
};
use crate::rows::{
    CourseAccessRoleRow, CourseEnrollmentRow, CourseModeRow, CourseOverviewFields, ForumRoleRow, ForumRoleUserRow,
    InvitationRow, ProgramCourseEnrollmentRow, ProgramEnrollmentRow, RoleAssignmentRow, ScheduleRow, Tables,
    UpgradeDeadlineConfigRow, UpgradeDeadlineScope, UserRow,
};
use crate::transaction::MemoryTransaction;

/// An in-memory Open edX database for the linking ports.
///
/// It enforces the unique constraints of `schema.md`, writes history rows as
/// django-simple-history does, and supports one transaction at a time with nested savepoints
/// (an undo journal). Cloning it gives another handle to the same data.
///
/// Meant for tests and for embedding with small data: unique checks scan the table.
#[derive(Debug, Clone)]
pub struct MemoryDatabase {
    state: Arc<Mutex<State>>,
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl Default for MemoryDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDatabase {
    /// An empty database with every table, the invitation, course access role, discussion
    /// role and schedule tables included.
    pub fn new() -> Self {
        let tables = Tables {
            invitations: Some(Default::default()),
            course_access_roles: Some(Default::default()),
            role_assignments: Some(Default::default()),
            learners: crate::learners::LearnerTables::all(),
            forum_roles: Some(Default::default()),
            forum_role_users: Some(Default::default()),
            schedules: Some(Default::default()),
            schedule_experiences: Some(Default::default()),
            ..Tables::default()
        };
        let state = State::new(tables);
        Self { state: Arc::new(Mutex::new(state)), writer: Arc::new(tokio::sync::Mutex::new(())) }
    }

    /// An empty database ([`MemoryDatabase::new`]) comparing course keys and emails under
    /// `collation`, in its reads and unique checks: [`Collation::CaseInsensitive`] plays
    /// MariaDB's default collations.
    pub fn with_collation(collation: Collation) -> Self {
        let db = Self::new();
        db.lock().collation = collation;
        db
    }

    /// How this database compares course keys and emails.
    pub fn collation(&self) -> Collation {
        self.lock().collation
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        lock_state(&self.state)
    }

    /// A copy of every table, for inspection.
    pub fn tables(&self) -> Tables {
        self.lock().tables.clone()
    }

    /// Drops `student_courseenrollmentallowed`, as in a standalone database without it.
    pub fn drop_invitation_table(&self) {
        self.lock().tables.invitations = None;
    }

    /// Drops `student_courseaccessrole` and `program_enrollments_courseaccessroleassignment`, as
    /// in an Open edX database older than 2020.
    pub fn drop_course_access_role_tables(&self) {
        let mut state = self.lock();
        state.tables.course_access_roles = None;
        state.tables.role_assignments = None;
    }

    /// Drops `django_comment_client_role` and `django_comment_client_role_users`, as in a
    /// database without discussions.
    pub fn drop_forum_role_tables(&self) {
        let mut state = self.lock();
        state.tables.forum_roles = None;
        state.tables.forum_role_users = None;
    }

    /// Drops the schedule tables, as in a database without the schedules app.
    pub fn drop_schedule_tables(&self) {
        let mut state = self.lock();
        state.tables.schedules = None;
        state.tables.schedule_experiences = None;
    }

    /// Sets the `start`, `self_paced` and `has_highlights` of a course overview.
    pub fn set_course_overview_fields(&self, course_id: &str, fields: CourseOverviewFields) {
        self.lock().tables.course_overview_fields.insert(course_id.into(), fields);
    }

    /// Inserts a discussion role (`django_comment_client_role`).
    ///
    /// # Errors
    /// Misuse where the table was dropped.
    pub fn add_forum_role(&self, course_id: &str, name: &str) -> StoreResult<i64> {
        let mut state = self.lock();
        let id = state.next_id(Sequence::ForumRole);
        let row = ForumRoleRow { id, name: name.into(), course_id: course_id.into() };
        let roles = state.tables.forum_roles.as_mut();
        insert_unique(roles, "the discussion role table does not exist", id, row, |_, _| false, forum_role_violation)?;
        Ok(id)
    }

    /// Adds a user to a discussion role (`django_comment_client_role_users`).
    ///
    /// # Errors
    /// A unique violation of `(role_id, user_id)`, or misuse where the table was dropped.
    pub fn add_forum_role_user(&self, role_id: i64, user_id: UserId) -> StoreResult<()> {
        let mut state = self.lock();
        let id = state.next_id(Sequence::ForumRoleUser);
        let row = ForumRoleUserRow { id, role_id, user_id };
        let users = state.tables.forum_role_users.as_mut();
        let clashes = |a: &ForumRoleUserRow, b: &ForumRoleUserRow| a.role_id == b.role_id && a.user_id == b.user_id;
        insert_unique(users, "the discussion role table does not exist", id, row, clashes, forum_role_violation)
    }

    /// Inserts a schedule for a course enrollment (a fixture: no history, no experience).
    ///
    /// # Errors
    /// A unique violation of `enrollment_id`, or misuse where the table was dropped.
    pub fn add_schedule(&self, enrollment_id: CourseEnrollmentId, start_date: Option<SystemTime>) -> StoreResult<i64> {
        let mut state = self.lock();
        let id = state.next_id(Sequence::Schedule);
        let now = SystemTime::now();
        let row = ScheduleRow {
            id,
            created: now,
            modified: now,
            active: true,
            start_date,
            upgrade_deadline: None,
            enrollment_id,
        };
        let schedules = state.tables.schedules.as_mut();
        let clashes = |a: &ScheduleRow, b: &ScheduleRow| a.enrollment_id == b.enrollment_id;
        let violation = || UniqueViolation::new("schedules_schedule", ["enrollment_id"]);
        insert_unique(schedules, "the schedule table does not exist", id, row, clashes, violation)?;
        Ok(id)
    }

    /// Inserts a row of a dynamic upgrade deadline configuration table (`change_date` now).
    pub fn add_upgrade_deadline_configuration(
        &self,
        scope: UpgradeDeadlineScope,
        enabled: bool,
        deadline_days: i64,
        opt_out: bool,
    ) {
        let mut state = self.lock();
        let id =
            i64::try_from(state.tables.upgrade_deadline_configurations.len()).unwrap_or(i64::MAX).saturating_add(1);
        let row =
            UpgradeDeadlineConfigRow { id, scope, change_date: SystemTime::now(), enabled, deadline_days, opt_out };
        state.tables.upgrade_deadline_configurations.push(row);
    }

    /// Inserts a course mode (`course_modes_coursemode`).
    pub fn add_course_mode(&self, course_id: &str, mode_slug: &str, expiration_datetime: Option<SystemTime>) {
        let mut state = self.lock();
        let id = state.next_id(Sequence::CourseMode);
        let row = CourseModeRow { id, course_id: course_id.into(), mode_slug: mode_slug.into(), expiration_datetime };
        state.tables.course_modes.insert(id, row);
    }

    /// Inserts a course access role (`student_courseaccessrole`).
    ///
    /// # Errors
    /// A unique violation of `(user_id, org, course_id, role)`, or misuse where the table was
    /// dropped.
    pub fn add_course_access_role(&self, user_id: UserId, org: &str, course_id: &str, role: &str) -> StoreResult<i64> {
        let mut state = self.lock();
        let id = state.next_id(Sequence::CourseAccessRole);
        let row = CourseAccessRoleRow { id, user_id, org: org.into(), course_id: course_id.into(), role: role.into() };
        let same = same_role(state.collation);
        let roles = state.tables.course_access_roles.as_mut();
        insert_unique(roles, "the course access role table does not exist", id, row, same, role_violation)?;
        Ok(id)
    }

    /// Inserts a role assignment (`program_enrollments_courseaccessroleassignment`).
    ///
    /// # Errors
    /// A unique violation of `(role, enrollment_id)`, or misuse where the table was dropped.
    pub fn add_role_assignment(
        &self,
        enrollment_id: ProgramCourseEnrollmentId,
        role: &str,
    ) -> StoreResult<RoleAssignmentId> {
        let mut state = self.lock();
        let id = RoleAssignmentId(state.next_id(Sequence::RoleAssignment));
        let now = SystemTime::now();
        let row = RoleAssignmentRow { id, created: now, modified: now, role: role.into(), enrollment_id };
        let assignments = state.tables.role_assignments.as_mut();
        let clashes =
            |a: &RoleAssignmentRow, b: &RoleAssignmentRow| a.role == b.role && a.enrollment_id == b.enrollment_id;
        let violation =
            || UniqueViolation::new("program_enrollments_courseaccessroleassignment", ["role", "enrollment_id"]);
        insert_unique(assignments, "the role assignment table does not exist", id, row, clashes, violation)?;
        Ok(id)
    }

    /// Inserts a user (a fixture: no history).
    ///
    /// # Errors
    /// A unique violation of `auth_user.username`.
    pub fn add_user(&self, username: &str, email: &str) -> StoreResult<UserId> {
        let mut state = self.lock();
        if state.tables.users.values().any(|u| u.username == username) {
            return Err(StoreError::UniqueViolation(UniqueViolation::new("auth_user", ["username"])));
        }
        let id = UserId(state.next_id(Sequence::User));
        state.tables.users.insert(id, UserRow { id, username: username.into(), email: email.into(), is_active: true });
        Ok(id)
    }

    /// Sets a PE's user outside any transaction, as another writer's committed transaction
    /// would (no history, not undone by a rollback of an open transaction).
    ///
    /// # Errors
    /// Misuse if the PE does not exist.
    pub fn set_program_enrollment_user(&self, pe: ProgramEnrollmentId, user: Option<UserId>) -> StoreResult<()> {
        let mut state = self.lock();
        let row =
            state.tables.program_enrollments.get_mut(&pe).ok_or(StoreError::Misuse("no such program enrollment"))?;
        row.user_id = user;
        Ok(())
    }

    /// Sets a course enrollment's mode and activity, as another writer would (no history).
    ///
    /// # Errors
    /// [`StoreError::Misuse`] if there is no such course enrollment.
    pub fn set_course_enrollment(&self, ce: CourseEnrollmentId, mode: &str, is_active: bool) -> StoreResult<()> {
        let mut state = self.lock();
        let row =
            state.tables.course_enrollments.get_mut(&ce).ok_or(StoreError::Misuse("no such course enrollment"))?;
        row.mode = mode.into();
        row.is_active = is_active;
        Ok(())
    }

    /// Sets a user's `is_active` (a fixture).
    ///
    /// # Errors
    /// Misuse if the user does not exist.
    pub fn set_user_active(&self, user: UserId, is_active: bool) -> StoreResult<()> {
        let mut state = self.lock();
        let row = state.tables.users.get_mut(&user).ok_or(StoreError::Misuse("no such user"))?;
        row.is_active = is_active;
        Ok(())
    }

    /// Sets a user's `is_staff` (a fixture).
    ///
    /// # Errors
    /// Misuse if the user does not exist.
    pub fn set_user_staff(&self, user: UserId, is_staff: bool) -> StoreResult<()> {
        let mut state = self.lock();
        if !state.tables.users.contains_key(&user) {
            return Err(StoreError::Misuse("no such user"));
        }
        if is_staff {
            state.staff.insert(user);
        } else {
            state.staff.remove(&user);
        }
        Ok(())
    }

    /// Inserts a course overview row: the course exists.
    pub fn add_course_overview(&self, course_key: &str, display_name: &str) {
        self.lock().tables.course_overviews.insert(course_key.into(), display_name.into());
    }

    /// Inserts a program enrollment (a fixture: no history).
    ///
    /// # Errors
    /// A unique violation.
    pub fn add_program_enrollment(
        &self,
        external_user_key: Option<&str>,
        program_uuid: ProgramUuid,
        curriculum_uuid: CurriculumUuid,
        user_id: Option<UserId>,
        status: &str,
    ) -> StoreResult<ProgramEnrollmentId> {
        let mut state = self.lock();
        let now = SystemTime::now();
        let id = ProgramEnrollmentId(state.next_id(Sequence::ProgramEnrollment));
        let row = ProgramEnrollmentRow {
            id,
            created: now,
            modified: now,
            user_id,
            external_user_key: external_user_key.map(Into::into),
            program_uuid,
            curriculum_uuid,
            status: status.into(),
        };
        ProgramEnrollmentRow::check_unique(&state, &row)?;
        state.tables.program_enrollments.insert(id, row);
        Ok(id)
    }

    /// Inserts a program course enrollment (a fixture: no history). `status` is stored as
    /// given, so corrupt values can be tested.
    ///
    /// # Errors
    /// A unique violation of `(program_enrollment_id, course_key)`.
    pub fn add_program_course_enrollment(
        &self,
        program_enrollment_id: ProgramEnrollmentId,
        course_key: &str,
        status: &str,
        course_enrollment_id: Option<CourseEnrollmentId>,
    ) -> StoreResult<ProgramCourseEnrollmentId> {
        let mut state = self.lock();
        let clash = state
            .tables
            .program_course_enrollments
            .values()
            .any(|p| p.program_enrollment_id == program_enrollment_id && p.course_key == course_key);
        if clash {
            return Err(StoreError::UniqueViolation(UniqueViolation::new(
                "program_enrollments_programcourseenrollment",
                ["program_enrollment_id", "course_key"],
            )));
        }
        let now = SystemTime::now();
        let id = ProgramCourseEnrollmentId(state.next_id(Sequence::ProgramCourseEnrollment));
        state.tables.program_course_enrollments.insert(
            id,
            ProgramCourseEnrollmentRow {
                id,
                created: now,
                modified: now,
                program_enrollment_id,
                course_enrollment_id,
                course_key: course_key.into(),
                status: status.into(),
            },
        );
        Ok(id)
    }

    /// Inserts a course enrollment (a fixture: no history).
    ///
    /// # Errors
    /// A unique violation of `(user_id, course_id)`.
    pub fn add_course_enrollment(
        &self,
        user_id: UserId,
        course_id: &str,
        mode: &str,
        is_active: bool,
    ) -> StoreResult<CourseEnrollmentId> {
        let mut state = self.lock();
        let id = CourseEnrollmentId(state.next_id(Sequence::CourseEnrollment));
        let row = CourseEnrollmentRow {
            id,
            user_id,
            course_id: course_id.into(),
            created: Some(SystemTime::now()),
            is_active,
            mode: mode.into(),
        };
        CourseEnrollmentRow::check_unique(&state, &row)?;
        state.tables.course_enrollments.insert(id, row);
        Ok(id)
    }

    /// Inserts a course invitation (`student_courseenrollmentallowed`).
    ///
    /// # Errors
    /// A unique violation of `(email, course_id)`, or misuse where the table was dropped.
    pub fn add_invitation(&self, email: &str, course_id: &str, user_id: Option<UserId>) -> StoreResult<InvitationId> {
        let mut state = self.lock();
        let id = InvitationId(state.next_id(Sequence::Invitation));
        let row = InvitationRow {
            id,
            email: email.into(),
            course_id: course_id.into(),
            auto_enroll: false,
            user_id,
            created: Some(SystemTime::now()),
        };
        let collation = state.collation;
        let invitations = state.tables.invitations.as_mut();
        let clashes = |a: &InvitationRow, b: &InvitationRow| {
            collation.equal(&a.email, &b.email) && collation.equal(&a.course_id, &b.course_id)
        };
        let violation = || UniqueViolation::new("student_courseenrollmentallowed", ["email", "course_id"]);
        insert_unique(invitations, "the invitation table does not exist", id, row, clashes, violation)?;
        Ok(id)
    }
}

#[async_trait]
impl UnitOfWork for MemoryDatabase {
    async fn begin(&self) -> StoreResult<Box<dyn Transaction>> {
        self.begin_as(None).await
    }

    async fn begin_as(&self, history_user: Option<UserId>) -> StoreResult<Box<dyn Transaction>> {
        // One transaction at a time, like SQLite's single writer: a second `begin` waits.
        let guard = Arc::clone(&self.writer).lock_owned().await;
        let mark = {
            let mut state = self.lock();
            state.history_user = history_user;
            state.journal.len()
        };
        Ok(Box::new(MemoryTransaction::new(Arc::clone(&self.state), mark, Some(guard))))
    }
}

#[async_trait]
impl ports::Accounts for MemoryDatabase {
    async fn account(&self, username: &str) -> StoreResult<Option<ports::Account>> {
        let state = self.lock();
        let Some(user) = state.tables.users.values().find(|u| u.username == username) else { return Ok(None) };
        let global_support_role = state.tables.course_access_roles.as_ref().is_some_and(|roles| {
            roles
                .values()
                .any(|r| r.user_id == user.id && r.role == "support" && r.org.is_empty() && r.course_id.is_empty())
        });
        Ok(Some(ports::Account {
            id: user.id,
            username: user.username.clone(),
            is_active: user.is_active,
            is_staff: state.staff.contains(&user.id),
            global_support_role,
        }))
    }
}
