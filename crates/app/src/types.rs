//! The public types of the use case: its options, its results and its errors.

use std::num::NonZeroUsize;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use domain::{CorruptData, DuplicateKeyIgnoringCase, ExternalUserKey, LinkError, RuleOptions};
use ports::StoreError;
use thiserror::Error;

use crate::tracking::{TrackingLog, TrackingLogError};

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
        self.entries.iter().filter(|(_, e)| e.is_already_linked_to_target()).map(|(k, _)| k)
    }

    pub(crate) fn push(&mut self, key: ExternalUserKey, error: LinkError) {
        self.entries.push((key, error));
    }

    pub(crate) fn append(&mut self, other: LinkErrors) {
        self.entries.extend(other.entries);
    }
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
    /// The tracking log could not be written after a commit: the run stops there.
    #[error("{0}")]
    TrackingLog(#[from] TrackingLogError),
    /// The caller asked the call to stop ([`LinkOptions::stop`]): it stopped at the next safe
    /// point, between keys or chunks of keys, and rolled back the open transaction.
    #[error("the run was stopped on request")]
    Stopped,
}

impl LinkCallError {
    /// Whether running the transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Store(error) => error.is_conflict(),
            Self::KeyContended { .. } => true,
            Self::CorruptData(_)
            | Self::Contended { .. }
            | Self::DuplicateKeyIgnoringCase(_)
            | Self::TrackingLog(_)
            | Self::Stopped => false,
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

/// A request to stop a call, shared between the caller (who asks, from a signal handler or
/// another task) and the call (which looks at the next safe point: before each transaction,
/// and between keys or chunks of keys inside one, never inside a commit). Clones share the
/// request.
#[derive(Debug, Clone, Default)]
pub struct StopFlag {
    own: Arc<AtomicBool>,
    /// The caller's flag, for a flag made by [`StopFlag::child`]: raised when either is.
    parent: Option<Arc<AtomicBool>>,
}

impl StopFlag {
    /// A flag not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the call to stop at its next safe point.
    pub fn raise(&self) {
        self.own.store(true, Ordering::SeqCst);
    }

    /// Whether stopping was asked for.
    pub fn is_raised(&self) -> bool {
        self.own.load(Ordering::SeqCst) || self.parent.as_ref().is_some_and(|parent| parent.load(Ordering::SeqCst))
    }

    /// A flag raised when `parent` (the caller's, if any) is, or when raised itself, which
    /// leaves `parent` alone: the workers of a call with [`LinkOptions::jobs`] stop together.
    pub(crate) fn child(parent: Option<&StopFlag>) -> Self {
        Self { own: Arc::default(), parent: parent.map(|flag| Arc::clone(&flag.own)) }
    }
}

/// Told of each transaction of a call as it commits (for a report written as the call goes,
/// so that a process killed later has still said what it wrote).
pub trait CommitObserver: Send + Sync {
    /// The transaction holding the keys at `keys` (positions in the batch, from 0) committed;
    /// `errors` are its keys that were not linked.
    fn committed(&self, keys: Range<usize>, errors: &LinkErrors);
}

/// How the writes of linked keys reach the database. The default is [`Self::Batched`] in
/// chunks of [`Self::DEFAULT_CHUNK`]; the result is the same either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WritePath {
    /// Each key in its own savepoint, with a few statements per key: upstream's shape.
    PerKey,
    /// Keys in chunks of at most this many, each chunk in one savepoint with one multi-row
    /// statement per kind of write. If a chunk's writes fail with a unique violation or find a
    /// PE taken meanwhile (a concurrent writer), the chunk is rolled back and redone key by key
    /// with fresh reads, so results, rows, history and log lines are those of [`Self::PerKey`].
    Batched(NonZeroUsize),
}

impl WritePath {
    /// Chunks of 1,000 keys.
    pub const DEFAULT_CHUNK: usize = 1_000;
}

impl Default for WritePath {
    fn default() -> Self {
        Self::Batched(NonZeroUsize::new(Self::DEFAULT_CHUNK).unwrap_or(NonZeroUsize::MIN))
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
    /// Where to append, after each commit, the tracking-log events the LMS would have emitted
    /// for the keys that committed (enrollments activated, deactivated, moved to another mode),
    /// in the LMS's tracking-log format: see [`TrackingLog`]. Nothing for a dry run, a key
    /// rolled back or a transaction that failed. `None` (the default): no tracking log.
    pub tracking_log: Option<Arc<TrackingLog>>,
    /// If set and raised, the call stops at its next safe point (see [`StopFlag`]) with
    /// [`LinkCallError::Stopped`]; the transactions committed before stay.
    pub stop: Option<StopFlag>,
    /// Told of each transaction as it commits, if set.
    pub on_commit: Option<Arc<dyn CommitObserver>>,
    /// With [`Self::commit_every`], how many of its transactions run at once, each on its own
    /// connection of the [`ports::UnitOfWork`] (a pool: the adapter's `begin` from concurrent
    /// tasks), so that a big run uses more than one core of a database server. Each transaction
    /// stays whole and is retried alone after a conflict with another (a deadlock, a
    /// serialization failure); they may commit in any order, but the report's
    /// [`LinkReport::committed`] and errors are in input order. After a failure or a stop, no
    /// transaction starts and the running ones stop at their next safe point (rolled back),
    /// unless already committing: [`LinkReport::committed`] may then hold transactions after
    /// [`LinkAborted::not_written`]'s start (see [`LinkAborted::unwritten`]). `None` or 1 (the
    /// default): one at a time, in input order. Ignored without [`Self::commit_every`] and for a
    /// dry run (one transaction). An adapter that allows one transaction at a time (SQLite,
    /// memory) runs them one after the other.
    pub jobs: Option<NonZeroUsize>,
}

impl LinkOptions {
    /// Whether the caller asked the call to stop.
    pub(crate) fn is_stopped(&self) -> bool {
        self.stop.as_ref().is_some_and(StopFlag::is_raised)
    }

    /// [`LinkCallError::Stopped`] if the caller asked the call to stop: a safe point.
    pub(crate) fn stop_point(&self) -> Result<(), LinkCallError> {
        if self.is_stopped() { Err(LinkCallError::Stopped) } else { Ok(()) }
    }
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
            .field("tracking_log", &self.tracking_log.as_ref().map(|log| log.path()))
            .field("stop", &self.stop)
            .field("on_commit", &self.on_commit.is_some())
            .field("jobs", &self.jobs)
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

impl LinkAborted {
    /// The positions in the batch of the keys not written, in input order: [`Self::not_written`]
    /// less the transactions in [`LinkReport::committed`] after its start, which with
    /// [`LinkOptions::jobs`] may have committed out of order. One range without jobs.
    pub fn unwritten(&self) -> Vec<Range<usize>> {
        let mut rest = Vec::new();
        let mut start = self.not_written.start;
        let mut committed: Vec<&Range<usize>> =
            self.report.committed.iter().filter(|range| range.start >= self.not_written.start).collect();
        committed.sort_by_key(|range| range.start);
        for range in committed {
            if range.start > start {
                rest.push(start..range.start);
            }
            start = start.max(range.end);
        }
        if start < self.not_written.end {
            rest.push(start..self.not_written.end);
        }
        rest
    }
}
