//! What a backend provides to the contract suite.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use adapters_memory::{MemoryDatabase, Tables, UpgradeDeadlineScope};
use async_trait::async_trait;
use domain::{
    CourseEnrollmentId, CurriculumUuid, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId, ProgramUuid,
    RoleAssignmentId, UserId,
};
use ports::UnitOfWork;

/// A fresh database of one backend: the ports, fixture inserts (no history, like data that
/// was there before), and a read-back of every table.
#[async_trait]
pub trait TestDatabase: Send + Sync {
    /// The unit of work under test (built anew after a schema change such as
    /// [`TestDatabase::drop_invitation_table`]).
    async fn unit_of_work(&self) -> Arc<dyn UnitOfWork>;
    /// Inserts a user.
    async fn add_user(&self, username: &str, email: &str) -> UserId;
    /// Inserts a course overview row, its course started (`start` [`course_start`]),
    /// instructor-paced, `has_highlights` NULL.
    async fn add_course_overview(&self, course_key: &str);
    /// Sets a course overview's `start`, `self_paced` and `has_highlights`.
    async fn set_course_overview_fields(
        &self,
        course_key: &str,
        start: Option<SystemTime>,
        self_paced: bool,
        has_highlights: Option<bool>,
    );
    /// Inserts a discussion role (`django_comment_client_role`); returns its id.
    async fn add_forum_role(&self, course_key: &str, name: &str) -> i64;
    /// Adds a user to a discussion role.
    async fn add_forum_role_user(&self, role_id: i64, user: UserId);
    /// Inserts a schedule for a course enrollment (no history, no experience); returns its id.
    async fn add_schedule(&self, ce: CourseEnrollmentId, start_date: Option<SystemTime>) -> i64;
    /// Inserts a row of a dynamic upgrade deadline configuration table (`change_date` now).
    async fn add_upgrade_deadline_configuration(
        &self,
        scope: UpgradeDeadlineScope,
        enabled: bool,
        deadline_days: i64,
        opt_out: bool,
    );
    /// Inserts a course mode expiring at `expiration`.
    async fn add_course_mode_expiring(&self, course_key: &str, mode: &str, expiration: SystemTime);
    /// Removes the discussion role tables.
    async fn drop_forum_role_tables(&self);
    /// Removes the schedule tables.
    async fn drop_schedule_tables(&self);
    /// Inserts a program enrollment.
    async fn add_program_enrollment(
        &self,
        key: Option<&str>,
        program: ProgramUuid,
        curriculum: CurriculumUuid,
        user: Option<UserId>,
        status: &str,
    ) -> ProgramEnrollmentId;
    /// Inserts a program course enrollment (status stored as given).
    async fn add_program_course_enrollment(
        &self,
        pe: ProgramEnrollmentId,
        course_key: &str,
        status: &str,
        ce: Option<CourseEnrollmentId>,
    ) -> ProgramCourseEnrollmentId;
    /// Inserts a course enrollment.
    async fn add_course_enrollment(
        &self,
        user: UserId,
        course_key: &str,
        mode: &str,
        active: bool,
    ) -> CourseEnrollmentId;
    /// Inserts an invitation.
    async fn add_invitation(&self, email: &str, course_key: &str, user: Option<UserId>) -> InvitationId;
    /// Removes `student_courseenrollmentallowed`.
    async fn drop_invitation_table(&self);
    /// Inserts a course mode, unexpired (`expiration_datetime` NULL) or expired (a day ago).
    async fn add_course_mode(&self, course_key: &str, mode: &str, expired: bool);
    /// Inserts a course access role.
    async fn add_course_access_role(&self, user: UserId, org: &str, course_key: &str, role: &str);
    /// Inserts a role assignment for a PCE.
    async fn add_role_assignment(&self, pce: ProgramCourseEnrollmentId, role: &str) -> RoleAssignmentId;
    /// Removes the course access role tables (an Open edX older than 2020).
    async fn drop_course_access_role_tables(&self);
    /// Sets a user's `is_active` to false.
    async fn deactivate_user(&self, user: UserId);
    /// Every table, read back.
    async fn tables(&self) -> Tables;
    /// The accounts read of this database, where the backend has one.
    async fn accounts(&self) -> Option<Arc<dyn ports::Accounts>> {
        None
    }
    /// Sets a user's `is_staff`.
    async fn set_staff(&self, user: UserId, is_staff: bool) {
        let _ = (user, is_staff);
    }
    /// The inspector's reads and fixtures, where the backend has them.
    fn learners(&self) -> Option<&dyn LearnerTestDatabase> {
        None
    }
    /// Called when a case passed: drop the throw-away database, or keep it for a read-back.
    async fn finish(&self) {}
    /// How the cases' calls write (the result must not depend on it).
    fn write_path(&self) -> app::WritePath {
        app::WritePath::default()
    }
    /// Whether this database's SQL finds a course key or an email in another case, as
    /// MariaDB's default collations do (and SQLite's and PostgreSQL's do not): what the
    /// original's outcome is there. The test's own knowledge of the backend, not the adapter's.
    fn ignores_case_in_course_keys(&self) -> bool {
        false
    }
}

