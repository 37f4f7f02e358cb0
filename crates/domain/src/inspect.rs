//! The Program Enrollments Inspector (`support-web.md` §2, §1.5, §1.6): which search a query
//! asks for, which account or external key it finds, how an SSO uid maps back to a key, and
//! the shape of what is shown. The reads are the caller's; these functions only decide.
//!
//! Where upstream fails with a server error (two accounts matching one username or email, an
//! SSO uid that does not fit its provider), these report instead: an [`InspectorError`]
//! naming both accounts, or the record shown with an [`InspectorNote`].

use std::collections::BTreeMap;

use crate::ids::{ProgramUuid, UserId};
use crate::lms_rows::Timestamp;

/// The inspector's three inputs, each stripped of surrounding whitespace as upstream does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InspectorQuery {
    /// `edx_user`: a username or an email.
    pub edx_user: String,
    /// `org_key`: an organisation's short name (the MFE sends `undefined` when none is chosen;
    /// that is a name like any other, as upstream reads it).
    pub org_key: String,
    /// `external_user_key`: the institution's key for the learner.
    pub external_user_key: String,
}

/// What a query asks the inspector to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectorSearch<'a> {
    /// Search by edX account (username or email); the organisation only narrows SSO records.
    Account {
        /// The username or email.
        edx_user: &'a str,
    },
    /// Search by institution and external key.
    ExternalKey {
        /// The organisation's short name.
        org_key: &'a str,
        /// The external key.
        external_user_key: &'a str,
    },
    /// Nothing to search for: the API answers [`InspectorError::NoSearch`]; the page shows its
    /// empty form when all three inputs are empty.
    Nothing {
        /// Whether all three inputs are empty (the page's first rendering).
        all_empty: bool,
    },
}

impl InspectorQuery {
    /// The query from the request's values, stripped (Python's `str.strip()`).
    pub fn new(edx_user: &str, org_key: &str, external_user_key: &str) -> Self {
        Self {
            edx_user: edx_user.trim().to_owned(),
            org_key: org_key.trim().to_owned(),
            external_user_key: external_user_key.trim().to_owned(),
        }
    }

    /// Which search the query asks for: the account when `edx_user` is given, else the external
    /// key when both the organisation and the key are given, else none.
    pub fn search(&self) -> InspectorSearch<'_> {
        if !self.edx_user.is_empty() {
            InspectorSearch::Account { edx_user: &self.edx_user }
        } else if !self.org_key.is_empty() && !self.external_user_key.is_empty() {
            InspectorSearch::ExternalKey { org_key: &self.org_key, external_user_key: &self.external_user_key }
        } else {
            InspectorSearch::Nothing { all_empty: self.org_key.is_empty() && self.external_user_key.is_empty() }
        }
    }
}

/// Why a search shows no learner. The `Display` texts are upstream's (`support-web.md` §2.5),
/// except [`InspectorError::AmbiguousAccount`], where upstream fails with a server error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectorError {
    /// No account has this username or email.
    AccountNotFound {
        /// The username or email searched for.
        edx_user: String,
    },
    /// Neither an account nor a program enrollment has this key at this institution.
    ExternalKeyNotFound {
        /// The key searched for, as typed.
        external_user_key: String,
        /// The organisation, as typed.
        org_key: String,
    },
    /// The query names neither an account nor an institution and key.
    NoSearch,
    /// Two accounts match: one by username, the other by email.
    AmbiguousAccount {
        /// The username or email searched for.
        edx_user: String,
        /// The usernames of the accounts that match, in id order.
        usernames: Vec<String>,
    },
}

impl std::error::Error for InspectorError {}

/// One `auth_user` row as the inspector shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedAccount {
    /// `id`.
    pub id: UserId,
    /// `username`.
    pub username: String,
    /// `email`.
    pub email: String,
}

