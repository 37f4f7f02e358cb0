//! Security, on PostgreSQL as a user holding only the linking's grants, with every log on
//! (`RUST_LOG=trace`): each refused request (tokens, permissions, CSRF, `Origin`) gets its
//! status and body and writes nothing; each allowed variant links; CORS for the MFE's origin
//! only; a 2 MB header, a 33 MiB body and malformed multipart bodies get a 4xx and the server
//! still answers; no token, cookie, CSRF token or password shows in the logs.
//!
//! Every case is checked and the failures are reported together.

use std::time::Duration;

use acceptance::restricted::RestrictedUser;
use acceptance::{FRUIT, SeaTestDatabase, Target, TestDatabase};
use domain::UserId;
use serde_json::json;

use super::harness::*;

/// What a refused request must get.
#[derive(Debug, Clone)]
enum Refusal {
    /// 401 `{"detail": "Authentication credentials were not provided."}`.
    NoCredentials,
    /// 401 with a JSON `detail` (an invalid `Authorization` header token; the text is DRF's).
    Unauthorized,
    /// 403, empty body.
    Forbidden,
    /// 403 `{"detail": "CSRF Failed: <reason>"}`.
    Csrf(String),
}

fn refusal_matches(reply: &Reply, refusal: &Refusal) -> bool {
    let json = serde_json::from_str::<serde_json::Value>(&reply.body).ok();
    match refusal {
        Refusal::NoCredentials => reply.status == 401 && json == Some(json!({ "detail": NO_CREDENTIALS })),
        Refusal::Unauthorized => {
            reply.status == 401
                && json.as_ref().and_then(|j| j["detail"].as_str()).is_some_and(|d| !d.is_empty())
                && json.as_ref().and_then(|j| j.as_object()).is_some_and(|o| o.len() == 1)
        }
        Refusal::Forbidden => reply.status == 403 && reply.body.is_empty(),
        Refusal::Csrf(reason) => {
            reply.status == 403 && json == Some(json!({ "detail": format!("CSRF Failed: {reason}") }))
        }
    }
}

/// The fixture: the people, a program with waiting keys, learners.
struct Fixture {
    db: SeaTestDatabase,
    people: People,
    program: Program,
    user: RestrictedUser,
}

impl Fixture {
    async fn new() -> Option<Fixture> {
        let db = database(Target::Postgres).await?;
        db.add_course_overview(FRUIT).await;
        let people = People::add(&db).await;
        let program = Program::new();
        program.waiting(&db, "k1", &[FRUIT]).await;
        db.add_user("learner_1", "learner_1@example.com").await;
        for i in 0..20 {
            program.waiting(&db, &format!("pos-{i}"), &[FRUIT]).await;
            db.add_user(&format!("pos_learner_{i}"), &format!("pos_learner_{i}@example.com")).await;
        }
        let user = RestrictedUser::create(&db).await;
        Some(Fixture { db, people, program, user })
    }

    fn options(&self) -> ServeOptions {
        let mut options = ServeOptions::new(&self.user.url);
        options.rust_log = Some("trace".into());
        options
    }
}

fn staff_token() -> String {
    Jwt::lms("support_staff").token()
}

fn hs(bits: u16, secret: Vec<u8>) -> Signer {
    Signer::Hmac { bits, secret }
}

