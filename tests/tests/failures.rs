//! Failure paths a real adapter cannot easily produce: mocks (mockall) for the transaction
//! protocol, and fault injection over the in-memory adapter for the data left behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use acceptance::hooked::{Hooked, WriteHook};
use acceptance::{ANIMAL, FRUIT, MemoryTestDatabase, TestDatabase, World, capture_logs, link};
use adapters_memory::MemoryDatabase;
use async_trait::async_trait;
use domain::{
    CurriculumUuid, ExternalUserKey, ProgramEnrollmentId, ProgramEnrollmentRecord, ProgramUuid, UniqueViolation,
    UserId, UserRecord, Username,
};
use ports::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, LinkingReads, LinkingWrites, MockLinkingReads,
    MockLinkingWrites, MockUnitOfWork, NewCourseEnrollment, ProgramEnrollmentLink, StoreError, StoreResult,
    Transaction, UnitOfWork,
};

fn backend_error() -> StoreError {
    StoreError::Backend { backend: "memory", source: "connection reset by peer".into() }
}

/// A transaction whose reads and writes are mocks, recording its commits and rollbacks.
struct ScriptedTx {
    name: &'static str,
    reads: Arc<MockLinkingReads>,
    writes: Arc<MockLinkingWrites>,
    events: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl Transaction for ScriptedTx {
    fn reads(&self) -> &dyn LinkingReads {
        &*self.reads
    }
    fn writes(&self) -> &dyn LinkingWrites {
        &*self.writes
    }
    async fn savepoint(&self) -> StoreResult<Box<dyn Transaction>> {
        self.events.lock().unwrap().push("savepoint".into());
        Ok(Box::new(ScriptedTx {
            name: "savepoint",
            reads: Arc::clone(&self.reads),
            writes: Arc::clone(&self.writes),
            events: Arc::clone(&self.events),
        }))
    }
    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.events.lock().unwrap().push(format!("commit {}", self.name));
        Ok(())
    }
    async fn rollback(self: Box<Self>) -> StoreResult<()> {
        self.events.lock().unwrap().push(format!("rollback {}", self.name));
        Ok(())
    }
}

#[tokio::test]
async fn a_port_error_mid_batch_aborts_and_rolls_back_the_whole_transaction() {
    let program = ProgramUuid::from_uuid(uuid::Uuid::new_v4());
    let curriculum = CurriculumUuid::from_uuid(uuid::Uuid::new_v4());
    let mut reads = MockLinkingReads::new();
    reads.expect_program_enrollments_by_keys().returning(move |_, keys| {
        Ok(keys
            .iter()
            .enumerate()
            .map(|(i, key)| ProgramEnrollmentRecord {
                id: ProgramEnrollmentId(i as i64 + 1),
                external_user_key: key.clone(),
                curriculum_uuid: curriculum,
                user: None,
                course_enrollments: vec![],
            })
            .collect())
    });
    reads.expect_users_by_usernames().returning(|names| {
        Ok(names
            .iter()
            .enumerate()
            .map(|(i, u)| UserRecord {
                id: UserId(i as i64 + 10),
                username: u.clone(),
                email: format!("{u}@x"),
                is_active: true,
            })
            .collect())
    });
    reads.expect_program_enrollments_of_users().returning(|_, _| Ok(vec![]));
    reads.expect_collation().return_const(domain::Collation::Exact);
    reads.expect_course_access_roles_supported().returning(|| Ok(true));
    reads.expect_forum_roles_supported().returning(|| Ok(true));
    reads.expect_schedules_supported().returning(|| Ok(true));
    let mut writes = MockLinkingWrites::new();
    let mut calls = 0;
    writes.expect_link_program_enrollments().times(2).returning(move |_| {
        calls += 1;
        if calls == 1 { Ok(vec![]) } else { Err(backend_error()) }
    });
    let events = Arc::new(Mutex::new(Vec::new()));
    let tx =
        ScriptedTx { name: "outer", reads: Arc::new(reads), writes: Arc::new(writes), events: Arc::clone(&events) };
    let mut uow = MockUnitOfWork::new();
    let slot = Mutex::new(Some(tx));
    uow.expect_begin().times(1).returning(move || Ok(Box::new(slot.lock().unwrap().take().unwrap())));

    let batch = domain::LinkBatch::from_pairs(
        [("k1", "u1"), ("k2", "u2"), ("k3", "u3")]
            .map(|(k, u)| (ExternalUserKey::parse(k).unwrap(), Username::parse(u).unwrap())),
    )
    .unwrap();
    let options = app::LinkOptions { write_path: app::WritePath::PerKey, ..app::LinkOptions::default() };
    let result = app::link_program_enrollments_with(&uow, program, &batch, &options).await;

    let err = result.unwrap_err();
    assert!(matches!(err, app::LinkCallError::Store(StoreError::Backend { .. })), "{err:?}");
    assert_eq!(err.to_string(), "the database failed: memory error: connection reset by peer");
    assert_eq!(
        *events.lock().unwrap(),
        vec!["savepoint", "commit savepoint", "savepoint", "rollback savepoint", "rollback outer"],
        "the third key is never tried and the outer transaction is rolled back, never committed"
    );
}