/// The inspector's tables of a backend: its reads, and fixture inserts.
#[async_trait]
pub trait LearnerTestDatabase: Send + Sync {
    /// The inspector's reads of this database (built anew after a schema change).
    async fn records(&self) -> Arc<dyn ports::LearnerRecords>;
    /// Inserts an organisation; its id.
    async fn add_organization(&self, short_name: &str) -> i64;
    /// Inserts a SAML provider configuration row (backend `tpa-saml`); its id.
    async fn add_saml_provider(&self, slug: &str, organization: Option<i64>, enabled: bool) -> i64;
    /// Inserts an SSO record (`extra_data` `{}`) with its history row; its id.
    async fn add_social_auth(&self, user: UserId, provider: &str, uid: &str) -> i64;
    /// Changes an SSO record's uid, with a history row.
    async fn change_social_auth_uid(&self, id: i64, uid: &str);
    /// Removes the SSO, SAML provider and organisation tables.
    async fn drop_learner_tables(&self);
}

/// The `start` of every course overview the fixtures insert: 2020-01-01 00:00:00 UTC.
pub fn course_start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_577_836_800)
}

/// The in-memory adapter as a [`TestDatabase`].
#[derive(Debug, Clone, Default)]
pub struct MemoryTestDatabase(pub MemoryDatabase, pub Option<app::WritePath>);

impl MemoryTestDatabase {
    /// An empty database whose cases write with `path`.
    pub fn with_write_path(path: app::WritePath) -> Self {
        Self(MemoryDatabase::new(), Some(path))
    }

    /// An empty database comparing course keys and emails under `collation` (MariaDB's
    /// behaviour with [`domain::Collation::CaseInsensitive`]).
    pub fn with_collation(collation: domain::Collation) -> Self {
        Self(MemoryDatabase::with_collation(collation), None)
    }
}

