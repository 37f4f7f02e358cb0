//! Other writers at work during a call, played by hooks over the in-memory adapter: a course
//! enrollment created or changed meanwhile, deadlocks (retried, then given up), and a fault in
//! a later commit chunk; the tracking log of such a run. Each on both write paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use acceptance::hooked::{Hooked, WriteHook};
use acceptance::{ANIMAL, FRUIT, MemoryTestDatabase, TestDatabase, World, batch, capture_logs};
use adapters_memory::MemoryDatabase;
use async_trait::async_trait;
use domain::{CourseEnrollmentId, UserId};
use ports::{
    CourseEnrollmentAttachment, CourseEnrollmentChange, NewCourseEnrollment, StoreError, StoreResult, UnitOfWork,
};

const PATHS: [app::WritePath; 2] =
    [app::WritePath::PerKey, app::WritePath::Batched(NonZeroUsize::MIN.saturating_add(99))];

fn conflict() -> StoreError {
    StoreError::Conflict { backend: "memory", source: "Deadlock found when trying to get lock".into() }
}

/// What the other writer does, and when.
enum OtherWriter {
    /// Before our first insert of course enrollments for `user`, it enrolls `user` in `course`
    /// (`audit`, active).
    EnrollsFirst { db: MemoryDatabase, user: UserId, course: &'static str, done: AtomicUsize },
    /// Before our first change of course enrollments, it sets `ce` to `mode`.
    ChangesFirst { db: MemoryDatabase, ce: CourseEnrollmentId, mode: &'static str, done: AtomicUsize },
    /// Our attach of course enrollments fails with a deadlock the first `times` times.
    Deadlocks { times: usize, seen: AtomicUsize },
}

#[async_trait]
impl WriteHook for OtherWriter {
    async fn before_create(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        if let OtherWriter::EnrollsFirst { db, user, course, done } = self
            && enrollments.iter().any(|e| e.user_id == *user)
            && done.fetch_add(1, Ordering::SeqCst) == 0
        {
            db.add_course_enrollment(*user, course, "audit", true)?;
        }
        Ok(())
    }
    async fn before_change(&self, _changes: &[CourseEnrollmentChange]) -> StoreResult<()> {
        if let OtherWriter::ChangesFirst { db, ce, mode, done } = self
            && done.fetch_add(1, Ordering::SeqCst) == 0
        {
            db.set_course_enrollment(*ce, mode, true)?;
        }
        Ok(())
    }
    async fn before_attach(&self, _attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        match self {
            OtherWriter::Deadlocks { times, seen } if seen.fetch_add(1, Ordering::SeqCst) < *times => Err(conflict()),
            _ => Ok(()),
        }
    }
}

fn hooked(db: &MemoryTestDatabase, hook: OtherWriter) -> Hooked {
    Hooked { inner: Arc::new(db.0.clone()) as Arc<dyn UnitOfWork>, hook: Arc::new(hook) }
}

fn options(path: app::WritePath) -> app::LinkOptions {
    app::LinkOptions { write_path: path, ..app::LinkOptions::default() }
}

#[tokio::test]
async fn a_course_enrollment_created_meanwhile_is_found_and_handled_by_the_mode_rules_never_duplicated() {
    // Every test of this binary captures: a log callsite first met on a thread without a
    // subscriber must not be cached as uninteresting for the tests that read the lines.
    let (_log, _capture) = capture_logs();
    for path in PATHS {
        let db = MemoryTestDatabase::default();
        let w = World::new(&db).await;
        w.waiting_with("0001", w.p, &[FRUIT]).await;
        w.waiting_with("0002", w.p, &[FRUIT]).await;
        let uow = hooked(
            &db,
            OtherWriter::EnrollsFirst { db: db.0.clone(), user: w.user_2, course: FRUIT, done: AtomicUsize::new(0) },
        );

        let report = app::link_program_enrollments_report(
            &uow,
            w.p,
            &batch(&[("0001", "user_1"), ("0002", "user_2")]),
            &options(path),
        )
        .await
        .unwrap();

        assert!(report.errors.is_empty(), "{path:?}: {:?}", report.errors);
        let t = db.tables().await;
        let of_user_2: Vec<_> = t.course_enrollments.values().filter(|c| c.user_id == w.user_2).collect();
        assert_eq!(of_user_2.len(), 1, "{path:?}: one enrollment per (user, course)");
        assert_eq!(
            (of_user_2[0].mode.as_str(), of_user_2[0].is_active),
            ("masters", true),
            "{path:?}: audit -> masters"
        );
        let pces_of_user_2 =
            t.program_course_enrollments.values().filter(|p| p.course_enrollment_id == Some(of_user_2[0].id));
        assert_eq!(pces_of_user_2.count(), 1, "{path:?}");
        assert_eq!(t.program_enrollment_history.len(), 2, "{path:?}: one PE history row per link");
    }
}

#[tokio::test]
async fn a_course_enrollment_changed_meanwhile_is_not_overwritten_and_the_mode_rules_see_the_change() {
    for path in PATHS {
        let db = MemoryTestDatabase::default();
        let w = World::new(&db).await;
        // user_1 is in `audit`: linking would make it `masters`. Meanwhile the learner upgrades
        // to `verified`, which the rules leave alone (with their error log line).
        let audit = db.add_course_enrollment(w.user_1, FRUIT, "audit", true).await;
        w.waiting_with("0001", w.p, &[FRUIT]).await;
        let uow = hooked(
            &db,
            OtherWriter::ChangesFirst { db: db.0.clone(), ce: audit, mode: "verified", done: AtomicUsize::new(0) },
        );
        let (log, _guard) = capture_logs();

        let report = app::link_program_enrollments_report(&uow, w.p, &batch(&[("0001", "user_1")]), &options(path))
            .await
            .unwrap();

        assert!(report.errors.is_empty(), "{path:?}");
        let t = db.tables().await;
        assert_eq!(t.course_enrollments[&audit].mode, "verified", "{path:?}: the other writer's change stays");
        assert!(t.course_enrollment_history.is_empty(), "{path:?}: no write of ours to the enrollment");
        let lines = log.lines();
        assert!(lines.iter().any(|l| l.starts_with("ERROR") && l.contains("verified")), "{path:?}: {lines:?}");
    }
}

#[tokio::test]
async fn a_deadlock_rolls_the_transaction_back_and_runs_it_again() {
    for path in PATHS {
        let db = MemoryTestDatabase::default();
        let w = World::new(&db).await;
        w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
        w.waiting_with("0002", w.p, &[FRUIT]).await;
        let uow = hooked(&db, OtherWriter::Deadlocks { times: 2, seen: AtomicUsize::new(0) });
        let (log, _guard) = capture_logs();

        let report = app::link_program_enrollments_report(
            &uow,
            w.p,
            &batch(&[("0001", "user_1"), ("0002", "user_2")]),
            &options(path),
        )
        .await
        .unwrap();

        assert_eq!(report.retries, 2, "{path:?}");
        assert_eq!(report.committed, vec![0..2], "{path:?}");
        let t = db.tables().await;
        assert!(t.program_enrollments.values().all(|pe| pe.user_id.is_some()), "{path:?}");
        assert_eq!(t.program_enrollment_history.len(), 2, "{path:?}: nothing of the failed attempts remains");
        assert_eq!(t.course_enrollments.len(), 3, "{path:?}");
        assert_eq!(t.course_enrollment_history.len(), 3, "{path:?}");
        let warnings: Vec<String> = log.lines().into_iter().filter(|l| l.contains("runs again")).collect();
        assert_eq!(warnings.len(), 2, "{path:?}: {warnings:?}");
        assert!(
            warnings[0].starts_with("WARN the database failed: memory conflict with another writer: Deadlock found"),
            "{warnings:?}"
        );
        assert!(warnings[0].contains("(attempt 2 of 5)") && warnings[1].contains("(attempt 3 of 5)"), "{warnings:?}");
    }
}

#[tokio::test]
async fn a_deadlock_on_every_attempt_gives_up_and_leaves_nothing() {
    // Every test of this binary captures: a log callsite first met on a thread without a
    // subscriber must not be cached as uninteresting for the tests that read the lines.
    let (_log, _capture) = capture_logs();
    let db = MemoryTestDatabase::default();
    let w = World::new(&db).await;
    w.waiting_with("0001", w.p, &[FRUIT]).await;
    let before = db.tables().await;
    let uow = hooked(&db, OtherWriter::Deadlocks { times: usize::MAX, seen: AtomicUsize::new(0) });

    let aborted = app::link_program_enrollments_report(&uow, w.p, &batch(&[("0001", "user_1")]), &options(PATHS[1]))
        .await
        .unwrap_err();

    assert!(matches!(aborted.cause, app::LinkCallError::Contended { attempts: app::MAX_ATTEMPTS, .. }), "{aborted:?}");
    assert_eq!(
        aborted.to_string(),
        "gave up after 5 attempts: the database failed: memory conflict with another writer: Deadlock found when trying \
         to get lock"
    );
    assert_eq!(aborted.not_written, 0..1);
    assert!(aborted.report.committed.is_empty());
    assert_eq!(db.tables().await, before);
}

#[tokio::test]
async fn a_fault_in_a_later_commit_chunk_keeps_the_earlier_chunks_whole() {
    // Every test of this binary captures: a log callsite first met on a thread without a
    // subscriber must not be cached as uninteresting for the tests that read the lines.
    let (_log, _capture) = capture_logs();
    for path in PATHS {
        let db = MemoryTestDatabase::default();
        let w = World::new(&db).await;
        let user_3 = db.add_user("user_3", "user_3@example.com").await;
        let user_4 = db.add_user("user_4", "user_4@example.com").await;
        for key in ["0001", "0002", "0003", "0004"] {
            w.waiting_with(key, w.p, &[FRUIT]).await;
        }
        // The other writer takes the locks of the second chunk for good.
        struct FailsFor(UserId);
        #[async_trait]
        impl WriteHook for FailsFor {
            async fn before_create(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
                if enrollments.iter().any(|e| e.user_id == self.0) {
                    return Err(StoreError::Backend {
                        backend: "memory",
                        source: "server closed the connection".into(),
                    });
                }
                Ok(())
            }
        }
        let uow = Hooked { inner: Arc::new(db.0.clone()), hook: Arc::new(FailsFor(user_4)) };
        let options = app::LinkOptions { commit_every: NonZeroUsize::new(2), ..options(path) };
        let pairs = [("0001", "user_1"), ("0002", "user_2"), ("0003", "user_3"), ("0004", "user_4")];

        let aborted = app::link_program_enrollments_report(&uow, w.p, &batch(&pairs), &options).await.unwrap_err();

        assert_eq!(aborted.report.committed, vec![0..2], "{path:?}");
        assert_eq!(aborted.not_written, 2..4, "{path:?}");
        assert!(matches!(aborted.cause, app::LinkCallError::Store(StoreError::Backend { .. })), "{path:?}");
        let t = db.tables().await;
        let linked: Vec<_> = t.program_enrollments.values().filter_map(|pe| pe.user_id).collect();
        assert_eq!(linked, vec![w.user_1, w.user_2], "{path:?}: the first chunk, and nothing of the second");
        assert!(t.course_enrollments.values().all(|c| c.user_id != user_3 && c.user_id != user_4));
        assert_eq!(t.course_enrollments.len(), 2, "{path:?}");
        assert_eq!(t.program_course_enrollment_history.len(), 2, "{path:?}");

        // A rerun of the same input (the fault gone) completes the work; the first chunk's keys
        // are reported as already linked to their users.
        let report = app::link_program_enrollments_report(&db.0, w.p, &batch(&pairs), &options).await.unwrap();
        let done_before: Vec<String> = report.errors.already_linked_to_target().map(ToString::to_string).collect();
        assert_eq!(done_before, ["0001", "0002"], "{path:?}");
        assert_eq!(report.errors.len(), 2, "{path:?}");
        let t = db.tables().await;
        assert!(t.program_enrollments.values().all(|pe| pe.user_id.is_some()), "{path:?}");
        assert_eq!(t.program_enrollment_history.len(), 4, "{path:?}: one history row per link, none twice");
    }
}

#[tokio::test]
async fn the_tracking_log_has_lines_only_for_what_committed_once_whatever_was_retried_or_lost() {
    let (_log, _capture) = capture_logs();
    for path in PATHS {
        let db = MemoryTestDatabase::default();
        let w = World::new(&db).await;
        let user_3 = db.add_user("user_3", "user_3@example.com").await;
        let user_4 = db.add_user("user_4", "user_4@example.com").await;
        for key in ["0001", "0002", "0003", "0004"] {
            w.waiting_with(key, w.p, &[FRUIT]).await;
        }
        // The first transaction deadlocks once at user_2's enrollment (per key: after user_1's
        // writes), then is run again; the second fails at user_4's (per key: after user_3's).
        struct Faults {
            user_2: UserId,
            user_4: UserId,
            deadlocked: AtomicUsize,
        }
        #[async_trait]
        impl WriteHook for Faults {
            async fn before_create(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
                if enrollments.iter().any(|e| e.user_id == self.user_4) {
                    return Err(StoreError::Backend {
                        backend: "memory",
                        source: "server closed the connection".into(),
                    });
                }
                if enrollments.iter().any(|e| e.user_id == self.user_2)
                    && self.deadlocked.fetch_add(1, Ordering::SeqCst) == 0
                {
                    return Err(conflict());
                }
                Ok(())
            }
        }
        let hook = Faults { user_2: w.user_2, user_4, deadlocked: AtomicUsize::new(0) };
        let uow = Hooked { inner: Arc::new(db.0.clone()), hook: Arc::new(hook) };
        let file = std::env::temp_dir().join(format!("tracking-{}.log", uuid::Uuid::new_v4().simple()));
        let log = Arc::new(app::TrackingLog::open(&file).unwrap());
        let options = app::LinkOptions { commit_every: NonZeroUsize::new(2), tracking_log: Some(log), ..options(path) };
        let pairs = [("0001", "user_1"), ("0002", "user_2"), ("0003", "user_3"), ("0004", "user_4")];

        let aborted = app::link_program_enrollments_report(&uow, w.p, &batch(&pairs), &options).await.unwrap_err();

        assert_eq!(aborted.report.committed, vec![0..2], "{path:?}");
        assert_eq!(aborted.report.retries, 1, "{path:?}");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::remove_file(&file).unwrap();
        let field = |line: &str, after: &str, end: char| {
            let rest = &line[line.find(after).unwrap_or_else(|| panic!("{after} in {line}")) + after.len()..];
            rest[..rest.find(end).unwrap()].to_owned()
        };
        let events: Vec<(String, String)> = text
            .lines()
            .map(|line| (field(line, "{\"name\": \"", '"'), field(line, "\"event\": {\"user_id\": ", ',')))
            .collect();
        let expected: Vec<(String, String)> = [w.user_1, w.user_2]
            .iter()
            .flat_map(|user| {
                ["edx.course.enrollment.activated", "edx.course.enrollment.mode_changed"]
                    .map(|name| (name.to_owned(), user.to_string()))
            })
            .collect();
        assert_eq!(events, expected, "{path:?}: the first transaction's keys once, nothing of the second\n{text}");
        assert!(!text.contains(&format!("\"user_id\": {user_3},")), "{path:?}");
    }
}
