//! The tables the linking reads and writes, as Django creates them (`tests/django/ddl/*.sql`).
//!
//! Per backend, the statements copy Django's DDL column for column (same order, types and NULLs,
//! no column defaults, Django's primary keys and foreign keys, the same unique constraints and
//! indexes with the same column order), except:
//! - every constraint and index has our own short name instead of Django's hashed one;
//! - `course_overviews_courseoverview` has only `id` and `display_name` (Open edX has ~55 columns);
//! - the tables Open edX has besides these are not created here (`course_modes_coursemode`,
//!   `student_courseaccessrole` and `program_enrollments_courseaccessroleassignment` come with the
//!   second migration; Django's own `auth_*`/`django_*` never).
//!
//! Name prefixes: `ce` `student_courseenrollment`, `ceh` `student_courseenrollment_history`,
//! `cea` `student_courseenrollmentallowed`, `pe` `program_enrollments_programenrollment`, `pce`
//! `program_enrollments_programcourseenrollment`, `hpe`/`hpce` their history tables, `co`
//! `course_overviews_courseoverview`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

use crate::indexes::execute_unless_indexed;

/// Creates the linking tables; `down` drops them again.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20260101_000001_create_linking_tables"
    }
}

/// The tables of this migration, children after their parents (`down` drops them in reverse).
const TABLES: [&str; 9] = [
    "auth_user",
    "course_overviews_courseoverview",
    "student_courseenrollment",
    "student_courseenrollment_history",
    "student_courseenrollmentallowed",
    "program_enrollments_programenrollment",
    "program_enrollments_programcourseenrollment",
    "program_enrollments_historicalprogramenrollment",
    "program_enrollments_historicalprogramcourseenrollment",
];

// ---------------------------------------------------------------------------------------------
// SQLite: as `tests/django/ddl/sqlite.sql` (Django writes uniques as `CREATE UNIQUE INDEX`, FKs
// inline and `DEFERRABLE INITIALLY DEFERRED`; `auth_user.first_name` is last because Django's
// SQLite table rebuild moved it there).
// ---------------------------------------------------------------------------------------------

const SQLITE_TABLES: [&str; 9] = [
    r#"CREATE TABLE IF NOT EXISTS "auth_user" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "password" varchar(128) NOT NULL, "last_login" datetime NULL, "is_superuser" bool NOT NULL, "username" varchar(150) NOT NULL UNIQUE, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" bool NOT NULL, "is_active" bool NOT NULL, "date_joined" datetime NOT NULL, "first_name" varchar(150) NOT NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "course_overviews_courseoverview" ("id" varchar(255) NOT NULL PRIMARY KEY, "display_name" text NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "student_courseenrollment" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NULL, "is_active" bool NOT NULL, "mode" varchar(100) NOT NULL, "course_id" varchar(255) NOT NULL, "user_id" integer NOT NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "student_courseenrollment_history" ("id" integer NOT NULL, "created" datetime NULL, "is_active" bool NOT NULL, "mode" varchar(100) NOT NULL, "history_id" char(32) NOT NULL PRIMARY KEY, "history_date" datetime NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "course_id" varchar(255) NULL, "history_user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "student_courseenrollmentallowed" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "email" varchar(255) NOT NULL, "course_id" varchar(255) NOT NULL, "auto_enroll" bool NOT NULL, "created" datetime NULL, "user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_programenrollment" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NOT NULL, "modified" datetime NOT NULL, "external_user_key" varchar(255) NULL, "program_uuid" char(32) NOT NULL, "curriculum_uuid" char(32) NOT NULL, "status" varchar(9) NOT NULL, "user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_programcourseenrollment" ("id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "created" datetime NOT NULL, "modified" datetime NOT NULL, "course_key" varchar(255) NOT NULL, "status" varchar(9) NOT NULL, "course_enrollment_id" integer NULL REFERENCES "student_courseenrollment" ("id") DEFERRABLE INITIALLY DEFERRED, "program_enrollment_id" integer NOT NULL REFERENCES "program_enrollments_programenrollment" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_historicalprogramenrollment" ("id" integer NOT NULL, "created" datetime NOT NULL, "modified" datetime NOT NULL, "external_user_key" varchar(255) NULL, "program_uuid" char(32) NOT NULL, "curriculum_uuid" char(32) NOT NULL, "status" varchar(9) NOT NULL, "history_id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "history_date" datetime NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "history_user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "user_id" integer NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_historicalprogramcourseenrollment" ("id" integer NOT NULL, "created" datetime NOT NULL, "modified" datetime NOT NULL, "course_key" varchar(255) NOT NULL, "status" varchar(9) NOT NULL, "history_id" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "history_date" datetime NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "course_enrollment_id" integer NULL, "history_user_id" integer NULL REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED, "program_enrollment_id" integer NULL)"#,
];

