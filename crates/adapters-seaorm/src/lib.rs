//! The linking ports on a real database, through SeaORM: SQLite (the embedded default),
//! PostgreSQL and MySQL/MariaDB, on Open edX's own tables.
//!
//! [`SeaOrmDatabase`] implements [`ports::UnitOfWork`] and [`ports::Accounts`]; its transactions implement the reads
//! and writes. It works on a schema that Django created (an Open edX database) as on one our
//! migrations created, and reads what it needs to know from the database's own catalog at
//! connection: the columns of each table (history rows copy every live column), which UUID
//! encoding the program enrollment table uses (`char(32)` or native `uuid`, as MariaDB has
//! after Open edX's UUID conversion), and the columns of every unique index (to name a
//! violated constraint's columns whatever the constraint is called).
//!
//! **Modules**, by concern; each imports only those above it in this list (no circle):
//! `backend` (the three backends, how each encodes Django's values), [`decode`] (values
//! from rows), `catalog` (the table names, and the columns and unique indexes read at
//! connection), `error` (driver errors as port errors), `connect` (opening a URL, checking the
//! schema), `statements` (the shared sea-query statement shapes: values table, bulk update,
//! history rows), `transaction` ([`SeaOrmDatabase`], transactions, running statements), then
//! `reads` and `writes` (the port traits) and `grants` (the privileges `link` and the inspector need).
//!
//! **Invariants.** Every statement is built with sea-query (`sea_orm::sea_query`), which
//! quotes identifiers and binds every value; the few SQL fragments sea-query cannot express
//! are written by hand, each with its reason beside it, and hold no values. Table names come
//! from `catalog::tables` only. Statements bind at most 10,000 values (chunks). External keys and usernames are matched
//! exactly in Rust after the SQL filter, whatever the collation; course keys and emails as the
//! database compares them (its `domain::Collation`, read from the catalog), as upstream's SQL
//! lookups do. Datetimes are written as
//! Django writes them (UTC, microseconds; text `YYYY-MM-DD HH:MM:SS.ffffff` on SQLite).
//!
//! # Example
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use domain::{ExternalUserKey, LinkBatch, ProgramUuid, Username};
//!
//! let db = adapters_seaorm::SeaOrmDatabase::connect("sqlite://program_enrollments.sqlite3?mode=rwc").await?;
//! let program = ProgramUuid::parse("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10")?;
//! let batch = LinkBatch::from_pairs([(ExternalUserKey::parse("0001")?, Username::parse("user_1")?)])?;
//! let errors = app::link_program_enrollments(&db, program, &batch).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod accounts;
mod backend;
mod catalog;
mod connect;
pub mod decode;
mod error;
mod grants;
mod learners;
mod reads;
mod statements;
mod transaction;
mod writes;

pub use backend::{Backend, UuidColumn};
pub use catalog::{Column, table_columns};
pub use connect::{ConnectError, Purpose, UNPARSABLE_URL, backend_of, check_url, open, redact_url};
pub use grants::{
    INSPECT_GRANTS, LINK_GRANTS, Privilege, SERIAL_SEQUENCES, TableGrant, grant_statements, grant_statements_of,
};
pub use transaction::SeaOrmDatabase;