/// One `social_auth_usersocialauth` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialAuthRecord {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub user_id: UserId,
    /// `provider`: the backend name (`tpa-saml` for every SAML provider).
    pub provider: String,
    /// `uid`: `{slug}:{remote id}` for a SAML provider.
    pub uid: String,
    /// `extra_data`, as stored (JSON text).
    pub extra_data: String,
    /// `created`.
    pub created: Timestamp,
    /// `modified`.
    pub modified: Timestamp,
}

/// One `support_historicalusersocialauth` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialAuthHistoryRecord {
    /// `history_id`.
    pub history_id: i64,
    /// `id`: the social auth row it is a version of.
    pub id: i64,
    /// `provider`.
    pub provider: String,
    /// `uid`.
    pub uid: String,
    /// `extra_data` (JSON text).
    pub extra_data: String,
    /// `created`.
    pub created: Timestamp,
    /// `modified`.
    pub modified: Timestamp,
    /// `history_date`.
    pub history_date: Timestamp,
}

/// One `third_party_auth_samlproviderconfig` row, with its organisation's short name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlProviderRecord {
    /// `id`: the newest row of a `slug` is its current configuration.
    pub id: i64,
    /// `slug`.
    pub slug: String,
    /// `enabled`.
    pub enabled: bool,
    /// `backend_name` (`tpa-saml`).
    pub backend_name: String,
    /// `organizations_organization.short_name` of `organization_id`, if it has one.
    pub organization: Option<String>,
}

/// A course enrollment as the inspector shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedCourseEnrollment {
    /// `course_id`.
    pub course_id: String,
    /// `is_active`.
    pub is_active: bool,
    /// `mode`.
    pub mode: String,
}

/// A program course enrollment, with its course enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedProgramCourseEnrollment {
    /// `created`.
    pub created: Timestamp,
    /// `modified`.
    pub modified: Timestamp,
    /// `status` (`active`, `inactive`), as stored.
    pub status: String,
    /// `course_key`.
    pub course_key: String,
    /// The course enrollment it holds, if any.
    pub course_enrollment: Option<InspectedCourseEnrollment>,
}

/// A program enrollment, with its program course enrollments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InspectedProgramEnrollment {
    /// `created`.
    pub created: Timestamp,
    /// `modified`.
    pub modified: Timestamp,
    /// `external_user_key` (NULL for some retired learners).
    pub external_user_key: Option<String>,
    /// `status`, as stored.
    pub status: String,
    /// `program_uuid`.
    pub program_uuid: ProgramUuid,
    /// Its program course enrollments, in id order.
    pub program_course_enrollments: Vec<InspectedProgramCourseEnrollment>,
}

/// Who the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectedLearner {
    /// An edX account, with the uids of its SSO records (those of the selected provider's
    /// backend when an organisation with a provider was given).
    Account {
        /// `username`.
        username: String,
        /// `email`.
        email: String,
        /// The SSO uids, in id order (`sso_list`, left out when empty).
        sso_uids: Vec<String>,
    },
    /// No account holds the key, but program enrollments wait on it.
    ExternalKeyOnly {
        /// The key, as typed.
        external_user_key: String,
    },
}

/// Something the inspector shows beside its result, where upstream would fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectorNote {
    /// An SSO record matched the key without case but does not fit the provider it was looked
    /// up for (another backend, or the slug in another case); upstream fails on it.
    UnfittingSsoRecord {
        /// The record's `uid`.
        uid: String,
        /// The record's `provider`.
        provider: String,
        /// The provider's `slug`.
        slug: String,
        /// The provider's `backend_name`.
        backend_name: String,
    },
}

/// What the inspector found: `learner_program_enrollments` of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnerProgramEnrollments {
    /// The learner.
    pub learner: InspectedLearner,
    /// The program enrollments (`enrollments`, left out when empty), in id order.
    pub enrollments: Vec<InspectedProgramEnrollment>,
    /// Records shown although upstream would have failed on them.
    pub notes: Vec<InspectorNote>,
}

