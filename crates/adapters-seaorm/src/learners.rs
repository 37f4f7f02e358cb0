//! [`LearnerRecords`]: the inspector's reads, outside any transaction (read-only, one learner
//! at a time). Comparisons are the database's own, as upstream's ORM lookups are: `=` for
//! usernames and emails, `UPPER(…) = UPPER(…)` where upstream asks `__iexact` (Django's
//! PostgreSQL form; on MariaDB the collation decides either way).

use async_trait::async_trait;
use domain::{
    InspectedAccount, InspectedCourseEnrollment, InspectedProgramCourseEnrollment, InspectedProgramEnrollment,
    ProgramUuid, SamlProviderRecord, SocialAuthHistoryRecord, SocialAuthRecord, Timestamp, UserId,
};
use ports::{LearnerRecords, StoreError, StoreResult};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Order, SelectStatement};
use sea_orm::{ConnectionTrait, QueryResult};

use crate::backend::Backend;
use crate::catalog::tables;
use crate::decode::{
    decode_error, get_bool, get_i64, get_opt_datetime, get_opt_i64, get_opt_string, get_string, get_uuid,
};
use crate::error::backend_error;
use crate::statements::{build, select};
use crate::transaction::SeaOrmDatabase;

const SOCIAL_AUTH_COLUMNS: [&str; 6] = ["id", "user_id", "provider", "uid", "created", "modified"];

fn timestamp(row: &QueryResult, column: &str) -> StoreResult<Timestamp> {
    get_opt_datetime(row, column)?
        .map(|at| Timestamp(at.timestamp_micros()))
        .ok_or_else(|| decode_error(column, "NULL where a datetime is required"))
}

/// `extra_data` as JSON text (selected as text: a `jsonb` column on PostgreSQL).
fn json_text(row: &QueryResult, column: &str) -> StoreResult<String> {
    Ok(get_opt_string(row, column)?.unwrap_or_else(|| "null".to_owned()))
}

fn social_auth(row: &QueryResult) -> StoreResult<SocialAuthRecord> {
    Ok(SocialAuthRecord {
        id: get_i64(row, "id")?,
        user_id: UserId(get_i64(row, "user_id")?),
        provider: get_string(row, "provider")?,
        uid: get_string(row, "uid")?,
        extra_data: json_text(row, "extra_data")?,
        created: timestamp(row, "created")?,
        modified: timestamp(row, "modified")?,
    })
}

fn account(row: &QueryResult) -> StoreResult<InspectedAccount> {
    Ok(InspectedAccount {
        id: UserId(get_i64(row, "id")?),
        username: get_string(row, "username")?,
        email: get_string(row, "email")?,
    })
}

