//! The learner records the support tool's inspector reads: accounts, SSO records, SAML
//! providers and program enrollments. Read-only.

use async_trait::async_trait;
use domain::{
    InspectedAccount, InspectedProgramEnrollment, SamlProviderRecord, SocialAuthHistoryRecord, SocialAuthRecord, UserId,
};

use crate::error::StoreResult;

/// Reads what the Program Enrollments Inspector shows (`support-web.md` §2.6). Never writes.
///
/// # Contract
/// - Values are bound as parameters.
/// - Where the inspector's upstream compares in SQL, the comparison is the database's own
///   (`accounts_by_username_or_email`: MariaDB's collations ignore case), except where upstream
///   asks for no case (`__iexact`), which every backend honours: `social_auth_by_uids` and
///   `program_enrollments_by_key` match without case everywhere.
/// - Program enrollments come with their program course enrollments and those with their
///   course enrollment, each list in id order.
///
/// # Errors
/// Besides the errors of any statement ([`crate::StoreError`]), a read of a table the database
/// does not have returns [`crate::StoreError::MissingTable`] naming it.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait LearnerRecords: Send + Sync {
    /// The accounts whose `username` or `email` equals `edx_user`.
    async fn accounts_by_username_or_email(&self, edx_user: &str) -> StoreResult<Vec<InspectedAccount>>;
    /// The account with this id.
    async fn account_by_id(&self, id: UserId) -> StoreResult<Option<InspectedAccount>>;
    /// The `social_auth_usersocialauth` rows of a user.
    async fn social_auth_of_user(&self, user: UserId) -> StoreResult<Vec<SocialAuthRecord>>;
    /// The `social_auth_usersocialauth` rows whose `uid` equals one of `uids` without case (any
    /// provider, as upstream's lookup).
    async fn social_auth_by_uids(&self, uids: &[String]) -> StoreResult<Vec<SocialAuthRecord>>;
    /// The `support_historicalusersocialauth` rows of these social auth rows.
    async fn social_auth_history(&self, ids: &[i64]) -> StoreResult<Vec<SocialAuthHistoryRecord>>;
    /// Every `third_party_auth_samlproviderconfig` row with its organisation's short name.
    async fn saml_providers(&self) -> StoreResult<Vec<SamlProviderRecord>>;
    /// The program enrollments of a user, in any program and status.
    async fn program_enrollments_of_user(&self, user: UserId) -> StoreResult<Vec<InspectedProgramEnrollment>>;
    /// The program enrollments whose `external_user_key` equals `key` without case, in any
    /// program.
    async fn program_enrollments_by_key(&self, key: &str) -> StoreResult<Vec<InspectedProgramEnrollment>>;
}