/// The refused requests: (what, caller, refusal).
fn refused_cases() -> Vec<(String, Caller, Refusal)> {
    let keys = keys();
    let now = now();
    let staff = || Jwt::lms("support_staff");
    let cookie = |jwt: Jwt| Caller::mfe(&jwt.token());
    let signed = |jwt: Jwt, signer: Signer| Caller::mfe(&jwt.sign(&signer));
    let public_pem = std::fs::read(&keys.public_pem).unwrap();
    let mut cases: Vec<(String, Caller, Refusal)> = vec![
        ("no token".into(), Caller::anonymous(), Refusal::NoCredentials),
        (
            "only the header.payload cookie".into(),
            Caller { half_cookie: true, ..cookie(staff()) },
            Refusal::NoCredentials,
        ),
        ("a token that is not a JWT".into(), Caller::mfe("not.a.jwt"), Refusal::NoCredentials),
        (
            "expired".into(),
            cookie(staff().with("exp", json!(now - 60)).with("iat", json!(now - 3660))),
            Refusal::NoCredentials,
        ),
        (
            "not yet valid: iat in the future".into(),
            cookie(staff().with("iat", json!(now + 3600)).with("exp", json!(now + 7200))),
            Refusal::NoCredentials,
        ),
        (
            "not yet valid: nbf in the future".into(),
            cookie(staff().with("nbf", json!(now + 3600))),
            Refusal::NoCredentials,
        ),
        ("no exp".into(), cookie(staff().without("exp")), Refusal::NoCredentials),
        ("no iat".into(), cookie(staff().without("iat")), Refusal::NoCredentials),
        (
            "wrong signature (another key, same kid)".into(),
            signed(staff(), Signer::Rsa { bits: 512, key: keys.other_private_pem.clone() }),
            Refusal::NoCredentials,
        ),
        ("wrong issuer".into(), cookie(staff().with("iss", json!("http://evil.test/oauth2"))), Refusal::NoCredentials),
        ("wrong audience".into(), cookie(staff().with("aud", json!("someone-else"))), Refusal::NoCredentials),
        ("version 2.0.0".into(), cookie(staff().with("version", json!("2.0.0"))), Refusal::NoCredentials),
        ("alg none".into(), signed(staff(), Signer::None("none")), Refusal::NoCredentials),
        ("alg None".into(), signed(staff(), Signer::None("None")), Refusal::NoCredentials),
        ("alg NONE".into(), signed(staff(), Signer::None("NONE")), Refusal::NoCredentials),
        (
            "HS256 signed with the public key (PEM)".into(),
            signed(staff(), hs(256, public_pem.clone())),
            Refusal::NoCredentials,
        ),
        (
            "HS512 signed with the public key (PEM)".into(),
            signed(staff(), hs(512, public_pem.clone())),
            Refusal::NoCredentials,
        ),
        (
            "HS256 signed with the JWKS file".into(),
            signed(staff(), hs(256, keys.jwks.clone().into_bytes())),
            Refusal::NoCredentials,
        ),
        (
            "HS256 signed with the modulus".into(),
            signed(staff(), hs(256, keys.modulus.clone())),
            Refusal::NoCredentials,
        ),
        (
            "HS256 signed with the secret, but serve has only a JWKS".into(),
            signed(staff(), hs(256, keys.secret.clone())),
            Refusal::NoCredentials,
        ),
        ("unknown user (never created)".into(), cookie(Jwt::lms("ghost_user")), Refusal::Forbidden),
        ("user not staff, token says administrator".into(), cookie(Jwt::lms("plain_user")), Refusal::Forbidden),
        ("inactive support-role user".into(), cookie(Jwt::lms("inactive_support")), Refusal::Forbidden),
        ("support role of one organisation only".into(), cookie(Jwt::lms("org_support")), Refusal::Forbidden),
        ("no username claim".into(), cookie(staff().without("preferred_username")), Refusal::NoCredentials),
        (
            "no CSRF cookie".into(),
            Caller { csrf_cookie: None, ..cookie(staff()) },
            Refusal::Csrf("CSRF cookie not set.".into()),
        ),
        (
            "no X-CSRFToken".into(),
            Caller { csrf_header: None, ..cookie(staff()) },
            Refusal::Csrf("CSRF token missing.".into()),
        ),
        (
            "X-CSRFToken of another secret (masked)".into(),
            Caller { csrf_header: Some(csrf_mask(&csrf_secret())), ..cookie(staff()) },
            Refusal::Csrf("CSRF token from the 'X-Csrftoken' HTTP header incorrect.".into()),
        ),
        (
            "X-CSRFToken of another secret (unmasked)".into(),
            Caller { csrf_header: Some(csrf_secret()), ..cookie(staff()) },
            Refusal::Csrf("CSRF token from the 'X-Csrftoken' HTTP header incorrect.".into()),
        ),
        (
            "X-CSRFToken of a wrong length".into(),
            Caller { csrf_header: Some(random_csrf_chars(20)), ..cookie(staff()) },
            Refusal::Csrf("CSRF token from the 'X-Csrftoken' HTTP header has incorrect length.".into()),
        ),
        (
            "X-CSRFToken with invalid characters".into(),
            Caller { csrf_header: Some(format!("{}!", random_csrf_chars(63))), ..cookie(staff()) },
            Refusal::Csrf("CSRF token from the 'X-Csrftoken' HTTP header has invalid characters.".into()),
        ),
        (
            "csrftoken cookie of a wrong length".into(),
            Caller { csrf_cookie: Some(random_csrf_chars(20)), ..cookie(staff()) },
            Refusal::Csrf("CSRF cookie has incorrect length.".into()),
        ),
        (
            "foreign Origin".into(),
            Caller { origin: Some(FOREIGN_ORIGIN.into()), ..cookie(staff()) },
            Refusal::Csrf(format!("Origin checking failed - {FOREIGN_ORIGIN} does not match any trusted origins.")),
        ),
        (
            "foreign Origin, no CSRF token".into(),
            Caller { origin: Some(FOREIGN_ORIGIN.into()), csrf_header: None, ..cookie(staff()) },
            Refusal::Csrf(format!("Origin checking failed - {FOREIGN_ORIGIN} does not match any trusted origins.")),
        ),
        (
            "Origin of the MFE over https instead of http".into(),
            Caller { origin: Some(MFE_ORIGIN.replacen("http:", "https:", 1)), ..cookie(staff()) },
            Refusal::Csrf(format!(
                "Origin checking failed - {} does not match any trusted origins.",
                MFE_ORIGIN.replacen("http:", "https:", 1)
            )),
        ),
        (
            "Authorization: JWT, expired".into(),
            Caller::script(&staff().with("exp", json!(now - 60)).token()),
            Refusal::Unauthorized,
        ),
        (
            "Authorization: JWT, alg none".into(),
            Caller::script(&staff().sign(&Signer::None("none"))),
            Refusal::Unauthorized,
        ),
        (
            "Authorization: JWT, HS256 with the public key".into(),
            Caller::script(&staff().sign(&hs(256, public_pem))),
            Refusal::Unauthorized,
        ),
        ("Authorization: JWT, not staff".into(), Caller::script(&Jwt::lms("plain_user").token()), Refusal::Forbidden),
    ];
    // A staff user's claims under another user's signature.
    let plain = Jwt::lms("plain_user").token();
    let staff_payload = staff().token();
    let forged = format!(
        "{}.{}.{}",
        staff_payload.split('.').next().unwrap(),
        staff_payload.split('.').nth(1).unwrap(),
        plain.split('.').nth(2).unwrap()
    );
    cases.push(("claims swapped under a valid signature".into(), Caller::mfe(&forged), Refusal::NoCredentials));
    cases
}

