//! The server-rendered page `GET|POST /support/link_program_enrollments`: over HTTP (login
//! redirect, 401 without `--login-url`, 403, the form, its own `csrftoken` cookie, the form's
//! CSRF token) and in headless Chromium over WebDriver (the JWT cookies set, the form filled
//! and submitted, the success count and each error alert seen, a screenshot saved).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use acceptance::{FRUIT, SeaTestDatabase, Target, TestDatabase};
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use super::harness::*;

/// The page's fixture on SQLite: the people, a program with waiting keys, learners.
struct Site {
    db: SeaTestDatabase,
    people: People,
    program: Program,
}

impl Site {
    async fn new() -> Option<Site> {
        let db = database(Target::SqliteFile).await?;
        db.add_course_overview(FRUIT).await;
        let people = People::add(&db).await;
        let program = Program::new();
        for (key, user) in [("ok-1", Some("learner_1")), ("ok-2", Some("learner_2")), ("nouser", None)] {
            program.waiting(&db, key, &[FRUIT]).await;
            if let Some(user) = user {
                db.add_user(user, &format!("{user}@example.com")).await;
            }
        }
        db.add_user("learner_3", "learner_3@example.com").await;
        Some(Site { db, people, program })
    }
}

/// The value of attribute `name` in the first tag of `html` that starts with `tag` and
/// contains `marker`.
fn attribute(html: &str, tag: &str, marker: &str, name: &str) -> Option<String> {
    html.match_indices(tag).find_map(|(at, _)| {
        let end = html[at..].find('>')? + at;
        let element = &html[at..end];
        if !element.contains(marker) {
            return None;
        }
        let start = element.find(&format!("{name}=\""))? + name.len() + 2;
        let len = element[start..].find('"')?;
        Some(element[start..start + len].to_owned())
    })
}

/// The `csrftoken` value a response sets, if it does.
fn set_csrf_cookie(reply: &Reply) -> Option<String> {
    reply.headers.get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let rest = v.strip_prefix("csrftoken=")?;
        Some(rest.split(';').next().unwrap_or("").to_owned())
    })
}

