//! The database and its transactions: [`SeaOrmDatabase`] begins them (`READ COMMITTED`),
//! savepoints are SeaORM's nested `DatabaseTransaction` (`SAVEPOINT`), and [`SeaTransaction`]
//! runs the statements of the reads and writes, turning driver errors into port errors.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::Utc;
use ports::{LinkingReads, LinkingWrites, StoreResult, Transaction, UnitOfWork};
use sea_orm::sea_query::{ColumnRef, Expr, ExprTrait, SelectStatement};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, IsolationLevel, QueryResult, Statement, TransactionTrait,
    Value,
};

use crate::backend::{Backend, UuidColumn};
use crate::connect::{ConnectError, Context, Purpose, open, read_context};
use crate::error::{backend_error, write_error};
use crate::statements::build;

/// A database behind the linking ports: SQLite, PostgreSQL or MySQL/MariaDB, on Open edX's
/// schema as Django created it, or as our migrations did.
#[derive(Debug, Clone)]
pub struct SeaOrmDatabase {
    conn: DatabaseConnection,
    context: Arc<Context>,
    /// On SQLite, how long a transaction waits for the write lock (see
    /// [`SeaOrmDatabase::with_sqlite_lock_wait`]).
    sqlite_lock_wait: Option<std::time::Duration>,
}

impl SeaOrmDatabase {
    /// Opens `url` and reads the schema (see [`crate::open`]).
    ///
    /// # Errors
    /// [`ConnectError`] naming the backend, never the password.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_for(url, Purpose::Link).await
    }

    /// Opens `url` for `purpose`: which tables must exist and be granted ([`Purpose`]).
    ///
    /// # Errors
    /// [`ConnectError`] naming the backend, never the password.
    pub async fn connect_for(url: &str, purpose: Purpose) -> Result<Self, ConnectError> {
        let conn = open(url).await?;
        let context = read_context(&conn, url, purpose).await?;
        Ok(Self { conn, context, sqlite_lock_wait: None })
    }

    /// The tables that exist but that this connection's user holds no privilege on (opened
    /// for [`Purpose::Serve`]; otherwise such a table refuses the connection).
    pub fn ungranted_tables(&self) -> &[&'static str] {
        &self.context.ungranted
    }

    pub(crate) fn is_ungranted(&self, table: &'static str) -> bool {
        self.context.ungranted.contains(&table)
    }

    /// Wraps an open connection; `url` is used in messages only (password hidden).
    ///
    /// # Errors
    /// [`ConnectError::MissingTables`], [`ConnectError::MissingGrants`] or [`ConnectError::Catalog`].
    pub async fn new(conn: DatabaseConnection, url: &str) -> Result<Self, ConnectError> {
        let context = read_context(&conn, url, Purpose::Link).await?;
        Ok(Self { conn, context, sqlite_lock_wait: None })
    }

    /// On SQLite, each transaction takes the database's write lock with its first statement,
    /// waiting up to `wait` while another process holds it (SQLite's busy time-out); then it
    /// fails with a [`StoreError`](ports::StoreError) that is not a conflict (no retry).
    /// Without this, a transaction takes the lock at its first write, after its reads, where
    /// SQLite does not wait (a deadlock could follow): it fails at once and is retried a few
    /// times. Other backends are unchanged. Not for a read-only database: the lock is a write.
    pub fn with_sqlite_lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.sqlite_lock_wait = Some(wait);
        self
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
        if let (Backend::Sqlite, Some(wait)) = (self.backend(), self.sqlite_lock_wait) {
            take_sqlite_write_lock(&txn, wait).await?;
        }
        let mut tx = SeaTransaction::new(txn, Arc::clone(&self.context));
        tx.history_user = history_user.map(|user| user.0);
        Ok(Box::new(tx))
    }
}

/// Takes the write lock of a SQLite transaction that has run no statement yet, waiting up to
/// `wait`: a write that changes no row (`WHERE 0`) still takes the lock, and SQLite's busy
/// handler waits for a lock taken by a transaction's first statement.
async fn take_sqlite_write_lock(txn: &DatabaseTransaction, wait: std::time::Duration) -> StoreResult<()> {
    let millis = wait.as_millis().min(i32::MAX as u128);
    let timeout = format!("PRAGMA busy_timeout = {millis}");
    let lock = "UPDATE program_enrollments_programenrollment SET status = status WHERE 0";
    for sql in [timeout.as_str(), lock] {
        if let Err(error) = txn.execute_unprepared(sql).await {
            let locked = error.to_string().contains("database is locked");
            let source = if locked {
                sea_orm::DbErr::Custom(format!(
                    "database is locked: another writer held the SQLite file's write lock for the whole lock time-out \
                     ({} s)",
                    wait.as_secs_f64()
                ))
            } else {
                error
            };
            return Err(if locked {
                ports::StoreError::Backend { backend: Backend::Sqlite.name(), source: Box::new(source) }
            } else {
                backend_error(Backend::Sqlite, source)
            });
        }
    }
    Ok(())
}

/// An open transaction or savepoint.
pub(crate) struct SeaTransaction {
    pub(crate) txn: DatabaseTransaction,
    pub(crate) context: Arc<Context>,
    /// Ids of the course enrollments this transaction (or savepoint) inserted, by `(user_id,
    /// course_id)`: it dies with the savepoint, so a rolled-back insert is never reused.
    pub(crate) created: Mutex<HashMap<(i64, String), i64>>,
    /// The `history_user_id` of the history rows it writes (the acting user), if any.
    pub(crate) history_user: Option<i64>,
}

impl SeaTransaction {
    fn new(txn: DatabaseTransaction, context: Arc<Context>) -> Self {
        Self { txn, context, created: Mutex::default(), history_user: None }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.context.encoding.backend
    }

    /// Now, encoded as Django stores a datetime here.
    pub(crate) fn now(&self) -> Value {
        self.context.encoding.datetime(Utc::now())
    }

    /// Runs a read.
    pub(crate) async fn query(&self, statement: Statement) -> StoreResult<Vec<QueryResult>> {
        self.txn.query_all_raw(statement).await.map_err(|e| backend_error(self.backend(), e))
    }

    /// Runs `select` with `AND column IN (chunk)` for each chunk of `values` and hands each row
    /// to `each`. Rows are decoded chunk by chunk, never all held at once.
    pub(crate) async fn each_row<V, F>(
        &self,
        select: &SelectStatement,
        column: impl Into<ColumnRef>,
        values: &[V],
        mut each: F,
    ) -> StoreResult<()>
    where
        V: Into<Value> + Clone,
        F: FnMut(&QueryResult) -> StoreResult<()>,
    {
        let column = column.into();
        for chunk in values.chunks(self.backend().max_binds()) {
            let mut select = select.clone();
            select.and_where(Expr::col(column.clone()).is_in(chunk.iter().cloned().map(Into::into)));
            for row in self.query(build(self.backend(), &select)).await? {
                each(&row)?;
            }
        }
        Ok(())
    }

    /// Runs a write to `table`; returns the number of rows it changed.
    pub(crate) async fn execute(&self, table: &str, statement: Statement) -> StoreResult<u64> {
        self.txn
            .execute_raw(statement)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| write_error(self.backend(), &self.context.catalog, table, e))
    }

    /// Runs a write to `table` that returns rows (`RETURNING`).
    pub(crate) async fn query_write(&self, table: &str, statement: Statement) -> StoreResult<Vec<QueryResult>> {
        self.txn
            .query_all_raw(statement)
            .await
            .map_err(|e| write_error(self.backend(), &self.context.catalog, table, e))
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
