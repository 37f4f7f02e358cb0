//! One call with 100,000 keys on every backend: the bulk reads must split their bound values
//! into chunks each backend accepts. The fixture is written with multi-row inserts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use acceptance::{SeaTestDatabase, Target, TestDatabase};
use chrono::Utc;
use domain::{CurriculumUuid, ExternalUserKey, LinkBatch, ProgramUuid, Username};
use sea_orm::Value;

const KEYS: usize = 100_000;

async fn hundred_thousand_keys(target: Target) {
    let Some(db) = SeaTestDatabase::create(target).await else { return };
    let adapter = db.database().await;
    let program = ProgramUuid::from_uuid(uuid::Uuid::new_v4());
    let curriculum = CurriculumUuid::from_uuid(uuid::Uuid::new_v4());
    let now = adapter.datetime_value(Utc::now());
    let uuid = |u: &uuid::Uuid| adapter.uuid_value(u, adapter.program_uuid_column());
    let placeholders = |row: usize, width: usize| -> String {
        let one = |i: usize| match adapter.backend() {
            adapters_seaorm::Backend::Postgres => format!("${}", row * width + i + 1),
            _ => "?".to_owned(),
        };
        format!("({})", (0..width).map(one).collect::<Vec<_>>().join(", "))
    };
    for start in (0..KEYS).step_by(1_000) {
        let rows = start..(start + 1_000).min(KEYS);
        let mut users = Vec::new();
        let mut user_values = Vec::new();
        let mut pes = Vec::new();
        let mut pe_values = Vec::new();
        for (n, i) in rows.enumerate() {
            users.push(placeholders(n, 9));
            user_values.extend([
                Value::from("!"),
                Value::from(false),
                Value::from(format!("learner_{i:06}")),
                Value::from(""),
                Value::from(""),
                Value::from(format!("learner_{i:06}@example.com")),
                Value::from(false),
                Value::from(true),
                now.clone(),
            ]);
            pes.push(placeholders(n, 6));
            pe_values.extend([
                now.clone(),
                now.clone(),
                Value::from(format!("KEY-{i:06}")),
                uuid(program.as_uuid()),
                uuid(curriculum.as_uuid()),
                Value::from("enrolled"),
            ]);
        }
        db.execute(
            &format!(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
                 is_active, date_joined) VALUES {}",
                users.join(", ")
            ),
            user_values,
        )
        .await;
        db.execute(
            &format!(
                "INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, program_uuid, \
                 curriculum_uuid, status) VALUES {}",
                pes.join(", ")
            ),
            pe_values,
        )
        .await;
    }
    let batch = LinkBatch::from_pairs((0..KEYS).map(|i| {
        (ExternalUserKey::parse(format!("KEY-{i:06}")).unwrap(), Username::parse(format!("learner_{i:06}")).unwrap())
    }))
    .unwrap();

    let errors = app::link_program_enrollments(&*adapter, program, &batch).await.unwrap();

    assert!(errors.is_empty(), "{} errors, first: {:?}", errors.len(), errors.iter().next());
    let tables = db.tables().await;
    assert_eq!(tables.program_enrollments.values().filter(|pe| pe.user_id.is_some()).count(), KEYS);
    assert_eq!(tables.program_enrollment_history.len(), KEYS);
    db.finish().await;
}

#[tokio::test]
async fn hundred_thousand_keys_in_one_call_on_sqlite() {
    hundred_thousand_keys(Target::SqliteFile).await;
}

#[tokio::test]
async fn hundred_thousand_keys_in_one_call_on_postgres() {
    hundred_thousand_keys(Target::Postgres).await;
}

#[tokio::test]
async fn hundred_thousand_keys_in_one_call_on_mysql() {
    hundred_thousand_keys(Target::MySql).await;
}
