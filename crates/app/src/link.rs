//! The use case, `link_program_enrollments`: the call split into transactions, each run again
//! after a conflict with another writer (see `next.rs`), each written through its write path
//! (`paths.rs`).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use domain::{LinkBatch, LogLine, ProgramUuid};
use ports::{Transaction, UnitOfWork};

use crate::jobs::link_in_jobs;
use crate::log::emit;
use crate::next::{MAX_ATTEMPTS, Rerun, after_failed_transaction};
use crate::paths::{link_batched, link_per_key};
use crate::side_rows;
use crate::tracking::Stamped;
use crate::types::{LinkAborted, LinkCallError, LinkErrors, LinkOptions, LinkReport, Progress, WritePath};

/// Links program enrollments of `program_uuid` to LMS users, as upstream's
/// `link_program_enrollments` does (see `linking.md`), with the default [`LinkOptions`].
///
/// One transaction for the whole call, written in chunks of keys ([`WritePath::Batched`], the
/// default). Keys refused by rules 1 to 3 are logged at WARNING and skipped. A unique violation
/// or a missing course undoes that key only, as if each key had its own savepoint (a chunk that
/// meets one is redone key by key, each in its own savepoint). Returns the keys that were not
/// linked, in input order.
///
/// # Errors
/// [`LinkCallError`] when the call aborts: the transaction is rolled back and nothing of the
/// call remains.
pub async fn link_program_enrollments(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
) -> Result<LinkErrors, LinkCallError> {
    link_program_enrollments_with(uow, program_uuid, batch, &LinkOptions::default()).await
}

/// [`link_program_enrollments`] with options: a dry run, a progress report, the write path,
/// commits every N keys.
///
/// # Errors
/// As [`link_program_enrollments`]; with [`LinkOptions::commit_every`], the transactions
/// committed before the error remain (use [`link_program_enrollments_report`] to learn which).
pub async fn link_program_enrollments_with(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
) -> Result<LinkErrors, LinkCallError> {
    link_program_enrollments_report(uow, program_uuid, batch, options)
        .await
        .map(|report| report.errors)
        .map_err(|aborted| aborted.cause)
}

/// [`link_program_enrollments_with`], reporting which transactions committed, and, when a
/// transaction fails, what was and was not written.
///
/// Each transaction that meets a conflict with another writer (a deadlock, a serialization
/// failure, a lock wait timeout, a key whose rows other writers keep changing) is rolled back
/// and run again, up to [`MAX_ATTEMPTS`] times in all; its log lines are then emitted again,
/// after a WARNING that says so.
///
/// With [`LinkOptions::tracking_log`], each committed transaction's tracking-log lines are
/// appended right after its commit.
///
/// With [`LinkOptions::jobs`], up to that many transactions run at once (see there).
///
/// # Errors
/// [`LinkAborted`] when a transaction fails: it is rolled back, the ones before it stay
/// committed, and no later one is run. When the tracking log cannot be written after a commit
/// ([`LinkCallError::TrackingLog`]), that transaction stays committed (in the report's
/// `committed`) and no later one is run.
pub async fn link_program_enrollments_report(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
) -> Result<LinkReport, LinkAborted> {
    let mut report = LinkReport::default();
    if options.rules.case_insensitive_keys
        && let Err(duplicate) = domain::check_distinct_ignoring_case(batch)
    {
        return Err(LinkAborted { report, not_written: 0..batch.len(), cause: duplicate.into() });
    }
    let per_transaction = match options.commit_every {
        Some(n) if !options.dry_run => n.get(),
        _ => batch.len(),
    };
    let jobs = options.jobs.map_or(1, std::num::NonZeroUsize::get);
    if jobs > 1 && per_transaction < batch.len() {
        let groups = (0..batch.len())
            .step_by(per_transaction)
            .map(|start| start..batch.len().min(start.saturating_add(per_transaction)))
            .collect();
        return link_in_jobs(uow, program_uuid, batch, groups, jobs, options).await;
    }
    let mut start = 0;
    while start < batch.len() {
        if options.is_stopped() {
            return Err(LinkAborted { report, not_written: start..batch.len(), cause: LinkCallError::Stopped });
        }
        let end = batch.len().min(start.saturating_add(per_transaction));
        let keys =
            if start == 0 && end == batch.len() { Cow::Borrowed(batch) } else { Cow::Owned(batch.slice(start..end)) };
        let first = start == 0;
        match transaction_with_retries(uow, program_uuid, &keys, options, first, &mut report.retries).await {
            Ok((errors, events)) => {
                if !options.dry_run {
                    if let Some(observer) = &options.on_commit {
                        observer.committed(start..end, &errors);
                    }
                    report.committed.push(start..end);
                }
                report.errors.append(errors);
                // After the commit, before the next transaction: the lines of what committed.
                if let Some(Err(error)) = options.tracking_log.as_ref().map(|log| log.append(&events)) {
                    return Err(LinkAborted { report, not_written: end..batch.len(), cause: error.into() });
                }
            }
            Err(cause) => return Err(LinkAborted { report, not_written: start..batch.len(), cause }),
        }
        start = end;
    }
    Ok(report)
}

