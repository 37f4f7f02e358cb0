//! Transactions and savepoints.

use async_trait::async_trait;
use domain::UserId;

use crate::error::StoreResult;
use crate::reads::LinkingReads;
use crate::writes::LinkingWrites;

/// Starts transactions.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync {
    /// Begins a transaction (`BEGIN`) whose history rows name no user.
    async fn begin(&self) -> StoreResult<Box<dyn Transaction>>;

    /// Begins a transaction whose history rows (and those of its savepoints) carry
    /// `history_user` in `history_user_id`: the LMS user on whose behalf the call runs, as the
    /// LMS's history middleware records the request's user. `None` is [`UnitOfWork::begin`].
    ///
    /// # Errors
    /// The default implementation, for a unit of work that cannot record a user, refuses
    /// `Some` with [`crate::StoreError::Misuse`] rather than write history rows without it.
    async fn begin_as(&self, history_user: Option<UserId>) -> StoreResult<Box<dyn Transaction>> {
        match history_user {
            None => self.begin().await,
            Some(_) => Err(crate::StoreError::Misuse("this unit of work cannot record the acting user")),
        }
    }
}

/// An open transaction, or a savepoint inside one.
///
/// # Contract
/// - Reads through [`Transaction::reads`] see every write made through
///   [`Transaction::writes`] of this transaction and of its committed savepoints.
/// - [`Transaction::savepoint`] opens a nested scope (`SAVEPOINT`). While it is open, the
///   parent MUST NOT be used; finish the savepoint first.
/// - [`Transaction::commit`] of a savepoint releases it (its writes become the parent's);
///   [`Transaction::rollback`] undoes exactly the savepoint's writes (`ROLLBACK TO`).
/// - Commit of the outer transaction makes everything durable at once; rollback, or dropping
///   it unfinished, leaves nothing.
#[async_trait]
pub trait Transaction: Send + Sync {
    /// The reads, inside this transaction.
    fn reads(&self) -> &dyn LinkingReads;

    /// The writes, inside this transaction.
    fn writes(&self) -> &dyn LinkingWrites;

    /// Opens a savepoint.
    async fn savepoint(&self) -> StoreResult<Box<dyn Transaction>>;

    /// Commits the transaction or releases the savepoint.
    async fn commit(self: Box<Self>) -> StoreResult<()>;

    /// Rolls the transaction or the savepoint back.
    async fn rollback(self: Box<Self>) -> StoreResult<()>;
}
