//! The two write paths of one transaction: in chunks ([`link_batched`], the default) and key by
//! key ([`link_per_key`], upstream's shape and the chunks' fall back). Both give the same
//! errors, rows, history rows and log lines. Each key's (or chunk's) writes are in a savepoint
//! of the transaction; what happens after them is decided in `next.rs`.

use std::borrow::Cow;
use std::collections::HashSet;

use domain::{CourseEnrollmentRef, KeyOutcome, KeyPlan, LinkBatch, LinkWrites, Planner, ProgramUuid, RoleAssignmentId};
use ports::{StoreError, Transaction};

use crate::log::emit_all;
use crate::next::{Next, WriteOutcome, after_chunk, after_key};
use crate::roles;
use crate::snapshot::read_snapshot;
use crate::tracking::{self, Stamped};
use crate::types::{LinkCallError, LinkErrors, LinkOptions};
use crate::writes::{Written, write_links};

/// How many chunks of keys one snapshot read covers in the batched path.
const READ_WINDOW_CHUNKS: usize = 2;

fn advance(options: &LinkOptions, keys: usize) {
    if let Some(progress) = &options.progress {
        progress.advance(keys);
    }
}

/// Upstream's shape: each key planned, then written in its own savepoint.
///
/// When a key's writes meet another writer's (or violate a unique constraint the plan did not
/// foresee, which means the data changed since it was read), the savepoint is rolled back and
/// the rest of the keys is planned again from fresh reads, which see that writer's committed
/// rows (READ COMMITTED): a PE linked meanwhile is then refused with the "already linked"
/// message, a course enrollment created or changed meanwhile is handled by the mode rules.
pub(crate) async fn link_per_key(
    tx: &dyn Transaction,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    errors: &mut LinkErrors,
    events: &mut Vec<Stamped>,
) -> Result<(), LinkCallError> {
    let mut start = 0;
    let mut replans = 0;
    'fresh: while start < batch.len() {
        let rest = if start == 0 { Cow::Borrowed(batch) } else { Cow::Owned(batch.slice(start..batch.len())) };
        let snapshot = read_snapshot(tx.reads(), program_uuid, &rest, options.rules).await?;
        let mut planner = Planner::from_snapshot(program_uuid, snapshot, options.rules);
        for (key, username) in rest.iter() {
            options.stop_point()?;
            let plan = planner.plan(key, username)?;
            match &plan.outcome {
                KeyOutcome::Refused(error) | KeyOutcome::Failed(error) => {
                    emit_all(&plan.log);
                    errors.push(key.clone(), error.clone());
                }
                KeyOutcome::Link(writes) => {
                    let (outcome, failed_roles) = write_in_savepoint(tx, &[writes], false).await?;
                    match after_key(outcome, replans, key) {
                        Next::GoOn => {
                            emit_all(&plan.log_with_failed_roles(&failed_roles));
                            tracking::record(options.tracking_log.is_some(), events, [&plan]);
                            planner.record(&plan);
                        }
                        Next::FailKey(violation) => {
                            let failed = plan.into_integrity_failure(violation);
                            emit_all(&failed.log);
                            if let Some(error) = failed.outcome.error() {
                                errors.push(key.clone(), error.clone());
                            }
                        }
                        // Key by key, falling back is planning again.
                        Next::Replan | Next::FallBack => {
                            replans += 1;
                            tracing::debug!(%key, replans, "a key's writes met another writer's; planning again");
                            continue 'fresh;
                        }
                        Next::RunAgain(error) => return Err(error),
                    }
                }
            }
            start += 1;
            replans = 0;
            advance(options, 1);
        }
    }
    Ok(())
}

/// Writes the keys of `links` in one savepoint of `tx`, then their role fulfilments (`grouped`:
/// first all in one savepoint, see [`roles::fulfil`]): what became of the writes, and the role
/// assignments whose fulfilment failed (and was rolled back alone).
async fn write_in_savepoint(
    tx: &dyn Transaction,
    links: &[&LinkWrites],
    grouped: bool,
) -> Result<(WriteOutcome, HashSet<RoleAssignmentId>), LinkCallError> {
    let savepoint = tx.savepoint().await?;
    match write_links(savepoint.writes(), links).await {
        Ok(Written::All) => {
            let failed_roles = match roles::fulfil(&*savepoint, links, grouped).await {
                Ok(failed) => failed,
                Err(error) => {
                    let _ = savepoint.rollback().await;
                    return Err(error.into());
                }
            };
            savepoint.commit().await?;
            Ok((WriteOutcome::Written, failed_roles))
        }
        Ok(Written::Contended) => {
            savepoint.rollback().await?;
            Ok((WriteOutcome::Contended, HashSet::new()))
        }
        Err(StoreError::UniqueViolation(violation)) => {
            savepoint.rollback().await?;
            Ok((WriteOutcome::Violation(violation), HashSet::new()))
        }
        Err(other) => {
            let _ = savepoint.rollback().await;
            Err(other.into())
        }
    }
}

