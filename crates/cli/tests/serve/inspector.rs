//! The Program Enrollments Inspector's endpoints as the support MFE calls them
//! (`support-web.md` §1.5, §1.6, §2, §3.3): `GET` with the two JWT cookies and
//! `USE-JWT-COOKIE` (no CSRF header: the MFE sends one on unsafe methods only), the query string
//! built as the MFE builds it, unencoded (`?edx_user=${username}&org_key=${activeOrgKey}&…`).
//! Every upstream inspector case named in the spec (an account with and without SSO and
//! enrollments, an external key connected and not, not in the system, a key in another case,
//! the three messages), where upstream crashes (two accounts matching, a uid that does not fit
//! its provider), on SQLite, PostgreSQL and MariaDB; a database without the SSO tables; who is
//! refused; the page over HTTP and in headless Chromium; `--learning-mfe-url`,
//! `--program-titles` and a bad titles file; a user holding only the inspector's grants. The same
//! cases through `program-enrollments inspect` on the three backends.

use std::time::Duration;

use acceptance::restricted::RestrictedUser;
use acceptance::{ANIMAL, FRUIT, SeaTestDatabase, Target, TestDatabase};
use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value as Json, json};

use super::harness::*;

const DETAILS: &str = "/support/program_enrollments_inspector_details";
const PROVIDERS: &str = "/support/get_saml_providers/";
const INSPECTOR_PAGE: &str = "/support/program_enrollments_inspector";
const NO_SEARCH: &str = "To perform a search, you must provide either the student's (a) edX username, (b) email \
                         address associated with their edX account, or (c) Identity-providing institution and external key!";

/// The inspector's world: organisation `testX` with SAML provider `test`, `donut_org` whose
/// provider is disabled; `connected` (SSO `test:AbCdEf123` and a Google login, a PE with key
/// `AbCdEf123` holding a masters CE in FRUIT and a waiting PCE in ANIMAL); `lonely` (no SSO, no
/// PE); a waiting PE with key `abcaaa`; `misfit`, whose SAML uid has its slug in upper case.
struct Site {
    db: SeaTestDatabase,
    program: Program,
    server: Server,
}

async fn world(db: &SeaTestDatabase) -> Program {
    db.add_course_overview(FRUIT).await;
    db.add_course_overview(ANIMAL).await;
    People::add(db).await;
    let learners = db.learners().unwrap_or_else(|| panic!("no inspector tables"));
    let test_x = learners.add_organization("testX").await;
    learners.add_saml_provider("test", Some(test_x), true).await;
    let donut = learners.add_organization("donut_org").await;
    learners.add_saml_provider("donut", Some(donut), false).await;
    let program = Program::new();
    let connected = db.add_user("connected", "connected+tag@example.com").await;
    learners.add_social_auth(connected, "tpa-saml", "test:AbCdEf123").await;
    learners.add_social_auth(connected, "google-oauth2", "connected@gmail.com").await;
    let pe = db
        .add_program_enrollment(Some("AbCdEf123"), program.uuid, program.curriculum, Some(connected), "enrolled")
        .await;
    let ce = db.add_course_enrollment(connected, FRUIT, "masters", true).await;
    db.add_program_course_enrollment(pe, FRUIT, "active", Some(ce)).await;
    db.add_program_course_enrollment(pe, ANIMAL, "inactive", None).await;
    db.add_user("lonely", "lonely@example.com").await;
    // Upstream's MultipleObjectsReturned: one's username is the other's email.
    db.add_user("lonely@example.com", "someone.else@example.com").await;
    program.waiting(db, "abcaaa", &[FRUIT]).await;
    let misfit = db.add_user("misfit", "misfit@example.com").await;
    learners.add_social_auth(misfit, "tpa-saml", "TEST:key-misfit").await;
    program
}

impl Site {
    async fn new(target: Target, args: &[&str]) -> Option<Site> {
        let db = database(target).await?;
        let program = world(&db).await;
        let server = ServeOptions::new(db.url()).arg(args).start();
        Some(Site { db, program, server })
    }

