//! The linking rules of Open edX program enrollments, with no I/O.
//!
//! Universities enroll learners in a Master's program by an *external user key* before the
//! learners have an LMS account; such a program enrollment (PE) waits with no user. Linking
//! attaches a user to a waiting PE and enrolls that user in the Master's track of every course
//! the PE waits on.
//!
//! This crate decides; it never reads or writes. [`follow_up_reads`] says what to read after
//! the first two bulk reads; given the [`Snapshot`] the reads returned, the [`Planner`] decides
//! for each input pair, in input order, either the key's [`LinkError`] or the [`LinkWrites`]
//! that link it, together with the exact log lines ([`LogLine`]) upstream writes. Later keys
//! see what earlier keys did.
//!
//! **Invariants.** No I/O, no clock, no async runtime, no database types. Every message and log
//! text lives in `messages.rs` ([`LinkError`], [`LogLine`] and the `Display` of every error
//! type) and is byte-exact. Values that parse ([`ProgramUuid`], [`ExternalUserKey`],
//! [`Username`], …) are valid once built.
//!
//! # Example
//! ```
//! use domain::*;
//!
//! let program = ProgramUuid::parse("9B7D3D1C3F0E4A8E9A553C6A5D9B2F10").unwrap();
//! let curriculum = CurriculumUuid::parse("00000000-0000-0000-0000-0000000000c1").unwrap();
//! let key = ExternalUserKey::parse("0001").unwrap();
//! let username = Username::parse("user_1").unwrap();
//! let snapshot = Snapshot {
//!     program_enrollments: vec![ProgramEnrollmentRecord {
//!         id: ProgramEnrollmentId(1),
//!         external_user_key: key.clone(),
//!         curriculum_uuid: curriculum,
//!         user: None,
//!         course_enrollments: vec![],
//!     }],
//!     users: vec![UserRecord { id: UserId(7), username: username.clone(), email: "u1@example.com".into(), is_active: true }],
//!     ..Snapshot::default()
//! };
//! let batch = LinkBatch::from_pairs([(key, username), (
//!     ExternalUserKey::parse("0002").unwrap(),
//!     Username::parse("nobody").unwrap(),
//! )]).unwrap();
//! let plans = plan_batch(program, snapshot, &batch, RuleOptions::default()).unwrap();
//! assert!(matches!(plans[0].outcome, KeyOutcome::Link(_)));
//! assert_eq!(plans[0].log[0].to_string(),
//!     "Linking user id=7 with external_user_key=0001 for program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10");
//! assert_eq!(plans[1].outcome.error().unwrap().to_string(), "No user found with username nobody");
//! ```
#![deny(missing_docs)]

mod batch;
mod collation;
mod ids;
mod inspect;
mod key_match;
mod linking;
mod lms_rows;
mod messages;
mod options;
mod plan;
mod reads;
mod relink;
mod roles;
mod snapshot;
mod status;
#[cfg(test)]
mod test_fixtures;
mod tracking;

pub use batch::{DuplicateKey, LinkBatch};
pub use collation::Collation;
pub use ids::{
    CourseEnrollmentId, CourseKey, CurriculumUuid, ExternalUserKey, InvalidValue, InvitationId,
    ProgramCourseEnrollmentId, ProgramEnrollmentId, ProgramUuid, RoleAssignmentId, UserId, Username,
};
pub use inspect::{
    InspectedAccount, InspectedCourseEnrollment, InspectedLearner, InspectedProgramCourseEnrollment,
    InspectedProgramEnrollment, InspectorError, InspectorNote, InspectorQuery, InspectorSearch,
    LearnerProgramEnrollments, SamlProviderRecord, SocialAuthHistoryRecord, SocialAuthRecord, SsoRecord,
    account_result, candidate_uids, current_saml_providers, external_key_result, found_account, inspector_org_keys,
    organization_providers, saml_provider_organizations, selected_provider, shown_sso_uids, sso_records,
    user_holding_key,
};
pub use key_match::{DuplicateKeyIgnoringCase, check_distinct_ignoring_case, fold_case, stored_keys_matching};
pub use linking::{Planner, plan_batch};
pub use lms_rows::{
    CourseOverviewRecord, DeadlineSetting, FORUM_STUDENT_ROLE, ForumRoleMembership, ResetFrom, Timestamp,
    UpgradeDeadlineRule, upgrade_deadline_days,
};
pub use messages::{
    AccountRelation, CorruptData, LinkAttempt, LinkError, LogLevel, LogLine, RoleAttempt, UniqueViolation,
};
pub use options::RuleOptions;
pub use plan::{
    CourseEnrollmentRef, CourseEnrollmentWrite, CourseLink, EnrollmentSideRows, KeyOutcome, KeyPlan, LinkWrites,
    NewSchedule, ScheduleReset,
};
pub use reads::{FollowUpReads, follow_up_reads};
pub use relink::{CourseUnlink, UnlinkWrites};
pub use roles::{KNOWN_ROLES, RoleAction, RoleFulfilment};
pub use snapshot::{
    CourseEnrollmentRecord, CourseModeRecord, InvitationRecord, LinkedUser, ProgramCourseEnrollmentRecord,
    ProgramEnrollmentRecord, RoleAssignmentRecord, Snapshot, UpgradeDeadlineSettings, UserProgramEnrollment,
    UserRecord,
};
pub use status::{CourseMode, PceStatus, PeStatus, UnknownStatus};
pub use tracking::{EnrollmentEvent, EnrollmentEventName, enrollment_events};