/// Unique constraints of SQLite: Django creates them as unique indexes (`auth_user.username` is
/// inline in its table).
const SQLITE_UNIQUES: [&str; 5] = [
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "ce_user_course_uniq" ON "student_courseenrollment" ("user_id", "course_id")"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "cea_email_course_uniq" ON "student_courseenrollmentallowed" ("email", "course_id")"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "pe_external_user_key_program_curriculum_uniq" ON "program_enrollments_programenrollment" ("external_user_key", "program_uuid", "curriculum_uuid")"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "pe_user_program_curriculum_uniq" ON "program_enrollments_programenrollment" ("user_id", "program_uuid", "curriculum_uuid")"#,
    r#"CREATE UNIQUE INDEX IF NOT EXISTS "pce_program_enrollment_course_key_uniq" ON "program_enrollments_programcourseenrollment" ("program_enrollment_id", "course_key")"#,
];

// ---------------------------------------------------------------------------------------------
// SQLite and PostgreSQL: the same plain indexes (Django indexes every foreign key and every
// `db_index` column there; on MariaDB a unique key starting with the FK column replaces some).
// ---------------------------------------------------------------------------------------------

const PLAIN_INDEXES: [&str; 29] = [
    r#"CREATE INDEX IF NOT EXISTS "ce_created_idx" ON "student_courseenrollment" ("created")"#,
    r#"CREATE INDEX IF NOT EXISTS "ce_course_id_idx" ON "student_courseenrollment" ("course_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ce_user_id_idx" ON "student_courseenrollment" ("user_id")"#,
    // The model's `Meta.indexes` entry (Open edX names it `student_cou_user_id_b19dcd_idx`).
    r#"CREATE INDEX IF NOT EXISTS "ce_user_created_idx" ON "student_courseenrollment" ("user_id", "created" DESC)"#,
    r#"CREATE INDEX IF NOT EXISTS "ceh_id_idx" ON "student_courseenrollment_history" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ceh_created_idx" ON "student_courseenrollment_history" ("created")"#,
    r#"CREATE INDEX IF NOT EXISTS "ceh_course_id_idx" ON "student_courseenrollment_history" ("course_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ceh_history_user_id_idx" ON "student_courseenrollment_history" ("history_user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "ceh_user_id_idx" ON "student_courseenrollment_history" ("user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "cea_email_idx" ON "student_courseenrollmentallowed" ("email")"#,
    r#"CREATE INDEX IF NOT EXISTS "cea_course_id_idx" ON "student_courseenrollmentallowed" ("course_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "cea_created_idx" ON "student_courseenrollmentallowed" ("created")"#,
    r#"CREATE INDEX IF NOT EXISTS "cea_user_id_idx" ON "student_courseenrollmentallowed" ("user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "pe_external_user_key_idx" ON "program_enrollments_programenrollment" ("external_user_key")"#,
    r#"CREATE INDEX IF NOT EXISTS "pe_program_uuid_idx" ON "program_enrollments_programenrollment" ("program_uuid")"#,
    r#"CREATE INDEX IF NOT EXISTS "pe_curriculum_uuid_idx" ON "program_enrollments_programenrollment" ("curriculum_uuid")"#,
    r#"CREATE INDEX IF NOT EXISTS "pe_user_id_idx" ON "program_enrollments_programenrollment" ("user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "pce_course_enrollment_id_idx" ON "program_enrollments_programcourseenrollment" ("course_enrollment_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "pce_program_enrollment_id_idx" ON "program_enrollments_programcourseenrollment" ("program_enrollment_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_id_idx" ON "program_enrollments_historicalprogramenrollment" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_external_user_key_idx" ON "program_enrollments_historicalprogramenrollment" ("external_user_key")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_program_uuid_idx" ON "program_enrollments_historicalprogramenrollment" ("program_uuid")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_curriculum_uuid_idx" ON "program_enrollments_historicalprogramenrollment" ("curriculum_uuid")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_history_user_id_idx" ON "program_enrollments_historicalprogramenrollment" ("history_user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_user_id_idx" ON "program_enrollments_historicalprogramenrollment" ("user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpce_id_idx" ON "program_enrollments_historicalprogramcourseenrollment" ("id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpce_course_enrollment_id_idx" ON "program_enrollments_historicalprogramcourseenrollment" ("course_enrollment_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpce_history_user_id_idx" ON "program_enrollments_historicalprogramcourseenrollment" ("history_user_id")"#,
    r#"CREATE INDEX IF NOT EXISTS "hpce_program_enrollment_id_idx" ON "program_enrollments_historicalprogramcourseenrollment" ("program_enrollment_id")"#,
];