    async fn finish(self) {
        self.server.assert_no_panic();
        drop(self.server);
        self.db.finish().await;
    }
}

/// The MFE's `GET` for `username`: cookies and `USE-JWT-COOKIE`, no CSRF header.
fn mfe_get(username: &str) -> Caller {
    Caller { csrf_header: None, ..Caller::mfe(&Jwt::lms(username).token()) }
}

/// The MFE's details call: the values concatenated unencoded, as `ProgramInspector.jsx` does.
async fn details(server: &Server, caller: &Caller, edx_user: &str, org_key: &str, key: &str) -> Json {
    let path = format!("{DETAILS}?edx_user={edx_user}&org_key={org_key}&external_user_key={key}");
    let got = caller.get(server, &path).await;
    assert_eq!(got.status, 200, "{path}: {}", got.body);
    assert_eq!(got.header("content-type").as_deref(), Some("application/json"), "{path}");
    got.json()
}

fn user_of(reply: &Json) -> &Json {
    &reply["learner_program_enrollments"]["user"]
}

/// Every case of the spec on one backend.
async fn inspector_cases(target: Target) {
    let Some(site) = Site::new(target, &[]).await else { return };
    let (server, p) = (&site.server, site.program.text());
    let staff = mfe_get("support_staff");
    let connected_user = json!({"username": "connected", "email": "connected+tag@example.com",
                                "sso_list": [{"uid": "test:AbCdEf123"}]});

    // An account with SSO and enrollments, by username (the MFE pre-selects the first
    // institution: the SSO list keeps the SAML records only).
    let got = details(server, &staff, "connected", "testX", "").await;
    assert_eq!((got["error"].as_str(), got["org_keys"].as_str()), (Some(""), Some("testX")), "{got}");
    assert_eq!(user_of(&got), &connected_user, "{target:?}");
    let found = &got["learner_program_enrollments"];
    assert!(found.get("id_verification").is_none(), "id_verification is left out: {found}");
    let enrollments = found["enrollments"].as_array().unwrap();
    assert_eq!(enrollments.len(), 1, "{found}");
    let pe = &enrollments[0];
    assert_eq!(
        (&pe["program_uuid"], &pe["status"], &pe["external_user_key"], &pe["program_name"]),
        (&json!(p), &json!("enrolled"), &json!("AbCdEf123"), &json!("")),
        "{target:?}"
    );
    for at in [&pe["created"], &pe["modified"]] {
        let at = at.as_str().unwrap();
        assert!(
            at.len() == 19 && at.as_bytes()[10] == b'T' && !at.contains('.') && !at.ends_with('Z'),
            "YYYY-MM-DDTHH:MM:SS: {at}"
        );
    }
    let pces = pe["program_course_enrollments"].as_array().unwrap();
    assert_eq!(pces.len(), 2, "{pe}");
    assert_eq!(pces[0]["course_key"], FRUIT);
    assert_eq!(pces[0]["status"], "active");
    assert_eq!(pces[0]["course_url"], format!("/courses/{FRUIT}/course/"));
    assert_eq!(pces[0]["course_enrollment"], json!({"course_id": FRUIT, "is_active": true, "mode": "masters"}));
    assert_eq!((&pces[1]["course_key"], &pces[1]["course_enrollment"]), (&json!(ANIMAL), &Json::Null));
    // By email; without an institution (`undefined`) every SSO record is listed.
    let by_email = details(server, &staff, "connected%2Btag@example.com", "testX", "").await;
    assert_eq!(by_email["learner_program_enrollments"], got["learner_program_enrollments"], "{target:?}");
    let got = details(server, &staff, "connected", "undefined", "").await;
    assert_eq!(
        user_of(&got)["sso_list"],
        json!([{"uid": "test:AbCdEf123"}, {"uid": "connected@gmail.com"}]),
        "{target:?}"
    );
    assert_eq!(got["org_keys"], "undefined");
    // As the MFE sends an email with `+`, unencoded: it arrives as a space (upstream's quirk).
    let got = details(server, &staff, "connected+tag@example.com", "testX", "").await;
    assert_eq!(got["error"], "Could not find edx account with connected tag@example.com", "{target:?}");

    // An account without SSO or enrollments.
    let got = details(server, &staff, "lonely", "testX", "").await;
    assert_eq!(
        got["learner_program_enrollments"],
        json!({"user": {"username": "lonely", "email": "lonely@example.com"}})
    );
    // Not found: upstream's message, `{}`.
    let got = details(server, &staff, "wrongAccount", "testX", "").await;
    assert_eq!(
        got,
        json!({"error": "Could not find edx account with wrongAccount", "learner_program_enrollments": {}, "org_keys": "testX"})
    );

    // External key, well connected; in another case; not connected; not in the system.
    for key in ["AbCdEf123", "aBcDeF123"] {
        let got = details(server, &staff, "", "testX", key).await;
        assert_eq!((got["error"].as_str(), user_of(&got)), (Some(""), &connected_user), "{target:?} {key}");
        assert_eq!(got["learner_program_enrollments"]["enrollments"].as_array().map(Vec::len), Some(1));
    }
    let got = details(server, &staff, "", "testX", "ABCAAA").await;
    assert_eq!(user_of(&got), &json!({"external_user_key": "ABCAAA"}), "{target:?}");
    let waiting = &got["learner_program_enrollments"]["enrollments"][0];
    assert_eq!((&waiting["external_user_key"], &waiting["program_uuid"]), (&json!("abcaaa"), &json!(p)));
    assert_eq!(waiting["program_course_enrollments"][0]["course_enrollment"], Json::Null);
    let got = details(server, &staff, "", "testX", "nobody").await;
    assert_eq!(
        got,
        json!({"error": "No user found for external key nobody for institution testX",
               "learner_program_enrollments": {}, "org_keys": "testX"})
    );
    // A disabled provider's organisation, and the MFE's `undefined`: no SSO record can name
    // the holder, but the key's enrollments are listed, in every program (upstream's view).
    for org in ["donut_org", "undefined"] {
        let got = details(server, &staff, "", org, "AbCdEf123").await;
        assert_eq!(user_of(&got), &json!({"external_user_key": "AbCdEf123"}), "{target:?} {org}: {got}");
        assert_eq!(got["learner_program_enrollments"]["enrollments"].as_array().map(Vec::len), Some(1));
        let got = details(server, &staff, "", org, "nobody").await;
        assert_eq!(got["error"], format!("No user found for external key nobody for institution {org}"));
    }
    // No search: all empty (org_keys ''), or the MFE's empty form.
    let got = details(server, &staff, "", "", "").await;
    assert_eq!(got, json!({"error": NO_SEARCH, "learner_program_enrollments": {}, "org_keys": ""}));
    let got = caller_get_json(server, &staff, DETAILS).await;
    assert_eq!(got["error"], NO_SEARCH);
    let got = details(server, &staff, "", "testX", "").await;
    assert_eq!(got["error"], NO_SEARCH);

    // Where upstream answers 500: two accounts match; a uid whose slug does not fit.
    let got = details(server, &staff, "lonely@example.com", "testX", "").await;
    assert_eq!(
        got["error"],
        "More than one edx account matches lonely@example.com (by username or email): lonely, lonely@example.com"
    );
    assert_eq!(got["learner_program_enrollments"], json!({}));
    let got = details(server, &staff, "", "testX", "key-misfit").await;
    assert_eq!(user_of(&got)["username"], "misfit", "{got}");
    let notes = got["learner_program_enrollments"]["notes"].as_array().unwrap();
    assert!(notes[0].as_str().unwrap().contains("TEST:key-misfit"), "{notes:?}");

    // The trailing slash is optional.
    let got = staff.get(server, &format!("{DETAILS}/?edx_user=lonely&org_key=testX&external_user_key=")).await;
    assert_eq!(got.json()["learner_program_enrollments"]["user"]["username"], "lonely");

    // The SAML providers (the disabled one left out), with and without the slash.
    for path in [PROVIDERS, "/support/get_saml_providers"] {
        staff.get(server, path).await.assert_json(200, &json!(["testX"]), path);
    }
    // SSO records: extraData a JSON string, history newest first; an unknown user: [].
    let got = staff.get(server, "/support/sso_records/connected").await;
    let records = got.json();
    assert_eq!(records.as_array().map(Vec::len), Some(2), "{records}");
    assert_eq!((&records[0]["provider"], &records[0]["uid"]), (&json!("tpa-saml"), &json!("test:AbCdEf123")));
    assert_eq!(records[0]["extraData"], "{}");
    assert_eq!(records[0]["history"].as_array().map(Vec::len), Some(1), "{records}");
    assert_eq!(records[0]["history"][0]["uid"], "test:AbCdEf123");
    let by_email = staff.get(server, "/support/sso_records/connected+tag@example.com").await;
    assert_eq!(by_email.json(), records, "a path's `+` is a `+`");
    staff.get(server, "/support/sso_records/nobody").await.assert_json(200, &json!([]), "unknown user");
    staff.get(server, "/support/sso_records/").await.assert_json(200, &json!([]), "no name");
    assert_eq!(staff.get(server, "/support/sso_records/a%20b").await.status, 404, "outside [\\w.@+-]");
    staff.get(server, "/support/sso_records/lonely@example.com").await.assert_detail(
        409,
        "More than one edx account matches lonely@example.com (by username or email): lonely, lonely@example.com",
        "two accounts",
    );

    // The log names no learner of the SSO records' path.
    assert!(!server.stderr().contains("sso_records/connected"), "{}", server.stderr());
    assert!(server.stderr().contains("GET /support/sso_records/{username_or_email} 200"), "{}", server.stderr());

    // Who may: a global support role yes; a plain user, an organisation's support role, no.
    let got = details(server, &mfe_get("support_role"), "lonely", "testX", "").await;
    assert_eq!(user_of(&got)["username"], "lonely");
    let plain = mfe_get("plain_user");
    for path in [DETAILS, PROVIDERS, "/support/sso_records/connected", INSPECTOR_PAGE] {
        plain.get(server, path).await.assert_forbidden_empty(path);
        mfe_get("org_support").get(server, path).await.assert_forbidden_empty(path);
    }
    // Without credentials: the API 401, the others the login redirect (`login_required`).
    let anonymous = Caller { csrf_header: None, ..Caller::anonymous() };
    anonymous.get(server, DETAILS).await.assert_detail(401, NO_CREDENTIALS, "anonymous details");
    for path in [PROVIDERS, "/support/sso_records/connected", INSPECTOR_PAGE] {
        let got = anonymous.get(server, path).await;
        assert_eq!(got.status, 302, "{path}: {}", got.body);
        assert!(got.header("location").unwrap().starts_with(&format!("{LOGIN_URL}?next=")), "{path}");
    }
    // A script's header token works too; a wrong method is DRF's 405.
    let script = Caller::script(&Jwt::lms("support_staff").token());
    script.get(server, PROVIDERS).await.assert_json(200, &json!(["testX"]), "script");
    let post = Caller::mfe(&Jwt::lms("support_staff").token()).link_at(server, DETAILS, &Fields::new("x", "y")).await;
    post.assert_detail(405, "Method \"POST\" not allowed.", "POST details");

    // The page over HTTP: the learner's tables.
    let got = staff.get(server, &format!("{INSPECTOR_PAGE}?edx_user=connected&org_key=&external_user_key=")).await;
    assert_eq!(got.status, 200, "{}", got.body);
    for text in ["Program Enrollments Inspector", "connected+tag@example.com", "test:AbCdEf123", &p, "masters", FRUIT] {
        assert!(got.body.contains(text), "the page shows {text}: {}", got.body);
    }
    assert!(got.body.contains(&format!("href=\"/courses/{FRUIT}/course/\"")), "{}", got.body);
    assert!(got.body.contains("<option value=\"testX\">testX</option>"), "the institutions: {}", got.body);
    let first = staff.get(server, INSPECTOR_PAGE).await;
    assert!(
        first.status == 200 && !first.body.contains("role=\"alert\""),
        "a first visit shows no error: {}",
        first.body
    );
    let half = staff.get(server, &format!("{INSPECTOR_PAGE}/?edx_user=&org_key=testX&external_user_key=")).await;
    assert!(half.body.contains(NO_SEARCH), "{}", half.body);

    // Nothing was written.
    assert_eq!(count(&site.db, "SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment").await, 0);
    site.finish().await;
}

