//! The tables the LMS's receivers of a course enrollment's save write (issue 17), as Django
//! creates them (`tests/django/ddl/*.sql`), with the same conventions as the first migration
//! (our own short constraint and index names, everything else Django's):
//! - `django_comment_client_role` and its users (`django_comment_common`'s `Role`): every
//!   enrolled learner holds the course's `Student` role; `django_comment_client_permission`
//!   and its roles (`Permission`), which the discussions read the role's rights from (the
//!   linking never writes them).
//! - `schedules_schedule`, `schedules_scheduleexperience` and `schedules_historicalschedule`
//!   (`schedules`' `Schedule`, `ScheduleExperience` and django-simple-history's table).
//! - courseware's dynamic upgrade deadline configuration (`DynamicUpgradeDeadlineConfiguration`
//!   and its per-organisation and per-course-run models, django-config-models' tables: the
//!   current row of a key is its latest by `change_date`), which a new schedule's
//!   `upgrade_deadline` is computed from.
//! - `course_overviews_courseoverview` gains `start`, `self_paced` and `has_highlights` where
//!   they are missing (a schedule's start date, its reset, its experience). Django's
//!   `self_paced` has no database default; ours has `DEFAULT false`, so that rows inserted with
//!   only `id` and `display_name` (as before this migration) stay valid.
//!
//! Name prefixes: `dud`, `odud`, `cdud` the three configurations, `ccr` role, `ccru` role users, `ccp` permission, `ccpr` permission roles,
//! `ss` schedule, `sse` schedule experience, `shs` historical schedule.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DatabaseBackend, Statement};

/// Creates the discussion role and schedule tables and the course overview columns; `down`
/// drops them again.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260301_000003_create_enrollment_side_tables"
    }
}

/// The tables of this migration, children after their parents.
const TABLES: [&str; 10] = [
    "courseware_dynamicupgradedeadlineconfiguration",
    "courseware_orgdynamicupgradedeadlineconfiguration",
    "courseware_coursedynamicupgradedeadlineconfiguration",
    "django_comment_client_role",
    "django_comment_client_role_users",
    "django_comment_client_permission",
    "django_comment_client_permission_roles",
    "schedules_schedule",
    "schedules_scheduleexperience",
    "schedules_historicalschedule",
];

/// The course overview columns, with their definition per backend (SQLite, PostgreSQL, MySQL).
const OVERVIEW_COLUMNS: [(&str, [&str; 3]); 3] = [
    ("start", ["datetime NULL", "timestamp with time zone NULL", "datetime(6) NULL"]),
    ("self_paced", ["bool NOT NULL DEFAULT 0", "boolean NOT NULL DEFAULT false", "tinyint(1) NOT NULL DEFAULT 0"]),
    ("has_highlights", ["bool NULL", "boolean NULL", "tinyint(1) NULL"]),
];

