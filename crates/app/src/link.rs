//! The use case: `link_program_enrollments`.

use std::collections::HashSet;

use domain::{
    CorruptData, CourseEnrollmentRef, DuplicateKeyIgnoringCase, ExternalUserKey, KeyOutcome, KeyPlan, LinkBatch,
    LinkError, LinkWrites, LogLine, Planner, ProgramUuid, RuleOptions, Snapshot,
};
use ports::{StoreError, Transaction, UnitOfWork};
use thiserror::Error;

use crate::apply::{Applied, apply_links};
use crate::log::{emit, emit_all};
use crate::roles;
use crate::snapshot::read_snapshot_with;

/// The keys that were not linked, with their messages, in input order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkErrors {
    entries: Vec<(ExternalUserKey, LinkError)>,
}

impl LinkErrors {
    /// Whether every key was linked.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many keys were not linked.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The error of `key`, if it was not linked.
    pub fn get(&self, key: &ExternalUserKey) -> Option<&LinkError> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
    }

    /// The keys and their errors, in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&ExternalUserKey, &LinkError)> {
        self.entries.iter().map(|(k, e)| (k, e))
    }

    /// The keys and their messages as text, in input order: upstream's returned dictionary.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.entries.iter().map(|(k, e)| (k.to_string(), e.to_string())).collect()
    }

    fn push(&mut self, key: ExternalUserKey, error: LinkError) {
        self.entries.push((key, error));
    }
}

/// Why a call was aborted. Nothing of an aborted call remains.
#[derive(Debug, Error)]
pub enum LinkCallError {
    /// A port failed with an error that is not a key's own (connection lost, server error).
    #[error("the database failed; the call was rolled back and nothing was written: {0}")]
    Store(#[from] StoreError),
    /// The rules met data they cannot work with.
    #[error("the call was rolled back and nothing was written: {0}")]
    CorruptData(#[from] CorruptData),
    /// With case-insensitive keys, two input keys are equal up to case: refused before
    /// anything is read or written.
    #[error("{0}")]
    DuplicateKeyIgnoringCase(#[from] DuplicateKeyIgnoringCase),
}

/// Reports how far a call has got (for a progress bar).
pub trait Progress: Send + Sync {
    /// `keys` more input pairs have been decided and, for linked keys, written.
    fn advance(&self, keys: usize);
}

/// How the writes of linked keys reach the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// Each key in its own savepoint, with a few statements per key: upstream's shape.
    PerKey,
    /// Keys in chunks of at most this many, each chunk in one savepoint with one multi-row
    /// statement per kind of write. If a chunk's writes fail with a unique violation or find a
    /// PE taken meanwhile (a concurrent writer), the chunk is rolled back and redone key by key
    /// with fresh reads, so results, rows, history and log lines are those of [`Self::PerKey`].
    Batched(std::num::NonZeroUsize),
}

impl WritePath {
    /// Chunks of 1,000 keys.
    pub const DEFAULT_CHUNK: usize = 1_000;
}

impl Default for WritePath {
    fn default() -> Self {
        Self::Batched(std::num::NonZeroUsize::new(Self::DEFAULT_CHUNK).unwrap_or(std::num::NonZeroUsize::MIN))
    }
}

/// How to run a call.
#[derive(Clone, Default)]
pub struct LinkOptions {
    /// How writes are grouped; the result is the same either way.
    pub write_path: WritePath,
    /// Run the whole call, then roll it back: the result is the one a real run would give,
    /// and nothing is written (no row, no history row).
    pub dry_run: bool,
    /// Told of the progress of the call, if set.
    pub progress: Option<std::sync::Arc<dyn Progress>>,
    /// Upstream's later behaviours to follow: relinking, case-insensitive keys
    /// (`later-upstream.md`). Off by default.
    pub rules: RuleOptions,
}

impl std::fmt::Debug for LinkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkOptions")
            .field("dry_run", &self.dry_run)
            .field("progress", &self.progress.is_some())
            .field("rules", &self.rules)
            .finish()
    }
}

/// Links program enrollments of `program_uuid` to LMS users, as upstream's
/// `link_program_enrollments` does (see `linking.md`), with the default [`LinkOptions`].
///
/// One transaction for the whole call. Keys refused by rules 1 to 3 are logged at WARNING
/// and skipped. Each other key is written inside its own savepoint; a unique violation or a
/// missing course undoes that key only. Returns the keys that were not linked, in input order.
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

/// [`link_program_enrollments`] with options: a dry run, a progress report.
///
/// # Errors
/// As [`link_program_enrollments`].
pub async fn link_program_enrollments_with(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
) -> Result<LinkErrors, LinkCallError> {
    if options.rules.case_insensitive_keys {
        domain::check_distinct_ignoring_case(batch)?;
    }
    let tx = uow.begin().await?;
    match link_in(&*tx, program_uuid, batch, options).await {
        Ok(errors) if options.dry_run => {
            tx.rollback().await?;
            Ok(errors)
        }
        Ok(errors) => {
            tx.commit().await?;
            Ok(errors)
        }
        Err(error) => {
            // The abort's own error matters more than a failed rollback (the database undoes an
            // unfinished transaction anyway).
            let _ = tx.rollback().await;
            Err(error)
        }
    }
}

