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
//! **Invariants.** Every statement is parameterised; values are never spliced into SQL.
//! Statements bind at most 10,000 values (chunks). Keys, usernames and course keys are matched
//! exactly in Rust after the SQL filter, whatever the collation. Datetimes are written as
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
mod catalog;
mod connect;
mod dialect;
mod error;
mod grants;
mod later;
mod reads;
mod sql;
mod transaction;
mod writes;

pub use catalog::{Column, table_columns};

/// Decoding of Django's value encodings from query rows, whatever the backend: an integer that
/// is `i32` to one driver and `i64` to another, a UUID stored natively or as 32 hex digits, a
/// datetime stored natively or as SQLite text.
pub mod decode {
    pub use crate::dialect::{get_bool, get_i64, get_opt_datetime, get_opt_i64, get_opt_string, get_string, get_uuid};
}
pub use connect::{ConnectError, backend_of, open, redact_url};
pub use dialect::{Backend, UuidColumn};
pub use grants::{LINK_GRANTS, Privilege, SERIAL_SEQUENCES, TableGrant, grant_statements};
pub use transaction::SeaOrmDatabase;
