//! The reads and writes of upstream's later behaviours: the program's stored keys
//! (case-insensitive keys), course modes and unlinking (relinking), and course access role
//! fulfilment. Same rules as the rest: bound values, chunks, exact matching in Rust.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use domain::{
    CourseKey, CourseMode, CourseModeRecord, ExternalUserKey, ProgramCourseEnrollmentId, ProgramEnrollmentId,
    ProgramUuid, RoleAssignmentId, RoleAssignmentRecord,
};
use ports::{CourseAccessRoleGrant, CourseEnrollmentDeactivation, ProgramEnrollmentUnlink, StoreError, StoreResult};
use sea_orm::Value;

use crate::catalog::tables;
use crate::dialect::{get_i64, get_opt_datetime, get_opt_string, get_string};
use crate::sql::Sql;
use crate::transaction::SeaTransaction;
use crate::writes::{BulkUpdate, HistoryType, values_table};

impl SeaTransaction {
    /// Every distinct stored key of the program. No `DISTINCT` in SQL: MySQL's collations would
    /// merge keys that differ by case.
    pub(crate) async fn stored_keys(&self, program_uuid: ProgramUuid) -> StoreResult<Vec<ExternalUserKey>> {
        let encoding = self.context.encoding;
        let mut sql = Sql::new(
            self.backend(),
            "SELECT id, external_user_key FROM program_enrollments_programenrollment WHERE program_uuid = ",
        );
        sql.bind(encoding.uuid(program_uuid.as_uuid(), encoding.program_uuid))
            .push(" AND external_user_key IS NOT NULL");
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for row in self.query(sql.build()).await? {
            let Some(key) = get_opt_string(&row, "external_user_key")? else { continue };
            if seen.insert(key.clone()) {
                let id = get_i64(&row, "id")?;
                keys.push(
                    ExternalUserKey::parse(key)
                        .map_err(|e| StoreError::CorruptData { table: tables::PE, detail: format!("id={id}: {e}") })?,
                );
            }
        }
        Ok(keys)
    }