impl SeaOrmDatabase {
    /// `SELECT columns, extra_data (as text) FROM table`.
    fn select_with_extra_data(&self, table: &'static str, columns: &[&'static str]) -> SelectStatement {
        let mut statement = select(table, columns);
        let extra_data = Expr::col((table, "extra_data"));
        match self.backend() {
            Backend::Postgres => statement.expr_as(extra_data.cast_as("text"), "extra_data"),
            Backend::Sqlite | Backend::MySql => statement.expr_as(extra_data, "extra_data"),
        };
        statement
    }

    fn require(&self, table: &'static str) -> StoreResult<()> {
        if self.is_ungranted(table) {
            let backend = self.backend().name();
            let source = format!("the user holds no privilege on {table} (see the README's inspector grants)");
            return Err(StoreError::PermissionDenied { backend, source: source.into() });
        }
        if self.has_table(table) { Ok(()) } else { Err(StoreError::MissingTable { table }) }
    }

    async fn rows(&self, statement: &SelectStatement) -> StoreResult<Vec<QueryResult>> {
        let backend = self.backend();
        self.connection().query_all_raw(build(backend, statement)).await.map_err(|e| backend_error(backend, e))
    }

    async fn accounts_where(&self, condition: Expr) -> StoreResult<Vec<InspectedAccount>> {
        let mut users = select(tables::USER, &["id", "username", "email"]);
        users.and_where(condition).order_by((tables::USER, "id"), Order::Asc);
        self.rows(&users).await?.iter().map(account).collect()
    }

    /// The program enrollments `condition` selects, with their PCEs and those PCEs' CEs.
    async fn enrollments_where(&self, condition: Expr) -> StoreResult<Vec<InspectedProgramEnrollment>> {
        let mut pes = select(tables::PE, &["id", "created", "modified", "external_user_key", "status"]);
        pes.expr_as(self.backend().uuid_as_text(Expr::col((tables::PE, "program_uuid"))), "program_uuid")
            .and_where(condition)
            .order_by((tables::PE, "id"), Order::Asc);
        let mut found = Vec::new();
        let mut ids = Vec::new();
        for row in self.rows(&pes).await? {
            ids.push(get_i64(&row, "id")?);
            found.push(InspectedProgramEnrollment {
                created: timestamp(&row, "created")?,
                modified: timestamp(&row, "modified")?,
                external_user_key: get_opt_string(&row, "external_user_key")?,
                status: get_string(&row, "status")?,
                program_uuid: ProgramUuid::from_uuid(get_uuid(&row, "program_uuid")?),
                program_course_enrollments: Vec::new(),
            });
        }
        if ids.is_empty() {
            return Ok(found);
        }
        let mut pces = select(
            tables::PCE,
            &["id", "program_enrollment_id", "created", "modified", "status", "course_key", "course_enrollment_id"],
        );
        pces.and_where(Expr::col((tables::PCE, "program_enrollment_id")).is_in(ids.clone()))
            .order_by((tables::PCE, "id"), Order::Asc);
        let pce_rows = self.rows(&pces).await?;
        let ce_ids: Vec<i64> = pce_rows
            .iter()
            .map(|row| get_opt_i64(row, "course_enrollment_id"))
            .filter_map(Result::transpose)
            .collect::<StoreResult<_>>()?;
        let mut ces = std::collections::HashMap::new();
        if !ce_ids.is_empty() {
            let mut select_ces = select(tables::CE, &["id", "course_id", "is_active", "mode"]);
            select_ces.and_where(Expr::col((tables::CE, "id")).is_in(ce_ids));
            for row in self.rows(&select_ces).await? {
                let ce = InspectedCourseEnrollment {
                    course_id: get_string(&row, "course_id")?,
                    is_active: get_bool(&row, "is_active")?,
                    mode: get_string(&row, "mode")?,
                };
                ces.insert(get_i64(&row, "id")?, ce);
            }
        }
        for row in &pce_rows {
            let pe_id = get_i64(row, "program_enrollment_id")?;
            let Some(at) = ids.iter().position(|&id| id == pe_id) else { continue };
            let Some(pe) = found.get_mut(at) else { continue };
            pe.program_course_enrollments.push(InspectedProgramCourseEnrollment {
                created: timestamp(row, "created")?,
                modified: timestamp(row, "modified")?,
                status: get_string(row, "status")?,
                course_key: get_string(row, "course_key")?,
                course_enrollment: get_opt_i64(row, "course_enrollment_id")?.and_then(|id| ces.get(&id).cloned()),
            });
        }
        Ok(found)
    }
}

#[async_trait]
impl LearnerRecords for SeaOrmDatabase {
    async fn accounts_by_username_or_email(&self, edx_user: &str) -> StoreResult<Vec<InspectedAccount>> {
        self.accounts_where(
            Expr::col((tables::USER, "username")).eq(edx_user).or(Expr::col((tables::USER, "email")).eq(edx_user)),
        )
        .await
    }

    async fn account_by_id(&self, id: UserId) -> StoreResult<Option<InspectedAccount>> {
        Ok(self.accounts_where(Expr::col((tables::USER, "id")).eq(id.0)).await?.into_iter().next())
    }