/// The allowed variants: (what, caller, acting user's username).
fn allowed_cases() -> Vec<(String, Caller, &'static str)> {
    let staff = || Jwt::lms("support_staff");
    let cookie = |jwt: Jwt| Caller::mfe(&jwt.token());
    let secret = csrf_secret();
    vec![
        ("staff, RS512 cookies as the MFE sends them".into(), cookie(staff()), "support_staff"),
        (
            "RS256".into(),
            Caller::mfe(&staff().sign(&Signer::Rsa { bits: 256, key: keys().private_pem.clone() })),
            "support_staff",
        ),
        ("the second --jwt-issuer".into(), cookie(staff().with("iss", json!(OTHER_ISSUER))), "support_staff"),
        ("no version claim (1.0.0)".into(), cookie(staff().without("version")), "support_staff"),
        ("version 1.9.0".into(), cookie(staff().with("version", json!("1.9.0"))), "support_staff"),
        (
            "`username` instead of `preferred_username`".into(),
            cookie(staff().without("preferred_username").with("username", json!("support_staff"))),
            "support_staff",
        ),
        (
            "staff in the database, the token says administrator: false".into(),
            cookie(staff().with("administrator", json!(false))),
            "support_staff",
        ),
        (
            "an active support-role user".into(),
            cookie(Jwt::lms("support_role").with("administrator", json!(false))),
            "support_role",
        ),
        (
            "X-CSRFToken unmasked (the secret itself)".into(),
            Caller { csrf_header: Some(secret.clone()), csrf_cookie: Some(secret.clone()), ..cookie(staff()) },
            "support_staff",
        ),
        (
            "a masked csrftoken cookie (older Django)".into(),
            Caller { csrf_header: Some(csrf_mask(&secret)), csrf_cookie: Some(csrf_mask(&secret)), ..cookie(staff()) },
            "support_staff",
        ),
        ("no Origin".into(), Caller { origin: None, ..cookie(staff()) }, "support_staff"),
        ("Authorization: JWT, no CSRF token, no Origin".into(), Caller::script(&staff().token()), "support_staff"),
        (
            "Authorization: JWT, a foreign Origin (no CSRF check at all)".into(),
            Caller { origin: Some(FOREIGN_ORIGIN.into()), ..Caller::script(&staff().token()) },
            "support_staff",
        ),
    ]
}