    /// The modes of `course_keys` unexpired now.
    pub(crate) async fn unexpired_modes(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseModeRecord>> {
        if !self.context.catalog.has_table(tables::COURSE_MODE) {
            return Ok(Vec::new());
        }
        let head = Sql::new(
            self.backend(),
            "SELECT course_id, mode_slug, expiration_datetime FROM course_modes_coursemode WHERE course_id IN ",
        );
        let courses: HashMap<&str, &CourseKey> = course_keys.iter().map(|k| (k.as_str(), k)).collect();
        let values: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        let now = Utc::now();
        let mut found = Vec::new();
        self.each_row(&head, &values, "", |row| {
            let course_id = get_string(row, "course_id")?;
            let Some(&course_key) = courses.get(course_id.as_str()) else { return Ok(()) };
            if get_opt_datetime(row, "expiration_datetime")?.is_none_or(|at| at > now) {
                found.push(CourseModeRecord {
                    course_key: course_key.clone(),
                    mode: CourseMode::new(get_string(row, "mode_slug")?),
                });
            }
            Ok(())
        })
        .await?;
        Ok(found)
    }

    pub(crate) fn roles_supported(&self) -> bool {
        self.context.catalog.has_table(tables::ROLE) && self.context.catalog.has_table(tables::ROLE_ASSIGNMENT)
    }

    /// The pending role assignments of PCEs.
    pub(crate) async fn assignments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<Vec<RoleAssignmentRecord>> {
        if !self.roles_supported() {
            return Ok(Vec::new());
        }
        let head = Sql::new(
            self.backend(),
            "SELECT id, enrollment_id, role FROM program_enrollments_courseaccessroleassignment WHERE enrollment_id IN ",
        );
        let ids: Vec<i64> = program_course_enrollments.iter().map(|p| p.0).collect();
        let mut found = Vec::new();
        self.each_row(&head, &ids, "", |row| {
            found.push(RoleAssignmentRecord {
                id: RoleAssignmentId(get_i64(row, "id")?),
                program_course_enrollment: ProgramCourseEnrollmentId(get_i64(row, "enrollment_id")?),
                role: get_string(row, "role")?,
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    /// Sets the user of each PE still linked to the given user to NULL; returns the PEs that
    /// were not, untouched.
    pub(crate) async fn unlink_linked(
        &self,
        unlinks: &[ProgramEnrollmentUnlink],
    ) -> StoreResult<Vec<ProgramEnrollmentId>> {
        if unlinks.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let update = BulkUpdate {
            table: tables::PE,
            columns: &[],
            guards: &[],
            fixed: vec![("user_id", Value::BigInt(None)), ("modified", now.clone())],
            condition: String::new(),
        };
        let backend = self.backend();
        // `v.id` is the PE; the condition on its current user is a second join column.
        let rows: Vec<(i64, Vec<Value>)> =
            unlinks.iter().map(|u| (u.program_enrollment.0, vec![Value::from(u.user_id.0)])).collect();
        let mut changed = 0;
        for statement in update.statements_matching(backend, &rows, "old_user", "user_id") {
            changed += self.execute(tables::PE, statement).await?;
        }
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let written = if usize::try_from(changed).is_ok_and(|changed| changed == ids.len()) {
            ids.clone()
        } else {
            let mut head = Sql::new(
                backend,
                "SELECT id FROM program_enrollments_programenrollment WHERE user_id IS NULL AND modified = ",
            );
            head.bind(now.clone()).push(" AND id IN ");
            let mut written = Vec::new();
            self.each_row(&head, &ids, "", |row| {
                written.push(get_i64(row, "id")?);
                Ok(())
            })
            .await?;
            written
        };
        if !written.is_empty() {
            self.record_history(tables::PE, tables::PE_HISTORY, &written, HistoryType::Update, now).await?;
        }
        let written: HashSet<i64> = written.into_iter().collect();
        Ok(unlinks.iter().map(|u| u.program_enrollment).filter(|pe| !written.contains(&pe.0)).collect())
    }

    /// Deactivates course enrollments, moving those with a mode to it.
    pub(crate) async fn deactivate(&self, deactivations: &[CourseEnrollmentDeactivation]) -> StoreResult<()> {
        if deactivations.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let with_mode: Vec<(i64, Vec<Value>)> = deactivations
            .iter()
            .filter_map(|d| Some((d.enrollment.0, vec![Value::from(d.mode.as_ref()?.as_str())])))
            .collect();
        let without_mode: Vec<(i64, Vec<Value>)> =
            deactivations.iter().filter(|d| d.mode.is_none()).map(|d| (d.enrollment.0, vec![])).collect();
        let fixed = vec![("is_active", Value::from(false))];
        for (columns, rows) in [(&["mode"][..], with_mode), (&[][..], without_mode)] {
            if rows.is_empty() {
                continue;
            }
            let update =
                BulkUpdate { table: tables::CE, columns, guards: &[], fixed: fixed.clone(), condition: String::new() };
            for statement in update.statements(self.backend(), &rows) {
                self.execute(tables::CE, statement).await?;
            }
        }
        let ids: Vec<i64> = deactivations.iter().map(|d| d.enrollment.0).collect();
        self.record_course_enrollment_history(&ids, HistoryType::Update, &now).await
    }

    /// Sets the course enrollment of PCEs to NULL.
    pub(crate) async fn detach(&self, program_course_enrollments: &[ProgramCourseEnrollmentId]) -> StoreResult<()> {
        if program_course_enrollments.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let update = BulkUpdate {
            table: tables::PCE,
            columns: &[],
            guards: &[],
            fixed: vec![("course_enrollment_id", Value::BigInt(None)), ("modified", now.clone())],
            condition: String::new(),
        };
        let rows: Vec<(i64, Vec<Value>)> = program_course_enrollments.iter().map(|p| (p.0, vec![])).collect();
        for statement in update.statements(self.backend(), &rows) {
            self.execute(tables::PCE, statement).await?;
        }
        let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        self.record_history(tables::PCE, tables::PCE_HISTORY, &ids, HistoryType::Update, now).await
    }

    /// Inserts course access roles that do not exist yet (one `INSERT … SELECT … WHERE NOT
    /// EXISTS` per chunk).
    pub(crate) async fn grant_roles(&self, grants: &[CourseAccessRoleGrant]) -> StoreResult<()> {
        if grants.is_empty() {
            return Ok(());
        }
        if !self.roles_supported() {
            return Err(StoreError::Misuse("the course access role tables do not exist"));
        }
        let backend = self.backend();
        let rows: Vec<(i64, Vec<Value>)> = grants
            .iter()
            .map(|g| {
                (
                    g.user_id.0,
                    vec![Value::from(g.org.as_str()), Value::from(g.course_key.as_str()), Value::from(g.role.as_str())],
                )
            })
            .collect();
        for chunk in rows.chunks((backend.max_binds() / 4).max(1)) {
            let mut sql = Sql::new(
                backend,
                &format!(
                    "INSERT INTO {role} (user_id, org, course_id, role) SELECT v.id, v.org, v.course_id, v.role FROM ",
                    role = tables::ROLE
                ),
            );
            values_table(&mut sql, backend, &["org", "course_id", "role"], chunk);
            sql.push(&format!(
                " WHERE NOT EXISTS (SELECT 1 FROM {role} r WHERE r.user_id = v.id AND r.org = v.org \
                 AND r.course_id = v.course_id AND r.role = v.role)",
                role = tables::ROLE
            ));
            self.execute(tables::ROLE, sql.build()).await?;
        }
        Ok(())
    }

    /// Deletes role assignments.
    pub(crate) async fn delete_assignments(&self, assignments: &[RoleAssignmentId]) -> StoreResult<()> {
        if assignments.is_empty() {
            return Ok(());
        }
        if !self.roles_supported() {
            return Err(StoreError::Misuse("the course access role tables do not exist"));
        }
        let ids: Vec<i64> = assignments.iter().map(|a| a.0).collect();
        for chunk in ids.chunks(self.backend().max_binds()) {
            let mut sql = Sql::new(self.backend(), &format!("DELETE FROM {} WHERE id IN ", tables::ROLE_ASSIGNMENT));
            sql.bind_list(chunk.iter().copied());
            self.execute(tables::ROLE_ASSIGNMENT, sql.build()).await?;
        }
        Ok(())
    }
}
