//! [`ports::Accounts`]: an `auth_user` row and its global `support` role, outside any
//! linking transaction.

use async_trait::async_trait;
use domain::UserId;
use ports::{Account, Accounts, StoreResult};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait};

use crate::catalog::tables;
use crate::decode::{get_bool, get_i64, get_string};
use crate::error::backend_error;
use crate::statements::{build, select};
use crate::transaction::SeaOrmDatabase;

#[async_trait]
impl Accounts for SeaOrmDatabase {
    async fn account(&self, username: &str) -> StoreResult<Option<Account>> {
        let backend = self.backend();
        let mut users = select(tables::USER, &["id", "username", "is_active", "is_staff"]);
        users.and_where(Expr::col((tables::USER, "username")).eq(username));
        let rows =
            self.connection().query_all_raw(build(backend, &users)).await.map_err(|e| backend_error(backend, e))?;
        let mut found = None;
        for row in &rows {
            // MySQL's collations ignore case and trailing spaces: compare in full.
            if get_string(row, "username")? == username {
                found = Some(Account {
                    id: UserId(get_i64(row, "id")?),
                    username: username.to_owned(),
                    is_active: get_bool(row, "is_active")?,
                    is_staff: get_bool(row, "is_staff")?,
                    global_support_role: false,
                });
            }
        }
        let Some(mut account) = found else { return Ok(None) };
        if self.has_table(tables::ROLE) {
            let mut roles = select(tables::ROLE, &["role", "org", "course_id"]);
            roles
                .and_where(Expr::col((tables::ROLE, "user_id")).eq(account.id.0))
                .and_where(Expr::col((tables::ROLE, "role")).eq("support"));
            let rows =
                self.connection().query_all_raw(build(backend, &roles)).await.map_err(|e| backend_error(backend, e))?;
            for row in &rows {
                let exact = get_string(row, "role")? == "support"
                    && get_string(row, "org")?.is_empty()
                    && get_string(row, "course_id")?.is_empty();
                account.global_support_role |= exact;
            }
        }
        Ok(Some(account))
    }
}