async fn link_in(
    tx: &dyn Transaction,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
) -> Result<LinkErrors, LinkCallError> {
    let mut errors = LinkErrors::default();
    if batch.is_empty() {
        return Ok(errors);
    }
    roles::announce(tx.reads()).await?;
    match options.write_path {
        WritePath::PerKey => link_per_key(tx, program_uuid, batch, options, &mut errors).await?,
        WritePath::Batched(per_chunk) => {
            link_batched(tx, program_uuid, batch, per_chunk.get(), options, &mut errors).await?;
        }
    }
    Ok(errors)
}

fn advance(options: &LinkOptions, keys: usize) {
    if let Some(progress) = &options.progress {
        progress.advance(keys);
    }
}

/// Upstream's shape: each key planned, then written in its own savepoint.
async fn link_per_key(
    tx: &dyn Transaction,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    errors: &mut LinkErrors,
) -> Result<(), LinkCallError> {
    let snapshot = read_snapshot_with(tx.reads(), program_uuid, batch, options.rules).await?;
    let mut planner = Planner::with_options(program_uuid, snapshot, options.rules);
    for (key, username) in batch.iter() {
        let plan = planner.plan(key, username)?;
        if !matches!(plan.outcome, KeyOutcome::Link(_)) {
            // A linked key's lines are emitted once its writes are made (`link_one`).
            emit_all(&plan.log);
        }
        match &plan.outcome {
            KeyOutcome::Refused(error) | KeyOutcome::Failed(error) => errors.push(key.clone(), error.clone()),
            KeyOutcome::Link(writes) => match link_one(tx, &planner, &plan, writes).await? {
                None => planner.record(&plan),
                Some(error) => errors.push(key.clone(), error),
            },
        }
        advance(options, 1);
    }
    Ok(())
}

/// The course enrollments a plan writes (creates or changes).
fn written_enrollments(plan: &KeyPlan) -> Vec<CourseEnrollmentRef> {
    match &plan.outcome {
        KeyOutcome::Link(writes) => writes.written_enrollments(),
        _ => Vec::new(),
    }
}

/// How many chunks of keys one snapshot read covers in the batched path.
const READ_WINDOW_CHUNKS: usize = 2;

/// The batched shape: plans in input order, written a chunk at a time (see [`WritePath`]).
async fn link_batched(
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
        let sliced;
        let rest = if start == 0 && end == batch.len() {
            batch
        } else {
            sliced = batch.slice(start..end);
            &sliced
        };
        let snapshot = read_snapshot_with(tx.reads(), program_uuid, rest, options.rules).await?;
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
    let mut failed_roles = std::collections::HashSet::new();
    if !links.is_empty() {
        let savepoint = tx.savepoint().await?;
        match apply_links(savepoint.writes(), &links).await {
            Ok(Applied::Linked) => {
                failed_roles = roles::fulfil(&*savepoint, &links, true).await?;
                savepoint.commit().await?;
            }
            Ok(Applied::Taken) | Err(StoreError::UniqueViolation(_)) => {
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

/// Writes one key in its own savepoint. Returns the key's error if the savepoint was rolled
/// back.
async fn link_one(
    tx: &dyn Transaction,
    planner: &Planner,
    plan: &KeyPlan,
    writes: &LinkWrites,
) -> Result<Option<LinkError>, LinkCallError> {
    let savepoint = tx.savepoint().await?;
    match apply_links(savepoint.writes(), &[writes]).await {
        Ok(Applied::Linked) => {
            let failed_roles = roles::fulfil(&*savepoint, &[writes], false).await?;
            savepoint.commit().await?;
            roles::emit_plan(&plan.log, &failed_roles);
            Ok(None)
        }
        Ok(Applied::Taken) => {
            savepoint.rollback().await?;
            emit_all(&plan.log);
            Ok(Some(taken_error(tx, planner, plan, writes).await?))
        }
        Err(StoreError::UniqueViolation(violation)) => {
            savepoint.rollback().await?;
            emit_all(&plan.log);
            emit_all(&writes.failure_log(&plan.username));
            Ok(Some(LinkWrites::failure(violation)))
        }
        Err(other) => {
            let _ = savepoint.rollback().await;
            Err(other.into())
        }
    }
}

/// The "already linked" error of a PE that another writer linked after the call read it:
/// rule 3 applied to a fresh read of that key.
///
/// With relinking too, the key-by-key path reports the PE as linked to whoever holds it now
/// (the batched path's fallback plans the rest again from fresh reads, and may relink it).
async fn taken_error(
    tx: &dyn Transaction,
    planner: &Planner,
    plan: &KeyPlan,
    writes: &LinkWrites,
) -> Result<LinkError, LinkCallError> {
    let program_enrollments = tx
        .reads()
        .program_enrollments_by_keys(planner.program_uuid(), std::slice::from_ref(&writes.attempt.key))
        .await?;
    let users = planner.user(&plan.username).cloned().into_iter().collect();
    let rules = RuleOptions { relink: false, ..planner.options() };
    let fresh = Planner::with_options(
        planner.program_uuid(),
        Snapshot { program_enrollments, users, ..Snapshot::default() },
        rules,
    );
    let replanned = fresh.plan(&plan.key, &plan.username)?;
    match replanned.outcome {
        KeyOutcome::Refused(error) => {
            emit(&LogLine::Refused(error.clone()));
            Ok(error)
        }
        _ => Err(StoreError::Misuse("a program enrollment reported taken is still waiting").into()),
    }
}
