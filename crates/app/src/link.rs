//! The use case: `link_program_enrollments`.

use std::borrow::Cow;
use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use domain::{
    AccountRelation, CorruptData, DuplicateKeyIgnoringCase, ExternalUserKey, LinkBatch, LinkError, ProgramUuid,
    RuleOptions,
};
use ports::{StoreError, Transaction, UnitOfWork};
use thiserror::Error;

use crate::log::LOG_TARGET;
use crate::paths::{link_batched, link_per_key};
use crate::roles;

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

    /// The keys refused only because their PE is already linked to the very user asked for:
    /// done by an earlier run (or by the learner's own sign-in), not real errors.
    pub fn already_linked_to_target(&self) -> impl Iterator<Item = &ExternalUserKey> {
        self.entries.iter().filter(|(_, e)| is_already_linked_to_target(e)).map(|(k, _)| k)
    }

    pub(crate) fn push(&mut self, key: ExternalUserKey, error: LinkError) {
        self.entries.push((key, error));
    }

    fn append(&mut self, other: LinkErrors) {
        self.entries.extend(other.entries);
    }
}

/// Whether `error` says the PE is already linked to the requested user.
pub fn is_already_linked_to_target(error: &LinkError) -> bool {
    matches!(error, LinkError::AlreadyLinked { relation: AccountRelation::Target, .. })
}

/// Why a transaction was rolled back. Nothing of it remains.
#[derive(Debug, Error)]
pub enum LinkCallError {
    /// A port failed with an error that is not a key's own (connection lost, server error).
    #[error("the database failed: {0}")]
    Store(#[from] StoreError),
    /// The rules met data they cannot work with.
    #[error("{0}")]
    CorruptData(#[from] CorruptData),
    /// Other writers kept linking or changing the rows of one key while it was being linked,
    /// each time it was planned again from fresh reads.
    #[error("other writers kept changing the rows of external user key {key} while it was being linked")]
    KeyContended {
        /// The key.
        key: ExternalUserKey,
    },
    /// A conflict with other writers (a deadlock, a serialization failure, a lock wait
    /// timeout, a contended key) persisted through every attempt.
    #[error("gave up after {attempts} attempts: {last}")]
    Contended {
        /// How many times the transaction was run.
        attempts: usize,
        /// The last attempt's error.
        last: Box<LinkCallError>,
    },
    /// With case-insensitive keys, two input keys are equal up to case: refused before
    /// anything is read or written.
    #[error("{0}")]
    DuplicateKeyIgnoringCase(#[from] DuplicateKeyIgnoringCase),
}

impl LinkCallError {
    /// Whether running the transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(error) => error.is_conflict(),
            Self::KeyContended { .. } => true,
            Self::CorruptData(_) | Self::Contended { .. } | Self::DuplicateKeyIgnoringCase(_) => false,
        }
    }
}

/// Reports how far a call has got (for a progress bar).
pub trait Progress: Send + Sync {
    /// `keys` more input pairs have been decided and, for linked keys, written.
    fn advance(&self, keys: usize);

    /// A transaction that had advanced `keys` was rolled back to be run again.
    fn retreat(&self, keys: usize) {
        let _ = keys;
    }
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
    /// and nothing is written (no row, no history row). A dry run is one transaction whatever
    /// [`Self::commit_every`] says, so that its result is the one a real run would give.
    pub dry_run: bool,
    /// Commit every this many keys (in input order), each group in its own transaction, so
    /// that a run interrupted by a fault keeps what it committed. `None` (the default): the
    /// whole call in one transaction, as upstream.
    pub commit_every: Option<NonZeroUsize>,
    /// Told of the progress of the call, if set.
    pub progress: Option<Arc<dyn Progress>>,
    /// Upstream's later behaviours to follow: relinking, case-insensitive keys
    /// (`later-upstream.md`). Off by default.
    pub rules: RuleOptions,
    /// The LMS user on whose behalf the call runs (the support tool's staff member, the
    /// CLI's `--acting-user`): every history row the call writes carries this id in
    /// `history_user_id`, as the LMS's history middleware records a request's user. `None`
    /// (the default): no user, as upstream's management command.
    pub acting_user: Option<domain::UserId>,
}

impl std::fmt::Debug for LinkOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkOptions")
            .field("write_path", &self.write_path)
            .field("dry_run", &self.dry_run)
            .field("commit_every", &self.commit_every)
            .field("progress", &self.progress.is_some())
            .field("rules", &self.rules)
            .field("acting_user", &self.acting_user)
            .finish()
    }
}

