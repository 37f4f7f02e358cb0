//! Transactions and savepoints: SeaORM's nested `DatabaseTransaction` (`SAVEPOINT`).

use std::sync::Arc;

use async_trait::async_trait;
use ports::{LinkingReads, LinkingWrites, StoreResult, Transaction, UnitOfWork};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, IsolationLevel, TransactionTrait, Value};

use crate::connect::{ConnectError, Context, read_context};
use crate::dialect::{Backend, UuidColumn};
use crate::error::backend_error;

/// A database behind the linking ports: SQLite, PostgreSQL or MySQL/MariaDB, on Open edX's
/// schema as Django created it, or as our migrations did.
#[derive(Debug, Clone)]
pub struct SeaOrmDatabase {
    conn: DatabaseConnection,
    context: Arc<Context>,
}

impl SeaOrmDatabase {
    /// Opens `url` and reads the schema (see [`crate::open`]).
    ///
    /// # Errors
    /// [`ConnectError`] naming the backend, never the password.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        let conn = crate::connect::open(url).await?;
        Self::new(conn, url).await
    }

    /// Wraps an open connection; `url` is used in messages only (password hidden).
    ///
    /// # Errors
    /// [`ConnectError::MissingTables`], [`ConnectError::MissingGrants`] or [`ConnectError::Catalog`].
    pub async fn new(conn: DatabaseConnection, url: &str) -> Result<Self, ConnectError> {
        let context = read_context(&conn, url).await?;
        Ok(Self { conn, context })
    }

    /// The connection pool.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub(crate) fn has_table(&self, table: &str) -> bool {
        self.context.catalog.has_table(table)
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.context.encoding.backend
    }

    /// How `program_uuid` and `curriculum_uuid` are stored here.
    pub fn program_uuid_column(&self) -> UuidColumn {
        self.context.encoding.program_uuid
    }

    /// A UUID encoded for a column of `kind` on this backend, ready to bind.
    pub fn uuid_value(&self, uuid: &uuid::Uuid, kind: UuidColumn) -> Value {
        self.context.encoding.uuid(uuid, kind)
    }

    /// A datetime encoded as Django stores it on this backend, ready to bind.
    pub fn datetime_value(&self, at: chrono::DateTime<chrono::Utc>) -> Value {
        self.context.encoding.datetime(at)
    }
}

#[async_trait]
impl UnitOfWork for SeaOrmDatabase {
    async fn begin(&self) -> StoreResult<Box<dyn Transaction>> {
        self.begin_as(None).await
    }

    async fn begin_as(&self, history_user: Option<domain::UserId>) -> StoreResult<Box<dyn Transaction>> {
        // READ COMMITTED where the server lets us choose, as Django runs the LMS (PostgreSQL's
        // default; Django's choice for MySQL since 2.0): each statement sees what other
        // writers committed, so a PE another writer linked since our read is seen as taken by
        // the fresh read that follows, not hidden by a snapshot from the call's start.
        let isolation = match self.backend() {
            Backend::Sqlite => None,
            Backend::Postgres | Backend::MySql => Some(IsolationLevel::ReadCommitted),
        };
        let txn = self.conn.begin_with_config(isolation, None).await.map_err(|e| backend_error(self.backend(), e))?;
        if self.backend() == Backend::Postgres {
            // Our statements reach rows through primary keys and unique indexes, a chunk at a
            // time. With the default cost of a random page read (4.0: a spinning disk), the
            // planner prefers scanning a whole table of 100,000 rows to 1,000 index probes,
            // which makes each chunk cost as much as the table and a call quadratic. 1.1 is the
            // value PostgreSQL's documentation suggests for SSDs and cached data. `LOCAL`: this
            // transaction only; the server's setting and other sessions are untouched.
            txn.execute_unprepared("SET LOCAL random_page_cost = 1.1")
                .await
                .map_err(|e| backend_error(self.backend(), e))?;
        }
        let mut tx = SeaTransaction::new(txn, Arc::clone(&self.context));
        tx.history_user = history_user.map(|user| user.0);
        Ok(Box::new(tx))
    }
}

/// An open transaction or savepoint.
pub(crate) struct SeaTransaction {
    pub(crate) txn: DatabaseTransaction,
    pub(crate) context: Arc<Context>,
    /// Ids of the course enrollments this transaction (or savepoint) inserted, by `(user_id,
    /// course_id)`: it dies with the savepoint, so a rolled-back insert is never reused.
    pub(crate) created: std::sync::Mutex<std::collections::HashMap<(i64, String), i64>>,
    /// The `history_user_id` of the history rows it writes (the acting user), if any.
    pub(crate) history_user: Option<i64>,
}

impl SeaTransaction {
    pub(crate) fn new(txn: DatabaseTransaction, context: Arc<Context>) -> Self {
        Self { txn, context, created: std::sync::Mutex::default(), history_user: None }
    }
}

impl SeaTransaction {
    pub(crate) fn backend(&self) -> Backend {
        self.context.encoding.backend
    }
}

#[async_trait]
impl Transaction for SeaTransaction {
    fn reads(&self) -> &dyn LinkingReads {
        self
    }

    fn writes(&self) -> &dyn LinkingWrites {
        self
    }

    async fn savepoint(&self) -> StoreResult<Box<dyn Transaction>> {
        let txn = self.txn.begin().await.map_err(|e| backend_error(self.backend(), e))?;
        let mut savepoint = SeaTransaction::new(txn, Arc::clone(&self.context));
        savepoint.history_user = self.history_user;
        Ok(Box::new(savepoint))
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let backend = self.backend();
        self.txn.commit().await.map_err(|e| backend_error(backend, e))
    }

    async fn rollback(self: Box<Self>) -> StoreResult<()> {
        let backend = self.backend();
        self.txn.rollback().await.map_err(|e| backend_error(backend, e))
    }
}