/// The current SAML providers (`current_set()`: the newest row of each `slug`) that are
/// enabled and belong to an organisation, in id order.
pub fn current_saml_providers(rows: &[SamlProviderRecord]) -> Vec<&SamlProviderRecord> {
    let mut newest: BTreeMap<&str, &SamlProviderRecord> = BTreeMap::new();
    for row in rows {
        let entry = newest.entry(row.slug.as_str()).or_insert(row);
        if row.id > entry.id {
            *entry = row;
        }
    }
    let mut current: Vec<&SamlProviderRecord> =
        newest.into_values().filter(|p| p.enabled && p.organization.is_some()).collect();
    current.sort_by_key(|p| p.id);
    current
}

/// `GET /support/get_saml_providers/`: the organisation of each current enabled provider, in
/// id order; an organisation with two providers is named twice, as upstream does.
pub fn saml_provider_organizations(rows: &[SamlProviderRecord]) -> Vec<String> {
    current_saml_providers(rows).into_iter().filter_map(|p| p.organization.clone()).collect()
}

/// The organisations with a provider, sorted (the page's choice of institution).
pub fn inspector_org_keys(rows: &[SamlProviderRecord]) -> Vec<String> {
    let mut keys = saml_provider_organizations(rows);
    keys.sort();
    keys.dedup();
    keys
}

/// The provider selected by `org_key`: of the organisation's current providers, the last in id
/// order (upstream builds a dictionary by organisation, so the last one iterated wins).
pub fn selected_provider<'a>(rows: &'a [SamlProviderRecord], org_key: &str) -> Option<&'a SamlProviderRecord> {
    current_saml_providers(rows).into_iter().rev().find(|p| p.organization.as_deref() == Some(org_key))
}

/// The account a username or email names, from the accounts whose username or email equals it
/// (as the database compares). None → [`InspectorError::AccountNotFound`]; two →
/// [`InspectorError::AmbiguousAccount`].
pub fn found_account<'a>(
    edx_user: &str,
    matches: &'a [InspectedAccount],
) -> Result<&'a InspectedAccount, InspectorError> {
    let mut ids: Vec<&InspectedAccount> = matches.iter().collect();
    ids.sort_by_key(|a| a.id);
    ids.dedup_by_key(|a| a.id);
    match ids.as_slice() {
        [] => Err(InspectorError::AccountNotFound { edx_user: edx_user.to_owned() }),
        [one] => Ok(one),
        several => Err(InspectorError::AmbiguousAccount {
            edx_user: edx_user.to_owned(),
            usernames: several.iter().map(|a| a.username.clone()).collect(),
        }),
    }
}

/// The SSO records shown for an account: all of them, or, with a selected provider, those of
/// its backend (which keeps every SAML record, as upstream's filter does), in id order.
pub fn shown_sso_uids(records: &[SocialAuthRecord], selected: Option<&SamlProviderRecord>) -> Vec<String> {
    let mut shown: Vec<&SocialAuthRecord> =
        records.iter().filter(|r| selected.is_none_or(|p| r.provider == p.backend_name)).collect();
    shown.sort_by_key(|r| r.id);
    shown.into_iter().map(|r| r.uid.clone()).collect()
}

/// The result of the account search.
pub fn account_result(
    account: &InspectedAccount,
    sso: &[SocialAuthRecord],
    selected: Option<&SamlProviderRecord>,
    enrollments: Vec<InspectedProgramEnrollment>,
) -> LearnerProgramEnrollments {
    LearnerProgramEnrollments {
        learner: InspectedLearner::Account {
            username: account.username.clone(),
            email: account.email.clone(),
            sso_uids: shown_sso_uids(sso, selected),
        },
        enrollments,
        notes: Vec::new(),
    }
}

/// The uids an external key has at an organisation's providers: `{slug}:{key}` for each current
/// enabled provider of the organisation, to be matched without case.
pub fn candidate_uids(providers: &[&SamlProviderRecord], external_user_key: &str) -> Vec<String> {
    providers.iter().map(|p| format!("{}:{external_user_key}", p.slug)).collect()
}