async fn caller_get_json(server: &Server, caller: &Caller, path: &str) -> Json {
    let got = caller.get(server, path).await;
    assert_eq!(got.status, 200, "{path}: {}", got.body);
    got.json()
}

/// The same world through `program-enrollments inspect`, as support staff run it on a server:
/// every upstream case, and where upstream crashes, with the exit status the README gives.
async fn cli_inspect_cases(target: Target) {
    let Some(db) = database(target).await else { return };
    let program = world(&db).await;
    let url = db.url().to_owned();
    let inspect = |args: &[&str]| {
        let out = crate::common::bin().args(["--database-url", &url, "inspect"]).args(args).output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let waiting_block = format!("program {} (enrolled), external key abcaaa", program.text());
    // An account with SSO and enrollments, by username and by email (no institution: every SSO
    // uid), and by institution and its key in another case (that institution's uids).
    let by_account = "sso: test:AbCdEf123, connected@gmail.com\n";
    for (args, sso) in [
        (&["--user", "connected"][..], by_account),
        (&["--user", "connected+tag@example.com"], by_account),
        (&["--org", "testX", "--key", "abcdef123"], "sso: test:AbCdEf123\n"),
    ] {
        let (code, out, err) = inspect(args);
        assert_eq!(code, Some(0), "{target:?} {args:?}: {err}");
        let account = format!("account: connected <connected+tag@example.com>\n{sso}");
        assert!(out.starts_with(&account), "{target:?} {args:?}: {out}");
        assert!(out.contains("external key AbCdEf123"), "{out}");
        assert!(out.contains(&format!("  {FRUIT} (active): masters, active\n")), "{target:?}: {out}");
        assert!(out.contains(&format!("  {ANIMAL} (inactive): no course enrollment yet\n")), "{target:?}: {out}");
    }
    // An account without SSO or enrollments.
    let (code, out, _) = inspect(&["--user", "lonely"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "account: lonely <lonely@example.com>\nsso: none\nprogram enrollments: none\n")
    );
    // An external key no account holds yet.
    let (code, out, err) = inspect(&["--org", "testX", "--key", "ABCAAA"]);
    assert_eq!(code, Some(0), "{target:?}: {err}");
    assert!(out.starts_with("account: none holds the external key ABCAAA\n"), "{target:?}: {out}");
    assert!(out.contains(&waiting_block), "{target:?}: {out}");
    // Not in the system, and the search of nothing: upstream's messages, exit 1.
    for (args, message) in [
        (&["--user", "wrongAccount"][..], "Could not find edx account with wrongAccount".to_owned()),
        (&["--org", "testX", "--key", "nobody"], "No user found for external key nobody for institution testX".into()),
        (&["--user", "  "], NO_SEARCH.into()),
        (
            &["--user", "lonely@example.com"],
            "More than one edx account matches lonely@example.com (by username or email): lonely, lonely@example.com"
                .into(),
        ),
    ] {
        let (code, out, err) = inspect(args);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (Some(1), "", format!("{message}\n").as_str()),
            "{target:?} {args:?}"
        );
    }
    // A uid whose slug does not fit its provider: shown, with a note.
    let (code, out, err) = inspect(&["--org", "testX", "--key", "key-misfit"]);
    assert_eq!(code, Some(0), "{target:?}: {err}");
    assert!(out.starts_with("account: misfit <misfit@example.com>\n"), "{target:?}: {out}");
    assert!(
        out.lines().any(|line| line.starts_with("note: ") && line.contains("TEST:key-misfit")),
        "{target:?}: {out}"
    );
    db.finish().await;
}

