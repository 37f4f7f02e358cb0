//! What happens next after a key's writes, a chunk's writes ([`Next`]) or a failed transaction
//! ([`Rerun`]): the re-plan, fall back and retry decisions, as explicit states.
//!
//! ```text
//! after a key's writes (per key)
//!   Written ──────────────────────────────► GoOn      the next key
//!   Violation | Contended, replans < 3 ───► Replan    this key and the rest, from fresh reads
//!   Violation, replans = 3 ───────────────► FailKey   IntegrityError for the key; the next key
//!   Contended, replans = 3 ───────────────► RunAgain  the transaction fails: KeyContended
//! after a chunk's writes (batched)
//!   Written ──────────────────────────────► GoOn      the next chunk
//!   Violation | Contended ────────────────► FallBack  the chunk key by key (above), then
//!                                                     the rest from fresh reads
//! after a failed transaction
//!   conflict, attempt < 5 ────────────────► Retry     roll back, wait, run it again
//!   conflict, attempt = 5 ────────────────► Abort     roll back, stop: Contended
//!   any other error ──────────────────────► Abort     roll back, stop: the error
//! ```
//!
//! A conflict is a deadlock, a serialization failure, a lock wait timeout or a contended key
//! ([`LinkCallError::is_retryable`]). Every write is in a savepoint: what does not go on is
//! rolled back first. An abort rolls the transaction back; the transactions committed before
//! it stay.

use domain::{ExternalUserKey, UniqueViolation};

use crate::types::LinkCallError;

/// How many times one transaction is run when it conflicts with other writers.
pub const MAX_ATTEMPTS: usize = 5;

/// How many times one key is planned again from fresh reads after its writes met another
/// writer's (a PE linked, a course enrollment created or changed meanwhile) before the
/// violation is the key's own, or the transaction is run again.
pub(crate) const MAX_REPLANS_PER_KEY: usize = 3;

/// What became of the writes of a key or a chunk in their savepoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum WriteOutcome {
    /// Every write was made; the savepoint is released.
    Written,
    /// A write violated a unique constraint; the savepoint is rolled back.
    Violation(UniqueViolation),
    /// Another writer linked a PE or changed a course enrollment since the read; the savepoint
    /// is rolled back.
    Contended,
}

/// What happens after the writes of a key or a chunk.
#[derive(Debug)]
pub(crate) enum Next {
    /// Go on with the next key or chunk.
    GoOn,
    /// Plan the key and the rest again from fresh reads, which see the other writer's rows.
    Replan,
    /// The key fails with an `IntegrityError` for this violation, which persisted through the
    /// re-plans (a constraint the rules do not foresee), and the next key goes on.
    FailKey(UniqueViolation),
    /// Redo the chunk key by key from fresh reads, then plan the rest again.
    FallBack,
    /// Stop writing: the transaction fails with this error, and runs again ([`Rerun`]).
    RunAgain(LinkCallError),
}

/// What happens after a transaction failed: it is rolled back, then…
#[derive(Debug)]
pub(crate) enum Rerun {
    /// …run again.
    Retry(LinkCallError),
    /// …the call stops with this error.
    Abort(LinkCallError),
}

/// After a key's writes, `replans` times planned again already.
pub(crate) fn after_key(outcome: WriteOutcome, replans: usize, key: &ExternalUserKey) -> Next {
    match outcome {
        WriteOutcome::Written => Next::GoOn,
        WriteOutcome::Violation(_) | WriteOutcome::Contended if replans < MAX_REPLANS_PER_KEY => Next::Replan,
        WriteOutcome::Violation(violation) => Next::FailKey(violation),
        WriteOutcome::Contended => Next::RunAgain(LinkCallError::KeyContended { key: key.clone() }),
    }
}

/// After a chunk's writes.
pub(crate) fn after_chunk(outcome: &WriteOutcome) -> Next {
    match outcome {
        WriteOutcome::Written => Next::GoOn,
        WriteOutcome::Violation(_) | WriteOutcome::Contended => Next::FallBack,
    }
}

/// After the `attempt`-th run of a transaction failed with `error`.
pub(crate) fn after_failed_transaction(error: LinkCallError, attempt: usize) -> Rerun {
    match error {
        error if error.is_retryable() && attempt < MAX_ATTEMPTS => Rerun::Retry(error),
        error if error.is_retryable() => {
            Rerun::Abort(LinkCallError::Contended { attempts: attempt, last: Box::new(error) })
        }
        error => Rerun::Abort(error),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use domain::DuplicateKeyIgnoringCase;

    use super::*;

    fn key() -> ExternalUserKey {
        ExternalUserKey::parse("k").unwrap()
    }
    fn violation() -> UniqueViolation {
        UniqueViolation::new("t", ["c"])
    }

    #[test]
    fn a_key_is_planned_again_then_fails_or_reruns_its_transaction() {
        assert!(matches!(after_key(WriteOutcome::Written, 3, &key()), Next::GoOn));
        assert!(matches!(after_key(WriteOutcome::Violation(violation()), 2, &key()), Next::Replan));
        assert!(matches!(after_key(WriteOutcome::Contended, 0, &key()), Next::Replan));
        assert!(
            matches!(after_key(WriteOutcome::Violation(violation()), 3, &key()), Next::FailKey(v) if v == violation())
        );
        assert!(matches!(
            after_key(WriteOutcome::Contended, 3, &key()),
            Next::RunAgain(LinkCallError::KeyContended { .. })
        ));
    }

    #[test]
    fn a_chunk_falls_back_and_a_transaction_is_retried_then_aborted() {
        assert!(matches!(after_chunk(&WriteOutcome::Written), Next::GoOn));
        assert!(matches!(after_chunk(&WriteOutcome::Contended), Next::FallBack));
        assert!(matches!(after_chunk(&WriteOutcome::Violation(violation())), Next::FallBack));
        let contended = || LinkCallError::KeyContended { key: key() };
        assert!(matches!(after_failed_transaction(contended(), 4), Rerun::Retry(_)));
        assert!(matches!(
            after_failed_transaction(contended(), 5),
            Rerun::Abort(LinkCallError::Contended { attempts: 5, .. })
        ));
        let input = LinkCallError::DuplicateKeyIgnoringCase(DuplicateKeyIgnoringCase { key: key() });
        assert!(matches!(after_failed_transaction(input, 1), Rerun::Abort(LinkCallError::DuplicateKeyIgnoringCase(_))));
    }
}
