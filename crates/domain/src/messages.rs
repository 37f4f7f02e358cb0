//! Every text the domain produces: the input and data errors, the per-key error messages and
//! the log lines.
//!
//! This module is the single source of these texts: the error types of the other modules get
//! their `Display` here. The linking's texts are byte-exact copies of upstream's templates (see
//! `linking.md` and `later-upstream.md`), and tests compare them byte for byte.

use std::error::Error;
use std::fmt;

use crate::batch::DuplicateKey;
use crate::ids::{
    CourseKey, ExternalUserKey, InvalidValue, ProgramCourseEnrollmentId, ProgramUuid, RoleAssignmentId, UserId,
    Username,
};
use crate::inspect::{InspectorError, InspectorNote};
use crate::key_match::DuplicateKeyIgnoringCase;
use crate::status::{CourseMode, UnknownStatus};

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty { what } => write!(f, "{what} must not be empty"),
            Self::TooLong { what, max } => write!(f, "{what} is longer than {max} characters"),
            Self::NotUuid { value } => write!(f, "'{value}' is not a valid UUID"),
        }
    }
}

impl Error for InvalidValue {}

impl fmt::Display for UnknownStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} '{}'", self.what, self.value)
    }
}

impl Error for UnknownStatus {}

impl fmt::Display for DuplicateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "external user key {} provided multiple times", self.key)
    }
}

impl Error for DuplicateKey {}

impl fmt::Display for DuplicateKeyIgnoringCase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "external user key {} provided multiple times (case-insensitively)", self.key)
    }
}

impl Error for DuplicateKeyIgnoringCase {}

/// Data the rules cannot work with: the whole call must abort (rule 3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptData {
    /// The row.
    pub program_course_enrollment: ProgramCourseEnrollmentId,
    /// What is wrong with it.
    pub source: UnknownStatus,
}

impl fmt::Display for CorruptData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt data in program course enrollment id={}: {}", self.program_course_enrollment, self.source)
    }
}

impl Error for CorruptData {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// The table and columns of a violated unique constraint, columns in their declared order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UniqueViolation {
    table: String,
    columns: Vec<String>,
}

impl UniqueViolation {
    /// A violation of `columns` (in declared order) of `table`.
    pub fn new(table: impl Into<String>, columns: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { table: table.into(), columns: columns.into_iter().map(Into::into).collect() }
    }

    /// The `(user_id, program_uuid, curriculum_uuid)` constraint of
    /// `program_enrollments_programenrollment`: a user has one PE per program and curriculum.
    pub fn program_enrollment_user() -> Self {
        Self::new("program_enrollments_programenrollment", ["user_id", "program_uuid", "curriculum_uuid"])
    }

    /// The table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The columns, in the constraint's declared order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }
}

/// `UNIQUE constraint failed: {table}.{column}, {table}.{column}, ...`, SQLite's wording,
/// which the messages use on every backend.
impl fmt::Display for UniqueViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UNIQUE constraint failed: ")?;
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}.{}", self.table, column)?;
        }
        Ok(())
    }
}

/// Whether a linked PE belongs to the requested user or to someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountRelation {
    /// The PE is linked to the user the input asked for.
    Target,
    /// The PE is linked to another user.
    Different,
}

impl AccountRelation {
    fn as_str(self) -> &'static str {
        match self {
            Self::Target => "target",
            Self::Different => "a different",
        }
    }
}

/// Why one key was not linked. `Display` is the message the operation returns for the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Rule 1: no user has the username.
    NoUser {
        /// The username as given.
        username: Username,
    },
    /// Rule 2: no PE of the program has the key.
    NoProgramEnrollment {
        /// The program.
        program_uuid: ProgramUuid,
        /// The key as given.
        key: ExternalUserKey,
    },
    /// Rule 3: the PE already has a user.
    AlreadyLinked {
        /// The PE's stored key.
        key: ExternalUserKey,
        /// Whether that user is the requested one.
        relation: AccountRelation,
        /// The username of the user linked now.
        existing_username: Username,
    },
    /// A course of the PE has no course overview (`NonExistentCourseError`, empty text).
    NonExistentCourse,
    /// A write violated a unique constraint (`IntegrityError`).
    Integrity(UniqueViolation),
    /// Case-insensitive keys: several stored keys of the program equal the input key up to
    /// case.
    MultipleCaseInsensitiveMatches {
        /// The key as given.
        key: ExternalUserKey,
    },
}