#[async_trait]
impl TestDatabase for MemoryTestDatabase {
    async fn unit_of_work(&self) -> Arc<dyn UnitOfWork> {
        Arc::new(self.0.clone())
    }
    async fn add_user(&self, username: &str, email: &str) -> UserId {
        self.0.add_user(username, email).unwrap()
    }
    async fn add_course_overview(&self, course_key: &str) {
        self.0.add_course_overview(course_key, course_key);
        self.set_course_overview_fields(course_key, Some(course_start()), false, None).await;
    }
    async fn set_course_overview_fields(
        &self,
        course_key: &str,
        start: Option<SystemTime>,
        self_paced: bool,
        has_highlights: Option<bool>,
    ) {
        let fields = adapters_memory::CourseOverviewFields { start, self_paced, has_highlights };
        self.0.set_course_overview_fields(course_key, fields);
    }
    async fn add_forum_role(&self, course_key: &str, name: &str) -> i64 {
        self.0.add_forum_role(course_key, name).unwrap()
    }
    async fn add_forum_role_user(&self, role_id: i64, user: UserId) {
        self.0.add_forum_role_user(role_id, user).unwrap();
    }
    async fn add_schedule(&self, ce: CourseEnrollmentId, start_date: Option<SystemTime>) -> i64 {
        self.0.add_schedule(ce, start_date).unwrap()
    }
    async fn add_upgrade_deadline_configuration(
        &self,
        scope: UpgradeDeadlineScope,
        enabled: bool,
        deadline_days: i64,
        opt_out: bool,
    ) {
        self.0.add_upgrade_deadline_configuration(scope, enabled, deadline_days, opt_out);
    }
    async fn add_course_mode_expiring(&self, course_key: &str, mode: &str, expiration: SystemTime) {
        self.0.add_course_mode(course_key, mode, Some(expiration));
    }
    async fn drop_forum_role_tables(&self) {
        self.0.drop_forum_role_tables();
    }
    async fn drop_schedule_tables(&self) {
        self.0.drop_schedule_tables();
    }
    async fn add_program_enrollment(
        &self,
        key: Option<&str>,
        program: ProgramUuid,
        curriculum: CurriculumUuid,
        user: Option<UserId>,
        status: &str,
    ) -> ProgramEnrollmentId {
        self.0.add_program_enrollment(key, program, curriculum, user, status).unwrap()
    }
    async fn add_program_course_enrollment(
        &self,
        pe: ProgramEnrollmentId,
        course_key: &str,
        status: &str,
        ce: Option<CourseEnrollmentId>,
    ) -> ProgramCourseEnrollmentId {
        self.0.add_program_course_enrollment(pe, course_key, status, ce).unwrap()
    }
    async fn add_course_enrollment(
        &self,
        user: UserId,
        course_key: &str,
        mode: &str,
        active: bool,
    ) -> CourseEnrollmentId {
        self.0.add_course_enrollment(user, course_key, mode, active).unwrap()
    }
    async fn add_invitation(&self, email: &str, course_key: &str, user: Option<UserId>) -> InvitationId {
        self.0.add_invitation(email, course_key, user).unwrap()
    }
    async fn drop_invitation_table(&self) {
        self.0.drop_invitation_table();
    }
    async fn add_course_mode(&self, course_key: &str, mode: &str, expired: bool) {
        let expiration = expired.then(|| std::time::SystemTime::now() - std::time::Duration::from_secs(86_400));
        self.0.add_course_mode(course_key, mode, expiration);
    }
    async fn add_course_access_role(&self, user: UserId, org: &str, course_key: &str, role: &str) {
        self.0.add_course_access_role(user, org, course_key, role).unwrap();
    }
    async fn add_role_assignment(&self, pce: ProgramCourseEnrollmentId, role: &str) -> RoleAssignmentId {
        self.0.add_role_assignment(pce, role).unwrap()
    }
    async fn drop_course_access_role_tables(&self) {
        self.0.drop_course_access_role_tables();
    }
    async fn deactivate_user(&self, user: UserId) {
        self.0.set_user_active(user, false).unwrap();
    }
    async fn tables(&self) -> Tables {
        self.0.tables()
    }
    async fn accounts(&self) -> Option<Arc<dyn ports::Accounts>> {
        Some(Arc::new(self.0.clone()))
    }
    async fn set_staff(&self, user: UserId, is_staff: bool) {
        self.0.set_user_staff(user, is_staff).unwrap();
    }
    fn write_path(&self) -> app::WritePath {
        self.1.unwrap_or_default()
    }
    fn ignores_case_in_course_keys(&self) -> bool {
        self.0.collation() == domain::Collation::CaseInsensitive
    }
    fn learners(&self) -> Option<&dyn LearnerTestDatabase> {
        Some(self)
    }
}

#[async_trait]
impl LearnerTestDatabase for MemoryTestDatabase {
    async fn records(&self) -> Arc<dyn ports::LearnerRecords> {
        Arc::new(self.0.clone())
    }
    async fn add_organization(&self, short_name: &str) -> i64 {
        self.0.add_organization(short_name).unwrap()
    }
    async fn add_saml_provider(&self, slug: &str, organization: Option<i64>, enabled: bool) -> i64 {
        self.0.add_saml_provider(slug, organization, enabled).unwrap()
    }
    async fn add_social_auth(&self, user: UserId, provider: &str, uid: &str) -> i64 {
        self.0.add_social_auth(user, provider, uid, "{}").unwrap()
    }
    async fn change_social_auth_uid(&self, id: i64, uid: &str) {
        self.0.change_social_auth_uid(id, uid).unwrap();
    }
    async fn drop_learner_tables(&self) {
        self.0.drop_learner_tables();
    }
}
