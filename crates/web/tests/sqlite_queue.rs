//! On a SQLite file (one writer, one pooled connection), concurrent requests queue: every one
//! is answered 200, never "database is locked" nor a pool time-out, and each key is linked once.

use std::sync::Arc;

use adapters_seaorm::SeaOrmDatabase;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Statement};
use sea_orm_migration::MigratorTrait;
use serde_json::Value;
use tower::ServiceExt;

use crate::common::{config, token};

const PROGRAM: &str = "8bee627e-d85e-4a76-be41-d58921da666e";

async fn exec(db: &SeaOrmDatabase, sql: &str) {
    db.connection().execute_raw(Statement::from_string(db.connection().get_database_backend(), sql)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_sqlite_queue_and_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("queue.sqlite3").display());
    let conn = adapters_seaorm::open(&url).await.unwrap();
    migrations::Migrator::up(&conn, None).await.unwrap();
    let db = SeaOrmDatabase::new(conn, &url).await.unwrap();
    exec(
        &db,
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, \
         date_joined) VALUES ('!', 0, 'staff', '', '', 's@example.com', 1, 1, '2024-01-01 00:00:00.000000')",
    )
    .await;
    let (requests, per_request) = (8, 200);
    exec(&db, "BEGIN").await;
    for i in 0..requests * per_request {
        exec(
            &db,
            &format!(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
                 is_active, date_joined) VALUES ('!', 0, 'learner_{i}', '', '', 'l{i}@example.com', 0, 1, \
                 '2024-01-01 00:00:00.000000'); \
                 INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, \
                 program_uuid, curriculum_uuid, status, user_id) VALUES ('2024-01-01 00:00:00.000000', \
                 '2024-01-01 00:00:00.000000', 'key-{i}', '{}', '6f1c2d3e4a5b4c6d8e7f901234567890', 'enrolled', NULL)",
                PROGRAM.replace('-', "")
            ),
        )
        .await;
    }
    exec(&db, "COMMIT").await;
    let mut config = config();
    config.concurrent_links = 1;
    let router = web::router(config, Arc::new(db.clone())).unwrap();
    let token = token("staff");
    let mut tasks = Vec::new();
    for r in 0..requests {
        let router = router.clone();
        let token = token.clone();
        let text: String = (r * per_request..(r + 1) * per_request).map(|i| format!("key-{i},learner_{i}\n")).collect();
        tasks.push(tokio::spawn(async move {
            let body =
                format!("program_uuid={PROGRAM}&username_pair_text={}", text.replace(',', "%2C").replace('\n', "%0A"));
            let request = Request::post("/support/link_program_enrollments_details/")
                .header(header::AUTHORIZATION, format!("JWT {token}"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap();
            let response = router.oneshot(request).await.unwrap();
            let status = response.status();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, serde_json::from_slice::<Value>(&bytes).unwrap())
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["successes"].as_array().unwrap().len(), per_request, "{body}");
        assert_eq!(body["errors"], serde_json::json!([]));
    }
    let linked = db
        .connection()
        .query_one_raw(Statement::from_string(
            db.connection().get_database_backend(),
            "SELECT COUNT(*) AS n FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.try_get::<i64>("", "n").unwrap(), (requests * per_request) as i64);
}