impl LinkError {
    /// Whether the PE is already linked to the very user asked for (rule 3, `target`): done by
    /// an earlier run (or by the learner's own sign-in), not a real error.
    pub fn is_already_linked_to_target(&self) -> bool {
        matches!(self, Self::AlreadyLinked { relation: AccountRelation::Target, .. })
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoUser { username } => write!(f, "No user found with username {username}"),
            Self::NoProgramEnrollment { program_uuid, key } => {
                write!(f, "No program enrollment found for program uuid={program_uuid} and external student key={key}")
            }
            Self::AlreadyLinked { key, relation, existing_username } => write!(
                f,
                "Program enrollment with external_student_key={key} is already linked to {} account username={existing_username}",
                relation.as_str()
            ),
            // Upstream renders the exception's class name, then `: ` and its text only when the
            // text is not empty; NonExistentCourseError has none.
            Self::NonExistentCourse => f.write_str("NonExistentCourseError"),
            Self::Integrity(violation) => write!(f, "IntegrityError: {violation}"),
            Self::MultipleCaseInsensitiveMatches { key } => {
                write!(f, "Multiple program enrollments match external student key={key} case-insensitively")
            }
        }
    }
}

impl Error for LinkError {}

/// A log level the linking uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// INFO.
    Info,
    /// WARNING.
    Warn,
    /// ERROR.
    Error,
}

/// The identity of one link attempt, shared by several log lines:
/// `user id={user_id} with external_user_key={key} for program uuid={program_uuid}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAttempt {
    /// The user being linked.
    pub user_id: UserId,
    /// The PE's key.
    pub key: ExternalUserKey,
    /// The program.
    pub program_uuid: ProgramUuid,
}

impl fmt::Display for LinkAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user id={} with external_user_key={} for program uuid={}", self.user_id, self.key, self.program_uuid)
    }
}

/// The identity of one role fulfilment, shared by its log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAttempt {
    /// The assignment (not shown in the texts).
    pub assignment: RoleAssignmentId,
    /// The role, as stored.
    pub role: String,
    /// The user being linked.
    pub user_id: UserId,
    /// The PE's stored key.
    pub key: ExternalUserKey,
    /// The PCE's course.
    pub course_key: CourseKey,
    /// The program.
    pub program_uuid: ProgramUuid,
    /// The PCE.
    pub program_course_enrollment: ProgramCourseEnrollmentId,
}

impl fmt::Display for RoleAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} for user with user id {} and external user key {} for course with course key {} in program with uuid {}",
            self.role, self.user_id, self.key, self.course_key, self.program_uuid
        )
    }
}

