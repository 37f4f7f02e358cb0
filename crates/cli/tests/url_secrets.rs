//! A database URL's password never shows (issue 15, defect 2): proptest over generated URLs,
//! well-formed and malformed, with the password in the user information or in a query
//! parameter (`password`, `pass`, `pwd`, `sslpassword`, in any case), percent-encoded or raw
//! (a raw `/`, `?`, `#` or `@` moves part of it elsewhere), after one slash, no slash, no
//! scheme, a bad port. Many cases through the library, fast: what `redact_url` shows, the error
//! of `check_url`, and a connection attempt (to a closed port) with every log and span at TRACE
//! captured; a few through the real binary at `RUST_LOG=trace`, standard output and standard
//! error. The password, raw, percent-encoded or decoded, appears in none of them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use adapters_seaorm::{SeaOrmDatabase, check_url, redact_url};
use proptest::prelude::*;

use crate::common::{PROGRAM, bin};

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// The start of every password's secret part: no other part of a URL or message holds it, so
/// that any piece of the password that shows is found, wherever a malformed URL moved it.
const MARKER: &str = "Zq7";

/// A password: sometimes a prefix that a parser reads as a port and a path, query, fragment
/// or user (`12/`, `12?`, `12#`, `4@`), then [`MARKER`] and characters rich in what a URL
/// treats specially.
fn password() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec!["", "", "", "12/", "12?", "12#", "4@", "a:b"]);
    let chars = prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::char::range('0', '9'),
        3 => prop::sample::select(vec![
            '@', ':', '/', '?', '#', '%', '&', '=', '+', '!', '$', '*', '~', '.', '-', '_', ' ', '\'', ';', ',', '[', ']',
        ]),
        1 => prop::sample::select(vec!['é', 'ß', '日']),
    ];
    (prefix, prop::collection::vec(chars, 0..10))
        .prop_map(|(prefix, tail)| format!("{prefix}{MARKER}{}", tail.into_iter().collect::<String>()))
}

/// Percent-encoding of every byte but ASCII letters and digits.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// How the password is written into the URL.
#[derive(Debug, Clone, Copy)]
enum Form {
    /// `scheme://user:ENCODED@host:port/db?…`
    UserInfo,
    /// `scheme://user:RAW@host:port/db`
    RawUserInfo,
    /// `scheme://user@host:port/db?NAME=ENCODED`
    Query,
    /// `postgres:///db?host=…&port=…&password=ENCODED`
    QueryHost,
    /// `scheme:/user:RAW@host:port/db`
    OneSlash,
    /// `scheme//user:RAW@host/db`
    NoColon,
    /// `user:RAW@host/db`
    NoScheme,
    /// `scheme://user:ENCODED@host:notaport/db`
    BadPort,
}

#[derive(Debug, Clone)]
struct Case {
    url: String,
    password: String,
}

impl Case {
    /// Asserts that no piece of the password's secret part shows in `text`: neither the
    /// marker (which percent-encoding leaves as it is) nor the password, raw or encoded.
    fn assert_hidden(&self, what: &str, text: &str) {
        for secret in [MARKER.to_owned(), self.password.clone(), encode(&self.password)] {
            assert!(
                !text.contains(&secret),
                "{what} shows the password {:?} of {:?}:\n{text}",
                self.password,
                self.url
            );
        }
    }
}