const SQLITE: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "courseware_dynamicupgradedeadlineconfiguration" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "change_date" datetime NOT NULL, "enabled" bool NOT NULL, "deadline_days" smallint unsigned NOT NULL CHECK ("deadline_days" >= 0), "changed_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "dud_changed_by_id_idx" ON "courseware_dynamicupgradedeadlineconfiguration" ("changed_by_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "courseware_orgdynamicupgradedeadlineconfiguration" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "change_date" datetime NOT NULL, "enabled" bool NOT NULL, "org_id" varchar(255) NOT NULL, "deadline_days" smallint unsigned NOT NULL CHECK ("deadline_days" >= 0), "opt_out" bool NOT NULL, "changed_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "odud_org_id_idx" ON "courseware_orgdynamicupgradedeadlineconfiguration" ("org_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "odud_changed_by_id_idx" ON "courseware_orgdynamicupgradedeadlineconfiguration" ("changed_by_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "courseware_coursedynamicupgradedeadlineconfiguration" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "change_date" datetime NOT NULL, "enabled" bool NOT NULL, "course_id" varchar(255) NOT NULL, "deadline_days" smallint unsigned NOT NULL CHECK ("deadline_days" >= 0), "opt_out" bool NOT NULL, "changed_by_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "cdud_course_id_idx" ON "courseware_coursedynamicupgradedeadlineconfiguration" ("course_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "cdud_changed_by_id_idx" ON "courseware_coursedynamicupgradedeadlineconfiguration" ("changed_by_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_role" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "name" varchar(30) NOT NULL, "course_id" varchar(255) NOT NULL)"#,
    r#"CREATE INDEX IF NOT EXISTS "ccr_course_id_idx" ON "django_comment_client_role" ("course_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_role_users" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "role_id" integer NOT NULL REFERENCES "django_comment_client_role" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "ccru_role_user_uniq" ON "django_comment_client_role_users" ("role_id", "user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccru_role_id_idx" ON "django_comment_client_role_users" ("role_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccru_user_id_idx" ON "django_comment_client_role_users" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_permission" ("name" varchar(30) NOT NULL PRIMARY KEY)"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_permission_roles" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "permission_id" varchar(30) NOT NULL REFERENCES "django_comment_client_permission" ("name") DEFERRABLE INITIALLY DEFERRED, "role_id" integer NOT NULL REFERENCES "django_comment_client_role" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "ccpr_permission_role_uniq" ON "django_comment_client_permission_roles" ("permission_id", "role_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccpr_permission_id_idx" ON "django_comment_client_permission_roles" ("permission_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccpr_role_id_idx" ON "django_comment_client_permission_roles" ("role_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "schedules_schedule" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NOT NULL, "modified" datetime NOT NULL, "active" bool NOT NULL, "start_date" datetime NULL, "upgrade_deadline" datetime NULL, "enrollment_id" integer NOT NULL UNIQUE REFERENCES "student_courseenrollment" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "ss_start_date_idx" ON "schedules_schedule" ("start_date")"#,
    r#"CREATE INDEX IF NOT EXISTS "ss_upgrade_deadline_idx" ON "schedules_schedule" ("upgrade_deadline")"#,
    r#"CREATE TABLE IF NOT EXISTS "schedules_scheduleexperience" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "experience_type" smallint unsigned NOT NULL CHECK ("experience_type" >= 0), "schedule_id" integer NOT NULL UNIQUE REFERENCES "schedules_schedule" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "schedules_historicalschedule" ("id" integer NOT NULL, "created" datetime NOT NULL, "modified" datetime NOT NULL, "active" bool NOT NULL, "start_date" datetime NULL, "upgrade_deadline" datetime NULL, "history_id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "history_date" datetime NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "enrollment_id" integer NULL, "history_user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_id_idx" ON "schedules_historicalschedule" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_start_date_idx" ON "schedules_historicalschedule" ("start_date")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_upgrade_deadline_idx" ON "schedules_historicalschedule" ("upgrade_deadline")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_enrollment_id_idx" ON "schedules_historicalschedule" ("enrollment_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_history_user_id_idx" ON "schedules_historicalschedule" ("history_user_id")"#,
];

const POSTGRES: &[&str] = &[
    r#"CREATE TABLE IF NOT EXISTS "courseware_dynamicupgradedeadlineconfiguration" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "change_date" timestamp with time zone NOT NULL, "enabled" boolean NOT NULL, "deadline_days" smallint NOT NULL, "changed_by_id" integer NULL, CONSTRAINT "dud_deadline_days_check" CHECK ("deadline_days" >= 0), CONSTRAINT "dud_changed_by_fk" FOREIGN KEY ("changed_by_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "dud_changed_by_id_idx" ON "courseware_dynamicupgradedeadlineconfiguration" ("changed_by_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "courseware_orgdynamicupgradedeadlineconfiguration" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "change_date" timestamp with time zone NOT NULL, "enabled" boolean NOT NULL, "org_id" varchar(255) NOT NULL, "deadline_days" smallint NOT NULL, "opt_out" boolean NOT NULL, "changed_by_id" integer NULL, CONSTRAINT "odud_deadline_days_check" CHECK ("deadline_days" >= 0), CONSTRAINT "odud_changed_by_fk" FOREIGN KEY ("changed_by_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "odud_org_id_idx" ON "courseware_orgdynamicupgradedeadlineconfiguration" ("org_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "odud_org_id_like" ON "courseware_orgdynamicupgradedeadlineconfiguration" ("org_id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "odud_changed_by_id_idx" ON "courseware_orgdynamicupgradedeadlineconfiguration" ("changed_by_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "courseware_coursedynamicupgradedeadlineconfiguration" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "change_date" timestamp with time zone NOT NULL, "enabled" boolean NOT NULL, "course_id" varchar(255) NOT NULL, "deadline_days" smallint NOT NULL, "opt_out" boolean NOT NULL, "changed_by_id" integer NULL, CONSTRAINT "cdud_deadline_days_check" CHECK ("deadline_days" >= 0), CONSTRAINT "cdud_changed_by_fk" FOREIGN KEY ("changed_by_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "cdud_course_id_idx" ON "courseware_coursedynamicupgradedeadlineconfiguration" ("course_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "cdud_course_id_like" ON "courseware_coursedynamicupgradedeadlineconfiguration" ("course_id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "cdud_changed_by_id_idx" ON "courseware_coursedynamicupgradedeadlineconfiguration" ("changed_by_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_role" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "name" varchar(30) NOT NULL, "course_id" varchar(255) NOT NULL)"#,
    r#"CREATE INDEX IF NOT EXISTS "ccr_course_id_idx" ON "django_comment_client_role" ("course_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccr_course_id_like" ON "django_comment_client_role" ("course_id" varchar_pattern_ops)"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_role_users" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "role_id" integer NOT NULL, "user_id" integer NOT NULL, CONSTRAINT "ccru_role_user_uniq" UNIQUE ("role_id", "user_id"), CONSTRAINT "ccru_role_fk" FOREIGN KEY ("role_id") REFERENCES "django_comment_client_role" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "ccru_user_fk" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "ccru_role_id_idx" ON "django_comment_client_role_users" ("role_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccru_user_id_idx" ON "django_comment_client_role_users" ("user_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_permission" ("name" varchar(30) NOT NULL PRIMARY KEY)"#,
    r#"CREATE INDEX IF NOT EXISTS "ccp_name_like" ON "django_comment_client_permission" ("name" varchar_pattern_ops)"#,
    r#"CREATE TABLE IF NOT EXISTS "django_comment_client_permission_roles" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "permission_id" varchar(30) NOT NULL, "role_id" integer NOT NULL, CONSTRAINT "ccpr_permission_role_uniq" UNIQUE ("permission_id", "role_id"), CONSTRAINT "ccpr_permission_fk" FOREIGN KEY ("permission_id") REFERENCES "django_comment_client_permission" ("name") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "ccpr_role_fk" FOREIGN KEY ("role_id") REFERENCES "django_comment_client_role" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "ccpr_permission_id_idx" ON "django_comment_client_permission_roles" ("permission_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ccpr_permission_id_like" ON "django_comment_client_permission_roles" ("permission_id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "ccpr_role_id_idx" ON "django_comment_client_permission_roles" ("role_id")"#,
    r#"CREATE TABLE IF NOT EXISTS "schedules_schedule" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "active" boolean NOT NULL, "start_date" timestamp with time zone NULL, "upgrade_deadline" timestamp with time zone NULL, "enrollment_id" integer NOT NULL, CONSTRAINT "ss_enrollment_uniq" UNIQUE ("enrollment_id"), CONSTRAINT "ss_enrollment_fk" FOREIGN KEY ("enrollment_id") REFERENCES "student_courseenrollment" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "ss_start_date_idx" ON "schedules_schedule" ("start_date")"#,
    r#"CREATE INDEX IF NOT EXISTS "ss_upgrade_deadline_idx" ON "schedules_schedule" ("upgrade_deadline")"#,
    r#"CREATE TABLE IF NOT EXISTS "schedules_scheduleexperience" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "experience_type" smallint NOT NULL, "schedule_id" integer NOT NULL, CONSTRAINT "sse_experience_type_check" CHECK ("experience_type" >= 0), CONSTRAINT "sse_schedule_uniq" UNIQUE ("schedule_id"), CONSTRAINT "sse_schedule_fk" FOREIGN KEY ("schedule_id") REFERENCES "schedules_schedule" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "schedules_historicalschedule" ("id" integer NOT NULL, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "active" boolean NOT NULL, "start_date" timestamp with time zone NULL, "upgrade_deadline" timestamp with time zone NULL, "history_id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "history_date" timestamp with time zone NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "enrollment_id" integer NULL, "history_user_id" integer NULL, CONSTRAINT "shs_history_user_fk" FOREIGN KEY ("history_user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_enrollment_id_idx" ON "schedules_historicalschedule" ("enrollment_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_history_user_id_idx" ON "schedules_historicalschedule" ("history_user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_id_idx" ON "schedules_historicalschedule" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_start_date_idx" ON "schedules_historicalschedule" ("start_date")"#,
    r#"CREATE INDEX IF NOT EXISTS "shs_upgrade_deadline_idx" ON "schedules_historicalschedule" ("upgrade_deadline")"#,
];

const MYSQL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS `courseware_dynamicupgradedeadlineconfiguration` (`id` int(11) NOT NULL AUTO_INCREMENT, `change_date` datetime(6) NOT NULL, `enabled` tinyint(1) NOT NULL, `deadline_days` smallint(5) unsigned NOT NULL CHECK (`deadline_days` >= 0), `changed_by_id` int(11) NULL, PRIMARY KEY (`id`), KEY `dud_changed_by_id_idx` (`changed_by_id`), CONSTRAINT `dud_changed_by_fk` FOREIGN KEY (`changed_by_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `courseware_orgdynamicupgradedeadlineconfiguration` (`id` int(11) NOT NULL AUTO_INCREMENT, `change_date` datetime(6) NOT NULL, `enabled` tinyint(1) NOT NULL, `org_id` varchar(255) NOT NULL, `deadline_days` smallint(5) unsigned NOT NULL CHECK (`deadline_days` >= 0), `opt_out` tinyint(1) NOT NULL, `changed_by_id` int(11) NULL, PRIMARY KEY (`id`), KEY `odud_changed_by_id_idx` (`changed_by_id`), KEY `odud_org_id_idx` (`org_id`), CONSTRAINT `odud_changed_by_fk` FOREIGN KEY (`changed_by_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `courseware_coursedynamicupgradedeadlineconfiguration` (`id` int(11) NOT NULL AUTO_INCREMENT, `change_date` datetime(6) NOT NULL, `enabled` tinyint(1) NOT NULL, `course_id` varchar(255) NOT NULL, `deadline_days` smallint(5) unsigned NOT NULL CHECK (`deadline_days` >= 0), `opt_out` tinyint(1) NOT NULL, `changed_by_id` int(11) NULL, PRIMARY KEY (`id`), KEY `cdud_changed_by_id_idx` (`changed_by_id`), KEY `cdud_course_id_idx` (`course_id`), CONSTRAINT `cdud_changed_by_fk` FOREIGN KEY (`changed_by_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `django_comment_client_role` (`id` int(11) NOT NULL AUTO_INCREMENT, `name` varchar(30) NOT NULL, `course_id` varchar(255) NOT NULL, PRIMARY KEY (`id`), KEY `ccr_course_id_idx` (`course_id`))",
    "CREATE TABLE IF NOT EXISTS `django_comment_client_role_users` (`id` int(11) NOT NULL AUTO_INCREMENT, `role_id` int(11) NOT NULL, `user_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `ccru_role_user_uniq` (`role_id`, `user_id`), KEY `ccru_user_id_idx` (`user_id`), CONSTRAINT `ccru_role_fk` FOREIGN KEY (`role_id`) REFERENCES `django_comment_client_role` (`id`), CONSTRAINT `ccru_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `django_comment_client_permission` (`name` varchar(30) NOT NULL, PRIMARY KEY (`name`))",
    "CREATE TABLE IF NOT EXISTS `django_comment_client_permission_roles` (`id` int(11) NOT NULL AUTO_INCREMENT, `permission_id` varchar(30) NOT NULL, `role_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `ccpr_permission_role_uniq` (`permission_id`, `role_id`), KEY `ccpr_role_id_idx` (`role_id`), CONSTRAINT `ccpr_permission_fk` FOREIGN KEY (`permission_id`) REFERENCES `django_comment_client_permission` (`name`), CONSTRAINT `ccpr_role_fk` FOREIGN KEY (`role_id`) REFERENCES `django_comment_client_role` (`id`))",
    "CREATE TABLE IF NOT EXISTS `schedules_schedule` (`id` int(11) NOT NULL AUTO_INCREMENT, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `active` tinyint(1) NOT NULL, `start_date` datetime(6) NULL, `upgrade_deadline` datetime(6) NULL, `enrollment_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `ss_enrollment_uniq` (`enrollment_id`), KEY `ss_start_date_idx` (`start_date`), KEY `ss_upgrade_deadline_idx` (`upgrade_deadline`), CONSTRAINT `ss_enrollment_fk` FOREIGN KEY (`enrollment_id`) REFERENCES `student_courseenrollment` (`id`))",
    "CREATE TABLE IF NOT EXISTS `schedules_scheduleexperience` (`id` int(11) NOT NULL AUTO_INCREMENT, `experience_type` smallint(5) unsigned NOT NULL CHECK (`experience_type` >= 0), `schedule_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `sse_schedule_uniq` (`schedule_id`), CONSTRAINT `sse_schedule_fk` FOREIGN KEY (`schedule_id`) REFERENCES `schedules_schedule` (`id`))",
    "CREATE TABLE IF NOT EXISTS `schedules_historicalschedule` (`id` int(11) NOT NULL, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `active` tinyint(1) NOT NULL, `start_date` datetime(6) NULL, `upgrade_deadline` datetime(6) NULL, `history_id` int(11) NOT NULL AUTO_INCREMENT, `history_date` datetime(6) NOT NULL, `history_change_reason` varchar(100) NULL, `history_type` varchar(1) NOT NULL, `enrollment_id` int(11) NULL, `history_user_id` int(11) NULL, PRIMARY KEY (`history_id`), KEY `shs_history_user_id_idx` (`history_user_id`), KEY `shs_id_idx` (`id`), KEY `shs_start_date_idx` (`start_date`), KEY `shs_upgrade_deadline_idx` (`upgrade_deadline`), KEY `shs_enrollment_id_idx` (`enrollment_id`), CONSTRAINT `shs_history_user_fk` FOREIGN KEY (`history_user_id`) REFERENCES `auth_user` (`id`))",
];

/// The columns `course_overviews_courseoverview` has now (none of this migration's may be
/// added twice: `ALTER TABLE … ADD COLUMN` has no `IF NOT EXISTS` on SQLite).
async fn overview_columns(conn: &SchemaManagerConnection<'_>, backend: DatabaseBackend) -> Result<Vec<String>, DbErr> {
    let sql = match backend {
        DatabaseBackend::Sqlite => "SELECT name FROM pragma_table_info('course_overviews_courseoverview')",
        DatabaseBackend::Postgres => {
            "SELECT CAST(column_name AS text) FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'course_overviews_courseoverview'"
        }
        _ => {
            "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'course_overviews_courseoverview'"
        }
    };
    let rows = conn.query_all_raw(Statement::from_string(backend, sql)).await?;
    rows.iter().map(|row| row.try_get_by_index::<String>(0)).collect()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        let (i, quote) = match backend {
            DatabaseBackend::Sqlite => (0, '"'),
            DatabaseBackend::Postgres => (1, '"'),
            DatabaseBackend::MySql => (2, '`'),
            other => return Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
        };
        match backend {
            // An index only where its table has none of its shape (`migrate --force` on Django's).
            DatabaseBackend::Sqlite => crate::indexes::execute_unless_indexed(conn, SQLITE).await?,
            DatabaseBackend::Postgres => crate::indexes::execute_unless_indexed(conn, POSTGRES).await?,
            _ => {
                let options = crate::ddl::mysql_table_options(conn).await?;
                for sql in MYSQL {
                    let sql =
                        if sql.starts_with("CREATE TABLE") { format!("{sql} {options}") } else { (*sql).to_owned() };
                    conn.execute_unprepared(&sql).await?;
                }
            }
        }
        let present = overview_columns(conn, backend).await?;
        for (column, definitions) in OVERVIEW_COLUMNS {
            if !present.iter().any(|c| c == column) {
                let q = quote;
                conn.execute_unprepared(&format!(
                    "ALTER TABLE {q}course_overviews_courseoverview{q} ADD COLUMN {q}{column}{q} {}",
                    definitions[i]
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        let backend = manager.get_database_backend();
        let quote = match backend {
            DatabaseBackend::MySql => '`',
            _ => '"',
        };
        for table in TABLES.iter().rev() {
            conn.execute_unprepared(&format!("DROP TABLE IF EXISTS {quote}{table}{quote}")).await?;
        }
        let present = overview_columns(conn, backend).await?;
        for (column, _) in OVERVIEW_COLUMNS.iter().rev() {
            if present.iter().any(|c| c == column) {
                let q = quote;
                conn.execute_unprepared(&format!(
                    "ALTER TABLE {q}course_overviews_courseoverview{q} DROP COLUMN {q}{column}{q}"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
