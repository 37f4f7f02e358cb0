//! The service in-process on the in-memory database: routes, authentication, permission,
//! CSRF, the page, the link and its history rows.

use adapters_memory::MemoryDatabase;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use domain::{CurriculumUuid, ProgramUuid, UserId};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::{MFE, config, router, token};

const PROGRAM: &str = "8bee627e-d85e-4a76-be41-d58921da666e";
const CSRF: &str = "abcdefghijklmnopqrstuvwxyzABCDEF";
const API: &str = "/support/link_program_enrollments_details/";

struct World {
    db: MemoryDatabase,
    staff: UserId,
}

fn world() -> World {
    let db = MemoryDatabase::new();
    let staff = db.add_user("staff", "staff@example.com").unwrap();
    db.set_user_staff(staff, true).unwrap();
    let support = db.add_user("support", "support@example.com").unwrap();
    db.add_course_access_role(support, "", "", "support").unwrap();
    let inactive = db.add_user("inactive_support", "i@example.com").unwrap();
    db.add_course_access_role(inactive, "", "", "support").unwrap();
    db.set_user_active(inactive, false).unwrap();
    db.add_user("learner", "learner@example.com").unwrap();
    db.add_user("learner2", "learner2@example.com").unwrap();
    let program = ProgramUuid::parse(PROGRAM).unwrap();
    let curriculum = CurriculumUuid::parse("6f1c2d3e4a5b4c6d8e7f901234567890").unwrap();
    db.add_program_enrollment(Some("0001"), program, curriculum, None, "enrolled").unwrap();
    db.add_program_enrollment(Some("0002"), program, curriculum, None, "enrolled").unwrap();
    World { db, staff }
}

