//! [`LinkingReads`]: the bulk reads, in chunks that respect each backend's limit on bound
//! values, matched in Rust after the SQL filter: external keys and usernames exactly (MySQL's
//! default collations ignore case and trailing spaces, so `IN` may return more rows than asked
//! for; never fewer), course keys and emails under the database's [`Collation`] (as upstream's
//! SQL lookups compare them), returned as stored.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::Utc;
use domain::DeadlineSetting;
use domain::{
    Collation, CourseEnrollmentId, CourseEnrollmentRecord, CourseKey, CourseMode, CourseModeRecord,
    CourseOverviewRecord, CurriculumUuid, ExternalUserKey, InvitationId, InvitationRecord, LinkedUser, PceStatus,
    ProgramCourseEnrollmentId, ProgramCourseEnrollmentRecord, ProgramEnrollmentId, ProgramEnrollmentRecord,
    ProgramUuid, RoleAssignmentId, RoleAssignmentRecord, Timestamp, UpgradeDeadlineSettings, UserId,
    UserProgramEnrollment, UserRecord, Username,
};
use ports::{LinkingReads, StoreError, StoreResult};
use sea_orm::QueryResult;
use sea_orm::sea_query::{Expr, ExprTrait, Order, SelectStatement};

use crate::catalog::tables;
use crate::decode::{
    get_bool, get_i64, get_opt_bool, get_opt_datetime, get_opt_i64, get_opt_string, get_string, get_uuid,
};
use crate::statements::{build, select};
use crate::transaction::SeaTransaction;

fn corrupt(table: &'static str, id: i64, error: impl std::fmt::Display) -> StoreError {
    StoreError::CorruptData { table, detail: format!("id={id}: {error}") }
}

/// The texts by which `collation` compares `values`.
fn keys_under<'a>(collation: Collation, values: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    values.into_iter().map(|value| collation.key(value).into_owned()).collect()
}

