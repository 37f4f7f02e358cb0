//! [`LinkingWrites`]: multi-row statements (one per table per call, split only at the
//! bound-value limit), each followed by its django-simple-history rows, copied from the live
//! rows by `INSERT … SELECT` so that every column of the live row is copied as stored.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use domain::{CourseEnrollmentRef, ProgramCourseEnrollmentId, ProgramEnrollmentId, RoleAssignmentId};
use ports::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation,
    InvitationUse, LinkingWrites, NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink, StoreError,
    StoreResult,
};
use sea_orm::Value;
use sea_orm::sea_query::{Expr, ExprTrait, Query};

use crate::catalog::tables;
use crate::decode::{get_i64, get_string};
use crate::statements::{BulkUpdate, HistoryRows, HistoryType, Row, V, build, select, values_table};
use crate::transaction::SeaTransaction;

impl SeaTransaction {
    /// Copies live rows `ids` of `live` into `history` (integer `history_id`).
    async fn record_history(
        &self,
        live: &'static str,
        history: &'static str,
        ids: &[i64],
        kind: HistoryType,
        at: Value,
    ) -> StoreResult<()> {
        let columns = self.context.catalog.history_copy_columns(live, history);
        let rows = HistoryRows { live, history, columns: &columns, at, kind, user: self.history_user };
        for chunk in ids.chunks(self.backend().max_binds()) {
            let statement = rows.statement(self.backend(), None, |select| {
                select.from(live).and_where(Expr::col((live, "id")).is_in(chunk.iter().copied()));
            })?;
            self.execute(history, statement).await?;
        }
        Ok(())
    }

    /// Copies course enrollments into `student_courseenrollment_history`, whose `history_id`
    /// is a random UUID per row (made by the database where it can, else here and joined to
    /// the live rows by id).
    async fn record_course_enrollment_history(&self, ids: &[i64], kind: HistoryType, at: &Value) -> StoreResult<()> {
        let backend = self.backend();
        let encoding = self.context.encoding;
        let columns = self.context.catalog.history_copy_columns(tables::CE, tables::CE_HISTORY);
        let rows = HistoryRows {
            live: tables::CE,
            history: tables::CE_HISTORY,
            columns: &columns,
            at: at.clone(),
            kind,
            user: self.history_user,
        };
        if let Some(random_uuid) = backend.random_uuid(encoding.history_id) {
            for chunk in ids.chunks(backend.max_binds()) {
                let statement = rows.statement(backend, Some(random_uuid.clone()), |select| {
                    select.from(tables::CE).and_where(Expr::col((tables::CE, "id")).is_in(chunk.iter().copied()));
                })?;
                self.execute(tables::CE_HISTORY, statement).await?;
            }
            return Ok(());
        }
        for chunk in ids.chunks(backend.max_binds() / 2) {
            let new_ids: Vec<Row> =
                chunk.iter().map(|&id| (id, vec![encoding.uuid(&uuid::Uuid::new_v4(), encoding.history_id)])).collect();
            // The few new rows drive the join (`CROSS JOIN` keeps that order on SQLite), each
            // finding its live row by primary key.
            let statement = rows.statement(backend, Some(Expr::col((V, "history_id"))), |select| {
                select
                    .from(values_table(backend, &["history_id"], &new_ids))
                    .cross_join(tables::CE)
                    .and_where(Expr::col((tables::CE, "id")).equals((V, "id")));
            })?;
            self.execute(tables::CE_HISTORY, statement).await?;
        }
        Ok(())
    }

    /// Runs `update` for `rows`; returns the number of rows it changed.
    async fn update(&self, update: &BulkUpdate<'_>, rows: &[Row]) -> StoreResult<u64> {
        let mut changed = 0;
        for statement in update.statements(self.backend(), rows) {
            changed += self.execute(update.table, statement).await?;
        }
        Ok(changed)
    }