/// What a run did: the keys not linked, and the transactions that committed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkReport {
    /// The keys of the committed transactions that were not linked, in input order.
    pub errors: LinkErrors,
    /// The positions in the batch (from 0, in input order) of each committed transaction's
    /// keys. Empty for a dry run.
    pub committed: Vec<Range<usize>>,
    /// How many times a transaction was rolled back and run again after a conflict with
    /// another writer (a deadlock, a serialization failure, a lock wait timeout).
    pub retries: usize,
}

/// A run stopped by an error: what committed before it stays, the rest was not written.
#[derive(Debug, Error)]
#[error("{cause}")]
pub struct LinkAborted {
    /// What the transactions that committed before the error did.
    pub report: LinkReport,
    /// The positions in the batch of the keys not written: the failed transaction's and every
    /// later one's.
    pub not_written: Range<usize>,
    /// Why the transaction was rolled back.
    #[source]
    pub cause: LinkCallError,
}

/// How many times one transaction is run when it conflicts with other writers.
pub const MAX_ATTEMPTS: usize = 5;

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
/// # Errors
/// [`LinkAborted`] when a transaction fails: it is rolled back, the ones before it stay
/// committed, and no later one is run.
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
    let mut start = 0;
    while start < batch.len() {
        let end = batch.len().min(start.saturating_add(per_transaction));
        let keys =
            if start == 0 && end == batch.len() { Cow::Borrowed(batch) } else { Cow::Owned(batch.slice(start..end)) };
        let first = start == 0;
        match transaction_with_retries(uow, program_uuid, &keys, options, first, &mut report.retries).await {
            Ok(errors) => {
                report.errors.append(errors);
                if !options.dry_run {
                    report.committed.push(start..end);
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
async fn transaction_with_retries(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    first: bool,
    retries: &mut usize,
) -> Result<LinkErrors, LinkCallError> {
    let mut attempt = 1;
    loop {
        let progress = options
            .progress
            .as_ref()
            .map(|inner| Arc::new(AttemptProgress { inner: Arc::clone(inner), advanced: AtomicUsize::new(0) }));
        let attempt_options =
            LinkOptions { progress: progress.clone().map(|p| p as Arc<dyn Progress>), ..options.clone() };
        match one_transaction(uow, program_uuid, batch, &attempt_options, first).await {
            Err(error) if error.is_retryable() && attempt < MAX_ATTEMPTS => {
                tracing::warn!(
                    target: LOG_TARGET,
                    "{error}; the transaction of {} keys was rolled back and runs again (attempt {} of {MAX_ATTEMPTS}): \
                     the log lines of its keys are repeated",
                    batch.len(),
                    attempt + 1
                );
                if let (Some(inner), Some(progress)) = (&options.progress, &progress) {
                    inner.retreat(progress.advanced.load(Ordering::Relaxed));
                }
                // The other writer holds its locks until it commits: give it a moment, longer
                // each time.
                tokio::time::sleep(Duration::from_millis(50 * 2u64.pow(attempt as u32))).await;
                attempt += 1;
                *retries += 1;
            }
            Err(error) if error.is_retryable() => {
                return Err(LinkCallError::Contended { attempts: attempt, last: Box::new(error) });
            }
            other => return other,
        }
    }
}

/// One transaction: begun, written through the chosen path, committed (rolled back for a dry
/// run or on error). The `first` transaction of a call says if role fulfilment is skipped.
async fn one_transaction(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: &LinkOptions,
    first: bool,
) -> Result<LinkErrors, LinkCallError> {
    let tx = match options.acting_user {
        None => uow.begin().await?,
        acting => uow.begin_as(acting).await?,
    };
    if first && let Err(error) = roles::announce(tx.reads()).await {
        let _ = tx.rollback().await;
        return Err(error.into());
    }
    match write_through(&*tx, program_uuid, batch, options).await {
        Ok(errors) if options.dry_run => {
            tx.rollback().await?;
            Ok(errors)
        }
        Ok(errors) => {
            tx.commit().await?;
            Ok(errors)
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
) -> Result<LinkErrors, LinkCallError> {
    let mut errors = LinkErrors::default();
    match options.write_path {
        WritePath::PerKey => link_per_key(tx, program_uuid, batch, options, &mut errors).await?,
        WritePath::Batched(per_chunk) => {
            link_batched(tx, program_uuid, batch, per_chunk.get(), options, &mut errors).await?;
        }
    }
    Ok(errors)
}
