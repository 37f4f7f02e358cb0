//! [`LinkingWrites`]: multi-row statements (one per table per call, split only at the
//! bound-value limit), each followed by its django-simple-history rows, copied from the live
//! rows by `INSERT … SELECT` so that every column of the live row is copied as stored.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::{
    CourseEnrollmentRef, FORUM_STUDENT_ROLE, ForumRoleMembership, NewSchedule, ProgramCourseEnrollmentId,
    ProgramEnrollmentId, RoleAssignmentId, ScheduleReset, Timestamp,
};
use ports::{
    CourseAccessRoleGrant, CourseEnrollmentAttachment, CourseEnrollmentChange, CourseEnrollmentDeactivation,
    InvitationUse, LinkingWrites, NewCourseEnrollment, ProgramEnrollmentLink, ProgramEnrollmentUnlink, StoreError,
    StoreResult,
};
use sea_orm::Value;
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockType, Query};

use crate::backend::Backend;
use crate::catalog::tables;
use crate::decode::{get_i64, get_opt_datetime, get_string};
use crate::statements::{BulkUpdate, HistoryRows, HistoryType, Row, V, build, select, values_table};
use crate::transaction::SeaTransaction;

/// The first key of the PostgreSQL advisory locks taken before creating a course's `Student`
/// role (the second: the course key's `hashtext`): "PEFR", for program enrollments' forum roles.
const FORUM_ROLE_LOCK_SPACE: i32 = 0x5045_4652;

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
        // In id order, the table's storage order: a chunk's rows are spread over the whole table
        // (an operator's file is in the university's order); in order, a chunk reads and writes
        // each page once, where input order revisits pages the page cache has dropped.
        let mut sorted = rows.to_vec();
        sorted.sort_unstable_by_key(|(id, _)| *id);
        for statement in update.statements(self.backend(), &sorted) {
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
        let mut found: HashMap<(i64, String), i64> = HashMap::new();
        let mut wanted: HashMap<i64, HashSet<&str>> = HashMap::new();
        // The rows this savepoint inserted, looked up under the lock (not copied: it may hold
        // thousands); the lock is released before any await.
        {
            let created = self.created.lock().map_err(|_| StoreError::Misuse("a poisoned lock"))?;
            for r in refs {
                if let CourseEnrollmentRef::New { user_id, course_key } = r {
                    let key = (user_id.0, course_key.as_str().to_owned());
                    match created.get(&key) {
                        Some(&id) => {
                            found.insert(key, id);
                        }
                        None => {
                            wanted.entry(user_id.0).or_default().insert(course_key.as_str());
                        }
                    }
                }
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

    /// A rule's time as Django stores a datetime here.
    fn timestamp_value(&self, at: Timestamp) -> StoreResult<Value> {
        DateTime::from_timestamp_micros(at.0)
            .map(|at| self.context.encoding.datetime(at))
            .ok_or(StoreError::Misuse("a schedule time out of range"))
    }

    /// The `created` of course enrollments `ids`, by id (a NULL `created` is read as `now`).
    async fn enrollments_created(&self, ids: &[i64], now: Timestamp) -> StoreResult<HashMap<i64, Timestamp>> {
        let mut created = HashMap::with_capacity(ids.len());
        self.each_row(&select(tables::CE, &["id", "created"]), (tables::CE, "id"), ids, |row| {
            let at = get_opt_datetime(row, "created")?.map_or(now, |at| Timestamp(at.timestamp_micros()));
            created.insert(get_i64(row, "id")?, at);
            Ok(())
        })
        .await?;
        Ok(created)
    }

    /// The ids of the schedules of course enrollments `ids`, by enrollment id.
    async fn schedules_of(&self, ids: &[i64]) -> StoreResult<HashMap<i64, i64>> {
        let mut schedules = HashMap::with_capacity(ids.len());
        let head = select(tables::SCHEDULE, &["id", "enrollment_id"]);
        self.each_row(&head, (tables::SCHEDULE, "enrollment_id"), ids, |row| {
            schedules.insert(get_i64(row, "enrollment_id")?, get_i64(row, "id")?);
            Ok(())
        })
        .await?;
        Ok(schedules)
    }

    /// The ids of the `Student` discussion roles of `course_ids`, the lowest per course (the
    /// table has no unique constraint), matched exactly.
    async fn student_roles(&self, course_ids: &[&str]) -> StoreResult<HashMap<String, i64>> {
        let wanted: HashSet<&str> = course_ids.iter().copied().collect();
        let mut head = select(tables::FORUM_ROLE, &["id", "course_id"]);
        head.and_where(Expr::col((tables::FORUM_ROLE, "name")).eq(FORUM_STUDENT_ROLE));
        let mut roles: HashMap<String, i64> = HashMap::new();
        self.each_row(&head, (tables::FORUM_ROLE, "course_id"), course_ids, |row| {
            let course_id = get_string(row, "course_id")?;
            if wanted.contains(course_id.as_str()) {
                let id = get_i64(row, "id")?;
                roles.entry(course_id).and_modify(|kept| *kept = std::cmp::min(*kept, id)).or_insert(id);
            }
            Ok(())
        })
        .await?;
        Ok(roles)
    }

    /// Makes every other link transaction that would create the `Student` role of one of
    /// `course_ids` wait until this one ends, so that it then finds the role this one created:
    /// the table has no unique constraint, and two transactions that both read no role would
    /// both insert one (the LMS's `get_or_create` has the same race; our concurrent runs and
    /// `--jobs` workers do not). PostgreSQL: a transaction-level advisory lock per course;
    /// MariaDB: the courses' overview rows locked (`FOR UPDATE`, which needs only `SELECT`
    /// there); SQLite has one writer. In sorted order; a deadlock is retried as any other.
    async fn lock_courses_for_roles(&self, course_ids: &[&str]) -> StoreResult<()> {
        let mut sorted = course_ids.to_vec();
        sorted.sort_unstable();
        match self.backend() {
            Backend::Sqlite => {}
            Backend::Postgres => {
                for course_id in sorted {
                    let lock = Func::cust("pg_advisory_xact_lock")
                        .arg(Expr::val(FORUM_ROLE_LOCK_SPACE))
                        .arg(Func::cust("hashtext").arg(Expr::val(course_id)));
                    // `IS NULL`: the function returns `void`, which the driver cannot decode.
                    let select = Query::select().expr(Expr::expr(lock).is_null()).take();
                    self.query(build(Backend::Postgres, &select)).await?;
                }
            }
            Backend::MySql => {
                for chunk in sorted.chunks(self.backend().max_binds()) {
                    let select = Query::select()
                        .column("id")
                        .from(tables::COURSE_OVERVIEW)
                        .and_where(Expr::col("id").is_in(chunk.iter().copied()))
                        .lock(LockType::Update)
                        .take();
                    self.query(build(Backend::MySql, &select)).await?;
                }
            }
        }
        Ok(())
    }

    /// Inserts the `Student` roles of `course_ids` that do not exist (`INSERT … SELECT … WHERE
    /// NOT EXISTS`).
    async fn create_student_roles(&self, course_ids: &[&str]) -> StoreResult<()> {
        let backend = self.backend();
        let courses: Vec<Row> =
            course_ids.iter().zip(0_i64..).map(|(course_id, i)| (i, vec![Value::from(*course_id)])).collect();
        for chunk in courses.chunks((backend.max_binds() / 3).max(1)) {
            let mut existing = Query::select();
            existing
                .expr(Expr::val(1))
                .from_as(tables::FORUM_ROLE, "r")
                .and_where(Expr::col(("r", "course_id")).equals((V, "course_id")))
                .and_where(Expr::col(("r", "name")).eq(FORUM_STUDENT_ROLE));
            let mut new_roles = Query::select();
            new_roles
                .expr(Expr::val(FORUM_STUDENT_ROLE))
                .column((V, "course_id"))
                .from(values_table(backend, &["course_id"], chunk))
                .and_where(Expr::not_exists(existing));
            let mut insert = Query::insert();
            insert
                .into_table(tables::FORUM_ROLE)
                .columns(["name", "course_id"])
                .select_from(new_roles)
                .map_err(|_| StoreError::Misuse("a discussion role insert's columns and values differ"))?;
            self.execute(tables::FORUM_ROLE, build(backend, &insert)).await?;
        }
        Ok(())
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
        // In the order of the `(user_id, course_id)` index, which three of the table's indexes
        // share (see `update`); the new ids follow this order, which nothing depends on.
        let mut sorted: Vec<&NewCourseEnrollment> = enrollments.iter().collect();
        sorted.sort_unstable_by(|a, b| (a.user_id, a.course_key.as_str()).cmp(&(b.user_id, b.course_key.as_str())));
        for chunk in sorted.chunks(backend.max_binds() / 5) {
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

    /// Reads the `Student` roles' ids; creates the missing ones under a lock on their courses
    /// (`lock_courses_for_roles`; `INSERT … SELECT … WHERE NOT EXISTS`) and reads theirs; then
    /// adds the memberships that do not exist (`INSERT … SELECT … WHERE NOT EXISTS`).
    async fn add_forum_student_roles(&self, memberships: &[ForumRoleMembership]) -> StoreResult<()> {
        if memberships.is_empty() || !self.context.catalog.forum_roles_supported() {
            return Ok(());
        }
        let backend = self.backend();
        let mut seen = HashSet::new();
        let course_ids: Vec<&str> =
            memberships.iter().map(|m| m.course_key.as_str()).filter(|c| seen.insert(*c)).collect();
        let mut roles = self.student_roles(&course_ids).await?;
        let missing: Vec<&str> = course_ids.iter().copied().filter(|c| !roles.contains_key(*c)).collect();
        if !missing.is_empty() {
            self.lock_courses_for_roles(&missing).await?;
            self.create_student_roles(&missing).await?;
            roles.extend(self.student_roles(&missing).await?);
        }
        let mut pairs: Vec<(i64, i64)> =
            memberships.iter().filter_map(|m| Some((*roles.get(m.course_key.as_str())?, m.user_id.0))).collect();
        // In the order of the `(role_id, user_id)` index (see `update`), each pair once.
        pairs.sort_unstable();
        pairs.dedup();
        let rows: Vec<Row> = pairs.into_iter().map(|(role, user)| (user, vec![Value::from(role)])).collect();
        for chunk in rows.chunks((backend.max_binds() / 3).max(1)) {
            let mut existing = Query::select();
            existing
                .expr(Expr::val(1))
                .from_as(tables::FORUM_ROLE_USERS, "m")
                .and_where(Expr::col(("m", "role_id")).equals((V, "role_id")))
                .and_where(Expr::col(("m", "user_id")).equals((V, "id")));
            let mut new_members = Query::select();
            new_members
                .column((V, "role_id"))
                .column((V, "id"))
                .from(values_table(backend, &["role_id"], chunk))
                .and_where(Expr::not_exists(existing));
            let mut insert = Query::insert();
            insert
                .into_table(tables::FORUM_ROLE_USERS)
                .columns(["role_id", "user_id"])
                .select_from(new_members)
                .map_err(|_| StoreError::Misuse("a discussion role membership insert's columns and values differ"))?;
            self.execute(tables::FORUM_ROLE_USERS, build(backend, &insert)).await?;
        }
        Ok(())
    }

    /// Inserts the schedules (multi-row), then their experiences and history rows.
    async fn create_schedules(&self, schedules: &[NewSchedule]) -> StoreResult<()> {
        if schedules.is_empty() || !self.context.catalog.schedules_supported() {
            return Ok(());
        }
        let backend = self.backend();
        let at = Utc::now();
        let now = self.context.encoding.datetime(at);
        let ids = self.resolve(&schedules.iter().map(|s| &s.enrollment).collect::<Vec<_>>()).await?;
        let created = self.enrollments_created(&ids, Timestamp(at.timestamp_micros())).await?;
        // In enrollment id order, that of the `enrollment_id` index (see `update`).
        let mut schedules: Vec<(&NewSchedule, i64)> = schedules.iter().zip(ids.iter().copied()).collect();
        schedules.sort_unstable_by_key(|(_, id)| *id);
        let mut values = Vec::with_capacity(schedules.len());
        for (schedule, id) in &schedules {
            let enrollment_created = created
                .get(id)
                .copied()
                .ok_or(StoreError::Misuse("a schedule names a course enrollment that does not exist"))?;
            let start = schedule.start_date(enrollment_created);
            let deadline = match schedule.upgrade_deadline(start) {
                Some(deadline) => self.timestamp_value(deadline)?,
                None => now.as_null(),
            };
            values.push([
                now.clone(),
                now.clone(),
                Value::from(true),
                self.timestamp_value(start)?,
                deadline,
                Value::from(*id),
            ]);
        }
        for chunk in values.chunks(backend.max_binds() / 6) {
            let mut insert = Query::insert();
            insert.into_table(tables::SCHEDULE).columns([
                "created",
                "modified",
                "active",
                "start_date",
                "upgrade_deadline",
                "enrollment_id",
            ]);
            for row in chunk {
                insert
                    .values(row.iter().cloned().map(Expr::val))
                    .map_err(|_| StoreError::Misuse("a schedule insert's columns and values differ"))?;
            }
            self.execute(tables::SCHEDULE, build(backend, &insert)).await?;
        }
        let by_enrollment = self.schedules_of(&ids).await?;
        let mut schedule_ids = Vec::with_capacity(ids.len());
        let mut experiences = Vec::with_capacity(ids.len());
        for (schedule, id) in &schedules {
            let schedule_id =
                *by_enrollment.get(id).ok_or(StoreError::Misuse("a schedule just inserted cannot be read back"))?;
            schedule_ids.push(schedule_id);
            experiences.push([Value::from(schedule.experience_type), Value::from(schedule_id)]);
        }
        for chunk in experiences.chunks(backend.max_binds() / 2) {
            let mut insert = Query::insert();
            insert.into_table(tables::SCHEDULE_EXPERIENCE).columns(["experience_type", "schedule_id"]);
            for row in chunk {
                insert
                    .values(row.iter().cloned().map(Expr::val))
                    .map_err(|_| StoreError::Misuse("a schedule experience insert's columns and values differ"))?;
            }
            self.execute(tables::SCHEDULE_EXPERIENCE, build(backend, &insert)).await?;
        }
        self.record_history(tables::SCHEDULE, tables::SCHEDULE_HISTORY, &schedule_ids, HistoryType::Insert, now).await
    }

    /// Reads the enrollments' schedules and `created`, then sets each schedule's `start_date`
    /// in one multi-row update, with history rows.
    async fn reset_schedule_starts(&self, resets: &[ScheduleReset]) -> StoreResult<()> {
        if resets.is_empty() || !self.context.catalog.schedules_supported() {
            return Ok(());
        }
        let at = Utc::now();
        let now = self.context.encoding.datetime(at);
        let ids = self.resolve(&resets.iter().map(|r| &r.enrollment).collect::<Vec<_>>()).await?;
        let schedules = self.schedules_of(&ids).await?;
        let with_schedule: Vec<i64> = ids.iter().copied().filter(|id| schedules.contains_key(id)).collect();
        if with_schedule.is_empty() {
            return Ok(());
        }
        let created = self.enrollments_created(&with_schedule, Timestamp(at.timestamp_micros())).await?;
        let mut rows: Vec<Row> = Vec::with_capacity(with_schedule.len());
        for (reset, id) in resets.iter().zip(&ids) {
            let (Some(&schedule_id), Some(&enrollment_created)) = (schedules.get(id), created.get(id)) else {
                continue;
            };
            let start = reset.start_date(enrollment_created, Timestamp(at.timestamp_micros()));
            rows.push((schedule_id, vec![self.timestamp_value(start)?]));
        }
        let update = BulkUpdate {
            table: tables::SCHEDULE,
            set: &["start_date"],
            compare: &[],
            fixed: vec![("modified", now.clone())],
            only_if_null: None,
        };
        self.update(&update, &rows).await?;
        let schedule_ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        self.record_history(tables::SCHEDULE, tables::SCHEDULE_HISTORY, &schedule_ids, HistoryType::Update, now).await
    }
}