    async fn social_auth_of_user(&self, user: UserId) -> StoreResult<Vec<SocialAuthRecord>> {
        self.require(tables::SOCIAL_AUTH)?;
        let mut records = self.select_with_extra_data(tables::SOCIAL_AUTH, &SOCIAL_AUTH_COLUMNS);
        records
            .and_where(Expr::col((tables::SOCIAL_AUTH, "user_id")).eq(user.0))
            .order_by((tables::SOCIAL_AUTH, "id"), Order::Asc);
        self.rows(&records).await?.iter().map(social_auth).collect()
    }

    async fn social_auth_by_uids(&self, uids: &[String]) -> StoreResult<Vec<SocialAuthRecord>> {
        self.require(tables::SOCIAL_AUTH)?;
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let mut records = self.select_with_extra_data(tables::SOCIAL_AUTH, &SOCIAL_AUTH_COLUMNS);
        let wanted = uids.iter().map(|uid| Func::upper(Expr::val(uid.as_str())).into());
        records
            .and_where(
                Expr::expr(Func::upper(Expr::col((tables::SOCIAL_AUTH, "uid")))).is_in(wanted.collect::<Vec<Expr>>()),
            )
            .order_by((tables::SOCIAL_AUTH, "id"), Order::Asc);
        self.rows(&records).await?.iter().map(social_auth).collect()
    }

    async fn social_auth_history(&self, ids: &[i64]) -> StoreResult<Vec<SocialAuthHistoryRecord>> {
        self.require(tables::SOCIAL_AUTH_HISTORY)?;
        let mut history = self.select_with_extra_data(
            tables::SOCIAL_AUTH_HISTORY,
            &["history_id", "id", "provider", "uid", "created", "modified", "history_date"],
        );
        history.and_where(Expr::col((tables::SOCIAL_AUTH_HISTORY, "id")).is_in(ids.to_vec()));
        self.rows(&history)
            .await?
            .iter()
            .map(|row| {
                Ok(SocialAuthHistoryRecord {
                    history_id: get_i64(row, "history_id")?,
                    id: get_i64(row, "id")?,
                    provider: get_string(row, "provider")?,
                    uid: get_string(row, "uid")?,
                    extra_data: json_text(row, "extra_data")?,
                    created: timestamp(row, "created")?,
                    modified: timestamp(row, "modified")?,
                    history_date: timestamp(row, "history_date")?,
                })
            })
            .collect()
    }

    async fn saml_providers(&self) -> StoreResult<Vec<SamlProviderRecord>> {
        self.require(tables::SAML_PROVIDER)?;
        self.require(tables::ORGANIZATION)?;
        let mut providers = select(tables::SAML_PROVIDER, &["id", "slug", "enabled", "backend_name"]);
        providers
            .expr_as(Expr::col((tables::ORGANIZATION, "short_name")), "organization")
            .left_join(
                tables::ORGANIZATION,
                Expr::col((tables::ORGANIZATION, "id")).equals((tables::SAML_PROVIDER, "organization_id")),
            )
            .order_by((tables::SAML_PROVIDER, "id"), Order::Asc);
        self.rows(&providers)
            .await?
            .iter()
            .map(|row| {
                Ok(SamlProviderRecord {
                    id: get_i64(row, "id")?,
                    slug: get_string(row, "slug")?,
                    enabled: get_bool(row, "enabled")?,
                    backend_name: get_string(row, "backend_name")?,
                    organization: get_opt_string(row, "organization")?,
                })
            })
            .collect()
    }

    async fn program_enrollments_of_user(&self, user: UserId) -> StoreResult<Vec<InspectedProgramEnrollment>> {
        self.enrollments_where(Expr::col((tables::PE, "user_id")).eq(user.0)).await
    }

    async fn program_enrollments_by_key(&self, key: &str) -> StoreResult<Vec<InspectedProgramEnrollment>> {
        self.enrollments_where(
            Expr::expr(Func::upper(Expr::col((tables::PE, "external_user_key")))).eq(Func::upper(Expr::val(key))),
        )
        .await
    }
}
