//! The bulk reads that build a [`domain::Snapshot`].

use async_trait::async_trait;
use domain::{
    Collation, CourseEnrollmentRecord, CourseKey, CourseModeRecord, CourseOverviewRecord, ExternalUserKey,
    InvitationRecord, ProgramCourseEnrollmentId, ProgramEnrollmentRecord, ProgramUuid, RoleAssignmentRecord,
    UpgradeDeadlineSettings, UserId, UserProgramEnrollment, UserRecord, Username,
};

use crate::error::StoreResult;

/// Reads, in bulk, what one call of the linking looks at.
///
/// # Contract
/// - Every method takes any number of values (100,000 and more) and MUST split them into
///   statements that respect the backend's limit on bind parameters.
/// - External keys, usernames and ids match exactly and case-sensitively on every backend:
///   `abc` never matches `ABC` or `abc ` (MySQL's default collations would; implementations
///   MUST filter exactly anyway), as upstream looks them up in Python dictionaries.
/// - Course keys and emails match as the database compares them, the
///   [`LinkingReads::collation`] (upstream looks them up in SQL): a read by course key returns
///   the rows whose stored course key equals one asked for under it, with the course key as
///   stored (`existing_courses` returns the keys asked for).
/// - Results come in any order; callers do not rely on it.
/// - Reads see the writes made earlier in the same transaction.
/// - A read of a table that may be missing (invitations, course modes, course access roles)
///   returns nothing there, never an error.
///
/// # Errors
/// Each method's own section, and the errors of [any statement](crate::StoreError#any-statement).
/// A read never returns [`crate::StoreError::UniqueViolation`] or [`crate::StoreError::Misuse`].
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LinkingReads: Send + Sync {
    /// How this database compares course keys and emails ([`Collation::Exact`] on SQLite and
    /// PostgreSQL, [`Collation::CaseInsensitive`] on MySQL/MariaDB's `_ci` collations). The
    /// rules match what the reads return to the PCEs by it.
    fn collation(&self) -> Collation;

    /// The program enrollments of `program_uuid` whose `external_user_key` is one of `keys`
    /// (any curriculum, any status), each with all its program course enrollments and its
    /// linked user's id and username.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read: a key, UUID or course
    /// key that does not parse, or a `user_id` without its `auth_user` row.
    async fn program_enrollments_by_keys(
        &self,
        program_uuid: ProgramUuid,
        keys: &[ExternalUserKey],
    ) -> StoreResult<Vec<ProgramEnrollmentRecord>>;

    /// Every distinct `external_user_key` of the program's enrollments, as stored (for
    /// case-insensitive keys: the rules compare them with the input keys' case folds).
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a stored key that does not parse.
    async fn program_enrollment_keys(&self, program_uuid: ProgramUuid) -> StoreResult<Vec<ExternalUserKey>>;

    /// Whether the program has any enrollment at all (a program UUID with none is likely a
    /// typo). The default reads the program's keys; an adapter may ask the database more
    /// cheaply (`LIMIT 1`).
    ///
    /// # Errors
    /// As [`Self::program_enrollment_keys`].
    async fn program_has_enrollments(&self, program_uuid: ProgramUuid) -> StoreResult<bool> {
        Ok(!self.program_enrollment_keys(program_uuid).await?.is_empty())
    }

    /// The users whose `username` is one of `usernames` (with `is_active`).
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read.
    async fn users_by_usernames(&self, usernames: &[Username]) -> StoreResult<Vec<UserRecord>>;

    /// Every program enrollment of `program_uuid` linked to one of `user_ids`.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read (a malformed UUID).
    async fn program_enrollments_of_users(
        &self,
        program_uuid: ProgramUuid,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<UserProgramEnrollment>>;

    /// The course enrollments of `user_ids` in `course_keys`.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read.
    async fn course_enrollments(
        &self,
        user_ids: &[UserId],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<CourseEnrollmentRecord>>;

    /// Which of `course_keys` have a course overview row.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read.
    async fn existing_courses(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseKey>>;

    /// The pending invitations (no `user_id`) for one of `emails` to one of `course_keys`.
    /// Empty where the invitation table does not exist.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read.
    async fn pending_invitations(
        &self,
        emails: &[String],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<InvitationRecord>>;

    /// The modes the courses `course_keys` offer at the moment of the read
    /// (`course_modes_coursemode` rows whose `expiration_datetime` is NULL or later than now).
    /// Empty where the table does not exist.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read (a malformed
    /// `expiration_datetime`).
    async fn course_modes(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseModeRecord>>;

    /// Whether the course access role tables (`program_enrollments_courseaccessroleassignment`
    /// and `student_courseaccessrole`) both exist.
    ///
    /// # Errors
    /// Only those of [any statement](crate::StoreError#any-statement) (an adapter may answer
    /// from what it read when it connected, and then never fails).
    async fn course_access_roles_supported(&self) -> StoreResult<bool>;

    /// The pending role assignments of the PCEs `program_course_enrollments`. Empty where the
    /// course access role tables do not exist.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read.
    async fn role_assignments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<Vec<RoleAssignmentRecord>>;

    /// The course overviews of `course_keys` that exist, with `start`, `self_paced` and
    /// `has_highlights` (what a new enrollment's schedule is made from).
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read (a malformed `start`).
    async fn course_overviews(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseOverviewRecord>>;

    /// The current rows of the dynamic upgrade deadline configuration (global, and per
    /// organisation and per course of `course_keys`; a configuration model's current row is
    /// its latest by `change_date`), and the expiration of each course's unexpired `verified`
    /// mode. Empty where the configuration tables do not exist: every deadline is then NULL.
    ///
    /// # Errors
    /// [`crate::StoreError::CorruptData`] for a row that cannot be read.
    async fn upgrade_deadline_settings(&self, course_keys: &[CourseKey]) -> StoreResult<UpgradeDeadlineSettings>;

    /// Whether the discussion role tables (`django_comment_client_role` and
    /// `django_comment_client_role_users`) both exist.
    ///
    /// # Errors
    /// Only those of [any statement](crate::StoreError#any-statement).
    async fn forum_roles_supported(&self) -> StoreResult<bool>;

    /// Whether the schedule tables (`schedules_schedule`, `schedules_scheduleexperience` and
    /// `schedules_historicalschedule`) all exist.
    ///
    /// # Errors
    /// Only those of [any statement](crate::StoreError#any-statement).
    async fn schedules_supported(&self) -> StoreResult<bool>;
}
