//! The writes, as multi-row statements (one per table per call, split only at the bound-value
//! limit), each followed by its django-simple-history rows, copied from the live rows by
//! `INSERT … SELECT` so that every column of the live row is copied as stored.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use domain::{CourseEnrollmentRef, ProgramEnrollmentId};
use domain::{ProgramCourseEnrollmentId, RoleAssignmentId};
use ports::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation,
    InvitationUse, LinkingWrites, NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink, StoreError,
    StoreResult,
};
use sea_orm::{ConnectionTrait, QueryResult, Statement, Value};

use crate::catalog::tables;
use crate::dialect::{Backend, get_i64, get_string};
use crate::error::write_error;
use crate::sql::Sql;
use crate::transaction::SeaTransaction;

/// `+` or `~`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HistoryType {
    Insert,
    Update,
}

impl HistoryType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "+",
            Self::Update => "~",
        }
    }
}

/// Rows of values as a derived table `v(id, c1, …)`, in the backend's SQL: PostgreSQL
/// `(VALUES …) AS v(id, …)`; SQLite `(SELECT column1 AS id, … FROM (VALUES …)) AS v`; MySQL a
/// `UNION ALL` of `SELECT`s (MariaDB names a `VALUES` table's columns after its first row).
pub(crate) fn values_table(sql: &mut Sql, backend: Backend, columns: &[&str], rows: &[(i64, Vec<Value>)]) {
    let names: Vec<&str> = std::iter::once("id").chain(columns.iter().copied()).collect();
    let row_values = |(id, values): &(i64, Vec<Value>)| -> Vec<Value> {
        std::iter::once(Value::from(*id)).chain(values.iter().cloned()).collect()
    };
    match backend {
        Backend::Postgres | Backend::Sqlite => {
            if backend == Backend::Sqlite {
                let renamed: Vec<String> =
                    names.iter().enumerate().map(|(i, n)| format!("column{} AS {n}", i + 1)).collect();
                sql.push(&format!("(SELECT {} FROM (VALUES ", renamed.join(", ")));
            } else {
                sql.push("(VALUES ");
            }
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind_list(row_values(row));
            }
            if backend == Backend::Sqlite {
                sql.push(")) AS v");
            } else {
                sql.push(&format!(") AS v({})", names.join(", ")));
            }
        }
        Backend::MySql => {
            sql.push("(");
            for (i, row) in rows.iter().enumerate() {
                sql.push(if i == 0 { "SELECT " } else { " UNION ALL SELECT " });
                for (c, value) in row_values(row).into_iter().enumerate() {
                    if c > 0 {
                        sql.push(", ");
                    }
                    sql.bind(value);
                    if i == 0 {
                        sql.push(&format!(" AS {}", names[c]));
                    }
                }
            }
            sql.push(") AS v");
        }
    }
}

/// `UPDATE table SET c1 = v.c1, …, fixed = ? FROM (rows) v WHERE table.id = v.id condition`:
/// one statement for many rows, each with its own values (a join, not a `CASE`, so the cost
/// grows with the rows, not with their square).
pub(crate) struct BulkUpdate<'a> {
    pub(crate) table: &'a str,
    pub(crate) columns: &'a [&'a str],
    /// Further columns of the values table, after `columns`, that are not set but may be
    /// compared in `condition` (as `v.name`).
    pub(crate) guards: &'a [&'a str],
    pub(crate) fixed: Vec<(&'a str, Value)>,
    /// Extra condition on the updated table, e.g. ` AND {table}.user_id IS NULL`; it may name
    /// the columns of `v`.
    pub(crate) condition: String,
}

