//! A concurrent writer forces the batched path's fallback on a real server: another
//! connection links one of the chunk's PEs (and commits) after our read, before our write. The
//! chunk is rolled back and redone key by key with fresh reads; the result, the rows and the
//! log lines are those of the per-key algorithm. (SQLite has one writer: while our transaction
//! holds its lock, no other connection can commit, so this race cannot happen there.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use acceptance::hooked::{Hooked, WriteHook};
use acceptance::{FRUIT, SeaTestDatabase, Target, TestDatabase, World, capture_logs};
use async_trait::async_trait;
use domain::{ExternalUserKey, LinkBatch, Username};
use ports::{ProgramEnrollmentLink, StoreResult};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

/// Before the first PE write, another connection runs `race` and commits.
struct Race {
    other: DatabaseConnection,
    race: String,
    raced: AtomicBool,
}

#[async_trait]
impl WriteHook for Race {
    async fn before_link(&self, _links: &[ProgramEnrollmentLink]) -> StoreResult<()> {
        if !self.raced.swap(true, Ordering::SeqCst) {
            let statement = Statement::from_string(self.other.get_database_backend(), self.race.clone());
            self.other.execute_raw(statement).await.unwrap();
        }
        Ok(())
    }
}

async fn a_concurrent_link_forces_the_fallback(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    let w = World::new(&db).await;
    let user_3 = db.add_user("user_3", "user_3@example.com").await;
    let user_4 = db.add_user("user_4", "user_4@example.com").await;
    let first = w.waiting_with("0001", w.p, &[FRUIT]).await;
    let second = w.waiting_with("0002", w.p, &[FRUIT]).await;
    let third = w.waiting_with("0003", w.p, &[FRUIT]).await;
    let racing = Hooked {
        inner: db.unit_of_work().await,
        hook: Arc::new(Race {
            other: db.connection().clone(),
            race: format!("UPDATE program_enrollments_programenrollment SET user_id = {user_3} WHERE id = {second}"),
            raced: AtomicBool::new(false),
        }),
    };
    let batch = LinkBatch::from_pairs(
        [("0001", "user_1"), ("0002", "user_2"), ("0003", "user_4")]
            .map(|(k, u)| (ExternalUserKey::parse(k).unwrap(), Username::parse(u).unwrap())),
    )
    .unwrap();

    let (log, _guard) = capture_logs();
    let errors = app::link_program_enrollments(&racing, w.p, &batch).await.unwrap();

    let message =
        "Program enrollment with external_student_key=0002 is already linked to a different account username=user_3";
    assert_eq!(errors.messages(), vec![("0002".to_string(), message.to_string())]);
    assert_eq!(
        log.lines(),
        vec![
            format!("INFO Linking user id={} with external_user_key=0001 for program uuid={}", w.user_1, w.p),
            format!("WARN {message}"),
            format!("INFO Linking user id={user_4} with external_user_key=0003 for program uuid={}", w.p),
        ],
        "the chunk's lines were not emitted; the per-key redo's were, once"
    );
    let t = db.tables().await;
    assert_eq!(t.program_enrollments[&first].user_id, Some(w.user_1));
    assert_eq!(t.program_enrollments[&second].user_id, Some(user_3));
    assert_eq!(t.program_enrollments[&third].user_id, Some(user_4));
    let history: Vec<_> = t.program_enrollment_history.iter().map(|h| h.row.id).collect();
    assert_eq!(history, vec![first, third], "one history row per link of ours, none from the rolled-back chunk");
    assert_eq!(t.course_enrollments.len(), 2);
    assert!(t.course_enrollments.values().all(|c| c.user_id != w.user_2));
    db.finish().await;
}

#[tokio::test]
async fn a_concurrent_link_forces_the_fallback_on_postgres() {
    a_concurrent_link_forces_the_fallback(Target::Postgres).await;
}

#[tokio::test]
async fn a_concurrent_link_forces_the_fallback_on_mysql() {
    a_concurrent_link_forces_the_fallback(Target::MySql).await;
}
