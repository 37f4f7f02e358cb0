//! The bulk reads, in chunks that respect each backend's limit on bound values, with exact
//! matching in Rust after the SQL filter (MySQL's default collations ignore case and trailing
//! spaces, so `IN` may return more rows than asked for; never fewer).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use domain::{
    CourseEnrollmentId, CourseEnrollmentRecord, CourseKey, CourseMode, CourseModeRecord, CurriculumUuid,
    ExternalUserKey, InvitationId, InvitationRecord, LinkedUser, PceStatus, ProgramCourseEnrollmentId,
    ProgramCourseEnrollmentRecord, ProgramEnrollmentId, ProgramEnrollmentRecord, ProgramUuid, RoleAssignmentRecord,
    UserId, UserProgramEnrollment, UserRecord, Username,
};
use ports::{LinkingReads, StoreError, StoreResult};
use sea_orm::{ConnectionTrait, QueryResult, Statement, Value};

use crate::catalog::tables;
use crate::dialect::{get_bool, get_i64, get_opt_i64, get_string, get_uuid};
use crate::error::backend_error;
use crate::sql::Sql;
use crate::transaction::SeaTransaction;

fn corrupt(table: &'static str, id: i64, error: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptData { table, detail: format!("id={id}: {error}") }
}

impl SeaTransaction {
    pub(crate) async fn query(&self, statement: Statement) -> StoreResult<Vec<QueryResult>> {
        self.txn.query_all_raw(statement).await.map_err(|e| backend_error(self.backend(), e))
    }

    /// Runs `head (chunk) tail` for each chunk of `values` and hands each row to `each`; `head`
    /// ends in `IN ` and binds at most a few values of its own. Rows are decoded chunk by chunk,
    /// never all held at once.
    pub(crate) async fn each_row<V, F>(&self, head: &Sql, values: &[V], tail: &str, mut each: F) -> StoreResult<()>
    where
        V: Into<Value> + Clone,
        F: FnMut(&QueryResult) -> StoreResult<()>,
    {
        for chunk in values.chunks(self.backend().max_binds()) {
            let mut sql = head.clone();
            sql.bind_list(chunk.iter().cloned()).push(tail);
            for row in self.query(sql.build()).await? {
                each(&row)?;
            }
        }
        Ok(())
    }