impl BulkUpdate<'_> {
    /// The statements for `rows` (id and one value per column), split at the bound-value
    /// limit.
    pub(crate) fn statements(&self, backend: Backend, rows: &[(i64, Vec<Value>)]) -> Vec<Statement> {
        self.statements_with(backend, rows, None)
    }

    /// [`Self::statements`] where each row's last value is not assigned but compared:
    /// `{table}.{table_column} = v.{value_column}` is added to the condition.
    pub(crate) fn statements_matching(
        &self,
        backend: Backend,
        rows: &[(i64, Vec<Value>)],
        value_column: &str,
        table_column: &str,
    ) -> Vec<Statement> {
        self.statements_with(backend, rows, Some((value_column, table_column)))
    }

    fn statements_with(
        &self,
        backend: Backend,
        rows: &[(i64, Vec<Value>)],
        matched: Option<(&str, &str)>,
    ) -> Vec<Statement> {
        let value_columns: Vec<&str> =
            self.columns.iter().chain(self.guards).copied().chain(matched.map(|(v, _)| v)).collect();
        let per_row = 1 + value_columns.len();
        let rows_per_statement = (backend.max_binds() / per_row).max(1);
        let table = self.table;
        let condition = match matched {
            Some((value_column, table_column)) => {
                format!(" AND {table}.{table_column} = v.{value_column}{}", self.condition)
            }
            None => self.condition.clone(),
        };
        rows.chunks(rows_per_statement)
            .map(|chunk| {
                let mut sql = Sql::new(backend, &format!("UPDATE {table} "));
                let assignments: Vec<String> = self.columns.iter().map(|c| format!("{c} = v.{c}")).collect();
                if backend == Backend::MySql {
                    sql.push("JOIN ");
                    values_table(&mut sql, backend, &value_columns, chunk);
                    let qualified: Vec<String> = self.columns.iter().map(|c| format!("{table}.{c} = v.{c}")).collect();
                    sql.push(&format!(" ON {table}.id = v.id SET {}", qualified.join(", ")));
                    for (i, (column, value)) in self.fixed.iter().enumerate() {
                        let separator = if i == 0 && qualified.is_empty() { "" } else { ", " };
                        sql.push(&format!("{separator}{table}.{column} = ")).bind(value.clone());
                    }
                    sql.push(" WHERE 1 = 1");
                } else {
                    sql.push(&format!("SET {}", assignments.join(", ")));
                    for (i, (column, value)) in self.fixed.iter().enumerate() {
                        let separator = if i == 0 && assignments.is_empty() { "" } else { ", " };
                        sql.push(&format!("{separator}{column} = ")).bind(value.clone());
                    }
                    sql.push(" FROM ");
                    values_table(&mut sql, backend, &value_columns, chunk);
                    sql.push(&format!(" WHERE {table}.id = v.id"));
                }
                sql.push(&condition);
                sql.build()
            })
            .collect()
    }
}

