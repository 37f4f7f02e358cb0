//! How the database compares the values the original looks up in SQL.
//!
//! Upstream finds a course's overview, a user's course enrollment, a course's modes and a
//! learner's invitations with SQL `WHERE` clauses, so those comparisons are the database's:
//! exact on SQLite and PostgreSQL, case-insensitive on MySQL/MariaDB's default collations. It
//! finds program enrollments by external key and users by username in Python dictionaries
//! (after an SQL `IN`), so those comparisons are exact everywhere; they never use this.

use std::borrow::Cow;

use crate::key_match::fold_case;

/// How a backend compares course keys (`course_overviews_courseoverview.id`,
/// `student_courseenrollment.course_id`, `course_modes_coursemode.course_id`,
/// `student_courseenrollmentallowed.course_id`) and the invitation's `email`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Collation {
    /// Byte for byte: SQLite's `BINARY`, PostgreSQL's deterministic collations, MySQL's
    /// `_bin` and `_cs` collations.
    #[default]
    Exact,
    /// MySQL/MariaDB's `_ci` collations (`utf8mb4_unicode_ci`, `utf8mb4_general_ci`, …): case
    /// is ignored and, as they pad with spaces, so are trailing spaces. Approximated by
    /// Unicode simple case folding ([`fold_case`]) with trailing spaces removed: the accents
    /// and ligatures these collations also ignore (`é` = `e`, and `ß` = `ss` under
    /// `unicode_ci`) still count, so two such values are taken as different (course keys are
    /// ASCII in practice).
    CaseInsensitive,
}

impl Collation {
    /// The text by which `value` is compared: equal texts mean equal values.
    pub fn key(self, value: &str) -> Cow<'_, str> {
        match self {
            Self::Exact => Cow::Borrowed(value),
            Self::CaseInsensitive => Cow::Owned(fold_case(value.trim_end_matches(' '))),
        }
    }

    /// Whether the database finds `a` when asked for `b`.
    pub fn equal(self, a: &str, b: &str) -> bool {
        a == b || (self == Self::CaseInsensitive && self.key(a) == self.key(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_compares_bytes_case_insensitive_ignores_case_and_trailing_spaces() {
        let (lower, upper) = ("course-v1:refx+c000+2024", "COURSE-V1:REFX+C000+2024");
        assert!(!Collation::Exact.equal(lower, upper));
        assert!(!Collation::Exact.equal(lower, "course-v1:refx+c000+2024 "));
        assert!(Collation::CaseInsensitive.equal(lower, upper));
        assert!(Collation::CaseInsensitive.equal(lower, "Course-V1:RefX+C000+2024  "));
        assert!(!Collation::CaseInsensitive.equal(lower, " course-v1:refx+c000+2024"), "leading spaces count");
        assert!(!Collation::CaseInsensitive.equal("e", "é"), "accents are not folded (approximation)");
        assert_eq!(Collation::CaseInsensitive.key("U@Example.COM"), "u@example.com");
    }
}