/// The current enabled providers of one organisation.
pub fn organization_providers<'a>(rows: &'a [SamlProviderRecord], org_key: &str) -> Vec<&'a SamlProviderRecord> {
    current_saml_providers(rows).into_iter().filter(|p| p.organization.as_deref() == Some(org_key)).collect()
}

/// Which user holds the key, from the SSO records read for the candidate uids: the first in id
/// order whose uid equals a provider's `{slug}:{key}` without case. A record that does not fit
/// its provider (another backend, or the slug in another case: upstream's assertion fails)
/// still counts, with a note.
pub fn user_holding_key(
    providers: &[&SamlProviderRecord],
    hits: &[SocialAuthRecord],
    external_user_key: &str,
) -> (Option<UserId>, Vec<InspectorNote>) {
    let mut hits: Vec<&SocialAuthRecord> = hits.iter().collect();
    hits.sort_by_key(|r| r.id);
    let mut notes = Vec::new();
    let mut found = None;
    for hit in hits {
        let uid = hit.uid.to_lowercase();
        let Some(provider) = providers.iter().find(|p| uid == format!("{}:{external_user_key}", p.slug).to_lowercase())
        else {
            continue;
        };
        let fits = hit.provider == provider.backend_name && hit.uid.starts_with(&format!("{}:", provider.slug));
        if !fits {
            notes.push(InspectorNote::UnfittingSsoRecord {
                uid: hit.uid.clone(),
                provider: hit.provider.clone(),
                slug: provider.slug.clone(),
                backend_name: provider.backend_name.clone(),
            });
        }
        found.get_or_insert(hit.user_id);
    }
    (found, notes)
}

/// The result of the external-key search, from the user holding the key (with that user's
/// account and SSO records) and the program enrollments with the key in any program.
pub fn external_key_result(
    query_key: &str,
    org_key: &str,
    holder: Option<(&InspectedAccount, &[SocialAuthRecord])>,
    selected: Option<&SamlProviderRecord>,
    enrollments: Vec<InspectedProgramEnrollment>,
    notes: Vec<InspectorNote>,
) -> Result<LearnerProgramEnrollments, InspectorError> {
    let learner = match holder {
        Some((account, sso)) => InspectedLearner::Account {
            username: account.username.clone(),
            email: account.email.clone(),
            sso_uids: shown_sso_uids(sso, selected),
        },
        None if !enrollments.is_empty() => {
            InspectedLearner::ExternalKeyOnly { external_user_key: query_key.to_owned() }
        }
        None => {
            return Err(InspectorError::ExternalKeyNotFound {
                external_user_key: query_key.to_owned(),
                org_key: org_key.to_owned(),
            });
        }
    };
    Ok(LearnerProgramEnrollments { learner, enrollments, notes })
}

/// One SSO record as `GET /support/sso_records/…` shows it, with its history newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoRecord {
    /// The record.
    pub record: SocialAuthRecord,
    /// Its history rows, newest first (by `history_date`, then `history_id`).
    pub history: Vec<SocialAuthHistoryRecord>,
}