/// The course enrollments a plan writes (creates, changes or, relinking, deactivates).
fn written_enrollments(plan: &KeyPlan) -> Vec<CourseEnrollmentRef> {
    match &plan.outcome {
        KeyOutcome::Link(writes) => writes.written_enrollments(),
        _ => Vec::new(),
    }
}

/// The batched shape: plans in input order, written a chunk at a time (see
/// [`crate::types::WritePath::Batched`]).
pub(crate) async fn link_batched(
    tx: &dyn Transaction,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    per_chunk: usize,
    options: &LinkOptions,
    errors: &mut LinkErrors,
    events: &mut Vec<Stamped>,
) -> Result<(), LinkCallError> {
    // `start`: the first key not yet written. After a chunk falls back to the per-key path, the
    // planner's state is stale: the rest is planned again from fresh reads.
    let mut start = 0;
    'fresh: while start < batch.len() {
        // Keys are read and planned a window at a time: memory stays bounded by the window, not
        // the call. Each window's reads see the writes of the windows before it, so its plans
        // are the ones a single read of the whole call would have given.
        let end = batch.len().min(start + per_chunk.saturating_mul(READ_WINDOW_CHUNKS));
        let rest =
            if start == 0 && end == batch.len() { Cow::Borrowed(batch) } else { Cow::Owned(batch.slice(start..end)) };
        let snapshot = read_snapshot(tx.reads(), program_uuid, &rest, options.rules).await?;
        let mut planner = Planner::from_snapshot(program_uuid, snapshot, options.rules);
        let mut chunk: Vec<KeyPlan> = Vec::with_capacity(per_chunk.min(rest.len()));
        let mut touched: HashSet<CourseEnrollmentRef> = HashSet::new();
        for (key, username) in rest.iter() {
            let plan = planner.plan(key, username)?;
            let written = written_enrollments(&plan);
            // A chunk never writes one course enrollment twice: one multi-row statement holds
            // one value per row.
            if chunk.len() >= per_chunk || written.iter().any(|r| touched.contains(r)) {
                options.stop_point()?;
                let next = write_chunk(tx, &chunk, errors, options, events).await?;
                if !matches!(next, Next::GoOn) {
                    let keys = batch.slice(start..start + chunk.len());
                    link_per_key(tx, program_uuid, &keys, options, errors, events).await?;
                    start += chunk.len();
                    continue 'fresh;
                }
                start += chunk.len();
                chunk.clear();
                touched.clear();
            }
            planner.record(&plan);
            touched.extend(written);
            chunk.push(plan);
        }
        options.stop_point()?;
        if !matches!(write_chunk(tx, &chunk, errors, options, events).await?, Next::GoOn) {
            let keys = batch.slice(start..start + chunk.len());
            link_per_key(tx, program_uuid, &keys, options, errors, events).await?;
        }
        start += chunk.len();
    }
    Ok(())
}

/// Writes a chunk's linked keys in one savepoint and decides what happens next
/// ([`after_chunk`]): on [`Next::GoOn`], having emitted the chunk's log lines and recorded its
/// errors; on [`Next::FallBack`], having rolled the savepoint back and emitted nothing.
async fn write_chunk(
    tx: &dyn Transaction,
    chunk: &[KeyPlan],
    errors: &mut LinkErrors,
    options: &LinkOptions,
    events: &mut Vec<Stamped>,
) -> Result<Next, LinkCallError> {
    let links: Vec<&LinkWrites> = chunk
        .iter()
        .filter_map(|plan| match &plan.outcome {
            KeyOutcome::Link(writes) => Some(writes),
            _ => None,
        })
        .collect();
    let (outcome, failed_roles) = if links.is_empty() {
        (WriteOutcome::Written, HashSet::new())
    } else {
        write_in_savepoint(tx, &links, true).await?
    };
    let next = after_chunk(&outcome);
    match next {
        Next::GoOn => {
            for plan in chunk {
                emit_all(&plan.log_with_failed_roles(&failed_roles));
                if let Some(error) = plan.outcome.error() {
                    errors.push(plan.key.clone(), error.clone());
                }
            }
            tracking::record(options.tracking_log.is_some(), events, chunk);
            advance(options, chunk.len());
        }
        _ => tracing::debug!(keys = chunk.len(), "a chunk's writes failed; redoing it key by key"),
    }
    Ok(next)
}
