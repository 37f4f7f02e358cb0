//! The inspector's tables (SSO records, SAML providers, organisations), their fixtures, and
//! [`LearnerRecords`] over the whole in-memory database.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use domain::{
    InspectedAccount, InspectedCourseEnrollment, InspectedProgramCourseEnrollment, InspectedProgramEnrollment,
    SamlProviderRecord, SocialAuthHistoryRecord, SocialAuthRecord, Timestamp, UserId,
};
use ports::{LearnerRecords, StoreError, StoreResult};

use crate::database::MemoryDatabase;
use crate::rows::{HistoryRow, HistoryType, ProgramEnrollmentRow, Tables};

/// One `social_auth_usersocialauth` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialAuthRow {
    /// `id`.
    pub id: i64,
    /// `user_id`.
    pub user_id: UserId,
    /// `provider`.
    pub provider: String,
    /// `uid`.
    pub uid: String,
    /// `extra_data` (JSON text).
    pub extra_data: String,
    /// `created`.
    pub created: SystemTime,
    /// `modified`.
    pub modified: SystemTime,
}

/// One `third_party_auth_samlproviderconfig` row (the columns the inspector reads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlProviderRow {
    /// `id`.
    pub id: i64,
    /// `slug`.
    pub slug: String,
    /// `enabled`.
    pub enabled: bool,
    /// `backend_name`.
    pub backend_name: String,
    /// `organization_id`.
    pub organization_id: Option<i64>,
}

/// The inspector's tables; `None` where the database does not have the table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LearnerTables {
    /// `social_auth_usersocialauth`.
    pub social_auth: Option<BTreeMap<i64, SocialAuthRow>>,
    /// `support_historicalusersocialauth`.
    pub social_auth_history: Option<Vec<HistoryRow<SocialAuthRow>>>,
    /// `third_party_auth_samlproviderconfig`.
    pub saml_providers: Option<BTreeMap<i64, SamlProviderRow>>,
    /// `organizations_organization`: `id → short_name`.
    pub organizations: Option<BTreeMap<i64, String>>,
}

impl LearnerTables {
    /// Every table, empty.
    pub fn all() -> Self {
        Self {
            social_auth: Some(BTreeMap::new()),
            social_auth_history: Some(Vec::new()),
            saml_providers: Some(BTreeMap::new()),
            organizations: Some(BTreeMap::new()),
        }
    }
}

fn present<'a, T>(table: &'a Option<T>, name: &'static str) -> StoreResult<&'a T> {
    table.as_ref().ok_or(StoreError::MissingTable { table: name })
}

fn present_mut<'a, T>(table: &'a mut Option<T>, name: &'static str) -> StoreResult<&'a mut T> {
    table.as_mut().ok_or(StoreError::MissingTable { table: name })
}

const SOCIAL_AUTH: &str = "social_auth_usersocialauth";
const SOCIAL_AUTH_HISTORY: &str = "support_historicalusersocialauth";
const SAML_PROVIDER: &str = "third_party_auth_samlproviderconfig";
const ORGANIZATION: &str = "organizations_organization";

/// A moment as the rules' [`Timestamp`] (microseconds since the epoch).
fn timestamp(at: SystemTime) -> Timestamp {
    match at.duration_since(UNIX_EPOCH) {
        Ok(after) => Timestamp(i64::try_from(after.as_micros()).unwrap_or(i64::MAX)),
        Err(before) => Timestamp(-i64::try_from(before.duration().as_micros()).unwrap_or(i64::MAX)),
    }
}

fn sso_record(row: &SocialAuthRow) -> SocialAuthRecord {
    SocialAuthRecord {
        id: row.id,
        user_id: row.user_id,
        provider: row.provider.clone(),
        uid: row.uid.clone(),
        extra_data: row.extra_data.clone(),
        created: timestamp(row.created),
        modified: timestamp(row.modified),
    }
}

fn account(tables: &Tables, id: UserId) -> Option<InspectedAccount> {
    tables.users.get(&id).map(|u| InspectedAccount { id: u.id, username: u.username.clone(), email: u.email.clone() })
}

fn enrollment(tables: &Tables, pe: &ProgramEnrollmentRow) -> InspectedProgramEnrollment {
    let program_course_enrollments = tables
        .program_course_enrollments
        .values()
        .filter(|pce| pce.program_enrollment_id == pe.id)
        .map(|pce| InspectedProgramCourseEnrollment {
            created: timestamp(pce.created),
            modified: timestamp(pce.modified),
            status: pce.status.clone(),
            course_key: pce.course_key.clone(),
            course_enrollment: pce.course_enrollment_id.and_then(|id| tables.course_enrollments.get(&id)).map(|ce| {
                InspectedCourseEnrollment {
                    course_id: ce.course_id.clone(),
                    is_active: ce.is_active,
                    mode: ce.mode.clone(),
                }
            }),
        })
        .collect();
    InspectedProgramEnrollment {
        created: timestamp(pe.created),
        modified: timestamp(pe.modified),
        external_user_key: pe.external_user_key.clone(),
        status: pe.status.clone(),
        program_uuid: pe.program_uuid,
        program_course_enrollments,
    }
}