/// Which write to break, and how: chosen by content, so that it hits the same key whichever
/// way the writes are grouped.
#[derive(Clone)]
enum Fault {
    /// `create_course_enrollments` fails with this error when it writes for this user.
    CreateFor(UserId, Arc<dyn Fn() -> StoreError + Send + Sync>),
    /// `attach_course_enrollments` fails when it writes this PCE.
    AttachFor(domain::ProgramCourseEnrollmentId, Arc<dyn Fn() -> StoreError + Send + Sync>),
    /// The first time `link_program_enrollments` writes this PE, another writer links it to
    /// the user first.
    ConcurrentLink(ProgramEnrollmentId, MemoryDatabase, UserId, Arc<AtomicBool>),
    /// `grant_course_access_roles` fails when it grants a role in this course.
    GrantIn(String),
}

#[async_trait]
impl WriteHook for Fault {
    async fn before_link(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<()> {
        if let Fault::ConcurrentLink(pe, db, other, fired) = self
            && links.iter().any(|l| l.program_enrollment == *pe)
            && !fired.swap(true, Ordering::SeqCst)
        {
            db.set_program_enrollment_user(*pe, Some(*other))?;
        }
        Ok(())
    }
    async fn before_create(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        match self {
            Fault::CreateFor(user, error) if enrollments.iter().any(|e| e.user_id == *user) => Err(error()),
            _ => Ok(()),
        }
    }
    async fn before_grant(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        match self {
            Fault::GrantIn(course) if grants.iter().any(|g| g.course_key.as_str() == course) => Err(backend_error()),
            _ => Ok(()),
        }
    }
    async fn before_attach(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        match self {
            Fault::AttachFor(pce, error) if attachments.iter().any(|a| a.program_course_enrollment == *pce) => {
                Err(error())
            }
            _ => Ok(()),
        }
    }
}

/// A test database whose unit of work injects a fault (set after the fixtures); fixtures and
/// read-back go to memory.
struct FaultyTestDatabase {
    memory: MemoryTestDatabase,
    fault: Mutex<Option<Fault>>,
}

impl FaultyTestDatabase {
    fn new(path: app::WritePath) -> Self {
        Self { memory: MemoryTestDatabase::with_write_path(path), fault: Mutex::new(None) }
    }