impl SeaTransaction {
    /// `SELECT columns, program_uuid, curriculum_uuid FROM program_enrollment`, the UUIDs as text.
    fn select_program_enrollments(&self, columns: &[&'static str]) -> SelectStatement {
        let mut select = select(tables::PE, columns);
        for column in ["program_uuid", "curriculum_uuid"] {
            select.expr_as(self.backend().uuid_as_text(Expr::col((tables::PE, column))), column);
        }
        select
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
        let mut usernames: HashMap<i64, Username> = HashMap::with_capacity(ids.len());
        self.each_row(&select(tables::USER, &["id", "username"]), (tables::USER, "id"), &ids, |row| {
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

/// A configuration row as the rules read it (`opt_out` only where the table has it).
fn deadline_setting(row: &QueryResult, has_opt_out: bool) -> StoreResult<DeadlineSetting> {
    Ok(DeadlineSetting {
        enabled: get_bool(row, "enabled")?,
        deadline_days: get_i64(row, "deadline_days")?,
        opt_out: has_opt_out && get_bool(row, "opt_out")?,
    })
}

impl SeaTransaction {
    /// The current row (latest `change_date`, then id) of each of `keys` in a per-organisation
    /// or per-course configuration table, by key; empty where the table does not exist.
    async fn current_deadline_settings(
        &self,
        table: &'static str,
        key_column: &'static str,
        keys: &[&str],
    ) -> StoreResult<HashMap<String, DeadlineSetting>> {
        let mut latest: HashMap<String, (Option<chrono::DateTime<Utc>>, i64, DeadlineSetting)> = HashMap::new();
        if keys.is_empty() || !self.context.catalog.has_table(table) {
            return Ok(HashMap::new());
        }
        let wanted: HashSet<&str> = keys.iter().copied().collect();
        let head = select(table, &["id", "change_date", "enabled", "deadline_days", "opt_out", key_column]);
        self.each_row(&head, (table, key_column), keys, |row| {
            let key = get_string(row, key_column)?;
            if !wanted.contains(key.as_str()) {
                return Ok(());
            }
            let candidate = (get_opt_datetime(row, "change_date")?, get_i64(row, "id")?, deadline_setting(row, true)?);
            match latest.get(&key) {
                Some(kept) if (kept.0, kept.1) >= (candidate.0, candidate.1) => {}
                _ => {
                    latest.insert(key, candidate);
                }
            }
            Ok(())
        })
        .await?;
        Ok(latest.into_iter().map(|(key, (_, _, setting))| (key, setting)).collect())
    }

    /// `CourseMode.verified_mode_for_course` per course: the unexpired `professional` mode, else
    /// `verified`; the expiration of the one found, where it has one.
    async fn verified_expirations(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<(CourseKey, Timestamp)>> {
        let now = Utc::now();
        let mut head = select(tables::COURSE_MODE, &["course_id", "mode_slug", "expiration_datetime"]);
        head.and_where(Expr::col((tables::COURSE_MODE, "mode_slug")).is_in(["professional", "verified"]));
        let values: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        // (professional, verified) per course: `Some(expiration)` for an unexpired mode.
        let mut modes: HashMap<String, [Option<Option<chrono::DateTime<Utc>>>; 2]> = HashMap::new();
        self.each_row(&head, (tables::COURSE_MODE, "course_id"), &values, |row| {
            let expiration = get_opt_datetime(row, "expiration_datetime")?;
            if expiration.is_some_and(|at| at <= now) {
                return Ok(());
            }
            let slot = match get_string(row, "mode_slug")?.as_str() {
                "professional" => 0,
                "verified" => 1,
                _ => return Ok(()),
            };
            modes.entry(get_string(row, "course_id")?).or_default()[slot] = Some(expiration);
            Ok(())
        })
        .await?;
        Ok(course_keys
            .iter()
            .filter_map(|k| {
                let [professional, verified] = modes.get(k.as_str())?;
                let at = (*professional).or(*verified)??;
                Some((k.clone(), Timestamp(at.timestamp_micros())))
            })
            .collect())
    }
}

#[async_trait]
impl LinkingReads for SeaTransaction {
    fn collation(&self) -> Collation {
        self.context.catalog.collation()
    }

    async fn program_enrollments_by_keys(
        &self,
        program_uuid: ProgramUuid,
        keys: &[ExternalUserKey],
    ) -> StoreResult<Vec<ProgramEnrollmentRecord>> {
        // Filtered by key only, the program compared here (a key is in few programs): a
        // `program_uuid` condition that most rows meet leads PostgreSQL's planner to test each row
        // of the program against the whole `IN` list instead of using the key's index.
        let head = self.select_program_enrollments(&["id", "external_user_key", "user_id"]);
        let values: Vec<&str> = keys.iter().map(ExternalUserKey::as_str).collect();
        let wanted: HashSet<&str> = values.iter().copied().collect();
        let mut found = Vec::new();
        let mut index = HashMap::new();
        // (position in `found`, user id) of the PEs that have a user: their usernames are read
        // by id afterwards (a join lets PostgreSQL hash the whole user table for every chunk).
        let mut linked: Vec<(usize, i64)> = Vec::new();
        self.each_row(&head, (tables::PE, "external_user_key"), &values, |row| {
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
        let head =
            select(tables::PCE, &["id", "program_enrollment_id", "course_key", "status", "course_enrollment_id"]);
        self.each_row(&head, (tables::PCE, "program_enrollment_id"), &ids, |row| {
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
        let head = select(tables::USER, &["id", "username", "email", "is_active"]);
        let values: Vec<&str> = usernames.iter().map(Username::as_str).collect();
        let wanted: HashSet<&str> = values.iter().copied().collect();
        let mut users = Vec::new();
        self.each_row(&head, (tables::USER, "username"), &values, |row| {
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
        let head = self.select_program_enrollments(&["id", "user_id"]);
        let ids: Vec<i64> = user_ids.iter().map(|u| u.0).collect();
        let mut found = Vec::new();
        self.each_row(&head, (tables::PE, "user_id"), &ids, |row| {
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
        let collation = self.collation();
        let courses = keys_under(collation, course_keys.iter().map(CourseKey::as_str));
        let ids: Vec<i64> = user_ids.iter().map(|u| u.0).collect();
        let head = select(tables::CE, &["id", "user_id", "course_id", "mode", "is_active"]);
        let mut found = Vec::new();
        self.each_row(&head, (tables::CE, "user_id"), &ids, |row| {
            let course_id = get_string(row, "course_id")?;
            if !courses.contains(collation.key(&course_id).as_ref()) {
                return Ok(());
            }
            let id = get_i64(row, "id")?;
            found.push(CourseEnrollmentRecord {
                id: CourseEnrollmentId(id),
                user_id: UserId(get_i64(row, "user_id")?),
                course_key: CourseKey::parse(course_id).map_err(|e| corrupt(tables::CE, id, e))?,
                mode: CourseMode::new(get_string(row, "mode")?),
                is_active: get_bool(row, "is_active")?,
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn existing_courses(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseKey>> {
        let collation = self.collation();
        let values: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        let mut present = HashSet::new();
        self.each_row(&select(tables::COURSE_OVERVIEW, &["id"]), (tables::COURSE_OVERVIEW, "id"), &values, |row| {
            present.insert(collation.key(&get_string(row, "id")?).into_owned());
            Ok(())
        })
        .await?;
        Ok(course_keys.iter().filter(|k| present.contains(collation.key(k.as_str()).as_ref())).cloned().collect())
    }

    /// The overviews' `start`, `self_paced` and `has_highlights`, each read where the column
    /// exists (our migrations' standalone table has none of them: no start, so no schedules).
    async fn course_overviews(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseOverviewRecord>> {
        let catalog = &self.context.catalog;
        let optional = ["start", "self_paced", "has_highlights"];
        let present: Vec<&'static str> =
            optional.into_iter().filter(|c| catalog.column_type(tables::COURSE_OVERVIEW, c).is_some()).collect();
        let columns: Vec<&'static str> = ["id"].into_iter().chain(present.iter().copied()).collect();
        let has = |column: &str| present.contains(&column);
        let wanted: HashMap<&str, &CourseKey> = course_keys.iter().map(|k| (k.as_str(), k)).collect();
        let values: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        let mut found = Vec::new();
        let head = select(tables::COURSE_OVERVIEW, &columns);
        self.each_row(&head, (tables::COURSE_OVERVIEW, "id"), &values, |row| {
            let id = get_string(row, "id")?;
            let Some(&course_key) = wanted.get(id.as_str()) else { return Ok(()) };
            let start = if has("start") { get_opt_datetime(row, "start")? } else { None };
            found.push(CourseOverviewRecord {
                course_key: course_key.clone(),
                start: start.map(|at| Timestamp(at.timestamp_micros())),
                self_paced: has("self_paced") && get_opt_bool(row, "self_paced")?.unwrap_or(false),
                has_highlights: if has("has_highlights") { get_opt_bool(row, "has_highlights")? } else { None },
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    /// Each configuration table's current rows (latest `change_date`, then id, per key, keys
    /// matched exactly), and the unexpired `professional`/`verified` modes' expirations.
    async fn upgrade_deadline_settings(&self, course_keys: &[CourseKey]) -> StoreResult<UpgradeDeadlineSettings> {
        let mut settings = UpgradeDeadlineSettings::default();
        if self.context.catalog.has_table(tables::UPGRADE_DEADLINE) {
            let mut head = select(tables::UPGRADE_DEADLINE, &["id", "change_date", "enabled", "deadline_days"]);
            head.order_by((tables::UPGRADE_DEADLINE, "change_date"), Order::Desc)
                .order_by((tables::UPGRADE_DEADLINE, "id"), Order::Desc)
                .limit(1);
            if let Some(row) = self.query(build(self.backend(), &head)).await?.first() {
                settings.global = Some(deadline_setting(row, false)?);
            }
        }
        let mut orgs: Vec<&str> = course_keys.iter().filter_map(CourseKey::org).collect();
        orgs.sort_unstable();
        orgs.dedup();
        let by_org = self.current_deadline_settings(tables::ORG_UPGRADE_DEADLINE, "org_id", &orgs).await?;
        settings.orgs = orgs.iter().filter_map(|org| Some(((*org).to_owned(), *by_org.get(*org)?))).collect();
        let keys: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        let by_course = self.current_deadline_settings(tables::COURSE_UPGRADE_DEADLINE, "course_id", &keys).await?;
        settings.courses = course_keys.iter().filter_map(|k| Some((k.clone(), *by_course.get(k.as_str())?))).collect();
        let configured = settings.global.is_some() || !settings.orgs.is_empty() || !settings.courses.is_empty();
        if configured && self.context.catalog.has_table(tables::COURSE_MODE) {
            settings.verified_expirations = self.verified_expirations(course_keys).await?;
        }
        Ok(settings)
    }

    async fn forum_roles_supported(&self) -> StoreResult<bool> {
        Ok(self.context.catalog.forum_roles_supported())
    }

    async fn schedules_supported(&self) -> StoreResult<bool> {
        Ok(self.context.catalog.schedules_supported())
    }

    async fn pending_invitations(
        &self,
        emails: &[String],
        course_keys: &[CourseKey],
    ) -> StoreResult<Vec<InvitationRecord>> {
        if !self.context.catalog.has_table(tables::INVITATION) {
            return Ok(Vec::new());
        }
        let mut head = select(tables::INVITATION, &["id", "email", "course_id"]);
        head.and_where(Expr::col((tables::INVITATION, "user_id")).is_null());
        let collation = self.collation();
        let wanted = keys_under(collation, emails.iter().map(String::as_str));
        let courses = keys_under(collation, course_keys.iter().map(CourseKey::as_str));
        let mut found = Vec::new();
        self.each_row(&head, (tables::INVITATION, "email"), emails, |row| {
            let email = get_string(row, "email")?;
            let course_id = get_string(row, "course_id")?;
            if !wanted.contains(collation.key(&email).as_ref()) || !courses.contains(collation.key(&course_id).as_ref())
            {
                return Ok(());
            }
            let id = get_i64(row, "id")?;
            found.push(InvitationRecord {
                id: InvitationId(id),
                email,
                course_key: CourseKey::parse(course_id).map_err(|e| corrupt(tables::INVITATION, id, e))?,
            });
            Ok(())
        })
        .await?;
        Ok(found)
    }

    /// Every distinct stored key of the program. No `DISTINCT` in SQL: MySQL's collations would
    /// merge keys that differ by case.
    async fn program_enrollment_keys(&self, program_uuid: ProgramUuid) -> StoreResult<Vec<ExternalUserKey>> {
        let encoding = self.context.encoding;
        let mut keys_of_program = select(tables::PE, &["id", "external_user_key"]);
        keys_of_program
            .and_where(
                Expr::col((tables::PE, "program_uuid"))
                    .eq(encoding.uuid(program_uuid.as_uuid(), encoding.program_uuid)),
            )
            .and_where(Expr::col((tables::PE, "external_user_key")).is_not_null());
        let mut seen = HashSet::new();
        let mut keys = Vec::new();
        for row in self.query(build(self.backend(), &keys_of_program)).await? {
            let Some(key) = get_opt_string(&row, "external_user_key")? else { continue };
            if seen.insert(key.clone()) {
                let id = get_i64(&row, "id")?;
                keys.push(ExternalUserKey::parse(key).map_err(|e| corrupt(tables::PE, id, e))?);
            }
        }
        Ok(keys)
    }

    /// One row of the program, if any (`LIMIT 1`).
    async fn program_has_enrollments(&self, program_uuid: ProgramUuid) -> StoreResult<bool> {
        let encoding = self.context.encoding;
        let mut one = select(tables::PE, &["id"]);
        one.and_where(
            Expr::col((tables::PE, "program_uuid")).eq(encoding.uuid(program_uuid.as_uuid(), encoding.program_uuid)),
        )
        .limit(1);
        Ok(!self.query(build(self.backend(), &one)).await?.is_empty())
    }

    /// The modes of `course_keys` unexpired now.
    async fn course_modes(&self, course_keys: &[CourseKey]) -> StoreResult<Vec<CourseModeRecord>> {
        if !self.context.catalog.has_table(tables::COURSE_MODE) {
            return Ok(Vec::new());
        }
        let head = select(tables::COURSE_MODE, &["id", "course_id", "mode_slug", "expiration_datetime"]);
        let collation = self.collation();
        let courses = keys_under(collation, course_keys.iter().map(CourseKey::as_str));
        let values: Vec<&str> = course_keys.iter().map(CourseKey::as_str).collect();
        let now = Utc::now();
        let mut found = Vec::new();
        self.each_row(&head, (tables::COURSE_MODE, "course_id"), &values, |row| {
            let course_id = get_string(row, "course_id")?;
            if !courses.contains(collation.key(&course_id).as_ref()) {
                return Ok(());
            }
            if get_opt_datetime(row, "expiration_datetime")?.is_none_or(|at| at > now) {
                let id = get_i64(row, "id")?;
                found.push(CourseModeRecord {
                    course_key: CourseKey::parse(course_id).map_err(|e| corrupt(tables::COURSE_MODE, id, e))?,
                    mode: CourseMode::new(get_string(row, "mode_slug")?),
                });
            }
            Ok(())
        })
        .await?;
        Ok(found)
    }

    async fn course_access_roles_supported(&self) -> StoreResult<bool> {
        Ok(self.context.catalog.roles_supported())
    }

    async fn role_assignments(
        &self,
        program_course_enrollments: &[ProgramCourseEnrollmentId],
    ) -> StoreResult<Vec<RoleAssignmentRecord>> {
        if !self.context.catalog.roles_supported() {
            return Ok(Vec::new());
        }
        let head = select(tables::ROLE_ASSIGNMENT, &["id", "enrollment_id", "role"]);
        let ids: Vec<i64> = program_course_enrollments.iter().map(|p| p.0).collect();
        let mut found = Vec::new();
        self.each_row(&head, (tables::ROLE_ASSIGNMENT, "enrollment_id"), &ids, |row| {
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
}
