//! Identifiers and text values that parse: once built, they are valid.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Why a text value was refused (texts in `messages.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidValue {
    /// The value is empty.
    Empty {
        /// Which kind of value.
        what: &'static str,
    },
    /// The value is longer than its column allows.
    TooLong {
        /// Which kind of value.
        what: &'static str,
        /// The maximum length in characters.
        max: usize,
    },
    /// The value is not a UUID in any common written form.
    NotUuid {
        /// The text that was given.
        value: String,
    },
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $what:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The longest value the database column holds, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Parses a value: it must be non-empty and at most [`Self::MAX_CHARS`] characters.
            /// The text is kept exactly as given (no trimming, no case change).
            ///
            /// # Errors
            /// [`InvalidValue::Empty`] or [`InvalidValue::TooLong`].
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidValue> {
                let value = value.into();
                if value.is_empty() {
                    return Err(InvalidValue::Empty { what: $what });
                }
                if value.chars().count() > Self::MAX_CHARS {
                    return Err(InvalidValue::TooLong { what: $what, max: Self::MAX_CHARS });
                }
                Ok(Self(value))
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

text_value!(
    /// A partner's own identifier for a learner (`external_user_key`, at most 255 characters).
    /// Compared exactly: case and white space matter.
    ExternalUserKey,
    "external user key",
    255
);
text_value!(
    /// An LMS username (`auth_user.username`, at most 150 characters), compared exactly.
    Username,
    "username",
    150
);
text_value!(
    /// A course run key such as `course-v1:edX+Cats+Dogs` (at most 255 characters).
    CourseKey,
    "course key",
    255
);

macro_rules! uuid_value {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// Parses any common written form: hyphenated, 32 hex digits, braced or
            /// `urn:uuid:`, in any case. Surrounding white space is not accepted.
            ///
            /// # Errors
            /// [`InvalidValue::NotUuid`] naming the text.
            pub fn parse(value: &str) -> Result<Self, InvalidValue> {
                let refused = || InvalidValue::NotUuid { value: value.to_owned() };
                // `urn:uuid:` then 32 hex digits, which the `uuid` crate refuses (it takes
                // `urn:uuid:` before the hyphenated form only).
                let urn = value.get(..9).filter(|prefix| prefix.eq_ignore_ascii_case("urn:uuid:"));
                match (urn, value.get(9..)) {
                    (Some(_), Some(rest)) if rest.len() == 32 || rest.len() == 36 => {
                        if !rest.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                            return Err(refused());
                        }
                        Uuid::try_parse(rest).map(Self).map_err(|_| refused())
                    }
                    (Some(_), _) => Err(refused()),
                    (None, _) => Uuid::try_parse(value).map(Self).map_err(|_| refused()),
                }
            }

            /// Wraps a UUID.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID.
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// The 32 lowercase hex digits without hyphens, as Django stores a UUID in `char(32)`.
            pub fn simple(&self) -> String {
                self.0.simple().to_string()
            }
        }

        /// Lowercase hyphenated, e.g. `9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10`.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

uuid_value!(
    /// A program's UUID. Renders lowercase hyphenated, as the messages require.
    ProgramUuid,
    "program uuid"
);
uuid_value!(
    /// A curriculum's UUID (a program has one or more curricula).
    CurriculumUuid,
    "curriculum uuid"
);

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

row_id!(
    /// `auth_user.id`.
    UserId
);
row_id!(
    /// `program_enrollments_programenrollment.id`.
    ProgramEnrollmentId
);
row_id!(
    /// `program_enrollments_programcourseenrollment.id`.
    ProgramCourseEnrollmentId
);
row_id!(
    /// `student_courseenrollment.id`.
    CourseEnrollmentId
);
row_id!(
    /// `student_courseenrollmentallowed.id`.
    InvitationId
);
row_id!(
    /// `program_enrollments_courseaccessroleassignment.id`.
    RoleAssignmentId
);

impl CourseKey {
    /// The course's organisation, as Open edX's `CourseKey.org`: `edX` in
    /// `course-v1:edX+Cats+Dogs` and in the old form `edX/Cats/Dogs`. `None` for a key of
    /// neither form.
    pub fn org(&self) -> Option<&str> {
        let text = self.as_str();
        let org = match text.strip_prefix("course-v1:") {
            Some(rest) => {
                let mut parts = rest.split('+');
                let org = parts.next()?;
                // `ORG+COURSE+RUN`, optionally followed by `+branch@…`/`+version@…` parts.
                let (Some(_), Some(_)) = (parts.next(), parts.next()) else { return None };
                org
            }
            None => {
                let parts: Vec<&str> = text.split('/').collect();
                if parts.len() != 3 {
                    return None;
                }
                parts[0]
            }
        };
        (!org.is_empty()).then_some(org)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_uuid_parses_every_common_form_and_renders_lowercase_hyphenated() {
        let expected = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";
        for form in [
            "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10",
            "9B7D3D1C-3F0E-4A8E-9A55-3C6A5D9B2F10",
            "9b7d3d1c3f0e4a8e9a553c6a5d9b2f10",
            "{9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10}",
            "urn:uuid:9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10",
            "urn:uuid:9b7d3d1c3f0e4a8e9a553c6a5d9b2f10",
            "URN:UUID:9B7D3D1C3F0E4A8E9A553C6A5D9B2F10",
        ] {
            let parsed = ProgramUuid::parse(form).unwrap();
            assert_eq!(parsed.to_string(), expected, "form {form}");
            assert_eq!(parsed.simple(), "9b7d3d1c3f0e4a8e9a553c6a5d9b2f10");
        }
    }

    #[test]
    fn program_uuid_refuses_garbage_and_names_it() {
        let err = ProgramUuid::parse("not-a-uuid").unwrap_err();
        assert_eq!(err.to_string(), "'not-a-uuid' is not a valid UUID");
        assert!(ProgramUuid::parse(" 9b7d3d1c3f0e4a8e9a553c6a5d9b2f10").is_err());
        for bad in [
            "urn:uuid:{9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10}",
            "urn:uuid:urn:uuid:9b7d3d1c3f0e4a8e9a553c6a5d9b2f10",
            "urn:uuid:9b7d3d1c3f0e4a8e9a553c6a5d9b2f1",
            "urn:uuid:",
        ] {
            assert!(ProgramUuid::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn course_key_org() {
        assert_eq!(CourseKey::parse("course-v1:edX+Cats+Dogs").unwrap().org(), Some("edX"));
        assert_eq!(CourseKey::parse("edX/Cats/Dogs").unwrap().org(), Some("edX"));
        assert_eq!(CourseKey::parse("course-v1:edX+Cats").unwrap().org(), None);
        assert_eq!(CourseKey::parse("nonsense").unwrap().org(), None);
    }

    #[test]
    fn text_values_refuse_empty_and_too_long_and_keep_text_exactly() {
        assert!(matches!(ExternalUserKey::parse(""), Err(InvalidValue::Empty { .. })));
        assert!(ExternalUserKey::parse("k".repeat(255)).is_ok());
        assert_eq!(
            ExternalUserKey::parse("k".repeat(256)).unwrap_err().to_string(),
            "external user key is longer than 255 characters"
        );
        assert!(Username::parse("é".repeat(150)).is_ok());
        assert!(Username::parse("u".repeat(151)).is_err());
        assert_eq!(ExternalUserKey::parse(" Ab ").unwrap().as_str(), " Ab ");
    }
}