    /// Sets the user of `found[i]` for each `(i, user id)` of `linked`, reading the usernames by
    /// id. A user id without its `auth_user` row is corrupt data.
    async fn attach_usernames(
        &self,
        found: &mut [ProgramEnrollmentRecord],
        linked: &[(usize, i64)],
    ) -> StoreResult<()> {
        if linked.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<i64> = linked.iter().map(|&(_, user_id)| user_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let head = Sql::new(self.backend(), "SELECT id, username FROM auth_user WHERE id IN ");
        let mut usernames: HashMap<i64, Username> = HashMap::with_capacity(ids.len());
        self.each_row(&head, &ids, "", |row| {
            let id = get_i64(row, "id")?;
            let username = Username::parse(get_string(row, "username")?).map_err(|e| corrupt(tables::USER, id, e))?;
            usernames.insert(id, username);
            Ok(())
        })
        .await?;
        for &(i, user_id) in linked {
            let Some(pe) = found.get_mut(i) else { continue };
            let username = usernames
                .get(&user_id)
                .cloned()
                .ok_or_else(|| corrupt(tables::PE, pe.id.0, format!("no auth_user id={user_id}")))?;
            pe.user = Some(LinkedUser { id: UserId(user_id), username });
        }
        Ok(())
    }
}

#[async_trait]
impl LinkingReads for SeaTransaction {
    async fn program_enrollments_by_keys(
        &self,
        program_uuid: ProgramUuid,
        keys: &[ExternalUserKey],
    ) -> StoreResult<Vec<ProgramEnrollmentRecord>> {
        let backend = self.backend();
        // Filtered by key only, the program compared here (a key is in few programs): a
        // `program_uuid` condition that most rows meet leads PostgreSQL's planner to test each row
        // of the program against the whole `IN` list instead of using the key's index.
        let head = Sql::new(
            backend,
            &format!(
                "SELECT pe.id, pe.external_user_key, {}, {}, pe.user_id \
                 FROM program_enrollments_programenrollment pe WHERE pe.external_user_key IN ",
                backend.uuid_as_text("pe.program_uuid", "program_uuid"),
                backend.uuid_as_text("pe.curriculum_uuid", "curriculum_uuid")
            ),
        );
        let values: Vec<&str> = keys.iter().map(ExternalUserKey::as_str).collect();
        let wanted: HashSet<&str> = values.iter().copied().collect();
        let mut found = Vec::new();
        let mut index = HashMap::new();
        // (position in `found`, user id) of the PEs that have a user: their usernames are read
        // by id afterwards (a join lets PostgreSQL hash the whole user table for every chunk).
        let mut linked: Vec<(usize, i64)> = Vec::new();
        self.each_row(&head, &values, "", |row| {
            let id = get_i64(row, "id")?;
            let key = get_string(row, "external_user_key")?;
            if !wanted.contains(key.as_str()) || get_uuid(row, "program_uuid")? != *program_uuid.as_uuid() {
                return Ok(());
            }
            if let Some(user_id) = get_opt_i64(row, "user_id")? {
                linked.push((found.len(), user_id));
            }
            index.insert(id, found.len());
            found.push(ProgramEnrollmentRecord {
                id: ProgramEnrollmentId(id),
                external_user_key: ExternalUserKey::parse(key).map_err(|e| corrupt(tables::PE, id, e))?,
                curriculum_uuid: CurriculumUuid::from_uuid(get_uuid(row, "curriculum_uuid")?),
                user: None,
                course_enrollments: Vec::new(),
            });
            Ok(())
        })
        .await?;
        self.attach_usernames(&mut found, &linked).await?;
        let ids: Vec<i64> = found.iter().map(|pe| pe.id.0).collect();
        let head = Sql::new(
            backend,
            "SELECT id, program_enrollment_id, course_key, status, course_enrollment_id \
             FROM program_enrollments_programcourseenrollment WHERE program_enrollment_id IN ",
        );
        self.each_row(&head, &ids, "", |row| {
            let id = get_i64(row, "id")?;
            let Some(&i) = index.get(&get_i64(row, "program_enrollment_id")?) else { return Ok(()) };
            let course_key =
                CourseKey::parse(get_string(row, "course_key")?).map_err(|e| corrupt(tables::PCE, id, e))?;
            found[i].course_enrollments.push(ProgramCourseEnrollmentRecord {
                id: ProgramCourseEnrollmentId(id),
                course_key,
                status: PceStatus::parse(&get_string(row, "status")?),
                course_enrollment_id: get_opt_i64(row, "course_enrollment_id")?.map(CourseEnrollmentId),
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn users_by_usernames(&self, usernames: &[Username]) -> StoreResult<Vec<UserRecord>> {
        let head = Sql::new(self.backend(), "SELECT id, username, email, is_active FROM auth_user WHERE username IN ");
        let values: Vec<&str> = usernames.iter().map(Username::as_str).collect();
        let wanted: HashSet<&str> = values.iter().copied().collect();
        let mut users = Vec::new();
        self.each_row(&head, &values, "", |row| {
            let username = get_string(row, "username")?;
            if !wanted.contains(username.as_str()) {
                return Ok(());
            }
            let id = get_i64(row, "id")?;
            users.push(UserRecord {
                id: UserId(id),
                username: Username::parse(username).map_err(|e| corrupt(tables::USER, id, e))?,
                email: get_string(row, "email")?,
                is_active: get_bool(row, "is_active")?,
            });
            Ok(())
        })
        .await?;
        Ok(users)
    }

    async fn program_enrollments_of_users(
        &self,
        program_uuid: ProgramUuid,
        user_ids: &[UserId],
    ) -> StoreResult<Vec<UserProgramEnrollment>> {
        // Filtered by user only, the program compared here: a user has few enrollments, and a
        // `program_uuid` condition that every row meets leads PostgreSQL's planner away from the
        // `user_id` index to a scan that tests each row against the whole `IN` list.
        let backend = self.backend();
        let head = Sql::new(
            backend,
            &format!(
                "SELECT id, user_id, {}, {} FROM program_enrollments_programenrollment WHERE user_id IN ",
                backend.uuid_as_text("program_uuid", "program_uuid"),
                backend.uuid_as_text("curriculum_uuid", "curriculum_uuid")
            ),
        );
        let ids: Vec<i64> = user_ids.iter().map(|u| u.0).collect();
        let mut found = Vec::new();
        self.each_row(&head, &ids, "", |row| {
            if get_uuid(row, "program_uuid")? != *program_uuid.as_uuid() {
                return Ok(());
            }
            found.push(UserProgramEnrollment {
                id: ProgramEnrollmentId(get_i64(row, "id")?),
                user_id: UserId(get_i64(row, "user_id")?),
                curriculum_uuid: CurriculumUuid::from_uuid(get_uuid(row, "curriculum_uuid")?),
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn course_enrollments(
        &self,
        user_ids: &[UserId],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<CourseEnrollmentRecord>> {
        let courses: HashMap<&str, &CourseKey> = course_keys.iter().map(|k| (k.as_str(), k)).collect();
        let ids: Vec<i64> = user_ids.iter().map(|u| u.0).collect();
        let head = Sql::new(
            self.backend(),
            "SELECT id, user_id, course_id, mode, is_active FROM student_courseenrollment WHERE user_id IN ",
        );
        let mut found = Vec::new();
        self.each_row(&head, &ids, "", |row| {
            let course_id = get_string(row, "course_id")?;
            let Some(&course_key) = courses.get(course_id.as_str()) else { return Ok(()) };
            found.push(CourseEnrollmentRecord {
                id: CourseEnrollmentId(get_i64(row, "id")?),
                user_id: UserId(get_i64(row, "user_id")?),
                course_key: course_key.clone(),
                mode: CourseMode::new(get_string(row, "mode")?),
                is_active: get_bool(row, "is_active")?,
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn existing_courses(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseKey>> {
        let head = Sql::new(self.backend(), "SELECT id FROM course_overviews_courseoverview WHERE id IN ");
        let values: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        let mut present = HashSet::new();
        self.each_row(&head, &values, "", |row| {
            present.insert(get_string(row, "id")?);
            Ok(())
        })
        .await?;
        Ok(course_keys.iter().filter(|k| present.contains(k.as_str())).cloned().collect())
    }

    async fn pending_invitations(
        &self,
        emails: &[String],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<InvitationRecord>> {
        if !self.context.catalog.has_table(tables::INVITATION) {
            return Ok(Vec::new());
        }
        let head = Sql::new(
            self.backend(),
            "SELECT id, email, course_id FROM student_courseenrollmentallowed WHERE user_id IS NULL AND email IN ",
        );
        let wanted: HashSet<&str> = emails.iter().map(String::as_str).collect();
        let courses: HashMap<&str, &CourseKey> = course_keys.iter().map(|k| (k.as_str(), k)).collect();
        let mut found = Vec::new();
        self.each_row(&head, emails, "", |row| {
            let email = get_string(row, "email")?;
            let course_id = get_string(row, "course_id")?;
            let (true, Some(&course_key)) = (wanted.contains(email.as_str()), courses.get(course_id.as_str())) else {
                return Ok(());
            };
            found.push(InvitationRecord {
                id: InvitationId(get_i64(row, "id")?),
                email,
                course_key: course_key.clone(),
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn program_enrollment_keys(&self, program_uuid: ProgramUuid) -> StoreResult<Vec<ExternalUserKey>> {
        self.stored_keys(program_uuid).await
    }

    async fn course_modes(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseModeRecord>> {
        self.unexpired_modes(course_keys).await
    }

    async fn course_access_roles_supported(&self) -> StoreResult<bool> {
        Ok(self.roles_supported())
    }

    async fn role_assignments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<Vec<RoleAssignmentRecord>> {
        self.assignments(program_course_enrollments).await
    }
}