    fn inject(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Some(fault);
    }
}

#[async_trait]
impl TestDatabase for FaultyTestDatabase {
    async fn unit_of_work(&self) -> Arc<dyn UnitOfWork> {
        match self.fault.lock().unwrap().clone() {
            Some(fault) => Arc::new(Hooked { inner: Arc::new(self.memory.0.clone()), hook: Arc::new(fault) }),
            None => Arc::new(self.memory.0.clone()),
        }
    }
    fn write_path(&self) -> app::WritePath {
        self.memory.write_path()
    }
    async fn add_user(&self, username: &str, email: &str) -> UserId {
        self.memory.add_user(username, email).await
    }
    async fn add_course_overview(&self, course_key: &str) {
        self.memory.add_course_overview(course_key).await
    }
    async fn add_program_enrollment(
        &self,
        key: Option<&str>,
        program: ProgramUuid,
        curriculum: CurriculumUuid,
        user: Option<UserId>,
        status: &str,
    ) -> ProgramEnrollmentId {
        self.memory.add_program_enrollment(key, program, curriculum, user, status).await
    }
    async fn add_program_course_enrollment(
        &self,
        pe: ProgramEnrollmentId,
        course_key: &str,
        status: &str,
        ce: Option<domain::CourseEnrollmentId>,
    ) -> domain::ProgramCourseEnrollmentId {
        self.memory.add_program_course_enrollment(pe, course_key, status, ce).await
    }
    async fn add_course_enrollment(
        &self,
        user: UserId,
        course_key: &str,
        mode: &str,
        active: bool,
    ) -> domain::CourseEnrollmentId {
        self.memory.add_course_enrollment(user, course_key, mode, active).await
    }
    async fn add_invitation(&self, email: &str, course_key: &str, user: Option<UserId>) -> domain::InvitationId {
        self.memory.add_invitation(email, course_key, user).await
    }
    async fn drop_invitation_table(&self) {
        self.memory.drop_invitation_table().await
    }
    async fn add_course_mode(&self, course_key: &str, mode: &str, expired: bool) {
        self.memory.add_course_mode(course_key, mode, expired).await
    }
    async fn add_course_access_role(&self, user: UserId, org: &str, course_key: &str, role: &str) {
        self.memory.add_course_access_role(user, org, course_key, role).await
    }
    async fn add_role_assignment(
        &self,
        pce: domain::ProgramCourseEnrollmentId,
        role: &str,
    ) -> domain::RoleAssignmentId {
        self.memory.add_role_assignment(pce, role).await
    }
    async fn drop_course_access_role_tables(&self) {
        self.memory.drop_course_access_role_tables().await
    }
    async fn deactivate_user(&self, user: UserId) {
        self.memory.deactivate_user(user).await
    }
    async fn tables(&self) -> acceptance::Tables {
        self.memory.tables().await
    }
    async fn set_course_overview_fields(
        &self,
        course_key: &str,
        start: Option<std::time::SystemTime>,
        self_paced: bool,
        has_highlights: Option<bool>,
    ) {
        self.memory.set_course_overview_fields(course_key, start, self_paced, has_highlights).await
    }
    async fn add_forum_role(&self, course_key: &str, name: &str) -> i64 {
        self.memory.add_forum_role(course_key, name).await
    }
    async fn add_forum_role_user(&self, role_id: i64, user: UserId) {
        self.memory.add_forum_role_user(role_id, user).await
    }
    async fn add_schedule(&self, ce: domain::CourseEnrollmentId, start_date: Option<std::time::SystemTime>) -> i64 {
        self.memory.add_schedule(ce, start_date).await
    }
    async fn add_upgrade_deadline_configuration(
        &self,
        scope: adapters_memory::UpgradeDeadlineScope,
        enabled: bool,
        deadline_days: i64,
        opt_out: bool,
    ) {
        self.memory.add_upgrade_deadline_configuration(scope, enabled, deadline_days, opt_out).await
    }
    async fn add_course_mode_expiring(&self, course_key: &str, mode: &str, expiration: std::time::SystemTime) {
        self.memory.add_course_mode_expiring(course_key, mode, expiration).await
    }
    async fn drop_forum_role_tables(&self) {
        self.memory.drop_forum_role_tables().await
    }
    async fn drop_schedule_tables(&self) {
        self.memory.drop_schedule_tables().await
    }
}

const PATHS: [app::WritePath; 2] =
    [app::WritePath::PerKey, app::WritePath::Batched(std::num::NonZeroUsize::MIN.saturating_add(99))];

#[tokio::test]
async fn a_backend_error_mid_batch_leaves_the_database_untouched() {
    for path in PATHS {
        let db = FaultyTestDatabase::new(path);
        let w = World::new(&db).await;
        w.waiting_with("0001", w.p, &[FRUIT]).await;
        let second = w.waiting_with("0002", w.p, &[FRUIT, ANIMAL]).await;
        let tables = db.tables().await;
        let pce = tables.program_course_enrollments.values().find(|p| p.program_enrollment_id == second).unwrap();
        db.inject(Fault::AttachFor(pce.id, Arc::new(backend_error)));
        let before = db.tables().await;

        let (_log, _guard) = capture_logs();
        let options = app::LinkOptions { write_path: path, ..app::LinkOptions::default() };
        let batch = domain::LinkBatch::from_pairs(
            [("0001", "user_1"), ("0002", "user_2")]
                .map(|(k, u)| (ExternalUserKey::parse(k).unwrap(), Username::parse(u).unwrap())),
        )
        .unwrap();
        let result = app::link_program_enrollments_with(&*db.unit_of_work().await, w.p, &batch, &options).await;

        assert!(matches!(result, Err(app::LinkCallError::Store(StoreError::Backend { .. }))), "{path:?}");
        assert_eq!(db.tables().await, before, "{path:?}: nothing of the call remains, not even the first key");
    }
}

#[tokio::test]
async fn an_unforeseen_unique_violation_rolls_back_that_key_only() {
    for path in PATHS {
        let violation =
            || StoreError::UniqueViolation(UniqueViolation::new("student_courseenrollment", ["user_id", "course_id"]));
        let db = FaultyTestDatabase::new(path);
        let w = World::new(&db).await;
        let user_3 = db.add_user("user_3", "user_3@example.com").await;
        w.waiting_with("0001", w.p, &[FRUIT]).await;
        let second = w.waiting_with("0002", w.p, &[FRUIT]).await;
        w.waiting_with("0003", w.p, &[FRUIT]).await;
        db.inject(Fault::CreateFor(w.user_2, Arc::new(violation)));

        let run = link(&db, w.p, &[("0001", "user_1"), ("0002", "user_2"), ("0003", "user_3")]).await;

        assert_eq!(
            run.errors(),
            vec![(
                "0002",
                "IntegrityError: UNIQUE constraint failed: student_courseenrollment.user_id, student_courseenrollment.course_id"
            )],
            "{path:?}"
        );
        assert_eq!(
            run.log,
            [
                format!("INFO Linking user id={} with external_user_key=0001 for program uuid={}", w.user_1, w.p),
                format!("INFO Linking user id={} with external_user_key=0002 for program uuid={}", w.user_2, w.p),
                format!(
                    "ERROR Integrity error while linking user id={} with external_user_key=0002 for program uuid={}",
                    w.user_2, w.p
                ),
                "ERROR Rolling back all operations for 0002:user_2".to_string(),
                format!("INFO Linking user id={user_3} with external_user_key=0003 for program uuid={}", w.p),
            ],
            "{path:?}: the per-key lines, once each, in input order"
        );
        let t = db.tables().await;
        assert_eq!(t.program_enrollments[&second].user_id, None, "the PE write of the key was undone");
        assert!(t.program_enrollment_history.iter().all(|h| h.row.id != second));
        assert!(t.course_enrollments.values().all(|c| c.user_id != w.user_2));
        let linked: Vec<_> = t.program_enrollments.values().filter_map(|pe| pe.user_id).collect();
        assert_eq!(linked, vec![w.user_1, user_3]);
    }
}

#[tokio::test]
async fn a_program_enrollment_linked_by_another_writer_meanwhile_is_reported_as_already_linked() {
    for path in PATHS {
        let db = FaultyTestDatabase::new(path);
        let w = World::new(&db).await;
        let user_3 = db.add_user("user_3", "user_3@example.com").await;
        let first = w.waiting_with("0001", w.p, &[FRUIT]).await;
        w.waiting_with("0002", w.p, &[FRUIT]).await;
        db.inject(Fault::ConcurrentLink(first, db.memory.0.clone(), user_3, Arc::default()));

        let run = link(&db, w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

        let message = "Program enrollment with external_student_key=0001 is already linked to a different account username=user_3";
        assert_eq!(run.errors(), vec![("0001", message)], "{path:?}");
        assert!(run.log.contains(&format!("WARN {message}")), "{path:?}: {:?}", run.log);
        let t = db.tables().await;
        assert_eq!(t.program_enrollments[&first].user_id, Some(user_3));
        assert!(t.course_enrollments.values().all(|c| c.user_id != w.user_1), "nothing of the key was written");
        assert!(t.course_enrollments.values().any(|c| c.user_id == w.user_2), "the other key was linked");
    }
}

#[tokio::test]
async fn a_role_that_cannot_be_given_is_logged_and_kept_and_the_key_stays_linked() {
    for path in PATHS {
        let db = FaultyTestDatabase::new(path);
        let w = World::new(&db).await;
        let first = w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
        let second = w.waiting_with("0002", w.p, &[ANIMAL]).await;
        let t = db.tables().await;
        for pce in t
            .program_course_enrollments
            .values()
            .filter(|p| p.program_enrollment_id == first || p.program_enrollment_id == second)
        {
            db.add_role_assignment(pce.id, "staff").await;
        }
        let fruit_pce = t
            .program_course_enrollments
            .values()
            .find(|p| p.program_enrollment_id == first && p.course_key == FRUIT)
            .unwrap()
            .id;
        db.inject(Fault::GrantIn(FRUIT.to_string()));

        let run = link(&db, w.p, &[("0001", "user_1"), ("0002", "user_2")]).await;

        assert_eq!(run.errors(), vec![], "{path:?}");
        let creating = |user: UserId, key: &str, course: &str| {
            format!(
                "INFO Creating access role staff for user with user id {user} and external user key {key} for course \
                 with course key {course} in program with uuid {}.",
                w.p
            )
        };
        assert_eq!(
            run.log,
            vec![
                format!("INFO Linking user id={} with external_user_key=0001 for program uuid={}", w.user_1, w.p),
                creating(w.user_1, "0001", FRUIT),
                format!(
                    "ERROR Unable to create access role staff for user with user id {} and external user key 0001 for \
                     course with course key {FRUIT} in program with uuid {} or to delete the \
                     CourseAccessRoleAssignment with role staff and ProgramCourseEnrollment {fruit_pce}.",
                    w.user_1, w.p
                ),
                creating(w.user_1, "0001", ANIMAL),
                format!("INFO Linking user id={} with external_user_key=0002 for program uuid={}", w.user_2, w.p),
                creating(w.user_2, "0002", ANIMAL),
            ],
            "{path:?}"
        );
        let t = db.tables().await;
        let roles: Vec<(UserId, &str)> =
            t.course_access_roles.iter().flat_map(|m| m.values()).map(|r| (r.user_id, r.course_id.as_str())).collect();
        assert_eq!(roles, vec![(w.user_1, ANIMAL), (w.user_2, ANIMAL)], "{path:?}");
        let kept: Vec<_> = t.role_assignments.iter().flat_map(|m| m.values()).map(|a| a.enrollment_id).collect();
        assert_eq!(kept, vec![fruit_pce], "{path:?}: the failed assignment is kept");
        assert_eq!(t.program_enrollments[&first].user_id, Some(w.user_1));
    }
}
