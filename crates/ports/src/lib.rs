//! The ports of the linking: what the application needs from a database, as traits.
//!
//! - [`LinkingReads`]: the bulk reads that build a [`domain::Snapshot`].
//! - [`LinkingWrites`]: the writes that link keys, each with its history row.
//! - [`UnitOfWork`] and [`Transaction`]: a transaction per call and a savepoint per key.
//! - [`Accounts`]: the LMS accounts a driving adapter acts for (the support tool's user).
//! - [`LearnerRecords`]: what the support tool's inspector reads (read-only).
//!
//! **Invariants.** No type of any database library appears here; adapters convert. Every
//! method is object-safe and takes slices, so that one call can carry a whole chunk. Every
//! method's `# Errors` section names the [`StoreError`] variants it returns; the errors any
//! statement may meet are listed once, on [`StoreError`] (`# Any statement`).
//!
//! **History.** A write of a table with history and its history row are one: the contract is
//! stated once, on [`LinkingWrites`] (`# History`).
//!
//! With the `mock` feature, `mockall` mocks of the traits are available
//! (`MockLinkingReads`, `MockLinkingWrites`, `MockUnitOfWork`).
#![deny(missing_docs)]

mod accounts;
mod error;
mod learners;
mod reads;
mod unit_of_work;
mod writes;

#[cfg(feature = "mock")]
pub use accounts::MockAccounts;
pub use accounts::{Account, Accounts};
pub use error::{BoxError, StoreError, StoreResult};
pub use learners::LearnerRecords;
#[cfg(feature = "mock")]
pub use learners::MockLearnerRecords;
pub use reads::LinkingReads;
#[cfg(feature = "mock")]
pub use reads::MockLinkingReads;
#[cfg(feature = "mock")]
pub use unit_of_work::MockUnitOfWork;
pub use unit_of_work::{Transaction, UnitOfWork};
#[cfg(feature = "mock")]
pub use writes::MockLinkingWrites;
pub use writes::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation,
    InvitationUse, LinkingWrites, NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink,
};
