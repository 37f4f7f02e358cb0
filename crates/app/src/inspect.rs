//! The inspector's use case: the reads each search needs, in order, and the domain's decisions
//! on them (`domain::inspect`). Read-only: no transaction, nothing written.

use domain::{
    InspectorError, InspectorQuery, InspectorSearch, LearnerProgramEnrollments, SsoRecord, account_result,
    candidate_uids, external_key_result, found_account, organization_providers, saml_provider_organizations,
    selected_provider, sso_records, user_holding_key,
};
use ports::{LearnerRecords, StoreResult};

/// What an inspector search answers: the learner found, or why none is shown.
pub type InspectorAnswer = Result<LearnerProgramEnrollments, InspectorError>;

/// Runs the inspector's search for `query` (`support-web.md` §2.1–§2.3).
///
/// # Errors
/// A read's [`ports::StoreError`] (a table the database lacks is
/// [`ports::StoreError::MissingTable`]); an answer that finds no one is `Ok(Err(..))`.
pub async fn inspect_learner(records: &dyn LearnerRecords, query: &InspectorQuery) -> StoreResult<InspectorAnswer> {
    match query.search() {
        InspectorSearch::Nothing { .. } => Ok(Err(InspectorError::NoSearch)),
        InspectorSearch::Account { edx_user } => {
            let matches = records.accounts_by_username_or_email(edx_user).await?;
            let account = match found_account(edx_user, &matches) {
                Ok(account) => account.clone(),
                Err(error) => return Ok(Err(error)),
            };
            // The organisation narrows the SSO records only; without one the providers are not read.
            let providers = if query.org_key.is_empty() { Vec::new() } else { records.saml_providers().await? };
            let selected = selected_provider(&providers, &query.org_key);
            let sso = records.social_auth_of_user(account.id).await?;
            let enrollments = records.program_enrollments_of_user(account.id).await?;
            Ok(Ok(account_result(&account, &sso, selected, enrollments)))
        }
        InspectorSearch::ExternalKey { org_key, external_user_key } => {
            let providers = records.saml_providers().await?;
            let of_org = organization_providers(&providers, org_key);
            let (holder_id, notes) = if of_org.is_empty() {
                (None, Vec::new())
            } else {
                let hits = records.social_auth_by_uids(&candidate_uids(&of_org, external_user_key)).await?;
                user_holding_key(&of_org, &hits, external_user_key)
            };
            let holder = match holder_id {
                Some(id) => records.account_by_id(id).await?,
                None => None,
            };
            let holder_sso = match &holder {
                Some(account) => records.social_auth_of_user(account.id).await?,
                None => Vec::new(),
            };
            let enrollments = records.program_enrollments_by_key(external_user_key).await?;
            Ok(external_key_result(
                external_user_key,
                org_key,
                holder.as_ref().map(|account| (account, holder_sso.as_slice())),
                selected_provider(&providers, org_key),
                enrollments,
                notes,
            ))
        }
    }
}

/// `GET /support/sso_records/{username_or_email}`: the user's SSO records with their history,
/// or none when no account matches (upstream answers `[]`).
///
/// # Errors
/// A read's [`ports::StoreError`]; two accounts matching is `Ok(Err(..))`.
pub async fn sso_records_of(
    records: &dyn LearnerRecords,
    username_or_email: &str,
) -> StoreResult<Result<Vec<SsoRecord>, InspectorError>> {
    let matches = records.accounts_by_username_or_email(username_or_email).await?;
    let account = match found_account(username_or_email, &matches) {
        Ok(account) => account.clone(),
        Err(InspectorError::AccountNotFound { .. }) => return Ok(Ok(Vec::new())),
        Err(error) => return Ok(Err(error)),
    };
    let sso = records.social_auth_of_user(account.id).await?;
    let ids: Vec<i64> = sso.iter().map(|r| r.id).collect();
    let history = if ids.is_empty() { Vec::new() } else { records.social_auth_history(&ids).await? };
    Ok(Ok(sso_records(sso, history)))
}

/// `GET /support/get_saml_providers/`: the organisations of the current enabled SAML providers.
///
/// # Errors
/// A read's [`ports::StoreError`].
pub async fn saml_provider_orgs(records: &dyn LearnerRecords) -> StoreResult<Vec<String>> {
    Ok(saml_provider_organizations(&records.saml_providers().await?))
}
