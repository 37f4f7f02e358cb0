//! Creates Open edX's tables that the linking reads and writes, for a **standalone** database.
//!
//! On a real Open edX database Django owns the schema and these migrations are never run. For a
//! standalone database (tests, demos, a database the tool owns) they create the same tables as
//! Django's own `migrate` does (see `tests/django/ddl/*.sql`): the same column names, column order,
//! types, nullability, primary keys, foreign keys, unique constraints and indexes, on SQLite,
//! PostgreSQL and MySQL/MariaDB, so the tool sees the same value encodings either way (UUIDs as
//! `char(32)` on SQLite and MariaDB, native `uuid` on PostgreSQL; datetimes as `datetime`,
//! `datetime(6)` and `timestamp with time zone`; booleans as `bool`, `tinyint(1)` and `boolean`).
//!
//! Only the constraint and index **names** differ from Django's, on purpose (short names such as
//! `pe_user_program_curriculum_uniq`): code that must know which constraint a write violated has to
//! read its columns from the database catalog, which works on both schemas.
//!
//! The DDL is raw SQL per backend, written with `CREATE TABLE IF NOT EXISTS` and
//! `CREATE … INDEX IF NOT EXISTS`, and an index is created only where its table has no index
//! of the same shape under another name (the table, key columns, `DESC`, operator class and
//! uniqueness: Django's indexes have hashed names), so applying it to a database where the
//! tables already exist (without a `seaql_migrations` row, or Django's, with `migrate --force`)
//! adds no duplicate index.
//!
//! ```no_run
//! use migrations::Migrator;
//! use sea_orm_migration::{MigratorTrait, sea_orm::Database};
//!
//! # async fn run() -> Result<(), sea_orm_migration::DbErr> {
//! let db = Database::connect("sqlite::memory:").await?;
//! Migrator::up(&db, None).await?;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

use sea_orm_migration::prelude::*;

mod ddl;
mod indexes;
mod m20260101_000001_create_linking_tables;
mod m20260201_000002_create_later_upstream_tables;
mod m20260301_000003_create_enrollment_side_tables;
mod m20260401_000004_create_inspector_tables;

/// The migrator of this crate: applies the migrations below in order.
///
/// 1. `m20260101_000001_create_linking_tables`: `auth_user`, `course_overviews_courseoverview`
///    (only `id` and `display_name`; migration 3 adds three columns), `student_courseenrollment`, `student_courseenrollment_history`,
///    `student_courseenrollmentallowed`, `program_enrollments_programenrollment`,
///    `program_enrollments_programcourseenrollment` and the two program enrollment history tables.
/// 2. `m20260201_000002_create_later_upstream_tables`: `course_modes_coursemode`,
///    `student_courseaccessrole` and `program_enrollments_courseaccessroleassignment` (relinking
///    and course access role fulfilment).
/// 3. `m20260301_000003_create_enrollment_side_tables`: the discussion role tables
///    (`django_comment_client_role`, its users, `django_comment_client_permission`, its roles),
///    the schedule tables (`schedules_schedule`, `schedules_scheduleexperience`,
///    `schedules_historicalschedule`), and `start`, `self_paced` and `has_highlights` on
///    `course_overviews_courseoverview`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_create_linking_tables::Migration),
            Box::new(m20260201_000002_create_later_upstream_tables::Migration),
            Box::new(m20260301_000003_create_enrollment_side_tables::Migration),
            Box::new(m20260401_000004_create_inspector_tables::Migration),
        ]
    }
}