fn decode_query_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&value[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn page_over_http() {
    let Some(site) = Site::new().await else { return };
    let server = ServeOptions::new(site.db.url()).start();
    let before = site.db.tables().await;
    let p = site.program.text();

    // Without credentials: to the login page, `next` the path asked for.
    for path in [PAGE.to_owned(), format!("{PAGE}/")] {
        let got = Caller::anonymous().get(&server, &path).await;
        assert_eq!(got.status, 302, "GET {path} without credentials: {}", got.body);
        let location = got.header("location").unwrap_or_default();
        let (base, query) = location.split_once('?').unwrap_or((&location, ""));
        assert_eq!(base, LOGIN_URL, "{location}");
        let next = query.split('&').find_map(|kv| kv.strip_prefix("next=")).map(decode_query_value);
        assert_eq!(next.as_deref(), Some(path.as_str()), "{location}");
    }
    // Without --login-url: 401.
    let mut options = ServeOptions::new(site.db.url());
    options.login_url = None;
    let no_login = options.start();
    let got = Caller::anonymous().get(&no_login, PAGE).await;
    assert_eq!(got.status, 401, "GET without credentials and without --login-url: {}", got.body);
    drop(no_login);

    // Not permitted: 403, empty.
    Caller::mfe(&Jwt::lms("plain_user").token()).get(&server, PAGE).await.assert_forbidden_empty("GET as plain_user");

    // The form, and a `csrftoken` cookie of its own when the browser has none.
    let staff_token = Jwt::lms("support_staff").token();
    let browser = Caller {
        csrf_cookie: None,
        csrf_header: None,
        origin: None,
        use_jwt_cookie: false,
        ..Caller::mfe(&staff_token)
    };
    let got = browser.get(&server, PAGE).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.header("content-type").unwrap_or_default().starts_with("text/html"), "{:?}", got.headers);
    let html = &got.body;
    assert!(html.contains("Program UUID"), "the page has a Program UUID field:\n{html}");
    assert_eq!(
        attribute(html, "<textarea", "placeholder", "placeholder").as_deref(),
        Some("external_student_key,lms_username"),
        "the text area's placeholder:\n{html}"
    );
    assert!(html.contains("<label"), "labels:\n{html}");
    assert!(html.contains("<h1"), "a heading:\n{html}");
    let cookie = set_csrf_cookie(&got).unwrap_or_else(|| panic!("no csrftoken cookie set: {:?}", got.headers));
    let form_token = attribute(html, "<input", "csrfmiddlewaretoken", "value").expect("a csrfmiddlewaretoken field");
    let text_name = attribute(html, "<textarea", "name=", "name").unwrap();
    let uuid_name = html
        .match_indices("<input")
        .filter_map(|(at, _)| {
            let element = &html[at..=at + html[at..].find('>').unwrap()];
            (!element.contains("hidden") && !element.contains("submit"))
                .then(|| attribute(element, "<input", "name=", "name"))
        })
        .flatten()
        .next()
        .expect("the Program UUID input");

    // POST without the form's token: 403, nothing written.
    let form = |token: Option<&str>, text: &str| {
        let mut parts = vec![format!("{uuid_name}={}", form_encode(&p)), format!("{text_name}={}", form_encode(text))];
        if let Some(token) = token {
            parts.push(format!("csrfmiddlewaretoken={}", form_encode(token)));
        }
        parts.join("&")
    };
    let post = |token: Option<String>, text: &str| {
        let caller = Caller { csrf_cookie: Some(cookie.clone()), ..browser.clone() };
        caller
            .apply(http().post(server.url(PAGE)))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form(token.as_deref(), text))
    };
    let got = reply(post(None, "ok-1,learner_1").send().await.unwrap()).await;
    assert_eq!(got.status, 403, "POST the page without csrfmiddlewaretoken: {}", got.body);
    let got = reply(post(Some(csrf_mask(&csrf_secret())), "ok-1,learner_1").send().await.unwrap()).await;
    assert_eq!(got.status, 403, "POST the page with another secret's token: {}", got.body);
    assert_eq!(site.db.tables().await, before, "a refused POST wrote");

    // POST with it: linked, the count and one alert per error, the form refilled.
    let text = "ok-1,learner_1\r\nnouser,nobody";
    let got = reply(post(Some(form_token.clone()), text).send().await.unwrap()).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert!(got.body.contains("There were 1 successful linkages"), "{}", got.body);
    assert!(got.body.contains("role=\"alert\""), "errors are announced: {}", got.body);
    assert!(got.body.contains("No user found with username nobody"), "{}", got.body);
    assert!(got.body.contains("nouser,nobody"), "the text area is refilled: {}", got.body);
    assert!(got.body.contains(&p), "the program is refilled: {}", got.body);
    assert_eq!(linked_user(&site.db, &site.program, "ok-1").await, Some(user_id(&site.db, "learner_1").await));
    let history = history_users(&site.db.tables().await);
    assert!(!history.is_empty() && history.iter().all(|u| *u == Some(site.people.staff)), "{history:?}");
    server.assert_no_panic();
    drop(server);
    site.db.finish().await;
}

async fn user_id(db: &SeaTestDatabase, username: &str) -> domain::UserId {
    db.tables().await.users.values().find(|u| u.username == username).unwrap().id
}

/// chromedriver on a free port, killed on drop.
pub(super) struct Driver {
    child: Child,
    /// Where it listens.
    pub(super) url: String,
}

/// The capabilities of a headless Chromium session.
pub(super) fn chrome_capabilities(chromium: &std::path::Path) -> serde_json::Map<String, serde_json::Value> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--no-first-run", "--disable-extensions",
                     "--disable-background-networking", "--disable-component-update"],
        }),
    );
    caps
}

/// The LMS's two JWT cookies for `token`, as the browser holds them after logging in, set
/// from a script on the current page: WebDriver's Add Cookie refuses a cookie for an IP
/// address host. (The LMS sets the signature cookie HttpOnly; the browser sends both alike.)
pub(super) async fn set_jwt_cookies(client: &fantoccini::Client, token: &str) -> Result<(), String> {
    let (header_payload, signature) = token.rsplit_once('.').unwrap();
    for (name, value) in [("edx-jwt-cookie-header-payload", header_payload), ("edx-jwt-cookie-signature", signature)] {
        client
            .execute(
                "document.cookie = arguments[0] + '=' + arguments[1] + '; path=/';",
                vec![json!(name), json!(value)],
            )
            .await
            .map_err(|err| format!("set a cookie: {err}"))?;
    }
    Ok(())
}

