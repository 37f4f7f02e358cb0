//! An in-memory database behind the linking ports.
//!
//! [`MemoryDatabase`] holds Open edX's tables as plain maps ([`Tables`]), enforces the same
//! unique constraints as the real schema, writes django-simple-history rows, and gives
//! transactions with nested savepoints through an undo journal. It passes the same contract
//! suite as the database adapters, so the application can be tested, and embedded, without a
//! database.
//!
//! Modules (imports go one way: `database` → `transaction` → `engine` → `rows`):
//! - `rows.rs`: the row types and [`Tables`];
//! - `engine.rs`: the state under everything: the tables, the id sequences, the undo journal
//!   (`State`, `Sequence`, `Undo`); the one write of a row of a table with history, with its
//!   history row, its undo entry and its unique checks (`State::save`, and `State::update` /
//!   `update_each` for conditional updates, over the `Historied` tables); `insert_unique` for
//!   the fixture inserts into tables without history;
//! - `transaction.rs`: a transaction or savepoint (a mark in the journal) and the ports'
//!   reads and writes over the engine;
//! - `database.rs`: [`MemoryDatabase`], its fixture API (fixture inserts, another writer's
//!   changes) and its `UnitOfWork`.
//!
//! # Example
//! ```
//! use adapters_memory::MemoryDatabase;
//! use domain::{CurriculumUuid, ProgramUuid};
//!
//! let db = MemoryDatabase::new();
//! let program = ProgramUuid::parse("9b7d3d1c3f0e4a8e9a553c6a5d9b2f10").unwrap();
//! let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
//! db.add_user("user_1", "user_1@example.com").unwrap();
//! db.add_program_enrollment(Some("0001"), program, curriculum, None, "enrolled").unwrap();
//! assert_eq!(db.tables().program_enrollments.len(), 1);
//! ```
#![deny(missing_docs)]

mod database;
mod engine;
mod learners;
mod rows;
mod transaction;

pub use database::MemoryDatabase;
pub use learners::{LearnerTables, SamlProviderRow, SocialAuthRow};
pub use rows::{
    CourseAccessRoleRow, CourseEnrollmentRow, CourseModeRow, CourseOverviewFields, ForumRoleRow, ForumRoleUserRow,
    HistoryRow, HistoryType, InvitationRow, ProgramCourseEnrollmentRow, ProgramEnrollmentRow, RoleAssignmentRow,
    ScheduleExperienceRow, ScheduleRow, Tables, UpgradeDeadlineConfigRow, UpgradeDeadlineScope, UserRow,
};