// ---------------------------------------------------------------------------------------------
// PostgreSQL: as `tests/django/ddl/postgres.sql` (Django 4.2: `integer` identity primary keys,
// unique constraints as table constraints, FKs `DEFERRABLE INITIALLY DEFERRED`, and an extra
// `varchar_pattern_ops` index for every indexed or unique varchar column).
// ---------------------------------------------------------------------------------------------

const POSTGRES_TABLES: [&str; 9] = [
    r#"CREATE TABLE IF NOT EXISTS "auth_user" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "password" varchar(128) NOT NULL, "last_login" timestamp with time zone NULL, "is_superuser" boolean NOT NULL, "username" varchar(150) NOT NULL, "first_name" varchar(150) NOT NULL, "last_name" varchar(150) NOT NULL, "email" varchar(254) NOT NULL, "is_staff" boolean NOT NULL, "is_active" boolean NOT NULL, "date_joined" timestamp with time zone NOT NULL, CONSTRAINT "auth_user_username_uniq" UNIQUE ("username"))"#,
    r#"CREATE TABLE IF NOT EXISTS "course_overviews_courseoverview" ("id" varchar(255) NOT NULL PRIMARY KEY, "display_name" text NULL)"#,
    r#"CREATE TABLE IF NOT EXISTS "student_courseenrollment" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "created" timestamp with time zone NULL, "is_active" boolean NOT NULL, "mode" varchar(100) NOT NULL, "course_id" varchar(255) NOT NULL, "user_id" integer NOT NULL, CONSTRAINT "ce_user_course_uniq" UNIQUE ("user_id", "course_id"), CONSTRAINT "ce_user_fk" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "student_courseenrollment_history" ("id" integer NOT NULL, "created" timestamp with time zone NULL, "is_active" boolean NOT NULL, "mode" varchar(100) NOT NULL, "history_id" uuid NOT NULL PRIMARY KEY, "history_date" timestamp with time zone NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "course_id" varchar(255) NULL, "history_user_id" integer NULL, "user_id" integer NULL, CONSTRAINT "ceh_history_user_fk" FOREIGN KEY ("history_user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "student_courseenrollmentallowed" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "email" varchar(255) NOT NULL, "course_id" varchar(255) NOT NULL, "auto_enroll" boolean NOT NULL, "created" timestamp with time zone NULL, "user_id" integer NULL, CONSTRAINT "cea_email_course_uniq" UNIQUE ("email", "course_id"), CONSTRAINT "cea_user_fk" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_programenrollment" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "external_user_key" varchar(255) NULL, "program_uuid" uuid NOT NULL, "curriculum_uuid" uuid NOT NULL, "status" varchar(9) NOT NULL, "user_id" integer NULL, CONSTRAINT "pe_user_program_curriculum_uniq" UNIQUE ("user_id", "program_uuid", "curriculum_uuid"), CONSTRAINT "pe_external_user_key_program_curriculum_uniq" UNIQUE ("external_user_key", "program_uuid", "curriculum_uuid"), CONSTRAINT "pe_user_fk" FOREIGN KEY ("user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_programcourseenrollment" ("id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "course_key" varchar(255) NOT NULL, "status" varchar(9) NOT NULL, "course_enrollment_id" integer NULL, "program_enrollment_id" integer NOT NULL, CONSTRAINT "pce_program_enrollment_course_key_uniq" UNIQUE ("program_enrollment_id", "course_key"), CONSTRAINT "pce_course_enrollment_fk" FOREIGN KEY ("course_enrollment_id") REFERENCES "student_courseenrollment" ("id") DEFERRABLE INITIALLY DEFERRED, CONSTRAINT "pce_program_enrollment_fk" FOREIGN KEY ("program_enrollment_id") REFERENCES "program_enrollments_programenrollment" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_historicalprogramenrollment" ("id" integer NOT NULL, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "external_user_key" varchar(255) NULL, "program_uuid" uuid NOT NULL, "curriculum_uuid" uuid NOT NULL, "status" varchar(9) NOT NULL, "history_id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "history_date" timestamp with time zone NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "history_user_id" integer NULL, "user_id" integer NULL, CONSTRAINT "hpe_history_user_fk" FOREIGN KEY ("history_user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
    r#"CREATE TABLE IF NOT EXISTS "program_enrollments_historicalprogramcourseenrollment" ("id" integer NOT NULL, "created" timestamp with time zone NOT NULL, "modified" timestamp with time zone NOT NULL, "course_key" varchar(255) NOT NULL, "status" varchar(9) NOT NULL, "history_id" integer NOT NULL PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY, "history_date" timestamp with time zone NOT NULL, "history_change_reason" varchar(100) NULL, "history_type" varchar(1) NOT NULL, "course_enrollment_id" integer NULL, "history_user_id" integer NULL, "program_enrollment_id" integer NULL, CONSTRAINT "hpce_history_user_fk" FOREIGN KEY ("history_user_id") REFERENCES "auth_user" ("id") DEFERRABLE INITIALLY DEFERRED)"#,
];