#[tokio::test]
async fn cli_inspect_on_sqlite() {
    cli_inspect_cases(Target::SqliteFile).await;
}

#[tokio::test]
async fn cli_inspect_on_postgres() {
    cli_inspect_cases(Target::Postgres).await;
}

#[tokio::test]
async fn cli_inspect_on_mysql() {
    cli_inspect_cases(Target::MySql).await;
}

#[tokio::test]
async fn inspector_on_sqlite() {
    inspector_cases(Target::SqliteFile).await;
}

#[tokio::test]
async fn inspector_on_postgres() {
    inspector_cases(Target::Postgres).await;
}

#[tokio::test]
async fn inspector_on_mysql() {
    inspector_cases(Target::MySql).await;
}

/// `--learning-mfe-url` and `--program-titles` (escaped on the page); a bad titles file
/// refuses to start, naming the file and the line; a database without the SSO tables names the
/// table (200), lists no SAML provider, and the page shows the error.
#[tokio::test]
async fn flags_and_a_database_without_the_sso_tables() {
    let Some(db) = database(Target::SqliteFile).await else { return };
    let program = world(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let titles = dir.path().join("titles.csv");
    std::fs::write(&titles, format!("program_uuid,title\n{},\"<i>Fruit & Animals</i>, a Master's\"\n", program.text()))
        .unwrap();
    let titles_arg = titles.display().to_string();
    let server = ServeOptions::new(db.url())
        .arg(&["--learning-mfe-url", "https://apps.lms.test/learning/", "--program-titles", &titles_arg])
        .start();
    let staff = mfe_get("support_staff");
    let got = details(&server, &staff, "connected", "testX", "").await;
    let pe = &got["learner_program_enrollments"]["enrollments"][0];
    assert_eq!(pe["program_name"], "<i>Fruit & Animals</i>, a Master's");
    assert_eq!(
        pe["program_course_enrollments"][0]["course_url"],
        format!("https://apps.lms.test/learning/course/{FRUIT}/home")
    );
    let page = staff.get(&server, &format!("{INSPECTOR_PAGE}?edx_user=connected")).await;
    assert!(page.body.contains("&lt;i&gt;Fruit &amp; Animals&lt;/i&gt;, a Master's"), "escaped: {}", page.body);
    assert!(!page.body.contains("<i>Fruit"), "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"https://apps.lms.test/learning/course/{FRUIT}/home\"")),
        "{}",
        page.body
    );

    // The SSO tables gone: named in `error`, never a 500.
    db.learners().unwrap().drop_learner_tables().await;
    drop(server);
    let server = ServeOptions::new(db.url()).start();
    let got = details(&server, &staff, "connected", "", "").await;
    assert_eq!(got["error"], "this database has no table social_auth_usersocialauth", "{got}");
    assert_eq!(got["learner_program_enrollments"], json!({}));
    let got = details(&server, &staff, "connected", "testX", "").await;
    assert_eq!(got["error"], "this database has no table third_party_auth_samlproviderconfig", "{got}");
    assert_eq!(got["learner_program_enrollments"], json!({}));
    let got = details(&server, &staff, "", "testX", "AbCdEf123").await;
    assert!(got["error"].as_str().unwrap().starts_with("this database has no table "), "{got}");
    staff.get(&server, PROVIDERS).await.assert_json(200, &json!([]), "no SAML tables");
    let page = staff.get(&server, &format!("{INSPECTOR_PAGE}?edx_user=connected")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("role=\"alert\">this database has no table"), "{}", page.body);
    // The account search that needs no SSO table still answers.
    let got = details(&server, &staff, "wrongAccount", "", "").await;
    assert_eq!(got["error"], "Could not find edx account with wrongAccount");
    server.assert_no_panic();
    drop(server);

    // Bad flags: exit 2, the file and line named, nothing served.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, format!("{},Fine\nnot-a-uuid,Oops\n", program.text())).unwrap();
    for (flag, value, expected) in [
        (
            "--program-titles",
            bad.display().to_string(),
            format!("{}, line 2: 'not-a-uuid' is not a program UUID", bad.display()),
        ),
        (
            "--program-titles",
            dir.path().join("none.csv").display().to_string(),
            "cannot read the program titles file".to_owned(),
        ),
        ("--learning-mfe-url", "apps.lms.test".to_owned(), "invalid --learning-mfe-url 'apps.lms.test'".to_owned()),
    ] {
        let args = ServeOptions::new(db.url()).arg(&[flag, &value]).args();
        let output = command().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(&expected), "{flag} {value}: {stderr}");
    }
    db.finish().await;
}