impl SeaTransaction {
    /// Executes a write to `table`; returns the number of rows it changed.
    pub(crate) async fn execute(&self, table: &str, statement: Statement) -> StoreResult<u64> {
        self.txn
            .execute_raw(statement)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| write_error(self.backend(), &self.context.catalog, table, e))
    }

    /// Runs a write that returns rows (`RETURNING`).
    async fn query_write(&self, table: &str, statement: Statement) -> StoreResult<Vec<QueryResult>> {
        self.txn
            .query_all_raw(statement)
            .await
            .map_err(|e| write_error(self.backend(), &self.context.catalog, table, e))
    }

    pub(crate) fn now(&self) -> Value {
        self.context.encoding.datetime(Utc::now())
    }

    /// Copies live rows `ids` of `live` into `history` (integer `history_id`).
    pub(crate) async fn record_history(
        &self,
        live: &str,
        history: &str,
        ids: &[i64],
        kind: HistoryType,
        at: Value,
    ) -> StoreResult<()> {
        let columns = self.context.catalog.history_copy_columns(live, history).join(", ");
        let mut head = Sql::new(
            self.backend(),
            &format!(
                "INSERT INTO {history} ({columns}, history_date, history_change_reason, history_type, history_user_id) \
                 SELECT {columns}, "
            ),
        );
        head.bind(at)
            .push(", NULL, ")
            .bind(kind.as_str())
            .push(", ")
            .bind(self.history_user)
            .push(&format!(" FROM {live} WHERE id IN "));
        for chunk in ids.chunks(self.backend().max_binds()) {
            let mut sql = head.clone();
            sql.bind_list(chunk.iter().copied());
            self.execute(history, sql.build()).await?;
        }
        Ok(())
    }

    /// Copies course enrollments into `student_courseenrollment_history`, whose `history_id`
    /// is a random UUID per row (chosen here, joined to the live rows by id).
    pub(crate) async fn record_course_enrollment_history(
        &self,
        ids: &[i64],
        kind: HistoryType,
        at: &Value,
    ) -> StoreResult<()> {
        let columns = self.context.catalog.history_copy_columns(tables::CE, tables::CE_HISTORY);
        let encoding = self.context.encoding;
        if let Some(random_uuid) = self.backend().random_uuid_sql(encoding.history_id) {
            let columns = columns.join(", ");
            let mut head = Sql::new(
                self.backend(),
                &format!(
                    "INSERT INTO {} ({columns}, history_id, history_date, history_change_reason, history_type, \
                     history_user_id) SELECT {columns}, {random_uuid}, ",
                    tables::CE_HISTORY
                ),
            );
            head.bind(at.clone())
                .push(", NULL, ")
                .bind(kind.as_str())
                .push(", ")
                .bind(self.history_user)
                .push(&format!(" FROM {} WHERE id IN ", tables::CE));
            for chunk in ids.chunks(self.backend().max_binds()) {
                let mut sql = head.clone();
                sql.bind_list(chunk.iter().copied());
                self.execute(tables::CE_HISTORY, sql.build()).await?;
            }
            return Ok(());
        }
        let live: Vec<String> = columns.iter().map(|c| format!("ce.{c}")).collect();
        for chunk in ids.chunks(self.backend().max_binds() / 2) {
            let mut sql = Sql::new(
                self.backend(),
                &format!(
                    "INSERT INTO {} ({}, history_id, history_date, history_change_reason, history_type, \
                     history_user_id) SELECT {}, v.history_id, ",
                    tables::CE_HISTORY,
                    columns.join(", "),
                    live.join(", ")
                ),
            );
            // The few new rows drive the join (`CROSS JOIN` keeps that order on SQLite), each
            // finding its live row by primary key.
            sql.bind(at.clone()).push(", NULL, ").bind(kind.as_str()).push(", ").bind(self.history_user).push(" FROM ");
            let rows: Vec<(i64, Vec<Value>)> =
                chunk.iter().map(|&id| (id, vec![encoding.uuid(&uuid::Uuid::new_v4(), encoding.history_id)])).collect();
            values_table(&mut sql, self.backend(), &["history_id"], &rows);
            sql.push(&format!(" CROSS JOIN {} ce WHERE ce.id = v.id", tables::CE));
            self.execute(tables::CE_HISTORY, sql.build()).await?;
        }
        Ok(())
    }

    /// The ids of course enrollments named by reference, in order.
    async fn resolve(&self, refs: &[&CourseEnrollmentRef]) -> StoreResult<Vec<i64>> {
        let mut found: HashMap<(i64, String), i64> = self.created.lock().map(|c| c.clone()).unwrap_or_default();
        let mut wanted: HashMap<i64, HashSet<&str>> = HashMap::new();
        for r in refs {
            if let CourseEnrollmentRef::New { user_id, course_key } = r
                && !found.contains_key(&(user_id.0, course_key.as_str().to_owned()))
            {
                wanted.entry(user_id.0).or_default().insert(course_key.as_str());
            }
        }
        if !wanted.is_empty() {
            let users: Vec<i64> = wanted.keys().copied().collect();
            let head = Sql::new(
                self.backend(),
                "SELECT id, user_id, course_id FROM student_courseenrollment WHERE user_id IN ",
            );
            self.each_row(&head, &users, "", |row| {
                let user = get_i64(row, "user_id")?;
                let course = get_string(row, "course_id")?;
                if wanted.get(&user).is_some_and(|courses| courses.contains(course.as_str())) {
                    found.insert((user, course), get_i64(row, "id")?);
                }
                Ok(())
            })
            .await?;
        }
        refs.iter()
            .map(|r| match r {
                CourseEnrollmentRef::Stored(id) => Ok(id.0),
                CourseEnrollmentRef::New { user_id, course_key } => found
                    .get(&(user_id.0, course_key.as_str().to_owned()))
                    .copied()
                    .ok_or(StoreError::Misuse("a write names a course enrollment that does not exist")),
            })
            .collect()
    }

    /// Sets the user of each PE still waiting; returns the ids written.
    async fn link_waiting(&self, links: &[ProgramEnrollmentLink], now: &Value) -> StoreResult<Vec<i64>> {
        let update = BulkUpdate {
            table: tables::PE,
            columns: &["user_id"],
            guards: &[],
            fixed: vec![("modified", now.clone())],
            condition: format!(" AND {}.user_id IS NULL", tables::PE),
        };
        let backend = self.backend();
        let rows: Vec<(i64, Vec<Value>)> =
            links.iter().map(|l| (l.program_enrollment.0, vec![Value::from(l.user_id.0)])).collect();
        let mut changed = 0;
        for statement in update.statements(backend, &rows) {
            changed += self.execute(tables::PE, statement).await?;
        }
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        if usize::try_from(changed).is_ok_and(|changed| changed == ids.len()) {
            return Ok(ids);
        }
        // Some PE was not waiting any more (another writer linked it since our read). The rows
        // this call wrote carry its `modified` stamp; the others are left as they were.
        let mut head = Sql::new(backend, "SELECT id FROM program_enrollments_programenrollment WHERE modified = ");
        head.bind(now.clone()).push(" AND id IN ");
        let mut written = Vec::with_capacity(ids.len());
        self.each_row(&head, &ids, "", |row| {
            written.push(get_i64(row, "id")?);
            Ok(())
        })
        .await?;
        Ok(written)
    }
}