/// The `LIKE 'prefix%'` indexes Django adds on PostgreSQL for indexed or unique varchar columns.
const POSTGRES_LIKE_INDEXES: [&str; 8] = [
    r#"CREATE INDEX IF NOT EXISTS "auth_user_username_like" ON "auth_user" ("username" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "co_id_like" ON "course_overviews_courseoverview" ("id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "ce_course_id_like" ON "student_courseenrollment" ("course_id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "ceh_course_id_like" ON "student_courseenrollment_history" ("course_id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "cea_email_like" ON "student_courseenrollmentallowed" ("email" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "cea_course_id_like" ON "student_courseenrollmentallowed" ("course_id" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "pe_external_user_key_like" ON "program_enrollments_programenrollment" ("external_user_key" varchar_pattern_ops)"#,
    r#"CREATE INDEX IF NOT EXISTS "hpe_external_user_key_like" ON "program_enrollments_historicalprogramenrollment" ("external_user_key" varchar_pattern_ops)"#,
];

// ---------------------------------------------------------------------------------------------
// MySQL / MariaDB: as `tests/django/ddl/mariadb.sql` (Django 4.2, UUIDs `char(32)`). Indexes are
// declared inline. InnoDB needs an index for every FK; Django relies on the one InnoDB creates
// with the FK (or on a unique key starting with the column), we declare the same index ourselves.
// The table options (`ENGINE=InnoDB` and the charset) are appended by `mysql_table_options`.
// ---------------------------------------------------------------------------------------------