/// A service whose database user holds only the README's inspector grants starts (warning
/// about the tables it may not use), answers the inspector, and cannot link.
async fn inspector_with_least_privilege(target: Target) {
    let Some(db) = database(target).await else { return };
    let program = world(&db).await;
    let user = RestrictedUser::create_inspector(&db).await;
    // Missing a table of each list (the linking's, and now the inspector's): refused at start.
    user.revoke(&db, adapters_seaorm::Privilege::Select, "social_auth_usersocialauth").await;
    let (code, stderr) = run_to_exit(&ServeOptions::new(&user.url));
    user.grant(&db, adapters_seaorm::Privilege::Select, "social_auth_usersocialauth").await;
    assert_eq!(code, Some(3), "{target:?}: {stderr}");
    assert!(
        stderr.contains("holds no privilege on the table(s)") && stderr.contains("social_auth_usersocialauth"),
        "{stderr}"
    );
    let server = ServeOptions::new(&user.url).start();
    let staff = mfe_get("support_staff");
    let got = details(&server, &staff, "", "testX", "aBcDeF123").await;
    assert_eq!(user_of(&got)["username"], "connected", "{target:?}: {got}");
    staff.get(&server, PROVIDERS).await.assert_json(200, &json!(["testX"]), "providers");
    let records = staff.get(&server, "/support/sso_records/connected").await.json();
    assert_eq!(records.as_array().map(Vec::len), Some(2), "{records}");
    let page = staff.get(&server, &format!("{INSPECTOR_PAGE}?edx_user=connected")).await;
    assert!(page.status == 200 && page.body.contains(FRUIT), "{}", page.body);
    assert!(server.stderr().contains("holds no privilege on"), "the start warns: {}", server.stderr());
    let link = Caller::mfe(&Jwt::lms("support_staff").token())
        .link(&server, &Fields::mfe(&program.text(), "abcaaa,lonely"))
        .await;
    assert_eq!(link.status, 500, "{target:?}: a link as the inspector's user: {}", link.body);
    assert_eq!(linked_user(&db, &program, "abcaaa").await, None, "nothing linked");
    assert!(!server.stderr().contains(&user.password), "the password in the log");
    server.assert_no_panic();
    drop(server);
    user.drop(&db).await;
    db.finish().await;
}

