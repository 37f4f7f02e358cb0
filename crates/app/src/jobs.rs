//! [`LinkOptions::jobs`]: the call's commit groups run as up to N transactions at once, each on
//! its own connection of the unit of work, by a small pool over the one-transaction function
//! of `link.rs` (retries included). One task polls them all: the work that matters, the
//! database's, runs on the server's cores.
//!
//! Transactions commit in any order; the report is put back in input order. The first
//! failure (or the caller's stop) raises a flag of the pool: no transaction starts after it,
//! and the running ones stop at their next safe point, rolled back.

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::ops::Range;
use std::pin::Pin;
use std::task::Poll;

use domain::{LinkBatch, ProgramUuid};
use ports::UnitOfWork;

use crate::link::transaction_with_retries;
use crate::tracking::Stamped;
use crate::types::{LinkAborted, LinkCallError, LinkErrors, LinkOptions, LinkReport, StopFlag};

/// What one group's transaction gave: its keys' positions, its retries, and its errors and
/// tracking-log events once committed, or why it was rolled back.
type Done = (Range<usize>, usize, Result<(LinkErrors, Vec<Stamped>), LinkCallError>);

type Running<'a> = Pin<Box<dyn Future<Output = Done> + Send + 'a>>;

/// Runs the transactions of `groups` (positions in `batch`, in input order), up to `jobs` at
/// once. As `link_program_enrollments_report`'s loop, with the report in input order.
pub(crate) async fn link_in_jobs(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    groups: Vec<Range<usize>>,
    jobs: usize,
    options: &LinkOptions,
) -> Result<LinkReport, LinkAborted> {
    // Raised by the first failure, or when the caller's flag is.
    let stop = StopFlag::child(options.stop.as_ref());
    let worker_options = LinkOptions { stop: Some(stop.clone()), ..options.clone() };
    let mut report = LinkReport::default();
    let mut errors: BTreeMap<usize, LinkErrors> = BTreeMap::new();
    let mut failure: Option<LinkCallError> = None;
    let mut tracking_failed = false;
    let mut running: Vec<Running<'_>> = Vec::with_capacity(jobs);
    let mut groups = groups.into_iter();
    loop {
        while running.len() < jobs && !stop.is_raised() {
            let Some(keys) = groups.next() else { break };
            let options = &worker_options;
            running.push(Box::pin(async move {
                let part = batch.slice(keys.clone());
                let mut retries = 0;
                let first = keys.start == 0;
                let outcome = transaction_with_retries(uow, program_uuid, &part, options, first, &mut retries).await;
                (keys, retries, outcome)
            }));
        }
        if running.is_empty() {
            break;
        }
        let (i, (keys, retries, outcome)) = poll_fn(|cx| {
            for (i, transaction) in running.iter_mut().enumerate() {
                if let Poll::Ready(done) = transaction.as_mut().poll(cx) {
                    return Poll::Ready((i, done));
                }
            }
            Poll::Pending
        })
        .await;
        drop(running.swap_remove(i));
        report.retries += retries;
        match outcome {
            Ok((group_errors, events)) => {
                if let Some(observer) = &options.on_commit {
                    observer.committed(keys.clone(), &group_errors);
                }
                errors.insert(keys.start, group_errors);
                report.committed.push(keys);
                // After the commit: the lines of what committed, one transaction's at a time.
                // After a failed write, no more: a half-written file gets no line after it.
                if let Some(log) = options.tracking_log.as_ref().filter(|_| !tracking_failed)
                    && let Err(error) = log.append(&events)
                {
                    tracking_failed = true;
                    stop.raise();
                    failure.get_or_insert(error.into());
                }
            }
            // The pool's own stop, raised after another failure: not a cause.
            Err(LinkCallError::Stopped) if failure.is_some() => {}
            Err(cause) => {
                stop.raise();
                failure.get_or_insert(cause);
            }
        }
    }
    report.committed.sort_by_key(|range| range.start);
    for (_, group_errors) in errors {
        report.errors.append(group_errors);
    }
    // The first key of the first transaction that did not commit.
    let mut start = 0;
    for range in &report.committed {
        if range.start != start {
            break;
        }
        start = range.end;
    }
    match failure {
        Some(cause) => Err(LinkAborted { report, not_written: start..batch.len(), cause }),
        // The caller's stop, seen before a transaction started.
        None if start < batch.len() => {
            Err(LinkAborted { report, not_written: start..batch.len(), cause: LinkCallError::Stopped })
        }
        None => Ok(report),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use std::num::NonZeroUsize;
    use std::sync::{Arc, Mutex};

    use adapters_memory::MemoryDatabase;
    use domain::{CurriculumUuid, ExternalUserKey, Username};

    use super::*;
    use crate::link::link_program_enrollments_report;
    use crate::types::CommitObserver;

    /// Seven keys, the fourth without its PE.
    fn seven_keys() -> (MemoryDatabase, ProgramUuid, LinkBatch) {
        let db = MemoryDatabase::new();
        let program = ProgramUuid::parse("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10").unwrap();
        let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
        let mut pairs = Vec::new();
        for i in 1..=7 {
            db.add_user(&format!("u{i}"), &format!("u{i}@example.com")).unwrap();
            if i != 4 {
                db.add_program_enrollment(Some(&format!("k{i}")), program, curriculum, None, "enrolled").unwrap();
            }
            pairs.push((ExternalUserKey::parse(format!("k{i}")).unwrap(), Username::parse(format!("u{i}")).unwrap()));
        }
        (db, program, LinkBatch::from_pairs(pairs).unwrap())
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(f)
    }

    /// Records the commits; raises `stop` at the `after`-th, if set.
    #[derive(Default)]
    struct Commits(Mutex<Vec<Range<usize>>>, Option<(StopFlag, usize)>);

    impl CommitObserver for Commits {
        fn committed(&self, keys: Range<usize>, _errors: &LinkErrors) {
            let mut commits = self.0.lock().unwrap();
            commits.push(keys);
            if let Some((stop, after)) = &self.1
                && commits.len() == *after
            {
                stop.raise();
            }
        }
    }

    fn options(jobs: usize, observer: &Arc<Commits>) -> LinkOptions {
        LinkOptions {
            commit_every: NonZeroUsize::new(2),
            jobs: NonZeroUsize::new(jobs),
            on_commit: Some(Arc::clone(observer) as Arc<dyn CommitObserver>),
            ..LinkOptions::default()
        }
    }

    #[test]
    fn jobs_give_the_report_of_one_transaction_at_a_time_in_input_order() {
        let mut reports = Vec::new();
        for jobs in [1, 3] {
            let (db, program, batch) = seven_keys();
            let observer = Arc::new(Commits::default());
            let report = block_on(link_program_enrollments_report(&db, program, &batch, &options(jobs, &observer)));
            let report = report.unwrap();
            assert_eq!(report.committed, vec![0..2, 2..4, 4..6, 6..7], "jobs {jobs}");
            assert_eq!(observer.0.lock().unwrap().len(), 4);
            let linked = db.tables().program_enrollments.values().filter(|pe| pe.user_id.is_some()).count();
            assert_eq!(linked, 6);
            reports.push(report);
        }
        assert_eq!(reports[0], reports[1]);
        assert_eq!(reports[1].errors.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>(), ["k4"]);
    }

    #[test]
    fn a_stop_raised_by_a_commit_starts_no_other_transaction_and_names_what_was_not_written() {
        let (db, program, batch) = seven_keys();
        let stop = StopFlag::new();
        let observer = Arc::new(Commits(Mutex::default(), Some((stop.clone(), 1))));
        let options = LinkOptions { stop: Some(stop), ..options(3, &observer) };
        let aborted = block_on(link_program_enrollments_report(&db, program, &batch, &options)).unwrap_err();
        assert!(matches!(aborted.cause, LinkCallError::Stopped));
        // The memory adapter runs one transaction at a time: the first commits, the others
        // (begun after it) stop at their first safe point.
        assert_eq!(aborted.report.committed, vec![0..2]);
        assert_eq!(aborted.not_written, 2..7);
        assert_eq!(aborted.unwritten(), vec![2..7]);
    }

    #[test]
    fn unwritten_leaves_out_the_transactions_that_committed_after_the_first_failure() {
        let report = LinkReport { committed: vec![0..2, 4..6, 8..10], ..LinkReport::default() };
        let aborted = LinkAborted { report, not_written: 2..11, cause: LinkCallError::Stopped };
        assert_eq!(aborted.unwritten(), vec![2..4, 6..8, 10..11]);
        let report = LinkReport { committed: vec![0..2, 4..6], ..LinkReport::default() };
        let aborted = LinkAborted { report, not_written: 2..6, cause: LinkCallError::Stopped };
        assert_eq!(aborted.unwritten(), vec![2..4]);
    }
}