const MYSQL_TABLES: [&str; 9] = [
    "CREATE TABLE IF NOT EXISTS `auth_user` (`id` int(11) NOT NULL AUTO_INCREMENT, `password` varchar(128) NOT NULL, `last_login` datetime(6) NULL, `is_superuser` tinyint(1) NOT NULL, `username` varchar(150) NOT NULL, `first_name` varchar(150) NOT NULL, `last_name` varchar(150) NOT NULL, `email` varchar(254) NOT NULL, `is_staff` tinyint(1) NOT NULL, `is_active` tinyint(1) NOT NULL, `date_joined` datetime(6) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `auth_user_username_uniq` (`username`))",
    "CREATE TABLE IF NOT EXISTS `course_overviews_courseoverview` (`id` varchar(255) NOT NULL, `display_name` longtext NULL, PRIMARY KEY (`id`))",
    "CREATE TABLE IF NOT EXISTS `student_courseenrollment` (`id` int(11) NOT NULL AUTO_INCREMENT, `created` datetime(6) NULL, `is_active` tinyint(1) NOT NULL, `mode` varchar(100) NOT NULL, `course_id` varchar(255) NOT NULL, `user_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `ce_user_course_uniq` (`user_id`, `course_id`), KEY `ce_created_idx` (`created`), KEY `ce_course_id_idx` (`course_id`), KEY `ce_user_created_idx` (`user_id`, `created` DESC), CONSTRAINT `ce_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `student_courseenrollment_history` (`id` int(11) NOT NULL, `created` datetime(6) NULL, `is_active` tinyint(1) NOT NULL, `mode` varchar(100) NOT NULL, `history_id` char(32) NOT NULL, `history_date` datetime(6) NOT NULL, `history_change_reason` varchar(100) NULL, `history_type` varchar(1) NOT NULL, `course_id` varchar(255) NULL, `history_user_id` int(11) NULL, `user_id` int(11) NULL, PRIMARY KEY (`history_id`), KEY `ceh_history_user_id_idx` (`history_user_id`), KEY `ceh_id_idx` (`id`), KEY `ceh_created_idx` (`created`), KEY `ceh_course_id_idx` (`course_id`), KEY `ceh_user_id_idx` (`user_id`), CONSTRAINT `ceh_history_user_fk` FOREIGN KEY (`history_user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `student_courseenrollmentallowed` (`id` int(11) NOT NULL AUTO_INCREMENT, `email` varchar(255) NOT NULL, `course_id` varchar(255) NOT NULL, `auto_enroll` tinyint(1) NOT NULL, `created` datetime(6) NULL, `user_id` int(11) NULL, PRIMARY KEY (`id`), UNIQUE KEY `cea_email_course_uniq` (`email`, `course_id`), KEY `cea_user_id_idx` (`user_id`), KEY `cea_email_idx` (`email`), KEY `cea_course_id_idx` (`course_id`), KEY `cea_created_idx` (`created`), CONSTRAINT `cea_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `program_enrollments_programenrollment` (`id` int(11) NOT NULL AUTO_INCREMENT, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `external_user_key` varchar(255) NULL, `program_uuid` char(32) NOT NULL, `curriculum_uuid` char(32) NOT NULL, `status` varchar(9) NOT NULL, `user_id` int(11) NULL, PRIMARY KEY (`id`), UNIQUE KEY `pe_user_program_curriculum_uniq` (`user_id`, `program_uuid`, `curriculum_uuid`), UNIQUE KEY `pe_external_user_key_program_curriculum_uniq` (`external_user_key`, `program_uuid`, `curriculum_uuid`), KEY `pe_external_user_key_idx` (`external_user_key`), KEY `pe_program_uuid_idx` (`program_uuid`), KEY `pe_curriculum_uuid_idx` (`curriculum_uuid`), CONSTRAINT `pe_user_fk` FOREIGN KEY (`user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `program_enrollments_programcourseenrollment` (`id` int(11) NOT NULL AUTO_INCREMENT, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `course_key` varchar(255) NOT NULL, `status` varchar(9) NOT NULL, `course_enrollment_id` int(11) NULL, `program_enrollment_id` int(11) NOT NULL, PRIMARY KEY (`id`), UNIQUE KEY `pce_program_enrollment_course_key_uniq` (`program_enrollment_id`, `course_key`), KEY `pce_course_enrollment_id_idx` (`course_enrollment_id`), CONSTRAINT `pce_course_enrollment_fk` FOREIGN KEY (`course_enrollment_id`) REFERENCES `student_courseenrollment` (`id`), CONSTRAINT `pce_program_enrollment_fk` FOREIGN KEY (`program_enrollment_id`) REFERENCES `program_enrollments_programenrollment` (`id`))",
    "CREATE TABLE IF NOT EXISTS `program_enrollments_historicalprogramenrollment` (`id` int(11) NOT NULL, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `external_user_key` varchar(255) NULL, `program_uuid` char(32) NOT NULL, `curriculum_uuid` char(32) NOT NULL, `status` varchar(9) NOT NULL, `history_id` int(11) NOT NULL AUTO_INCREMENT, `history_date` datetime(6) NOT NULL, `history_change_reason` varchar(100) NULL, `history_type` varchar(1) NOT NULL, `history_user_id` int(11) NULL, `user_id` int(11) NULL, PRIMARY KEY (`history_id`), KEY `hpe_history_user_id_idx` (`history_user_id`), KEY `hpe_id_idx` (`id`), KEY `hpe_external_user_key_idx` (`external_user_key`), KEY `hpe_program_uuid_idx` (`program_uuid`), KEY `hpe_curriculum_uuid_idx` (`curriculum_uuid`), KEY `hpe_user_id_idx` (`user_id`), CONSTRAINT `hpe_history_user_fk` FOREIGN KEY (`history_user_id`) REFERENCES `auth_user` (`id`))",
    "CREATE TABLE IF NOT EXISTS `program_enrollments_historicalprogramcourseenrollment` (`id` int(11) NOT NULL, `created` datetime(6) NOT NULL, `modified` datetime(6) NOT NULL, `course_key` varchar(255) NOT NULL, `status` varchar(9) NOT NULL, `history_id` int(11) NOT NULL AUTO_INCREMENT, `history_date` datetime(6) NOT NULL, `history_change_reason` varchar(100) NULL, `history_type` varchar(1) NOT NULL, `course_enrollment_id` int(11) NULL, `history_user_id` int(11) NULL, `program_enrollment_id` int(11) NULL, PRIMARY KEY (`history_id`), KEY `hpce_history_user_id_idx` (`history_user_id`), KEY `hpce_id_idx` (`id`), KEY `hpce_course_enrollment_id_idx` (`course_enrollment_id`), KEY `hpce_program_enrollment_id_idx` (`program_enrollment_id`), CONSTRAINT `hpce_history_user_fk` FOREIGN KEY (`history_user_id`) REFERENCES `auth_user` (`id`))",
];

async fn execute_all<'a>(
    conn: &SchemaManagerConnection<'_>,
    statements: impl IntoIterator<Item = &'a str>,
) -> Result<(), DbErr> {
    for sql in statements {
        conn.execute_unprepared(sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                execute_all(conn, SQLITE_TABLES).await?;
                execute_unless_indexed(conn, &[&SQLITE_UNIQUES[..], &PLAIN_INDEXES[..]].concat()).await
            }
            DatabaseBackend::Postgres => {
                execute_all(conn, POSTGRES_TABLES).await?;
                execute_unless_indexed(conn, &[&PLAIN_INDEXES[..], &POSTGRES_LIKE_INDEXES[..]].concat()).await
            }
            DatabaseBackend::MySql => {
                let options = crate::ddl::mysql_table_options(conn).await?;
                for sql in MYSQL_TABLES {
                    conn.execute_unprepared(&format!("{sql} {options}")).await?;
                }
                Ok(())
            }
            other => Err(DbErr::Migration(format!("unsupported database backend {other:?}"))),
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::ddl::drop(manager, &TABLES).await
    }
}