impl MemoryDatabase {
    /// Inserts an organisation (`organizations_organization`).
    ///
    /// # Errors
    /// [`StoreError::MissingTable`] where the table was dropped.
    pub fn add_organization(&self, short_name: &str) -> StoreResult<i64> {
        let mut state = self.lock();
        let organizations = present_mut(&mut state.tables.learners.organizations, ORGANIZATION)?;
        let id = organizations.keys().next_back().map_or(1, |last| last + 1);
        organizations.insert(id, short_name.to_owned());
        Ok(id)
    }

    /// Inserts a SAML provider configuration row (backend `tpa-saml`); a newer row of the same
    /// slug is its current configuration.
    ///
    /// # Errors
    /// [`StoreError::MissingTable`] where the table was dropped.
    pub fn add_saml_provider(&self, slug: &str, organization_id: Option<i64>, enabled: bool) -> StoreResult<i64> {
        let mut state = self.lock();
        let providers = present_mut(&mut state.tables.learners.saml_providers, SAML_PROVIDER)?;
        let id = providers.keys().next_back().map_or(1, |last| last + 1);
        let row = SamlProviderRow { id, slug: slug.into(), enabled, backend_name: "tpa-saml".into(), organization_id };
        providers.insert(id, row);
        Ok(id)
    }

    /// Inserts an SSO record with its `+` history row.
    ///
    /// # Errors
    /// [`StoreError::MissingTable`] where the tables were dropped.
    pub fn add_social_auth(&self, user_id: UserId, provider: &str, uid: &str, extra_data: &str) -> StoreResult<i64> {
        let mut state = self.lock();
        let now = SystemTime::now();
        let learners = &mut state.tables.learners;
        let records = present_mut(&mut learners.social_auth, SOCIAL_AUTH)?;
        let id = records.keys().next_back().map_or(1, |last| last + 1);
        let row = SocialAuthRow {
            id,
            user_id,
            provider: provider.into(),
            uid: uid.into(),
            extra_data: extra_data.into(),
            created: now,
            modified: now,
        };
        records.insert(id, row.clone());
        push_history(learners, row, HistoryType::Insert, now)?;
        Ok(id)
    }

    /// Changes an SSO record's uid, with its `~` history row (as the LMS's admin does).
    ///
    /// # Errors
    /// [`StoreError::MissingTable`] where the tables were dropped; [`StoreError::Misuse`] if
    /// there is no such record.
    pub fn change_social_auth_uid(&self, id: i64, uid: &str) -> StoreResult<()> {
        let mut state = self.lock();
        let now = SystemTime::now();
        let learners = &mut state.tables.learners;
        let records = present_mut(&mut learners.social_auth, SOCIAL_AUTH)?;
        let row = records.get_mut(&id).ok_or(StoreError::Misuse("no such social auth record"))?;
        row.uid = uid.into();
        row.modified = now;
        let row = row.clone();
        push_history(learners, row, HistoryType::Update, now)
    }

    /// Drops the SSO, SAML provider and organisation tables, as in a database without them.
    pub fn drop_learner_tables(&self) {
        self.lock().tables.learners = LearnerTables::default();
    }
}

fn push_history(
    learners: &mut LearnerTables,
    row: SocialAuthRow,
    kind: HistoryType,
    at: SystemTime,
) -> StoreResult<()> {
    let history = present_mut(&mut learners.social_auth_history, SOCIAL_AUTH_HISTORY)?;
    let history_id = u64::try_from(history.len()).unwrap_or(u64::MAX).saturating_add(1);
    history.push(HistoryRow {
        history_id,
        row,
        history_date: at,
        history_type: kind,
        history_user_id: None,
        history_change_reason: None,
    });
    Ok(())
}

#[async_trait]
impl LearnerRecords for MemoryDatabase {
    async fn accounts_by_username_or_email(&self, edx_user: &str) -> StoreResult<Vec<InspectedAccount>> {
        // `WHERE username = ? OR email = ?`, compared as the database's collation compares
        // (MariaDB's `_ci` collations ignore case).
        let state = self.lock();
        let tables = &state.tables;
        let collation = state.collation;
        Ok(tables
            .users
            .values()
            .filter(|u| collation.equal(&u.username, edx_user) || collation.equal(&u.email, edx_user))
            .filter_map(|u| account(tables, u.id))
            .collect())
    }

