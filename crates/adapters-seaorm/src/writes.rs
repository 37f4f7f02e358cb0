//! The writes, each followed by its django-simple-history rows, copied from the live rows by
//! `INSERT … SELECT` so that every column of the live row is copied as stored.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use domain::{CourseEnrollmentRef, ProgramEnrollmentId};
use ports::{
    CourseEnrollmentAttachment, CourseEnrollmentChange, InvitationUse, LinkingWrites, NewCourseEnrollment,
    ProgramEnrollmentLink, StoreError, StoreResult,
};
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::catalog::tables;
use crate::dialect::{get_i64, get_string};
use crate::error::write_error;
use crate::sql::Sql;
use crate::transaction::SeaTransaction;

/// `+` or `~`.
#[derive(Debug, Clone, Copy)]
enum HistoryType {
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

impl SeaTransaction {
    /// Executes a write to `table`; returns the number of rows it changed.
    async fn execute(&self, table: &str, statement: Statement) -> StoreResult<u64> {
        self.txn
            .execute_raw(statement)
            .await
            .map(|r| r.rows_affected())
            .map_err(|e| write_error(self.backend(), &self.context.catalog, table, e))
    }

    /// Copies live rows `ids` of `live` into `history` (integer `history_id`).
    async fn record_history(
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
        head.bind(at).push(", NULL, ").bind(kind.as_str()).push(&format!(", NULL FROM {live} WHERE id IN "));
        for chunk in ids.chunks(self.backend().max_binds()) {
            let mut sql = head.clone();
            sql.bind_list(chunk.iter().copied());
            self.execute(history, sql.build()).await?;
        }
        Ok(())
    }

    /// Copies course enrollments into `student_courseenrollment_history`, whose `history_id`
    /// is a random UUID per row.
    async fn record_course_enrollment_history(&self, ids: &[i64], kind: HistoryType, at: &Value) -> StoreResult<()> {
        let columns = self.context.catalog.history_copy_columns(tables::CE, tables::CE_HISTORY).join(", ");
        let encoding = self.context.encoding;
        for &id in ids {
            let mut sql = Sql::new(
                self.backend(),
                &format!(
                    "INSERT INTO {} ({columns}, history_id, history_date, history_change_reason, history_type, \
                     history_user_id) SELECT {columns}, ",
                    tables::CE_HISTORY
                ),
            );
            sql.bind(encoding.uuid(&uuid::Uuid::new_v4(), encoding.history_id))
                .push(", ")
                .bind(at.clone())
                .push(", NULL, ")
                .bind(kind.as_str())
                .push(&format!(", NULL FROM {} WHERE id = ", tables::CE))
                .bind(id);
            self.execute(tables::CE_HISTORY, sql.build()).await?;
        }
        Ok(())
    }

    /// The ids of course enrollments named by reference.
    async fn resolve(&self, refs: &[&CourseEnrollmentRef]) -> StoreResult<Vec<i64>> {
        let mut wanted: HashMap<i64, Vec<&str>> = HashMap::new();
        for r in refs {
            if let CourseEnrollmentRef::New { user_id, course_key } = r {
                wanted.entry(user_id.0).or_default().push(course_key.as_str());
            }
        }
        let mut found: HashMap<(i64, String), i64> = HashMap::new();
        if !wanted.is_empty() {
            let users: Vec<i64> = wanted.keys().copied().collect();
            let head = Sql::new(
                self.backend(),
                "SELECT id, user_id, course_id FROM student_courseenrollment WHERE user_id IN ",
            );
            for row in self.query_in_chunks(&head, &users, "").await? {
                let user = get_i64(&row, "user_id")?;
                let course = get_string(&row, "course_id")?;
                if wanted.get(&user).is_some_and(|courses| courses.contains(&course.as_str())) {
                    found.insert((user, course), get_i64(&row, "id")?);
                }
            }
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
}

#[async_trait]
impl LinkingWrites for SeaTransaction {
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>> {
        let now = self.context.encoding.datetime(Utc::now());
        let mut linked = Vec::with_capacity(links.len());
        let mut taken = Vec::new();
        for link in links {
            // Conditional: a PE linked by another writer since our read is left alone.
            let mut sql = Sql::new(self.backend(), "UPDATE program_enrollments_programenrollment SET user_id = ");
            sql.bind(link.user_id.0)
                .push(", modified = ")
                .bind(now.clone())
                .push(" WHERE id = ")
                .bind(link.program_enrollment.0)
                .push(" AND user_id IS NULL");
            match self.execute(tables::PE, sql.build()).await? {
                0 => taken.push(link.program_enrollment),
                _ => linked.push(link.program_enrollment.0),
            }
        }
        if !linked.is_empty() {
            self.record_history(tables::PE, tables::PE_HISTORY, &linked, HistoryType::Update, now).await?;
        }
        Ok(taken)
    }

    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        if enrollments.is_empty() {
            return Ok(());
        }
        let now = self.context.encoding.datetime(Utc::now());
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
            self.execute(tables::CE, sql.build()).await?;
        }
        let refs: Vec<CourseEnrollmentRef> = enrollments
            .iter()
            .map(|new| CourseEnrollmentRef::New { user_id: new.user_id, course_key: new.course_key.clone() })
            .collect();
        let ids = self.resolve(&refs.iter().collect::<Vec<_>>()).await?;
        self.record_course_enrollment_history(&ids, HistoryType::Insert, &now).await
    }

    async fn change_course_enrollments(&self, changes: &[CourseEnrollmentChange]) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = self.context.encoding.datetime(Utc::now());
        let ids = self.resolve(&changes.iter().map(|c| &c.enrollment).collect::<Vec<_>>()).await?;
        for (change, &id) in changes.iter().zip(&ids) {
            let mut sql = Sql::new(self.backend(), "UPDATE student_courseenrollment SET mode = ");
            sql.bind(change.mode.as_str()).push(", is_active = ").bind(change.is_active).push(" WHERE id = ").bind(id);
            self.execute(tables::CE, sql.build()).await?;
        }
        self.record_course_enrollment_history(&ids, HistoryType::Update, &now).await
    }

    async fn attach_course_enrollments(&self, attachments: &[CourseEnrollmentAttachment]) -> StoreResult<()> {
        if attachments.is_empty() {
            return Ok(());
        }
        let now = self.context.encoding.datetime(Utc::now());
        let ids = self.resolve(&attachments.iter().map(|a| &a.enrollment).collect::<Vec<_>>()).await?;
        let mut pces = Vec::with_capacity(attachments.len());
        for (attachment, &ce) in attachments.iter().zip(&ids) {
            let pce = attachment.program_course_enrollment.0;
            let mut sql = Sql::new(
                self.backend(),
                "UPDATE program_enrollments_programcourseenrollment SET course_enrollment_id = ",
            );
            sql.bind(ce).push(", modified = ").bind(now.clone()).push(" WHERE id = ").bind(pce);
            self.execute(tables::PCE, sql.build()).await?;
            pces.push(pce);
        }
        self.record_history(tables::PCE, tables::PCE_HISTORY, &pces, HistoryType::Update, now).await
    }

    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()> {
        if !self.context.catalog.has_table(tables::INVITATION) {
            return Ok(());
        }
        for used in uses {
            let mut sql = Sql::new(self.backend(), "UPDATE student_courseenrollmentallowed SET user_id = ");
            sql.bind(used.user_id.0).push(" WHERE id = ").bind(used.invitation.0).push(" AND user_id IS NULL");
            self.execute(tables::INVITATION, sql.build()).await?;
        }
        Ok(())
    }
}