/// Counts what one attempt advanced, so that a retry can take it back.
struct AttemptProgress {
    inner: Arc<dyn Progress>,
    advanced: AtomicUsize,
}

impl Progress for AttemptProgress {
    fn advance(&self, keys: usize) {
        self.advanced.fetch_add(keys, Ordering::Relaxed);
        self.inner.advance(keys);
    }
}

/// Runs one transaction over `batch`, again after a conflict with another writer.
pub(crate) async fn transaction_with_retries(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    first: bool,
    retries: &mut usize,
) -> Result<(LinkErrors, Vec<Stamped>), LinkCallError> {
    let mut attempt = 1;
    loop {
        let progress = options
            .progress
            .as_ref()
            .map(|inner| Arc::new(AttemptProgress { inner: Arc::clone(inner), advanced: AtomicUsize::new(0) }));
        let attempt_options =
            LinkOptions { progress: progress.clone().map(|p| p as Arc<dyn Progress>), ..options.clone() };
        let error = match one_transaction(uow, program_uuid, batch, &attempt_options, first).await {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        match after_failed_transaction(error, attempt) {
            Rerun::Retry(error) => {
                emit(&LogLine::TransactionRunsAgain {
                    reason: error.to_string(),
                    keys: batch.len(),
                    attempt: attempt + 1,
                    max_attempts: MAX_ATTEMPTS,
                });
                if let (Some(inner), Some(progress)) = (&options.progress, &progress) {
                    inner.retreat(progress.advanced.load(Ordering::Relaxed));
                }
                // The other writer holds its locks until it commits: give it a moment, longer
                // each time.
                tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt as u32))).await;
                attempt += 1;
                *retries += 1;
            }
            Rerun::Abort(error) => return Err(error),
        }
    }
}

