//! The inspector's routes in-process on the memory adapter: the MFE's unencoded query, the
//! envelope's keys in upstream's order, a database without the SSO tables (200, the table
//! named), MariaDB-like collation, the methods and paths upstream's patterns allow.

use adapters_memory::MemoryDatabase;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::{Collation, CurriculumUuid, ProgramUuid};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{config, router, token};

const PROGRAM: &str = "8bee627e-d85e-4a76-be41-d58921da666e";

fn world(collation: Collation) -> MemoryDatabase {
    let db = MemoryDatabase::with_collation(collation);
    let staff = db.add_user("staff", "staff@example.com").unwrap();
    db.set_user_staff(staff, true).unwrap();
    let learner = db.add_user("Learner", "a+b@example.com").unwrap();
    let org = db.add_organization("testX").unwrap();
    db.add_saml_provider("test", Some(org), true).unwrap();
    db.add_social_auth(learner, "tpa-saml", "test:Key-1", "{\"k\": 1}").unwrap();
    let program = ProgramUuid::parse(PROGRAM).unwrap();
    let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
    db.add_program_enrollment(Some("Key-1"), program, curriculum, Some(learner), "enrolled").unwrap();
    db
}

async fn get(db: &MemoryDatabase, path: &str) -> (StatusCode, String) {
    let token = token("staff");
    let (header_payload, signature) = token.rsplit_once('.').unwrap();
    let request = Request::get(path)
        .header(header::HOST, "lms.test")
        .header("USE-JWT-COOKIE", "true")
        .header(
            header::COOKIE,
            format!("edx-jwt-cookie-header-payload={header_payload}; edx-jwt-cookie-signature={signature}"),
        )
        .body(Body::empty())
        .unwrap();
    let response = router(db, config()).oneshot(request).await.unwrap();
    let status = response.status();
    (status, String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
}

#[tokio::test]
async fn the_envelope_the_mfes_query_and_a_missing_table() {
    let db = world(Collation::Exact);
    let (status, body) =
        get(&db, "/support/program_enrollments_inspector_details?edx_user=Learner&org_key=testX&external_user_key=")
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.starts_with("{\"error\":\"\",\"learner_program_enrollments\":{"), "upstream's key order: {body}");
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["org_keys"], "testX");
    assert_eq!(value["learner_program_enrollments"]["user"]["sso_list"], json!([{"uid": "test:Key-1"}]));
    assert_eq!(value["learner_program_enrollments"]["enrollments"][0]["program_uuid"], PROGRAM);
    // `+` unencoded is a space; `%2B` a plus.
    let (_, body) =
        get(&db, "/support/program_enrollments_inspector_details?edx_user=a+b@example.com&org_key=undefined").await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"],
        "Could not find edx account with a b@example.com"
    );
    let (_, body) = get(&db, "/support/program_enrollments_inspector_details?edx_user=a%2Bb@example.com").await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["learner_program_enrollments"]["user"]["username"],
        "Learner"
    );
    // The SSO records: extraData as a JSON string.
    let (status, body) = get(&db, "/support/sso_records/Learner").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()[0]["extraData"], "{\"k\": 1}");
    // Without the SSO tables: 200, the table named; the providers `[]`; the page an alert.
    db.drop_learner_tables();
    let (status, body) = get(&db, "/support/program_enrollments_inspector_details/?edx_user=Learner").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "this database has no table social_auth_usersocialauth", "learner_program_enrollments": {}, "org_keys": ""})
    );
    assert_eq!(get(&db, "/support/get_saml_providers").await, (StatusCode::OK, "[]".to_owned()));
    assert_eq!(get(&db, "/support/sso_records/Learner").await, (StatusCode::OK, "[]".to_owned()));
    let (status, page) = get(&db, "/support/program_enrollments_inspector?edx_user=Learner").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("role=\"alert\">this database has no table"), "{page}");
}

#[tokio::test]
async fn a_case_insensitive_collation_finds_the_account_as_mariadb_does() {
    let exact = world(Collation::Exact);
    let (_, body) = get(&exact, "/support/program_enrollments_inspector_details?edx_user=LEARNER").await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "Could not find edx account with LEARNER");
    let insensitive = world(Collation::CaseInsensitive);
    let (_, body) = get(&insensitive, "/support/program_enrollments_inspector_details?edx_user=LEARNER").await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["learner_program_enrollments"]["user"]["username"],
        "Learner"
    );
}

#[tokio::test]
async fn methods_and_paths() {
    let db = world(Collation::Exact);
    assert_eq!(get(&db, "/support/sso_records/a%20b").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&db, "/support/sso_records/a/b").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&db, "/support/sso_records/").await, (StatusCode::OK, "[]".to_owned()));
    let (status, page) = get(&db, "/support/program_enrollments_inspector/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<title>Program Enrollments Inspector</title>") && !page.contains("role=\"alert\""),
        "{page}"
    );
    let request = Request::post("/support/get_saml_providers/").body(Body::empty()).unwrap();
    let response = router(&db, config()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let request = Request::get("/support/program_enrollments_inspector_details").body(Body::empty()).unwrap();
    let response = router(&db, config()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