fn multipart(fields: &[(&str, &str)]) -> (String, String) {
    let boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A POST as the MFE sends it: FormData, the two JWT cookies, the CSRF cookie and header.
fn mfe_post(username: &str, fields: &[(&str, &str)]) -> axum::http::request::Builder {
    let token = token(username);
    let (header_payload, signature) = token.rsplit_once('.').unwrap();
    let _ = fields;
    Request::post(API)
        .header(header::HOST, "lms.test")
        .header(header::ORIGIN, MFE)
        .header("USE-JWT-COOKIE", "true")
        .header("X-CSRFToken", web::csrf::masked_token(CSRF))
        .header(
            header::COOKIE,
            format!(
                "edx-jwt-cookie-header-payload={header_payload}; edx-jwt-cookie-signature={signature}; csrftoken={CSRF}"
            ),
        )
}

async fn send(w: &World, request: Request<Body>) -> (StatusCode, Response<Body>) {
    let response = router(&w.db, config()).oneshot(request).await.unwrap();
    (response.status(), response)
}

async fn body(response: Response<Body>) -> String {
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

async fn post_api(w: &World, username: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let (content_type, form) = multipart(fields);
    let request = mfe_post(username, fields).header(header::CONTENT_TYPE, content_type).body(Body::from(form)).unwrap();
    let (status, response) = send(w, request).await;
    (status, body(response).await)
}

#[tokio::test]
async fn health_needs_nothing() {
    let w = world();
    let (status, response) = send(&w, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body(response).await.as_str()), (StatusCode::OK, "ok"));
}

#[tokio::test]
async fn the_mfe_links_and_gets_python_tuples() {
    let w = world();
    let text = "0001,learner\r\n0003,learner2\r\n\r\n0002 , learner2 ,extra";
    let (status, body) =
        post_api(&w, "staff", &[("program_uuid", &format!(" {PROGRAM} ")), ("username_pair_text", text)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let expected = json!({
        "successes": ["('0001', 'learner')", "('0002', 'learner2')"],
        "errors": [format!("No program enrollment found for program uuid={PROGRAM} and external student key=0003")],
        "program_uuid": PROGRAM,
        "username_pair_text": text,
    });
    assert!(body.starts_with("{\"successes\":["), "upstream's key order: {body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), expected);
    let t = w.db.tables();
    assert!(t.program_enrollments.values().all(|pe| pe.user_id.is_some()));
    assert!(!t.program_enrollment_history.is_empty());
    assert!(t.program_enrollment_history.iter().all(|h| h.history_user_id == Some(w.staff)));
}

#[tokio::test]
async fn validation_messages_as_upstream() {
    let w = world();
    let cases = [
        ("undefined", "undefined", "Supplied program UUID 'undefined' is not a valid UUID."),
        (
            "",
            "0001,learner",
            "You must provide both a program uuid and a series of lines with the format 'external_user_key,lms_username'.",
        ),
        (PROGRAM, "undefined", "All linking lines must be in the format 'external_user_key,lms_username'"),
        (PROGRAM, "0001,", "All linking lines must be in the format 'external_user_key,lms_username'"),
        (PROGRAM, "0001,learner\n0002,learner2\n0001,learner2", "external user key 0001 provided multiple times"),
    ];
    for (program, text, message) in cases {
        let (status, body) = post_api(&w, "staff", &[("program_uuid", program), ("username_pair_text", text)]).await;
        assert_eq!(status, StatusCode::OK);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["errors"], json!([message]), "{program:?} {text:?}");
        assert_eq!(body["successes"], json!([]));
    }
    assert!(w.db.tables().program_enrollments.values().all(|pe| pe.user_id.is_none()));
}

#[tokio::test]
async fn refusals_and_their_bodies() {
    let w = world();
    let fields = [("program_uuid", PROGRAM), ("username_pair_text", "0001,learner")];
    for (username, status) in [
        ("learner", StatusCode::FORBIDDEN),
        ("nobody", StatusCode::FORBIDDEN),
        ("inactive_support", StatusCode::FORBIDDEN),
        ("support", StatusCode::OK),
    ] {
        let (got, body) = post_api(&w, username, &fields).await;
        assert_eq!(got, status, "{username}: {body}");
        if status == StatusCode::FORBIDDEN {
            assert_eq!(body, "");
        }
    }
    // No credentials.
    let (content_type, form) = multipart(&fields);
    let request = Request::post(API).header(header::CONTENT_TYPE, content_type).body(Body::from(form)).unwrap();
    let (status, response) = send(&w, request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body(response).await, r#"{"detail":"Authentication credentials were not provided."}"#);
}

#[tokio::test]
async fn csrf_failures_are_refused_with_django_reasons_and_write_nothing() {
    let w = world();
    let token = token("staff");
    let (header_payload, signature) = token.rsplit_once('.').unwrap();
    let jwt_cookies = format!("edx-jwt-cookie-header-payload={header_payload}; edx-jwt-cookie-signature={signature}");
    let (content_type, form) = multipart(&[("program_uuid", PROGRAM), ("username_pair_text", "0001,learner")]);
    // (csrftoken cookie, X-CSRFToken header, Origin, Django's reason)
    type Case<'a> = (Option<&'a str>, Option<String>, Option<&'a str>, &'a str);
    let cases: [Case<'_>; 4] = [
        (None, Some(CSRF.into()), None, "CSRF cookie not set."),
        (Some(CSRF), None, None, "CSRF token missing."),
        (Some(CSRF), Some("b".repeat(32)), None, "CSRF token from the 'X-Csrftoken' HTTP header incorrect."),
        (
            Some(CSRF),
            Some(CSRF.into()),
            Some("http://evil.test"),
            "Origin checking failed - http://evil.test does not match any trusted origins.",
        ),
    ];
    for (cookie, header_token, origin, reason) in cases {
        let mut request =
            Request::post(API).header(header::HOST, "lms.test").header(header::CONTENT_TYPE, &content_type);
        let cookies = match cookie {
            Some(c) => format!("{jwt_cookies}; csrftoken={c}"),
            None => jwt_cookies.clone(),
        };
        request = request.header(header::COOKIE, cookies);
        if let Some(t) = header_token {
            request = request.header("X-CSRFToken", t);
        }
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        let (status, response) = send(&w, request.body(Body::from(form.clone())).unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body(response).await, json!({ "detail": format!("CSRF Failed: {reason}") }).to_string());
    }
    assert!(w.db.tables().program_enrollment_history.is_empty());
    // The Authorization header needs no CSRF token.
    let request = Request::post(API)
        .header(header::AUTHORIZATION, format!("JWT {token}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("program_uuid={PROGRAM}&username_pair_text=0001%2Clearner")))
        .unwrap();
    let (status, response) = send(&w, request).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body(response).await).unwrap()["successes"],
        json!(["('0001', 'learner')"])
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_and_json_is_ignored() {
    let w = world();
    let request = mfe_post("staff", &[])
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, (2 * 1024 * 1024).to_string())
        .body(Body::from(vec![b'a'; 2 * 1024 * 1024]))
        .unwrap();
    let (status, _) = send(&w, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let request = mfe_post("staff", &[])
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"program_uuid": PROGRAM, "username_pair_text": "0001,learner"}).to_string()))
        .unwrap();
    let (status, response) = send(&w, request).await;
    assert_eq!(status, StatusCode::OK);
    let answer: Value = serde_json::from_str(&body(response).await).unwrap();
    assert_eq!(answer["errors"][0].as_str().unwrap(), web::text::MISSING_FIELDS);
    for empty in ["", "--Bound\r\n", "--Bound--\r\n"] {
        let request = mfe_post("staff", &[])
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=Bound")
            .body(Body::from(empty))
            .unwrap();
        let (status, response) = send(&w, request).await;
        let text = body(response).await;
        if empty == "--Bound\r\n" {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
        } else {
            assert_eq!(status, StatusCode::OK, "{empty:?}");
            let answer: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(answer["errors"][0].as_str().unwrap(), web::text::MISSING_FIELDS);
            assert_eq!((answer["program_uuid"].as_str(), answer["username_pair_text"].as_str()), (Some(""), Some("")));
        }
    }
    let request = mfe_post("staff", &[])
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=x")
        .body(Body::from("garbage"))
        .unwrap();
    let (status, _) = send(&w, request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn cors_only_for_the_allowed_origin() {
    let w = world();
    for (origin, allowed) in [(MFE, true), ("http://evil.test", false)] {
        let request = Request::options(API)
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "use-jwt-cookie,x-csrftoken,content-type")
            .body(Body::empty())
            .unwrap();
        let (_, response) = send(&w, request).await;
        let headers = response.headers();
        if allowed {
            assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], MFE);
            assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
            let allowed_headers = headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().unwrap();
            for h in ["use-jwt-cookie", "x-csrftoken", "content-type"] {
                assert!(allowed_headers.contains(h), "{allowed_headers}");
            }
        } else {
            assert!(headers.keys().all(|k| !k.as_str().starts_with("access-control-")), "{headers:?}");
        }
    }
}

