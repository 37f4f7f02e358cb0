//! Enumerated column values: statuses and course modes.

use std::fmt;

/// A status value that the column's rules do not allow (text in `messages.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownStatus {
    /// Which kind of status.
    pub what: &'static str,
    /// The stored text.
    pub value: String,
}

/// A program course enrollment's status (`program_enrollments_programcourseenrollment.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PceStatus {
    /// `active`: the learner is enrolled in the course.
    Active,
    /// `inactive`: the enrollment exists but is not active.
    Inactive,
}

impl PceStatus {
    /// Parses the stored text exactly (`active` or `inactive`).
    ///
    /// # Errors
    /// [`UnknownStatus`] for any other text.
    pub fn parse(value: &str) -> Result<Self, UnknownStatus> {
        match value {
            "active" => Ok(Self::Active),
            "inactive" => Ok(Self::Inactive),
            other => Err(UnknownStatus { what: "program course enrollment status", value: other.to_owned() }),
        }
    }

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
        }
    }
}

impl fmt::Display for PceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A program enrollment's status (`program_enrollments_programenrollment.status`).
/// Linking never checks it; it is carried so that rows can be written and compared whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeStatus {
    /// `enrolled`.
    Enrolled,
    /// `pending`.
    Pending,
    /// `suspended`.
    Suspended,
    /// `canceled`.
    Canceled,
    /// `ended`.
    Ended,
}

impl PeStatus {
    /// Every status, in the order Open edX lists them.
    pub const ALL: [PeStatus; 5] = [Self::Enrolled, Self::Pending, Self::Suspended, Self::Canceled, Self::Ended];

    /// Parses the stored text exactly.
    ///
    /// # Errors
    /// [`UnknownStatus`] for text that is not one of the five statuses.
    pub fn parse(value: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| UnknownStatus { what: "program enrollment status", value: value.to_owned() })
    }

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enrolled => "enrolled",
            Self::Pending => "pending",
            Self::Suspended => "suspended",
            Self::Canceled => "canceled",
            Self::Ended => "ended",
        }
    }
}

impl fmt::Display for PeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A course enrollment's mode (`student_courseenrollment.mode`): an open set of slugs.
/// Any text is a valid mode; the constants name the ones the rules know.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CourseMode(String);

impl CourseMode {
    /// The slug of the Master's track.
    pub const MASTERS: &'static str = "masters";
    /// The free audit track.
    pub const AUDIT: &'static str = "audit";
    /// The honor-code track.
    pub const HONOR: &'static str = "honor";
    /// The paid, identity-verified track.
    pub const VERIFIED: &'static str = "verified";
    /// The professional-education track.
    pub const PROFESSIONAL: &'static str = "professional";
    /// The professional-education track without identity verification.
    pub const NO_ID_PROFESSIONAL: &'static str = "no-id-professional";
    /// The credit track.
    pub const CREDIT: &'static str = "credit";

    /// Wraps any slug.
    pub fn new(slug: impl Into<String>) -> Self {
        Self(slug.into())
    }

    /// The Master's track.
    pub fn masters() -> Self {
        Self::new(Self::MASTERS)
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the Master's track.
    pub fn is_masters(&self) -> bool {
        self.0 == Self::MASTERS
    }

    /// Whether linking may convert an active enrollment in this mode to the Master's track
    /// (`audit` and `honor` only).
    pub fn converts_to_masters(&self) -> bool {
        self.0 == Self::AUDIT || self.0 == Self::HONOR
    }
}

impl fmt::Display for CourseMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pce_status_parses_exactly() {
        assert_eq!(PceStatus::parse("active"), Ok(PceStatus::Active));
        assert_eq!(PceStatus::parse("inactive"), Ok(PceStatus::Inactive));
        assert!(PceStatus::parse("Active").is_err());
        assert_eq!(
            PceStatus::parse("bogus").unwrap_err().to_string(),
            "unknown program course enrollment status 'bogus'"
        );
    }

    #[test]
    fn pe_status_round_trips() {
        for s in PeStatus::ALL {
            assert_eq!(PeStatus::parse(s.as_str()), Ok(s));
        }
        assert!(PeStatus::parse("waiting").is_err());
    }

    #[test]
    fn only_audit_and_honor_convert() {
        assert!(CourseMode::new("audit").converts_to_masters());
        assert!(CourseMode::new("honor").converts_to_masters());
        for other in ["verified", "masters", "professional", "credit", "Audit"] {
            assert!(!CourseMode::new(other).converts_to_masters(), "{other}");
        }
    }
}