/// One log line of the linking. `Display` is the exact text; [`LogLine::level`] its level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogLine {
    /// WARNING: a key refused by rules 1 to 3; the text is the error message itself.
    Refused(LinkError),
    /// INFO `Linking user id=… with external_user_key=… for program uuid=…`.
    Linking(LinkAttempt),
    /// ERROR `Cannot enroll user=… in non-existent course=…`.
    NonExistentCourse {
        /// The user.
        user_id: UserId,
        /// The missing course.
        course_key: CourseKey,
    },
    /// INFO `Converted course enrollment … from mode {old_mode} to Master's.`
    Converted {
        /// The user.
        user_id: UserId,
        /// The course.
        course_key: CourseKey,
        /// The mode the enrollment had (upstream printed `masters` here, a bug).
        old_mode: CourseMode,
    },
    /// ERROR `Cannot convert CourseEnrollment to Master's from mode …`.
    CannotConvert {
        /// The user.
        user_id: UserId,
        /// The course.
        course_key: CourseKey,
        /// The mode that is left as it is.
        mode: CourseMode,
    },
    /// ERROR `Integrity error while linking …`.
    IntegrityErrorWhileLinking(LinkAttempt),
    /// ERROR `CourseEnrollmentException while linking …: {text}`.
    CourseEnrollmentErrorWhileLinking {
        /// The attempt.
        attempt: LinkAttempt,
        /// The exception's text (empty for `NonExistentCourseError`).
        text: String,
    },
    /// ERROR `Rolling back all operations for {key}:{username}`.
    RollingBack {
        /// The key as given.
        key: ExternalUserKey,
        /// The username as given.
        username: Username,
    },
    /// INFO (relinking) `Program enrollment with external_student_key={key} is already linked to
    /// a different account username={old_username}`.
    LinkedToDifferent {
        /// The PE's stored key.
        key: ExternalUserKey,
        /// The user the PE is linked to now.
        old_username: Username,
    },
    /// INFO (relinking) `Unlinking user with username={old_username} from program enrollment
    /// with program uuid={program_uuid} with external_student_key={key} and linking user with
    /// username={new_username} to program enrollment.`
    Unlinking {
        /// The user the PE is linked to now.
        old_username: Username,
        /// The program.
        program_uuid: ProgramUuid,
        /// The PE's stored key.
        key: ExternalUserKey,
        /// The user it gets linked to.
        new_username: Username,
    },
    /// INFO `Creating access role {role} for user with user id … in program with uuid ….`
    CreatingAccessRole(RoleAttempt),
    /// ERROR `Unable to create access role … or to delete the CourseAccessRoleAssignment with
    /// role {role} and ProgramCourseEnrollment {pce_id}.`
    UnableToCreateAccessRole(RoleAttempt),
    /// INFO, once per call on a database without the course access role tables.
    RoleFulfilmentSkipped,
    /// ERROR (the LMS's `schedules.signals` logger): a new course enrollment in a course whose
    /// overview has no `start` gets no schedule.
    ScheduleNotCreated {
        /// The enrolled user.
        user_id: UserId,
        /// The course.
        course_key: CourseKey,
    },
    /// INFO, once per call on a database without the discussion role tables.
    ForumRolesSkipped,
    /// INFO, once per call on a database without the schedule tables.
    SchedulesSkipped,
    /// WARNING: a transaction that met a conflict with another writer was rolled back and runs
    /// again, so the log lines of its keys are emitted again.
    TransactionRunsAgain {
        /// The conflict, as text.
        reason: String,
        /// How many keys the transaction holds.
        keys: usize,
        /// The attempt about to run, from 2.
        attempt: usize,
        /// How many attempts there are in all.
        max_attempts: usize,
    },
}

impl LogLine {
    /// The level the line is logged at.
    pub fn level(&self) -> LogLevel {
        match self {
            Self::Refused(_) | Self::TransactionRunsAgain { .. } => LogLevel::Warn,
            Self::Linking(_)
            | Self::Converted { .. }
            | Self::LinkedToDifferent { .. }
            | Self::Unlinking { .. }
            | Self::CreatingAccessRole(_)
            | Self::RoleFulfilmentSkipped
            | Self::ForumRolesSkipped
            | Self::SchedulesSkipped => LogLevel::Info,
            Self::NonExistentCourse { .. }
            | Self::CannotConvert { .. }
            | Self::IntegrityErrorWhileLinking(_)
            | Self::CourseEnrollmentErrorWhileLinking { .. }
            | Self::RollingBack { .. }
            | Self::UnableToCreateAccessRole(_)
            | Self::ScheduleNotCreated { .. } => LogLevel::Error,
        }
    }
}