/// The SSO records of a user, in id order, each with its history newest first.
pub fn sso_records(mut records: Vec<SocialAuthRecord>, history: Vec<SocialAuthHistoryRecord>) -> Vec<SsoRecord> {
    records.sort_by_key(|r| r.id);
    records
        .into_iter()
        .map(|record| {
            let mut rows: Vec<SocialAuthHistoryRecord> =
                history.iter().filter(|h| h.id == record.id).cloned().collect();
            rows.sort_by_key(|h| std::cmp::Reverse((h.history_date, h.history_id)));
            SsoRecord { record, history: rows }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: i64, slug: &str, enabled: bool, org: Option<&str>) -> SamlProviderRecord {
        SamlProviderRecord {
            id,
            slug: slug.into(),
            enabled,
            backend_name: "tpa-saml".into(),
            organization: org.map(Into::into),
        }
    }

    fn account(id: i64, username: &str, email: &str) -> InspectedAccount {
        InspectedAccount { id: UserId(id), username: username.into(), email: email.into() }
    }

    fn sso(id: i64, user: i64, provider: &str, uid: &str) -> SocialAuthRecord {
        SocialAuthRecord {
            id,
            user_id: UserId(user),
            provider: provider.into(),
            uid: uid.into(),
            extra_data: "{}".into(),
            created: Timestamp(0),
            modified: Timestamp(0),
        }
    }

    #[test]
    fn the_query_is_stripped_and_dispatched_as_upstream() {
        let q = InspectorQuery::new("  alice ", "testX", "key");
        assert_eq!(q.search(), InspectorSearch::Account { edx_user: "alice" });
        let q = InspectorQuery::new(" ", " testX ", " abc ");
        assert_eq!(q.search(), InspectorSearch::ExternalKey { org_key: "testX", external_user_key: "abc" });
        assert_eq!(InspectorQuery::new("", "", "").search(), InspectorSearch::Nothing { all_empty: true });
        assert_eq!(InspectorQuery::new("", "testX", "").search(), InspectorSearch::Nothing { all_empty: false });
        assert_eq!(InspectorQuery::new("", "", "abc").search(), InspectorSearch::Nothing { all_empty: false });
    }

    #[test]
    fn the_three_messages_are_upstreams() {
        assert_eq!(
            InspectorError::AccountNotFound { edx_user: "wrongAccount".into() }.to_string(),
            "Could not find edx account with wrongAccount"
        );
        assert_eq!(
            InspectorError::ExternalKeyNotFound { external_user_key: "abc".into(), org_key: "testX".into() }
                .to_string(),
            "No user found for external key abc for institution testX"
        );
        assert_eq!(
            InspectorError::NoSearch.to_string(),
            "To perform a search, you must provide either the student's (a) edX username, (b) email address \
             associated with their edX account, or (c) Identity-providing institution and external key!"
        );
    }

    #[test]
    fn current_providers_are_the_newest_row_per_slug_enabled_with_an_organisation() {
        let rows = [
            provider(1, "donut", true, Some("donut_org")),
            provider(2, "test", true, Some("test_org")),
            provider(3, "donut", false, Some("donut_org")), // newer row of `donut` disables it
            provider(4, "tri", true, Some("tri_org")),
            provider(5, "orphan", true, None),
            provider(6, "test2", true, Some("test_org")),
        ];
        let ids: Vec<i64> = current_saml_providers(&rows).iter().map(|p| p.id).collect();
        assert_eq!(ids, [2, 4, 6]);
        assert_eq!(saml_provider_organizations(&rows), ["test_org", "tri_org", "test_org"]);
        assert_eq!(inspector_org_keys(&rows), ["test_org", "tri_org"]);
        assert_eq!(selected_provider(&rows, "test_org").map(|p| p.id), Some(6));
        assert_eq!(selected_provider(&rows, "donut_org"), None);
        assert_eq!(organization_providers(&rows, "test_org").len(), 2);
    }

    #[test]
    fn an_account_is_found_once_and_two_accounts_are_an_error_naming_both() {
        let a = account(1, "alice", "a@example.com");
        assert_eq!(found_account("nobody", &[]), Err(InspectorError::AccountNotFound { edx_user: "nobody".into() }));
        assert_eq!(found_account("alice", &[a.clone(), a.clone()]).map(|a| a.id), Ok(UserId(1)));
        let b = account(2, "a@example.com", "b@example.com");
        let err = found_account("a@example.com", &[b, a]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "More than one edx account matches a@example.com (by username or email): alice, a@example.com"
        );
    }

    #[test]
    fn a_selected_provider_keeps_the_sso_records_of_its_backend_only() {
        let records = [sso(2, 1, "tpa-saml", "test:abc"), sso(1, 1, "google-oauth2", "a@gmail.com")];
        assert_eq!(shown_sso_uids(&records, None), ["a@gmail.com", "test:abc"]);
        let p = provider(9, "other", true, Some("x"));
        assert_eq!(shown_sso_uids(&records, Some(&p)), ["test:abc"]);
    }

    #[test]
    fn the_key_is_found_without_case_and_an_unfitting_record_is_shown_with_a_note() {
        let rows = [provider(1, "test", true, Some("testX"))];
        let providers = organization_providers(&rows, "testX");
        assert_eq!(candidate_uids(&providers, "aBcDeF123"), ["test:aBcDeF123"]);
        let (user, notes) = user_holding_key(&providers, &[sso(1, 7, "tpa-saml", "test:AbCdEf123")], "aBcDeF123");
        assert_eq!((user, notes.len()), (Some(UserId(7)), 0));
        let (user, notes) = user_holding_key(&providers, &[sso(1, 7, "tpa-saml", "TEST:abcdef123")], "abcdef123");
        assert_eq!(user, Some(UserId(7)));
        assert_eq!(
            notes[0].to_string(),
            "SSO record TEST:abcdef123 (provider tpa-saml) does not fit the SAML provider test (tpa-saml): \
             shown as matching the key without case"
        );
        let (user, notes) = user_holding_key(&providers, &[sso(1, 7, "google-oauth2", "test:abc")], "abc");
        assert_eq!((user, notes.len()), (Some(UserId(7)), 1));
        let (user, _) = user_holding_key(&providers, &[sso(1, 7, "tpa-saml", "test:abcd")], "abc");
        assert_eq!(user, None);
    }

    #[test]
    fn an_unconnected_key_with_enrollments_shows_the_key_and_without_them_is_not_found() {
        let pe = InspectedProgramEnrollment {
            created: Timestamp(0),
            modified: Timestamp(0),
            external_user_key: Some("abcaaa".into()),
            status: "enrolled".into(),
            program_uuid: ProgramUuid::parse("00000000-0000-0000-0000-000000000001").unwrap(),
            program_course_enrollments: vec![],
        };
        let found = external_key_result("abcaaa", "testX", None, None, vec![pe], vec![]).unwrap();
        assert_eq!(found.learner, InspectedLearner::ExternalKeyOnly { external_user_key: "abcaaa".into() });
        assert_eq!(
            external_key_result("abcaaa", "testX", None, None, vec![], vec![]),
            Err(InspectorError::ExternalKeyNotFound { external_user_key: "abcaaa".into(), org_key: "testX".into() })
        );
        let a = account(1, "alice", "a@example.com");
        let records = [sso(1, 1, "tpa-saml", "test:abcaaa")];
        let found = external_key_result("abcaaa", "testX", Some((&a, &records)), None, vec![], vec![]).unwrap();
        assert_eq!(
            found.learner,
            InspectedLearner::Account {
                username: "alice".into(),
                email: "a@example.com".into(),
                sso_uids: vec!["test:abcaaa".into()]
            }
        );
    }

    #[test]
    fn sso_history_is_newest_first() {
        let records = vec![sso(1, 1, "tpa-saml", "test:new")];
        let h = |history_id, date, uid: &str| SocialAuthHistoryRecord {
            history_id,
            id: 1,
            provider: "tpa-saml".into(),
            uid: uid.into(),
            extra_data: "{}".into(),
            created: Timestamp(0),
            modified: Timestamp(date),
            history_date: Timestamp(date),
        };
        let mut other = h(3, 30, "other:x");
        other.id = 2;
        let shown = sso_records(records, vec![h(1, 10, "test:old"), h(2, 20, "test:new"), other]);
        let uids: Vec<&str> = shown[0].history.iter().map(|h| h.uid.as_str()).collect();
        assert_eq!(uids, ["test:new", "test:old"]);
    }
}