fn case() -> impl Strategy<Value = Case> {
    let form = prop::sample::select(vec![
        Form::UserInfo,
        Form::RawUserInfo,
        Form::Query,
        Form::QueryHost,
        Form::OneSlash,
        Form::NoColon,
        Form::NoScheme,
        Form::BadPort,
    ]);
    let scheme = prop::sample::select(vec!["postgres", "postgresql", "mysql", "mariadb"]);
    let user = prop::sample::select(vec!["operator", "edxapp001", "u"]);
    let name = prop::sample::select(vec!["password", "pass", "pwd", "sslpassword", "PASSWORD", "Pwd"]);
    let extra = prop::sample::select(vec!["", "?sslmode=disable", "?ssl-mode=DISABLED&charset=utf8mb4"]);
    (form, scheme, user, name, extra, password()).prop_map(|(form, scheme, user, name, extra, password)| {
        let enc = encode(&password);
        let host = "127.0.0.1:1";
        let url = match form {
            Form::UserInfo => format!("{scheme}://{user}:{enc}@{host}/edxapp{extra}"),
            Form::RawUserInfo => format!("{scheme}://{user}:{password}@{host}/edxapp"),
            Form::Query => format!("{scheme}://{user}@{host}/edxapp?{name}={enc}&sslmode=disable"),
            Form::QueryHost => format!("postgres:///edxapp?host=127.0.0.1&port=1&user={user}&{name}={enc}"),
            Form::OneSlash => format!("{scheme}:/{user}:{password}@{host}/edxapp"),
            Form::NoColon => format!("{scheme}//{user}:{password}@127.0.0.1/edxapp"),
            Form::NoScheme => format!("{user}:{password}@127.0.0.1/edxapp"),
            Form::BadPort => format!("{scheme}://{user}:{enc}@127.0.0.1:notaport/edxapp"),
        };
        Case { url, password }
    })
}

/// A writer for the capturing subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Connects to `url` with every event and span (with its fields) of every target at TRACE
/// written to the returned log; returns the error's message and the log.
fn connect_logged(url: &str) -> (String, String) {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let message = match runtime.block_on(SeaOrmDatabase::connect(url)) {
        Ok(_) => panic!("{url} connected"),
        Err(error) => error.to_string(),
    };
    drop(runtime);
    (message, log.text())
}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn the_library_never_shows_the_password(case in case()) {
        case.assert_hidden("redact_url", &redact_url(&case.url));
        if let Err(error) = check_url(&case.url) {
            case.assert_hidden("check_url's error", &error.to_string());
        }
        let (message, log) = connect_logged(&case.url);
        case.assert_hidden("the connection error", &message);
        case.assert_hidden("the TRACE log", &log);
    }
}

proptest! {
    #![proptest_config(config(6))]

    #[test]
    fn the_binary_never_shows_the_password(case in case()) {
        let dir = tempfile::tempdir().unwrap();
        for args in [vec!["link", PROGRAM, "key-1:user_1"], vec!["migrate"]] {
            let output = bin()
                .current_dir(dir.path())
                .env("RUST_LOG", "trace")
                .args(["--database-url", &case.url])
                .args(&args)
                .output()
                .unwrap();
            let (stdout, stderr) =
                (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            prop_assert!(matches!(output.status.code(), Some(2 | 3)), "{:?}: {stderr}", case.url);
            prop_assert!(stderr.contains("database URL") || stderr.contains("cannot connect"), "{stderr}");
            case.assert_hidden("standard output", &stdout);
            case.assert_hidden("standard error", &stderr);
        }
    }
}

/// The issue's four examples, one by one: the query password in "cannot connect", the host in
/// the query, one slash, and `postgres//` (unsupported); what each shows and its exit status.
#[test]
fn the_issues_examples_hide_the_password_and_say_what_is_wrong() {
    for (url, status, shown) in [
        (
            "postgres://u@127.0.0.1:1/db?password=s3cr3t",
            3,
            "cannot connect to the postgres database at postgres://u@127.0.0.1:1/db?password=***: ",
        ),
        (
            "postgres:///db?host=127.0.0.1&port=1&password=s3cr3t",
            3,
            "cannot connect to the postgres database at postgres:///db?host=127.0.0.1&port=1&password=***: ",
        ),
        (
            "postgres:/u:s3cr3t@127.0.0.1:56432/x",
            2,
            "error: the database URL is not a valid postgres URL (`//` must follow `postgres:`)",
        ),
        (
            "postgres//u:s3cr3t@127.0.0.1:56432/x",
            2,
            "error: unsupported database URL (`postgres` must be followed by `://`)",
        ),
    ] {
        let output =
            bin().env("RUST_LOG", "trace").args(["--database-url", url, "link", PROGRAM, "k:u"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(status), "{url}: {stderr}");
        assert!(stderr.contains(shown), "{url}: {stderr}");
        assert!(!stderr.contains("s3cr3t") && output.stdout.is_empty(), "{url}: {stderr}");
    }
}