impl fmt::Display for LogLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(error) => fmt::Display::fmt(error, f),
            Self::Linking(attempt) => write!(f, "Linking {attempt}"),
            Self::NonExistentCourse { user_id, course_key } => {
                write!(f, "Cannot enroll user={user_id} in non-existent course={course_key}")
            }
            Self::Converted { user_id, course_key, old_mode } => write!(
                f,
                "Converted course enrollment for user id={user_id} and course key={course_key} from mode {old_mode} to Master's."
            ),
            Self::CannotConvert { user_id, course_key, mode } => write!(
                f,
                "Cannot convert CourseEnrollment to Master's from mode {mode}. user id={user_id}, course_key={course_key}."
            ),
            Self::IntegrityErrorWhileLinking(attempt) => write!(f, "Integrity error while linking {attempt}"),
            Self::CourseEnrollmentErrorWhileLinking { attempt, text } => {
                write!(f, "CourseEnrollmentException while linking {attempt}: {text}")
            }
            Self::RollingBack { key, username } => write!(f, "Rolling back all operations for {key}:{username}"),
            Self::LinkedToDifferent { key, old_username } => fmt::Display::fmt(
                &LinkError::AlreadyLinked {
                    key: key.clone(),
                    relation: AccountRelation::Different,
                    existing_username: old_username.clone(),
                },
                f,
            ),
            Self::Unlinking { old_username, program_uuid, key, new_username } => write!(
                f,
                "Unlinking user with username={old_username} from program enrollment with program uuid={program_uuid} \
                 with external_student_key={key} and linking user with username={new_username} to program enrollment."
            ),
            Self::CreatingAccessRole(attempt) => write!(f, "Creating access role {attempt}."),
            Self::UnableToCreateAccessRole(attempt) => write!(
                f,
                "Unable to create access role {attempt} or to delete the CourseAccessRoleAssignment with role {} \
                 and ProgramCourseEnrollment {}.",
                attempt.role, attempt.program_course_enrollment
            ),
            Self::RoleFulfilmentSkipped => f.write_str(
                "Course access role fulfilment skipped: this database has no \
                 program_enrollments_courseaccessroleassignment or student_courseaccessrole table",
            ),
            Self::ScheduleNotCreated { user_id, course_key } => write!(
                f,
                "Encountered error in creating a Schedule for CourseEnrollment for user {user_id} in course {course_key}"
            ),
            Self::ForumRolesSkipped => f.write_str(
                "Discussion role assignment skipped: this database has no django_comment_client_role or \
                 django_comment_client_role_users table",
            ),
            Self::SchedulesSkipped => f.write_str(
                "Schedule creation skipped: this database has no schedules_schedule, schedules_scheduleexperience \
                 or schedules_historicalschedule table",
            ),
            Self::TransactionRunsAgain { reason, keys, attempt, max_attempts } => write!(
                f,
                "{reason}; the transaction of {keys} keys was rolled back and runs again (attempt {attempt} of \
                 {max_attempts}): the log lines of its keys are repeated"
            ),
        }
    }
}

/// The inspector's messages: upstream's three (`support-web.md` §2.5) byte for byte, and ours
/// where upstream fails with a server error.
impl fmt::Display for InspectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccountNotFound { edx_user } => write!(f, "Could not find edx account with {edx_user}"),
            Self::ExternalKeyNotFound { external_user_key, org_key } => {
                write!(f, "No user found for external key {external_user_key} for institution {org_key}")
            }
            Self::NoSearch => f.write_str(
                "To perform a search, you must provide either the student's (a) edX username, (b) email \
                 address associated with their edX account, or (c) Identity-providing institution and external key!",
            ),
            Self::AmbiguousAccount { edx_user, usernames } => write!(
                f,
                "More than one edx account matches {edx_user} (by username or email): {}",
                usernames.join(", ")
            ),
        }
    }
}

