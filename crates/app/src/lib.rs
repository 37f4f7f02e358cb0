//! The linking use case, wired to the ports: [`link_program_enrollments`].
//!
//! Thin by design: it reads a [`domain::Snapshot`] through [`ports::LinkingReads`], asks the
//! [`domain::Planner`] what to do for each key, emits the planned log lines through
//! `tracing`, and writes the linked keys through [`ports::LinkingWrites`] in savepoints of one
//! [`ports::UnitOfWork`] transaction: by default in chunks of keys, each chunk in one savepoint
//! with one statement per kind of write ([`WritePath::Batched`]); a chunk that meets another
//! writer is redone key by key, each key in its own savepoint ([`WritePath::PerKey`]).
//!
//! Files: `types.rs` (the public types), `link.rs` (the call and its transactions), `jobs.rs`
//! (transactions at once, [`LinkOptions::jobs`]), `paths.rs`
//! (the two write paths), `next.rs` (what happens after writes and failures), `writes.rs`,
//! `roles.rs` (the writes), `snapshot.rs` (the reads), `log.rs` (the log lines), `tracking.rs`
//! (the tracking log: the LMS's enrollment events of what committed); `inspect.rs` is the
//! support tool's read-only inspector ([`inspect_learner`]).
//!
//! # Example
//! ```
//! # tokio_test_block_on(async {
//! use adapters_memory::MemoryDatabase;
//! use domain::{CurriculumUuid, ExternalUserKey, LinkBatch, ProgramUuid, Username};
//!
//! let db = MemoryDatabase::new();
//! let program = ProgramUuid::parse("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10").unwrap();
//! let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
//! let user = db.add_user("user_1", "user_1@example.com").unwrap();
//! db.add_program_enrollment(Some("0001"), program, curriculum, None, "enrolled").unwrap();
//!
//! let batch = LinkBatch::from_pairs([
//!     (ExternalUserKey::parse("0001").unwrap(), Username::parse("user_1").unwrap()),
//!     (ExternalUserKey::parse("0002").unwrap(), Username::parse("user_1").unwrap()),
//! ]).unwrap();
//! let errors = app::link_program_enrollments(&db, program, &batch).await.unwrap();
//!
//! assert_eq!(errors.messages(), vec![("0002".to_string(),
//!     "No program enrollment found for program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10 \
//!      and external student key=0002".to_string())]);
//! assert_eq!(db.tables().program_enrollments.values().next().unwrap().user_id, Some(user));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
#![deny(missing_docs)]

mod inspect;
mod jobs;
mod link;
mod log;
mod next;
mod paths;
mod plan;
mod roles;
mod side_rows;
mod snapshot;
mod tracking;
mod types;
mod writes;

pub use domain::RuleOptions;
pub use inspect::{InspectorAnswer, inspect_learner, saml_provider_orgs, sso_records_of};
pub use link::{link_program_enrollments, link_program_enrollments_report, link_program_enrollments_with};
pub use log::{LOG_TARGET, emit};
pub use next::MAX_ATTEMPTS;
pub use plan::{LinkPlan, plan_program_enrollments};
pub use snapshot::read_snapshot;
pub use tracking::{TrackingLog, TrackingLogError};
pub use types::{
    CommitObserver, LinkAborted, LinkCallError, LinkErrors, LinkOptions, LinkReport, Progress, StopFlag, WritePath,
};