impl Driver {
    pub(super) fn start(driver: &std::path::Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        wait_until("chromedriver listens", Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Driver { child, url }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn page_in_headless_chromium() {
    let Some((chromium, driver)) = browser_or_skip("page_in_headless_chromium") else { return };
    let Some(site) = Site::new().await else { return };
    let server = ServeOptions::new(site.db.url()).start();
    let driver = Driver::start(&driver);
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(chrome_capabilities(&chromium))
        .connect(&driver.url)
        .await
        .unwrap_or_else(|e| panic!("WebDriver session: {e}"));
    let result = drive(&client, &server, &site).await;
    let _ = client.close().await;
    drop(driver);
    result.unwrap();
    server.assert_no_panic();
    drop(server);
    site.db.finish().await;
}

async fn drive(client: &fantoccini::Client, server: &Server, site: &Site) -> Result<(), String> {
    let e = |what: &str| {
        let what = what.to_owned();
        move |err: fantoccini::error::CmdError| format!("{what}: {err}")
    };
    let p = site.program.text();
    // The LMS's cookies, as the browser holds them after logging in.
    client.goto(&server.url("/health")).await.map_err(e("open /health"))?;
    set_jwt_cookies(client, &Jwt::lms("support_staff").token()).await?;
    client.goto(&server.url(PAGE)).await.map_err(e("open the page"))?;
    let textarea = client
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css("textarea"))
        .await
        .map_err(e("the text area"))?;
    // The Program UUID input, found through its label as a person would.
    let label = client
        .find(Locator::XPath("//label[contains(normalize-space(.), 'Program UUID')]"))
        .await
        .map_err(e("the Program UUID label"))?;
    let input = match label.attr("for").await.map_err(e("label for"))? {
        Some(id) => client.find(Locator::Id(&id)).await.map_err(e("the labelled input"))?,
        None => label.find(Locator::Css("input")).await.map_err(e("the input inside the label"))?,
    };
    let labelled = client
        .execute(
            "return [document.querySelector('textarea').labels.length, arguments[0].labels.length];",
            vec![serde_json::to_value(&input).unwrap()],
        )
        .await
        .map_err(e("labels"))?;
    if labelled.as_array().is_none_or(|a| a.iter().any(|n| n.as_u64().unwrap_or(0) == 0)) {
        return Err(format!("every field needs a label: {labelled}"));
    }
    input.send_keys(&p).await.map_err(e("type the program"))?;
    let lines = ["ok-1,learner_1", "nouser,nobody", "ok-2,learner_2", "missing-key,learner_3"];
    textarea.send_keys(&lines.join("\n")).await.map_err(e("type the lines"))?;
    let submit = client
        .find(Locator::Css("form button[type=submit], form input[type=submit], form button:not([type])"))
        .await
        .map_err(e("the submit button"))?;
    submit.click().await.map_err(e("submit"))?;
    client
        .wait()
        .at_most(Duration::from_secs(60))
        .for_element(Locator::XPath("//*[contains(normalize-space(.), 'There were 2 successful linkages')]"))
        .await
        .map_err(e("`There were 2 successful linkages`"))?;
    let mut alerts = Vec::new();
    for alert in client.find_all(Locator::Css("[role=alert]")).await.map_err(e("alerts"))? {
        alerts.push(alert.text().await.map_err(e("alert text"))?);
    }
    let errors = [
        "No user found with username nobody".to_owned(),
        format!("No program enrollment found for program uuid={p} and external student key=missing-key"),
    ];
    for error in &errors {
        let n = alerts.iter().filter(|a| a.contains(error.as_str())).count();
        if n != 1 {
            return Err(format!("one alert for {error:?}, got {n}: {alerts:?}"));
        }
    }
    // The form is refilled.
    let textarea = client.find(Locator::Css("textarea")).await.map_err(e("the text area again"))?;
    let value = textarea.prop("value").await.map_err(e("its value"))?.unwrap_or_default();
    if value.replace("\r\n", "\n") != lines.join("\n") {
        return Err(format!("the text area is refilled with the lines, got {value:?}"));
    }
    let png = client.screenshot().await.map_err(e("screenshot"))?;
    let dir = target_dir().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("support-page.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("screenshot: {} ({} bytes)", path.display(), png.len());
    if !png.starts_with(b"\x89PNG") {
        return Err("the screenshot is not a PNG".into());
    }
    // The rows: the two successes linked, on behalf of the staff user.
    let learner_1 = user_id(&site.db, "learner_1").await;
    let learner_2 = user_id(&site.db, "learner_2").await;
    if linked_user(&site.db, &site.program, "ok-1").await != Some(learner_1)
        || linked_user(&site.db, &site.program, "ok-2").await != Some(learner_2)
        || linked_user(&site.db, &site.program, "nouser").await.is_some()
    {
        return Err("the rows do not match the page".into());
    }
    let history = history_users(&site.db.tables().await);
    if history.is_empty() || history.iter().any(|u| *u != Some(site.people.staff)) {
        return Err(format!("history_user_id must be the staff user: {history:?}"));
    }
    Ok(())
}