#[tokio::test]
async fn the_page_redirects_sets_csrf_and_links_from_its_form() {
    let w = world();
    let (status, response) =
        send(&w, Request::get("/support/link_program_enrollments?a=b").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(
        response.headers()[header::LOCATION],
        "http://lms.test/login?next=/support/link_program_enrollments%3Fa%3Db"
    );

    let token = token("staff");
    let (header_payload, signature) = token.rsplit_once('.').unwrap();
    let jwt_cookies = format!("edx-jwt-cookie-header-payload={header_payload}; edx-jwt-cookie-signature={signature}");
    let request = Request::get("/support/link_program_enrollments/")
        .header(header::COOKIE, &jwt_cookies)
        .body(Body::empty())
        .unwrap();
    let (status, response) = send(&w, request).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    let secret = cookie.strip_prefix("csrftoken=").unwrap().split(';').next().unwrap().to_owned();
    let html = body(response).await;
    assert!(html.contains("<label for=\"program_uuid\">Program UUID</label>"));
    assert!(html.contains("placeholder=\"external_student_key,lms_username\""));
    let form_token = html.split("name=\"csrfmiddlewaretoken\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(web::csrf::unmask(form_token).as_deref(), Some(secret.as_str()));

    let form =
        format!("csrfmiddlewaretoken={form_token}&program_uuid={PROGRAM}&text=0001%2Clearner%0D%0A0009%2Clearner2");
    let request = Request::post("/support/link_program_enrollments")
        .header(header::HOST, "lms.test")
        .header(header::ORIGIN, "http://lms.test")
        .header(header::COOKIE, format!("{jwt_cookies}; csrftoken={secret}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (status, response) = send(&w, request).await;
    assert_eq!(status, StatusCode::OK);
    assert!(response.headers().get(header::SET_COOKIE).is_none());
    let html = body(response).await;
    assert!(html.contains("There were 1 successful linkages"), "{html}");
    assert!(html.contains(&format!(
        "<div class=\"alert\" role=\"alert\">No program enrollment found for program uuid={PROGRAM} and external student key=0009</div>"
    )));
    assert!(html.contains("0001,learner\r\n0009,learner2</textarea>"));
}

#[tokio::test]
async fn methods_other_than_post_are_405_on_the_api() {
    let w = world();
    let request = Request::get(API).body(Body::empty()).unwrap();
    let (status, response) = send(&w, request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body(response).await, r#"{"detail":"Method \"GET\" not allowed."}"#);
}
