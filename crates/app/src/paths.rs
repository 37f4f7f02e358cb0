//! The two write paths of one transaction: key by key ([`link_per_key`]) and in chunks
//! ([`link_batched`]). Both give the same errors, rows, history rows and log lines.

use std::borrow::Cow;
use std::collections::HashSet;

use domain::{
    CourseEnrollmentRef, KeyOutcome, KeyPlan, LinkBatch, LinkWrites, Planner, ProgramUuid, RoleAssignmentId,
    UniqueViolation,
};
use ports::{StoreError, Transaction};

use crate::apply::{Applied, apply_links};
use crate::link::{LinkCallError, LinkErrors, LinkOptions};
use crate::log::emit_all;
use crate::roles;
use crate::snapshot::read_snapshot_with;

/// How many times one key is planned again from fresh reads after its writes met another
/// writer's (a PE linked, a course enrollment created or changed meanwhile) before the
/// transaction gives up with [`LinkCallError::KeyContended`].
const MAX_REPLANS_PER_KEY: usize = 3;

/// How many chunks of keys one snapshot read covers in the batched path.
const READ_WINDOW_CHUNKS: usize = 2;

fn advance(options: &LinkOptions, keys: usize) {
    if let Some(progress) = &options.progress {
        progress.advance(keys);
    }
}

/// What became of one key's writes.
enum KeyWrite {
    /// Written; the savepoint is released. The role assignments whose fulfilment failed (and
    /// was rolled back alone).
    Written(HashSet<RoleAssignmentId>),
    /// A write violated a unique constraint; the savepoint is rolled back.
    Violation(UniqueViolation),
    /// Another writer linked the PE or changed a course enrollment since the read; the
    /// savepoint is rolled back.
    Contended,
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
) -> Result<(), LinkCallError> {
    let mut start = 0;
    let mut replans = 0;
    'fresh: while start < batch.len() {
        let rest = if start == 0 { Cow::Borrowed(batch) } else { Cow::Owned(batch.slice(start..batch.len())) };
        let snapshot = read_snapshot_with(tx.reads(), program_uuid, &rest, options.rules).await?;
        let mut planner = Planner::with_options(program_uuid, snapshot, options.rules);
        for (key, username) in rest.iter() {
            let plan = planner.plan(key, username)?;
            match &plan.outcome {
                KeyOutcome::Refused(error) | KeyOutcome::Failed(error) => {
                    emit_all(&plan.log);
                    errors.push(key.clone(), error.clone());
                }
                KeyOutcome::Link(writes) => match link_one(tx, writes).await? {
                    KeyWrite::Written(failed_roles) => {
                        roles::emit_plan(&plan.log, &failed_roles);
                        planner.record(&plan);
                    }
                    // The same violation after fresh reads: a constraint the rules do not
                    // foresee. The key fails as upstream's does.
                    KeyWrite::Violation(violation) if replans >= MAX_REPLANS_PER_KEY => {
                        emit_all(&plan.log);
                        emit_all(&writes.failure_log(&plan.username));
                        errors.push(key.clone(), LinkWrites::failure(violation));
                    }
                    KeyWrite::Violation(_) | KeyWrite::Contended => {
                        if replans >= MAX_REPLANS_PER_KEY {
                            return Err(LinkCallError::KeyContended { key: key.clone() });
                        }
                        replans += 1;
                        tracing::debug!(%key, replans, "a key's writes met another writer's; planning again");
                        continue 'fresh;
                    }
                },
            }
            start += 1;
            replans = 0;
            advance(options, 1);
        }
    }
    Ok(())
}

/// Writes one key in its own savepoint.
async fn link_one(tx: &dyn Transaction, writes: &LinkWrites) -> Result<KeyWrite, LinkCallError> {
    let savepoint = tx.savepoint().await?;
    match apply_links(savepoint.writes(), &[writes]).await {
        Ok(Applied::Linked) => {
            let failed_roles = match roles::fulfil(&*savepoint, &[writes], false).await {
                Ok(failed) => failed,
                Err(error) => {
                    let _ = savepoint.rollback().await;
                    return Err(error.into());
                }
            };
            savepoint.commit().await?;
            Ok(KeyWrite::Written(failed_roles))
        }
        Ok(Applied::Contended) => {
            savepoint.rollback().await?;
            Ok(KeyWrite::Contended)
        }
        Err(StoreError::UniqueViolation(violation)) => {
            savepoint.rollback().await?;
            Ok(KeyWrite::Violation(violation))
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
/// [`crate::WritePath::Batched`]).
pub(crate) async fn link_batched(
    tx: &dyn Transaction,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    per_chunk: usize,
    options: &LinkOptions,
    errors: &mut LinkErrors,
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
        let snapshot = read_snapshot_with(tx.reads(), program_uuid, &rest, options.rules).await?;
        let mut planner = Planner::with_options(program_uuid, snapshot, options.rules);
        let mut chunk: Vec<KeyPlan> = Vec::with_capacity(per_chunk.min(rest.len()));
        let mut touched: HashSet<CourseEnrollmentRef> = HashSet::new();
        for (key, username) in rest.iter() {
            let plan = planner.plan(key, username)?;
            let written = written_enrollments(&plan);
            // A chunk never writes one course enrollment twice: one multi-row statement holds
            // one value per row.
            if chunk.len() >= per_chunk || written.iter().any(|r| touched.contains(r)) {
                if !write_chunk(tx, &chunk, errors, options).await? {
                    link_per_key(tx, program_uuid, &batch.slice(start..start + chunk.len()), options, errors).await?;
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
        if !write_chunk(tx, &chunk, errors, options).await? {
            link_per_key(tx, program_uuid, &batch.slice(start..start + chunk.len()), options, errors).await?;
        }
        start += chunk.len();
    }
    Ok(())
}

/// Writes a chunk's linked keys in one savepoint, then emits the chunk's log lines and records
/// its errors. Returns `false`, having rolled the savepoint back and emitted nothing, when the
/// chunk must be redone key by key.
async fn write_chunk(
    tx: &dyn Transaction,
    chunk: &[KeyPlan],
    errors: &mut LinkErrors,
    options: &LinkOptions,
) -> Result<bool, LinkCallError> {
    let links: Vec<&LinkWrites> = chunk
        .iter()
        .filter_map(|plan| match &plan.outcome {
            KeyOutcome::Link(writes) => Some(writes),
            _ => None,
        })
        .collect();
    let mut failed_roles = HashSet::new();
    if !links.is_empty() {
        let savepoint = tx.savepoint().await?;
        match apply_links(savepoint.writes(), &links).await {
            Ok(Applied::Linked) => {
                failed_roles = match roles::fulfil(&*savepoint, &links, true).await {
                    Ok(failed) => failed,
                    Err(error) => {
                        let _ = savepoint.rollback().await;
                        return Err(error.into());
                    }
                };
                savepoint.commit().await?;
            }
            Ok(Applied::Contended) | Err(StoreError::UniqueViolation(_)) => {
                savepoint.rollback().await?;
                tracing::debug!(keys = chunk.len(), "a chunk's writes failed; redoing it key by key");
                return Ok(false);
            }
            Err(other) => {
                let _ = savepoint.rollback().await;
                return Err(other.into());
            }
        }
    }
    for plan in chunk {
        roles::emit_plan(&plan.log, &failed_roles);
        if let Some(error) = plan.outcome.error() {
            errors.push(plan.key.clone(), error.clone());
        }
    }
    advance(options, chunk.len());
    Ok(true)
}