fn user_id(tables: &acceptance::Tables, username: &str) -> UserId {
    tables.users.values().find(|u| u.username == username).unwrap().id
}

#[tokio::test]
async fn security_postgres() {
    let Some(f) = Fixture::new().await else { return };
    let mut failures = Failures::default();
    let server = f.options().start();
    let p = f.program.text();
    let mut secrets = vec![f.user.password.clone()];
    let before = f.db.tables().await;

    // Refused: status and body, nothing written (no user created either).
    for (what, caller, refusal) in refused_cases() {
        secrets.extend(caller.secrets());
        let got = caller.link(&server, &Fields::mfe(&p, "k1,learner_1")).await;
        failures.check(refusal_matches(&got, &refusal), || {
            format!("{what}: want {refusal:?}, got {} {:?}", got.status, got.body)
        });
        failures.check(f.db.tables().await == before, || format!("{what}: the refused request wrote"));
    }

    // Allowed: linked, the history rows carry the acting user's id.
    let cases = allowed_cases();
    for (i, (what, caller, acting)) in cases.into_iter().enumerate() {
        secrets.extend(caller.secrets());
        let (key, learner) = (format!("pos-{i}"), format!("pos_learner_{i}"));
        let got = caller.link(&server, &Fields::mfe(&p, &format!("{key},{learner}"))).await;
        let want = json!({"successes": [format!("('{key}', '{learner}')")], "errors": [], "program_uuid": p,
            "username_pair_text": format!("{key},{learner}")});
        failures.check(
            got.status == 200 && serde_json::from_str::<serde_json::Value>(&got.body).ok() == Some(want),
            || format!("{what}: want 200 and a success, got {} {:?}", got.status, got.body),
        );
        let tables = f.db.tables().await;
        let acting = user_id(&tables, acting);
        let pe = pe_row(&tables, &key, f.program.uuid);
        let history: Vec<_> =
            tables.program_enrollment_history.iter().filter(|h| h.row.id == pe.id).map(|h| h.history_user_id).collect();
        if got.status == 200 {
            failures.check(history == vec![Some(acting)], || {
                format!("{what}: the PE's history rows should carry the acting user {acting:?}: {history:?}")
            });
        }
    }

    // CORS: the MFE's origin only.
    let preflight = |origin: &str| {
        http()
            .request(reqwest::Method::OPTIONS, server.url(API))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "use-jwt-cookie,x-csrftoken,content-type")
            .send()
    };
    let got = reply(preflight(MFE_ORIGIN).await.unwrap()).await;
    let allowed_headers = got.header("access-control-allow-headers").unwrap_or_default().to_lowercase();
    failures.check(
        (200..300).contains(&got.status)
            && got.header("access-control-allow-origin").as_deref() == Some(MFE_ORIGIN)
            && got.header("access-control-allow-credentials").as_deref() == Some("true")
            && ["use-jwt-cookie", "x-csrftoken", "content-type"].iter().all(|h| allowed_headers.contains(h))
            && got.header("access-control-allow-methods").unwrap_or_default().to_uppercase().contains("POST"),
        || format!("preflight from the MFE: {} {:?}", got.status, got.headers),
    );
    let got = reply(preflight(FOREIGN_ORIGIN).await.unwrap()).await;
    failures.check(got.headers.keys().all(|h| !h.as_str().starts_with("access-control-")), || {
        format!("preflight from a foreign origin must carry no CORS header: {:?}", got.headers)
    });
    let caller = Caller::mfe(&staff_token());
    let got = caller.link(&server, &Fields::mfe(&p, "nokey,learner_1")).await;
    failures.check(
        got.status == 200
            && got.header("access-control-allow-origin").as_deref() == Some(MFE_ORIGIN)
            && got.header("access-control-allow-credentials").as_deref() == Some("true"),
        || format!("POST from the MFE: CORS headers: {} {:?}", got.status, got.headers),
    );
    let got = Caller { origin: Some(FOREIGN_ORIGIN.into()), ..Caller::mfe(&staff_token()) }
        .link(&server, &Fields::mfe(&p, "nokey,learner_1"))
        .await;
    failures.check(got.headers.keys().all(|h| !h.as_str().starts_with("access-control-")), || {
        format!("POST from a foreign origin must carry no CORS header: {:?}", got.headers)
    });

    // Oversized and malformed requests: a 4xx, no panic, /health still answers.
    let after_allowed = f.db.tables().await;
    let valid = Caller::mfe(&staff_token());
    secrets.extend(valid.secrets());
    let big_header = format!("X-Padding: {}\r\nContent-Length: 0\r\n", "a".repeat(2 * 1024 * 1024));
    let status = raw_status(server.addr, raw_head(&server, &valid, &big_header), Vec::new(), Duration::from_secs(30));
    failures.check(status.is_some_and(|s| (400..500).contains(&s)), || {
        format!("a 2 MB header: want a 4xx, got {status:?}")
    });
    assert_healthy(&server).await;
    let big_cookie = Caller {
        csrf_cookie: Some(format!("{}; junk={}", valid.csrf_cookie.clone().unwrap(), "b".repeat(2 * 1024 * 1024))),
        ..valid.clone()
    };
    let status = raw_status(
        server.addr,
        raw_head(&server, &big_cookie, "Content-Length: 0\r\n"),
        Vec::new(),
        Duration::from_secs(30),
    );
    failures.check(status.is_some_and(|s| (400..500).contains(&s)), || {
        format!("a 2 MB Cookie header: want a 4xx, got {status:?}")
    });
    assert_healthy(&server).await;
    // 33 MiB announced: refused before the body is read (nothing of it sent yet).
    let size = 33 * 1024 * 1024;
    let head = raw_head(
        &server,
        &valid,
        &format!("Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {size}\r\n"),
    );
    let status = raw_status(server.addr, head, Vec::new(), Duration::from_secs(10));
    failures.check(status == Some(413), || {
        format!("33 MiB announced by Content-Length: want 413 before the body is sent, got {status:?}")
    });
    assert_healthy(&server).await;
    // 33 MiB sent chunked (no length announced): refused once past the limit.
    let mut body = Vec::new();
    let part = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"program_uuid\"\r\n\r\n{p}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"username_pair_text\"\r\n\r\n"
    );
    let mut payload = part.into_bytes();
    let line = b"nokey,learner_1\r\n";
    while payload.len() < size {
        payload.extend_from_slice(line);
    }
    payload.extend_from_slice(b"\r\n--XyZ--\r\n");
    for chunk in payload.chunks(1 << 20) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let head =
        raw_head(&server, &valid, "Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n");
    let status = raw_status(server.addr, head, body, Duration::from_secs(120));
    failures.check(status == Some(413), || format!("33 MiB sent chunked: want 413, got {status:?}"));
    assert_healthy(&server).await;
    for (what, content_type, body) in [
        ("not multipart at all", "multipart/form-data; boundary=XyZ", b"this is no multipart body".to_vec()),
        ("no boundary", "multipart/form-data", b"--XyZ\r\n\r\n".to_vec()),
        (
            "truncated",
            "multipart/form-data; boundary=XyZ",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"program_uuid\"\r\n\r\nabc".to_vec(),
        ),
    ] {
        let got = valid.post_raw(&server, content_type, body).await;
        failures.check((400..500).contains(&got.status), || {
            format!("malformed multipart ({what}): want a 4xx, got {} {:?}", got.status, got.body)
        });
        assert_healthy(&server).await;
    }
    failures.check(f.db.tables().await == after_allowed, || "an oversized or malformed request wrote".into());
    failures.check(!server.stderr().contains("panicked"), || format!("the server panicked:\n{}", server.stderr()));

    // Nothing secret in the logs, with every log on.
    let log = server.stderr();
    for secret in &secrets {
        failures.check(!log.contains(secret.as_str()), || {
            let at = log.find(secret.as_str()).unwrap();
            let line_start = log[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = log[at..].find('\n').map_or(log.len(), |i| at + i);
            format!("a secret shows in the log: {}", &log[line_start..line_end.min(line_start + 400)])
        });
    }
    drop(server);

    // --max-body-bytes: a smaller limit is honoured.
    let small = f.options().arg(&["--max-body-bytes", "2000"]).start();
    let got = valid.link(&small, &Fields::mfe("notauuid", "k1,learner_1")).await;
    failures.check(got.status == 200, || {
        format!("--max-body-bytes 2000, a small body: want 200, got {} {}", got.status, got.body)
    });
    let got = valid.link(&small, &Fields::mfe("notauuid", &"k1,learner_1\r\n".repeat(300))).await;
    failures
        .check(got.status == 413, || format!("--max-body-bytes 2000, 4 kB: want 413, got {} {}", got.status, got.body));
    drop(small);

    // --jwt-secret-file: HS256 with that secret is accepted; the public key still is not.
    let mut options = f.options();
    options.secret_file = true;
    let both = options.start();
    let got = Caller::mfe(&Jwt::lms("support_staff").sign(&hs(256, keys().secret.clone())))
        .link(&both, &Fields::mfe(&p, "pos-19,pos_learner_19"))
        .await;
    failures.check(got.status == 200 && got.json()["successes"] == json!(["('pos-19', 'pos_learner_19')"]), || {
        format!("HS256 with --jwt-secret-file: want 200 and a success, got {} {}", got.status, got.body)
    });
    let got = Caller::mfe(&Jwt::lms("support_staff").sign(&hs(256, std::fs::read(&keys().public_pem).unwrap())))
        .link(&both, &Fields::mfe(&p, "k1,learner_1"))
        .await;
    failures.check(refusal_matches(&got, &Refusal::NoCredentials), || {
        format!("HS256 with the public key, --jwt-secret-file given: want 401, got {} {}", got.status, got.body)
    });
    drop(both);
    failures.check(pe_row(&f.db.tables().await, "k1", f.program.uuid).user_id.is_none(), || "k1 got linked".into());

    let _ = &f.people;
    f.user.drop(&f.db).await;
    f.db.finish().await;
    failures.finish();
}
