//! The LMS accounts a driving adapter acts for: who a user is and what the database grants.

use async_trait::async_trait;
use domain::UserId;

use crate::error::StoreResult;

/// One `auth_user` row, with what the support tool's permission check reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `auth_user.id`.
    pub id: UserId,
    /// `auth_user.username`, as stored.
    pub username: String,
    /// `auth_user.is_active`.
    pub is_active: bool,
    /// `auth_user.is_staff` (upstream's global staff).
    pub is_staff: bool,
    /// Whether a `student_courseaccessrole` row gives the user the role `support` with an empty
    /// `org` and an empty `course_id` (upstream's global `SupportStaffRole`). False where the
    /// table does not exist.
    pub global_support_role: bool,
}

/// Reads accounts by username. Never creates one.
///
/// # Contract
/// - The username matches exactly and case-sensitively on every backend (MySQL's collations
///   would not: implementations MUST compare in full after the SQL filter).
/// - Values are bound as parameters.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait Accounts: Send + Sync {
    /// The account whose `username` is `username`, if there is one.
    async fn account(&self, username: &str) -> StoreResult<Option<Account>>;
}