/// Runs `serve` until it exits by itself (within 60 s, else it is killed and the test fails):
/// its exit status and standard error.
fn run_to_exit(options: &ServeOptions) -> (Option<i32>, String) {
    let mut child = command()
        .args(options.args())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve did not exit by itself");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    (status.code(), stderr)
}

#[tokio::test]
async fn inspector_grants_only_postgres() {
    inspector_with_least_privilege(Target::Postgres).await;
}

#[tokio::test]
async fn inspector_grants_only_mysql() {
    inspector_with_least_privilege(Target::MySql).await;
}

/// The page in headless Chromium: search by username, see the program and its course
/// enrollments; then by institution and key.
#[tokio::test]
async fn inspector_page_in_headless_chromium() {
    let Some((chromium, driver)) = browser_or_skip("inspector_page_in_headless_chromium") else { return };
    let Some(site) = Site::new(Target::SqliteFile, &[]).await else { return };
    let driver = super::page::Driver::start(&driver);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(super::page::chrome_capabilities(&chromium))
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("WebDriver session: {e}"));
    let result = drive(&client, &site).await;
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
    site.finish().await;
}

async fn drive(client: &fantoccini::Client, site: &Site) -> Result<(), String> {
    let e = |what: &str| {
        let what = what.to_owned();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    let server = &site.server;
    client.goto(&server.url("/health")).await.map_err(e("open /health"))?;
    super::page::set_jwt_cookies(client, &Jwt::lms("support_staff").token()).await?;
    client.goto(&server.url(INSPECTOR_PAGE)).await.map_err(e("open the page"))?;
    let user = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("#edx_user"))
        .await
        .map_err(e("the username field"))?;
    user.send_keys("connected").await.map_err(e("type the username"))?;
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .map_err(e("submit"))?
        .click()
        .await
        .map_err(e("click"))?;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath("//h4[normalize-space(.)='Program Course Enrollments']"))
        .await
        .map_err(e("the course enrollments"))?;
    let p = site.program.text();
    let heading = client.find(Locator::Css("section.enrollment h3")).await.map_err(e("the program"))?;
    let heading = heading.text().await.map_err(e("its text"))?;
    if !heading.contains(&p) {
        return Err(format!("the program heading names {p}: {heading:?}"));
    }
    let mut rows = Vec::new();
    for row in client.find_all(Locator::Css("table.courses tbody tr")).await.map_err(e("course rows"))? {
        rows.push(row.text().await.map_err(e("row text"))?);
    }
    let fruit = rows.iter().find(|r| r.contains(FRUIT)).ok_or_else(|| format!("no row for {FRUIT}: {rows:?}"))?;
    if !(fruit.contains("masters") && fruit.contains("True")) {
        return Err(format!("FRUIT's row shows its mode and activity: {fruit:?}"));
    }
    if !rows.iter().any(|r| r.contains(ANIMAL) && r.contains("N/A")) {
        return Err(format!("ANIMAL's row shows no course enrollment: {rows:?}"));
    }
    let link = client.find(Locator::LinkText(FRUIT)).await.map_err(e("the course link"))?;
    let href = link.attr("href").await.map_err(e("href"))?.unwrap_or_default();
    if !href.ends_with(&format!("/courses/{FRUIT}/course/")) {
        return Err(format!("the course link: {href}"));
    }
    let png = client.screenshot().await.map_err(e("screenshot"))?;
    let dir = target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("inspector-page.png"), &png).unwrap();

    // By institution and external key, in another case.
    let user = client.find(Locator::Css("#edx_user")).await.map_err(e("the username field again"))?;
    user.clear().await.map_err(e("clear it"))?;
    client
        .find(Locator::Css("#org_key option[value='testX']"))
        .await
        .map_err(e("the institution testX"))?
        .click()
        .await
        .map_err(e("choose it"))?;
    let key = client.find(Locator::Css("#external_user_key")).await.map_err(e("the key field"))?;
    key.send_keys("aBcDeF123").await.map_err(e("type the key"))?;
    client
        .find(Locator::Css("form button[type=submit]"))
        .await
        .map_err(e("submit"))?
        .click()
        .await
        .map_err(e("click"))?;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::XPath("//table[@class='account']//td[normalize-space(.)='connected']"))
        .await
        .map_err(e("the account found by key"))?;
    let url = client.current_url().await.map_err(e("the URL"))?;
    if !url.as_str().contains("org_key=testX") || !url.as_str().contains("external_user_key=aBcDeF123") {
        return Err(format!("the form's query: {url}"));
    }
    Ok(())
}