impl fmt::Display for InspectorNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnfittingSsoRecord { uid, provider, slug, backend_name } => write!(
                f,
                "SSO record {uid} (provider {provider}) does not fit the SAML provider {slug} ({backend_name}): \
                 shown as matching the key without case"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> ProgramUuid {
        ProgramUuid::parse("9B7D3D1C3F0E4A8E9A553C6A5D9B2F10").unwrap()
    }
    fn key(k: &str) -> ExternalUserKey {
        ExternalUserKey::parse(k).unwrap()
    }
    fn user(u: &str) -> Username {
        Username::parse(u).unwrap()
    }
    fn course() -> CourseKey {
        CourseKey::parse("course-v1:edX+Cats+Dogs").unwrap()
    }
    fn attempt() -> LinkAttempt {
        LinkAttempt { user_id: UserId(7), key: key("0001"), program_uuid: program() }
    }

    fn role_attempt() -> RoleAttempt {
        RoleAttempt {
            assignment: RoleAssignmentId(3),
            role: "staff".into(),
            user_id: UserId(7),
            key: key("0001"),
            course_key: course(),
            program_uuid: program(),
            program_course_enrollment: ProgramCourseEnrollmentId(12),
        }
    }

    #[test]
    fn input_and_data_errors() {
        assert_eq!(DuplicateKey { key: key("a") }.to_string(), "external user key a provided multiple times");
        assert_eq!(
            DuplicateKeyIgnoringCase { key: key("ABC") }.to_string(),
            "external user key ABC provided multiple times (case-insensitively)"
        );
        assert_eq!(InvalidValue::Empty { what: "username" }.to_string(), "username must not be empty");
        assert_eq!(
            InvalidValue::TooLong { what: "username", max: 150 }.to_string(),
            "username is longer than 150 characters"
        );
        assert_eq!(InvalidValue::NotUuid { value: "x".into() }.to_string(), "'x' is not a valid UUID");
        let corrupt = CorruptData {
            program_course_enrollment: ProgramCourseEnrollmentId(10),
            source: UnknownStatus { what: "program course enrollment status", value: "bogus".into() },
        };
        assert_eq!(
            corrupt.to_string(),
            "corrupt data in program course enrollment id=10: unknown program course enrollment status 'bogus'"
        );
        assert!(corrupt.source().is_some());
    }

    #[test]
    fn later_upstream_messages() {
        assert_eq!(
            LinkError::MultipleCaseInsensitiveMatches { key: key("STUDEnt-43") }.to_string(),
            "Multiple program enrollments match external student key=STUDEnt-43 case-insensitively"
        );
    }

    #[test]
    fn error_messages_are_upstreams_templates() {
        assert_eq!(
            LinkError::NoUser { username: user("nonexistant-user") }.to_string(),
            "No user found with username nonexistant-user"
        );
        assert_eq!(
            LinkError::NoProgramEnrollment { program_uuid: program(), key: key("0002") }.to_string(),
            "No program enrollment found for program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10 and external student key=0002"
        );
        assert_eq!(
            LinkError::AlreadyLinked {
                key: key("0002"),
                relation: AccountRelation::Target,
                existing_username: user("user_2")
            }
            .to_string(),
            "Program enrollment with external_student_key=0002 is already linked to target account username=user_2"
        );
        assert_eq!(
            LinkError::AlreadyLinked {
                key: key("0003"),
                relation: AccountRelation::Different,
                existing_username: user("user_3")
            }
            .to_string(),
            "Program enrollment with external_student_key=0003 is already linked to a different account username=user_3"
        );
        let linked = |relation| LinkError::AlreadyLinked { key: key("1"), relation, existing_username: user("u") };
        assert!(linked(AccountRelation::Target).is_already_linked_to_target());
        assert!(!linked(AccountRelation::Different).is_already_linked_to_target());
        assert_eq!(LinkError::NonExistentCourse.to_string(), "NonExistentCourseError");
        assert_eq!(
            LinkError::Integrity(UniqueViolation::program_enrollment_user()).to_string(),
            "IntegrityError: UNIQUE constraint failed: program_enrollments_programenrollment.user_id, \
             program_enrollments_programenrollment.program_uuid, program_enrollments_programenrollment.curriculum_uuid"
        );
    }

    #[test]
    fn log_lines_are_upstreams_texts_at_upstreams_levels() {
        let cases: Vec<(LogLine, LogLevel, &str)> = vec![
            (
                LogLine::Linking(attempt()),
                LogLevel::Info,
                "Linking user id=7 with external_user_key=0001 for program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10",
            ),
            (
                LogLine::NonExistentCourse { user_id: UserId(7), course_key: course() },
                LogLevel::Error,
                "Cannot enroll user=7 in non-existent course=course-v1:edX+Cats+Dogs",
            ),
            (
                LogLine::Converted { user_id: UserId(7), course_key: course(), old_mode: CourseMode::new("honor") },
                LogLevel::Info,
                "Converted course enrollment for user id=7 and course key=course-v1:edX+Cats+Dogs from mode honor to Master's.",
            ),
            (
                LogLine::CannotConvert { user_id: UserId(7), course_key: course(), mode: CourseMode::new("verified") },
                LogLevel::Error,
                "Cannot convert CourseEnrollment to Master's from mode verified. user id=7, course_key=course-v1:edX+Cats+Dogs.",
            ),
            (
                LogLine::IntegrityErrorWhileLinking(attempt()),
                LogLevel::Error,
                "Integrity error while linking user id=7 with external_user_key=0001 for program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10",
            ),
            (
                LogLine::CourseEnrollmentErrorWhileLinking { attempt: attempt(), text: String::new() },
                LogLevel::Error,
                "CourseEnrollmentException while linking user id=7 with external_user_key=0001 for program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10: ",
            ),
            (
                LogLine::RollingBack { key: key("0001"), username: user("user_1") },
                LogLevel::Error,
                "Rolling back all operations for 0001:user_1",
            ),
            (
                LogLine::ScheduleNotCreated { user_id: UserId(7), course_key: course() },
                LogLevel::Error,
                "Encountered error in creating a Schedule for CourseEnrollment for user 7 in course course-v1:edX+Cats+Dogs",
            ),
            (
                LogLine::TransactionRunsAgain {
                    reason: "the database reported a deadlock".into(),
                    keys: 3,
                    attempt: 2,
                    max_attempts: 5,
                },
                LogLevel::Warn,
                "the database reported a deadlock; the transaction of 3 keys was rolled back and runs again (attempt 2 \
                 of 5): the log lines of its keys are repeated",
            ),
            (
                LogLine::Refused(LinkError::NoUser { username: user("x") }),
                LogLevel::Warn,
                "No user found with username x",
            ),
            (
                LogLine::LinkedToDifferent { key: key("0001"), old_username: user("user_1") },
                LogLevel::Info,
                "Program enrollment with external_student_key=0001 is already linked to a different account username=user_1",
            ),
            (
                LogLine::Unlinking {
                    old_username: user("user_1"),
                    program_uuid: program(),
                    key: key("0001"),
                    new_username: user("user_2"),
                },
                LogLevel::Info,
                "Unlinking user with username=user_1 from program enrollment with program uuid=9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10 \
                 with external_student_key=0001 and linking user with username=user_2 to program enrollment.",
            ),
            (
                LogLine::CreatingAccessRole(role_attempt()),
                LogLevel::Info,
                "Creating access role staff for user with user id 7 and external user key 0001 for course with course key \
                 course-v1:edX+Cats+Dogs in program with uuid 9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10.",
            ),
            (
                LogLine::UnableToCreateAccessRole(role_attempt()),
                LogLevel::Error,
                "Unable to create access role staff for user with user id 7 and external user key 0001 for course with course \
                 key course-v1:edX+Cats+Dogs in program with uuid 9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10 or to delete the \
                 CourseAccessRoleAssignment with role staff and ProgramCourseEnrollment 12.",
            ),
        ];
        for (line, level, text) in cases {
            assert_eq!(line.to_string(), text);
            assert_eq!(line.level(), level, "{text}");
        }
    }
}
