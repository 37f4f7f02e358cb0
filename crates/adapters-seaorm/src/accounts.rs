//! [`ports::Accounts`]: an `auth_user` row and its global `support` role, outside any
//! linking transaction.

use async_trait::async_trait;
use domain::UserId;
use ports::{Account, Accounts, StoreResult};
use sea_orm::ConnectionTrait;

use crate::catalog::tables;
use crate::dialect::{get_bool, get_i64, get_string};
use crate::error::backend_error;
use crate::sql::Sql;
use crate::transaction::SeaOrmDatabase;

#[async_trait]
impl Accounts for SeaOrmDatabase {
    async fn account(&self, username: &str) -> StoreResult<Option<Account>> {
        let backend = self.backend();
        let mut sql = Sql::new(backend, "SELECT id, username, is_active, is_staff FROM auth_user WHERE username = ");
        sql.bind(username);
        let rows = self.connection().query_all_raw(sql.build()).await.map_err(|e| backend_error(backend, e))?;
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
            let mut sql =
                Sql::new(backend, "SELECT role, org, course_id FROM student_courseaccessrole WHERE user_id = ");
            sql.bind(account.id.0).push(" AND role = ").bind("support");
            let rows = self.connection().query_all_raw(sql.build()).await.map_err(|e| backend_error(backend, e))?;
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