/// One transaction: begun, written through the chosen path, committed (rolled back for a dry
/// run or on error). The `first` transaction of a call says if role fulfilment is skipped.
/// Returns the keys' errors and, when committed, the tracking-log events of its keys.
async fn one_transaction(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    first: bool,
) -> Result<(LinkErrors, Vec<Stamped>), LinkCallError> {
    let tx = match options.acting_user {
        None => uow.begin().await?,
        acting => uow.begin_as(acting).await?,
    };
    if first && let Err(error) = side_rows::announce_skipped(tx.reads()).await {
        let _ = tx.rollback().await;
        return Err(error.into());
    }
    let mut events = Vec::new();
    match write_through(&*tx, program_uuid, batch, options, &mut events).await {
        Ok(errors) if options.dry_run => {
            tx.rollback().await?;
            Ok((errors, Vec::new()))
        }
        Ok(errors) => {
            tx.commit().await?;
            Ok((errors, events))
        }
        Err(error) => {
            // The error matters more than a failed rollback (the database undoes an unfinished
            // transaction anyway).
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

async fn write_through(
    tx: &dyn Transaction,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    events: &mut Vec<Stamped>,
) -> Result<LinkErrors, LinkCallError> {
    let mut errors = LinkErrors::default();
    match options.write_path {
        WritePath::PerKey => link_per_key(tx, program_uuid, batch, options, &mut errors, events).await?,
        WritePath::Batched(per_chunk) => {
            link_batched(tx, program_uuid, batch, per_chunk.get(), options, &mut errors, events).await?;
        }
    }
    Ok(errors)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::num::NonZeroUsize;
    use std::ops::Range;
    use std::sync::Mutex;

    use adapters_memory::MemoryDatabase;
    use domain::{CurriculumUuid, ExternalUserKey, Username};

    use super::*;
    use crate::types::{CommitObserver, StopFlag};

    fn six_keys() -> (MemoryDatabase, ProgramUuid, LinkBatch) {
        let db = MemoryDatabase::new();
        let program = ProgramUuid::parse("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10").unwrap();
        let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
        let mut pairs = Vec::new();
        for i in 1..=6 {
            db.add_user(&format!("u{i}"), &format!("u{i}@example.com")).unwrap();
            db.add_program_enrollment(Some(&format!("k{i}")), program, curriculum, None, "enrolled").unwrap();
            pairs.push((ExternalUserKey::parse(format!("k{i}")).unwrap(), Username::parse(format!("u{i}")).unwrap()));
        }
        (db, program, LinkBatch::from_pairs(pairs).unwrap())
    }

    fn linked(db: &MemoryDatabase) -> usize {
        db.tables().program_enrollments.values().filter(|pe| pe.user_id.is_some()).count()
    }

    /// Raises the flag when the first transaction commits, and records every commit.
    struct StopAfterFirst(StopFlag, Mutex<Vec<Range<usize>>>);

    impl CommitObserver for StopAfterFirst {
        fn committed(&self, keys: Range<usize>, errors: &LinkErrors) {
            assert!(errors.is_empty());
            self.1.lock().unwrap().push(keys);
            self.0.raise();
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
    }

    #[test]
    fn a_raised_stop_flag_stops_before_the_next_transaction_and_keeps_what_committed() {
        let (db, program, batch) = six_keys();
        let stop = StopFlag::new();
        let observer = Arc::new(StopAfterFirst(stop.clone(), Mutex::default()));
        let options = LinkOptions {
            commit_every: NonZeroUsize::new(2),
            stop: Some(stop),
            on_commit: Some(Arc::clone(&observer) as Arc<dyn CommitObserver>),
            ..LinkOptions::default()
        };
        let aborted = block_on(link_program_enrollments_report(&db, program, &batch, &options)).unwrap_err();
        assert!(matches!(aborted.cause, LinkCallError::Stopped));
        assert_eq!(aborted.report.committed, vec![0..2]);
        assert_eq!(aborted.not_written, 2..6);
        assert_eq!(*observer.1.lock().unwrap(), vec![0..2]);
        assert_eq!(linked(&db), 2);
    }

    #[test]
    fn a_stop_flag_raised_before_the_call_writes_nothing() {
        let (db, program, batch) = six_keys();
        let stop = StopFlag::new();
        stop.raise();
        for write_path in [WritePath::PerKey, WritePath::default()] {
            let options = LinkOptions { write_path, stop: Some(stop.clone()), ..LinkOptions::default() };
            let aborted = block_on(link_program_enrollments_report(&db, program, &batch, &options)).unwrap_err();
            assert!(matches!(aborted.cause, LinkCallError::Stopped));
            assert_eq!(aborted.not_written, 0..6);
        }
        assert_eq!(linked(&db), 0);
    }
}