    /// Runs `update` for `rows` (`fixed` holding this call's `modified`), then writes the
    /// history rows of the rows it changed; returns, in order, the ids of the rows it left as
    /// they were (their condition no longer held: another writer changed them since our read).
    async fn update_with_history(
        &self,
        update: &BulkUpdate<'_>,
        history: &'static str,
        rows: &[Row],
        now: Value,
    ) -> StoreResult<Vec<i64>> {
        let changed = self.update(update, rows).await?;
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let written = if usize::try_from(changed).is_ok_and(|changed| changed == ids.len()) {
            ids.clone()
        } else {
            // The rows this call wrote carry its `modified` stamp; the others are left as they were.
            let mut written = Vec::with_capacity(ids.len());
            self.each_row(&update.written(), (update.table, "id"), &ids, |row| {
                written.push(get_i64(row, "id")?);
                Ok(())
            })
            .await?;
            written
        };
        if !written.is_empty() {
            self.record_history(update.table, history, &written, HistoryType::Update, now).await?;
        }
        let written: HashSet<i64> = written.into_iter().collect();
        Ok(ids.into_iter().filter(|id| !written.contains(id)).collect())
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
            let head = select(tables::CE, &["id", "user_id", "course_id"]);
            self.each_row(&head, (tables::CE, "user_id"), &users, |row| {
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

    fn require_roles(&self) -> StoreResult<()> {
        if self.context.catalog.roles_supported() {
            Ok(())
        } else {
            Err(StoreError::Misuse("the course access role tables do not exist"))
        }
    }
}

#[async_trait]
impl LinkingWrites for SeaTransaction {
    /// Sets the user of each PE still waiting (`user_id IS NULL`).
    async fn link_program_enrollments(&self, links: &[ProgramEnrollmentLink]) -> StoreResult<Vec<ProgramEnrollmentId>> {
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let update = BulkUpdate {
            table: tables::PE,
            set: &["user_id"],
            compare: &[],
            fixed: vec![("modified", now.clone())],
            only_if_null: Some("user_id"),
        };
        let rows: Vec<Row> = links.iter().map(|l| (l.program_enrollment.0, vec![Value::from(l.user_id.0)])).collect();
        let untouched = self.update_with_history(&update, tables::PE_HISTORY, &rows, now).await?;
        Ok(untouched.into_iter().map(ProgramEnrollmentId).collect())
    }

    async fn create_course_enrollments(&self, enrollments: &[NewCourseEnrollment]) -> StoreResult<()> {
        if enrollments.is_empty() {
            return Ok(());
        }
        let backend = self.backend();
        let now = self.now();
        for chunk in enrollments.chunks(backend.max_binds() / 5) {
            let mut insert = Query::insert();
            insert.into_table(tables::CE).columns(["user_id", "course_id", "created", "is_active", "mode"]);
            for new in chunk {
                insert
                    .values([
                        Expr::val(new.user_id.0),
                        Expr::val(new.course_key.as_str()),
                        Expr::val(now.clone()),
                        Expr::val(new.is_active),
                        Expr::val(new.mode.as_str()),
                    ])
                    .map_err(|_| StoreError::Misuse("a course enrollment insert's columns and values differ"))?;
            }
            if backend.insert_returning() {
                insert.returning(Query::returning().columns(["id", "user_id", "course_id"]));
                let rows = self.query_write(tables::CE, build(backend, &insert)).await?;
                let mut created = self.created.lock().map_err(|_| StoreError::Misuse("a poisoned lock"))?;
                for row in rows {
                    created.insert((get_i64(&row, "user_id")?, get_string(&row, "course_id")?), get_i64(&row, "id")?);
                }
            } else {
                self.execute(tables::CE, build(backend, &insert)).await?;
            }
        }
        let refs: Vec<CourseEnrollmentRef> = enrollments
            .iter()
            .map(|new| CourseEnrollmentRef::New { user_id: new.user_id, course_key: new.course_key.clone() })
            .collect();
        let ids = self.resolve(&refs.iter().collect::<Vec<_>>()).await?;
        if !backend.insert_returning() {
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
        let rows: Vec<Row> = changes
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
            set: &["mode", "is_active"],
            compare: &[("read_mode", "mode"), ("read_active", "is_active")],
            fixed: vec![],
            only_if_null: None,
        };
        let changed = self.update(&update, &rows).await?;
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
        let rows: Vec<Row> = attachments
            .iter()
            .zip(&ids)
            .map(|(a, &ce)| (a.program_course_enrollment.0, vec![Value::from(ce)]))
            .collect();
        let update = BulkUpdate {
            table: tables::PCE,
            set: &["course_enrollment_id"],
            compare: &[],
            fixed: vec![("modified", now.clone())],
            only_if_null: None,
        };
        self.update(&update, &rows).await?;
        let pces: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        self.record_history(tables::PCE, tables::PCE_HISTORY, &pces, HistoryType::Update, now).await
    }

    async fn mark_invitations_used(&self, uses: &[InvitationUse]) -> StoreResult<()> {
        if uses.is_empty() || !self.context.catalog.has_table(tables::INVITATION) {
            return Ok(());
        }
        let rows: Vec<Row> = uses.iter().map(|u| (u.invitation.0, vec![Value::from(u.user_id.0)])).collect();
        let update = BulkUpdate {
            table: tables::INVITATION,
            set: &["user_id"],
            compare: &[],
            fixed: vec![],
            only_if_null: Some("user_id"),
        };
        self.update(&update, &rows).await?;
        Ok(())
    }

    /// Sets the user of each PE still linked to the given user to NULL.
    async fn unlink_program_enrollments(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>> {
        if unlinks.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let update = BulkUpdate {
            table: tables::PE,
            set: &[],
            compare: &[("old_user", "user_id")],
            fixed: vec![("user_id", Value::BigInt(None)), ("modified", now.clone())],
            only_if_null: None,
        };
        let rows: Vec<Row> = unlinks.iter().map(|u| (u.program_enrollment.0, vec![Value::from(u.user_id.0)])).collect();
        let untouched = self.update_with_history(&update, tables::PE_HISTORY, &rows, now).await?;
        Ok(unlinks.iter().map(|u| u.program_enrollment).filter(|pe| untouched.contains(&pe.0)).collect())
    }

    /// Deactivates course enrollments, moving those with a mode to it.
    async fn deactivate_course_enrollments(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()> {
        if deactivations.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let with_mode: Vec<Row> = deactivations
            .iter()
            .filter_map(|d| Some((d.enrollment.0, vec![Value::from(d.mode.as_ref()?.as_str())])))
            .collect();
        let without_mode: Vec<Row> =
            deactivations.iter().filter(|d| d.mode.is_none()).map(|d| (d.enrollment.0, vec![])).collect();
        for (set, rows) in [(&["mode"][..], with_mode), (&[][..], without_mode)] {
            if rows.is_empty() {
                continue;
            }
            let update = BulkUpdate {
                table: tables::CE,
                set,
                compare: &[],
                fixed: vec![("is_active", Value::from(false))],
                only_if_null: None,
            };
            self.update(&update, &rows).await?;
        }
        let ids: Vec<i64> = deactivations.iter().map(|d| d.enrollment.0).collect();
        self.record_course_enrollment_history(&ids, HistoryType::Update, &now).await
    }

    /// Sets the course enrollment of PCEs to NULL.
    async fn detach_course_enrollments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<()> {
        if program_course_enrollments.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let update = BulkUpdate {
            table: tables::PCE,
            set: &[],
            compare: &[],
            fixed: vec![("course_enrollment_id", Value::BigInt(None)), ("modified", now.clone())],
            only_if_null: None,
        };
        let rows: Vec<Row> = program_course_enrollments.iter().map(|p| (p.0, vec![])).collect();
        self.update(&update, &rows).await?;
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        self.record_history(tables::PCE, tables::PCE_HISTORY, &ids, HistoryType::Update, now).await
    }

    /// Inserts course access roles that do not exist yet (one `INSERT … SELECT … WHERE NOT
    /// EXISTS` per chunk).
    async fn grant_course_access_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        if grants.is_empty() {
            return Ok(());
        }
        self.require_roles()?;
        let backend = self.backend();
        let rows: Vec<Row> = grants
            .iter()
            .map(|g| {
                (
                    g.user_id.0,
                    vec![Value::from(g.org.as_str()), Value::from(g.course_key.as_str()), Value::from(g.role.as_str())],
                )
            })
            .collect();
        let columns = ["org", "course_id", "role"];
        for chunk in rows.chunks((backend.max_binds() / 4).max(1)) {
            let mut existing = Query::select();
            existing
                .expr(Expr::val(1))
                .from_as(tables::ROLE, "r")
                .and_where(Expr::col(("r", "user_id")).equals((V, "id")));
            for column in columns {
                existing.and_where(Expr::col(("r", column)).equals((V, column)));
            }
            let mut new_roles = Query::select();
            new_roles
                .column((V, "id"))
                .columns(columns.map(|c| (V, c)))
                .from(values_table(backend, &columns, chunk))
                .and_where(Expr::not_exists(existing));
            let mut insert = Query::insert();
            insert
                .into_table(tables::ROLE)
                .columns(["user_id", "org", "course_id", "role"])
                .select_from(new_roles)
                .map_err(|_| StoreError::Misuse("a role insert's columns and values differ"))?;
            self.execute(tables::ROLE, build(backend, &insert)).await?;
        }
        Ok(())
    }

    async fn delete_role_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()> {
        if assignments.is_empty() {
            return Ok(());
        }
        self.require_roles()?;
        let ids: Vec<i64> = assignments.iter().map(|a| a.0).collect();
        for chunk in ids.chunks(self.backend().max_binds()) {
            let delete = Query::delete()
                .from_table(tables::ROLE_ASSIGNMENT)
                .and_where(Expr::col((tables::ROLE_ASSIGNMENT, "id")).is_in(chunk.iter().copied()))
                .take();
            self.execute(tables::ROLE_ASSIGNMENT, build(self.backend(), &delete)).await?;
        }
        Ok(())
    }
}