    async fn account_by_id(&self, id: UserId) -> StoreResult<Option<InspectedAccount>> {
        Ok(account(&self.lock().tables, id))
    }

    async fn social_auth_of_user(&self, user: UserId) -> StoreResult<Vec<SocialAuthRecord>> {
        let state = self.lock();
        let records = present(&state.tables.learners.social_auth, SOCIAL_AUTH)?;
        Ok(records.values().filter(|r| r.user_id == user).map(sso_record).collect())
    }

    async fn social_auth_by_uids(&self, uids: &[String]) -> StoreResult<Vec<SocialAuthRecord>> {
        let wanted: Vec<String> = uids.iter().map(|u| u.to_lowercase()).collect();
        let state = self.lock();
        let records = present(&state.tables.learners.social_auth, SOCIAL_AUTH)?;
        Ok(records.values().filter(|r| wanted.contains(&r.uid.to_lowercase())).map(sso_record).collect())
    }

    async fn social_auth_history(&self, ids: &[i64]) -> StoreResult<Vec<SocialAuthHistoryRecord>> {
        let state = self.lock();
        let history = present(&state.tables.learners.social_auth_history, SOCIAL_AUTH_HISTORY)?;
        Ok(history
            .iter()
            .filter(|h| ids.contains(&h.row.id))
            .map(|h| SocialAuthHistoryRecord {
                history_id: i64::try_from(h.history_id).unwrap_or(i64::MAX),
                id: h.row.id,
                provider: h.row.provider.clone(),
                uid: h.row.uid.clone(),
                extra_data: h.row.extra_data.clone(),
                created: timestamp(h.row.created),
                modified: timestamp(h.row.modified),
                history_date: timestamp(h.history_date),
            })
            .collect())
    }

    async fn saml_providers(&self) -> StoreResult<Vec<SamlProviderRecord>> {
        let state = self.lock();
        let providers = present(&state.tables.learners.saml_providers, SAML_PROVIDER)?;
        let organizations = present(&state.tables.learners.organizations, ORGANIZATION)?;
        Ok(providers
            .values()
            .map(|p| SamlProviderRecord {
                id: p.id,
                slug: p.slug.clone(),
                enabled: p.enabled,
                backend_name: p.backend_name.clone(),
                organization: p.organization_id.and_then(|id| organizations.get(&id).cloned()),
            })
            .collect())
    }

    async fn program_enrollments_of_user(&self, user: UserId) -> StoreResult<Vec<InspectedProgramEnrollment>> {
        let state = self.lock();
        let tables = &state.tables;
        Ok(tables
            .program_enrollments
            .values()
            .filter(|pe| pe.user_id == Some(user))
            .map(|pe| enrollment(tables, pe))
            .collect())
    }

    async fn program_enrollments_by_key(&self, key: &str) -> StoreResult<Vec<InspectedProgramEnrollment>> {
        let wanted = key.to_lowercase();
        let state = self.lock();
        let tables = &state.tables;
        Ok(tables
            .program_enrollments
            .values()
            .filter(|pe| pe.external_user_key.as_ref().is_some_and(|k| k.to_lowercase() == wanted))
            .map(|pe| enrollment(tables, pe))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use domain::Collation;
    use ports::LearnerRecords;

    use crate::database::MemoryDatabase;

    async fn usernames(db: &MemoryDatabase, edx_user: &str) -> Vec<String> {
        db.accounts_by_username_or_email(edx_user).await.unwrap().into_iter().map(|a| a.username).collect()
    }

    #[tokio::test]
    async fn the_account_lookup_compares_as_the_collation_says() {
        let exact = MemoryDatabase::new();
        let insensitive = MemoryDatabase::with_collation(Collation::CaseInsensitive);
        for db in [&exact, &insensitive] {
            db.add_user("Alice", "Alice@Example.com").unwrap();
            db.add_user("bob", "bob@example.com").unwrap();
        }
        for db in [&exact, &insensitive] {
            assert_eq!(usernames(db, "Alice").await, ["Alice"]);
            assert_eq!(usernames(db, "Alice@Example.com").await, ["Alice"]);
        }
        assert!(usernames(&exact, "alice").await.is_empty());
        assert!(usernames(&exact, "alice@example.com").await.is_empty());
        assert_eq!(usernames(&insensitive, "alice").await, ["Alice"]);
        assert_eq!(usernames(&insensitive, "ALICE@EXAMPLE.COM").await, ["Alice"]);
        assert_eq!(usernames(&insensitive, "BOB").await, ["bob"]);
    }
}