#[async_trait]
impl LinkingWrites for SeaTransaction {
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>> {
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let written = self.link_waiting(links, &now).await?;
        if !written.is_empty() {
            self.record_history(tables::PE, tables::PE_HISTORY, &written, HistoryType::Update, now).await?;
        }
        let written: HashSet<i64> = written.into_iter().collect();
        Ok(links.iter().map(|l| l.program_enrollment).filter(|pe| !written.contains(&pe.0)).collect())
    }

    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        if enrollments.is_empty() {
            return Ok(());
        }
        let now = self.now();
        for chunk in enrollments.chunks(self.backend().max_binds() / 5) {
            let mut sql = Sql::new(
                self.backend(),
                "INSERT INTO student_courseenrollment (user_id, course_id, created, is_active, mode) VALUES ",
            );
            for (i, new) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind_list([
                    Value::from(new.user_id.0),
                    Value::from(new.course_key.as_str()),
                    now.clone(),
                    Value::from(new.is_active),
                    Value::from(new.mode.as_str()),
                ]);
            }
            if self.backend().insert_returning() {
                sql.push(" RETURNING id, user_id, course_id");
                let rows = self.query_write(tables::CE, sql.build()).await?;
                let mut created = self.created.lock().map_err(|_| StoreError::Misuse("a poisoned lock"))?;
                for row in rows {
                    created.insert((get_i64(&row, "user_id")?, get_string(&row, "course_id")?), get_i64(&row, "id")?);
                }
            } else {
                self.execute(tables::CE, sql.build()).await?;
            }
        }
        let refs: Vec<CourseEnrollmentRef> = enrollments
            .iter()
            .map(|new| CourseEnrollmentRef::New { user_id: new.user_id, course_key: new.course_key.clone() })
            .collect();
        let ids = self.resolve(&refs.iter().collect::<Vec<_>>()).await?;
        if !self.backend().insert_returning() {
            // Later writes of this savepoint (the PCEs) name these rows too: remember them.
            let mut created = self.created.lock().map_err(|_| StoreError::Misuse("a poisoned lock"))?;
            for (new, &id) in enrollments.iter().zip(&ids) {
                created.insert((new.user_id.0, new.course_key.as_str().to_owned()), id);
            }
        }
        self.record_course_enrollment_history(&ids, HistoryType::Insert, &now).await
    }

    async fn change_course_enrollments(
        &self,
        changes: &[CourseEnrollmentChange],
    ) -> StoreResult<Vec<CourseEnrollmentRef>> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let ids = self.resolve(&changes.iter().map(|c| &c.enrollment).collect::<Vec<_>>()).await?;
        let rows: Vec<(i64, Vec<Value>)> = changes
            .iter()
            .zip(&ids)
            .map(|(c, &id)| {
                let values = vec![
                    Value::from(c.mode.as_str()),
                    Value::from(c.is_active),
                    Value::from(c.read_mode.as_str()),
                    Value::from(c.read_active),
                ];
                (id, values)
            })
            .collect();
        let update = BulkUpdate {
            table: tables::CE,
            columns: &["mode", "is_active"],
            guards: &["read_mode", "read_active"],
            fixed: vec![],
            condition: format!(" AND {0}.mode = v.read_mode AND {0}.is_active = v.read_active", tables::CE),
        };
        let mut changed = 0;
        for statement in update.statements(self.backend(), &rows) {
            changed += self.execute(tables::CE, statement).await?;
        }
        if !usize::try_from(changed).is_ok_and(|changed| changed == ids.len()) {
            // Another writer changed some of them since our read. Which ones does not matter:
            // the caller rolls this savepoint back and plans again from fresh reads.
            return Ok(changes.iter().map(|c| c.enrollment.clone()).collect());
        }
        self.record_course_enrollment_history(&ids, HistoryType::Update, &now).await?;
        Ok(Vec::new())
    }

    async fn attach_course_enrollments(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        if attachments.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let ids = self.resolve(&attachments.iter().map(|a| &a.enrollment).collect::<Vec<_>>()).await?;
        let rows: Vec<(i64, Vec<Value>)> = attachments
            .iter()
            .zip(&ids)
            .map(|(a, &ce)| (a.program_course_enrollment.0, vec![Value::from(ce)]))
            .collect();
        let update = BulkUpdate {
            table: tables::PCE,
            columns: &["course_enrollment_id"],
            guards: &[],
            fixed: vec![("modified", now.clone())],
            condition: String::new(),
        };
        for statement in update.statements(self.backend(), &rows) {
            self.execute(tables::PCE, statement).await?;
        }
        let pces: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        self.record_history(tables::PCE, tables::PCE_HISTORY, &pces, HistoryType::Update, now).await
    }

    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()> {
        if uses.is_empty() || !self.context.catalog.has_table(tables::INVITATION) {
            return Ok(());
        }
        let rows: Vec<(i64, Vec<Value>)> =
            uses.iter().map(|u| (u.invitation.0, vec![Value::from(u.user_id.0)])).collect();
        let update = BulkUpdate {
            table: tables::INVITATION,
            columns: &["user_id"],
            guards: &[],
            fixed: vec![],
            condition: format!(" AND {}.user_id IS NULL", tables::INVITATION),
        };
        for statement in update.statements(self.backend(), &rows) {
            self.execute(tables::INVITATION, statement).await?;
        }
        Ok(())
    }

    async fn unlink_program_enrollments(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>> {
        self.unlink_linked(unlinks).await
    }

    async fn deactivate_course_enrollments(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()> {
        self.deactivate(deactivations).await
    }

    async fn detach_course_enrollments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<()> {
        self.detach(program_course_enrollments).await
    }

    async fn grant_course_access_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        self.grant_roles(grants).await
    }

    async fn delete_role_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()> {
        self.delete_assignments(assignments).await
    }
}
