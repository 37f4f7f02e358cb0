//! Opening a database by URL, with errors that name the backend and hide the password.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr};
use thiserror::Error;
use tracing::instrument::WithSubscriber;
use tracing::subscriber::NoSubscriber;
use url::{Url, form_urlencoded};

use crate::backend::{Backend, Encoding, UuidColumn};
use crate::catalog::{Catalog, INSPECTOR_READS, INSPECTOR_REQUIRED, OPTIONAL, REQUIRED, tables};
use crate::error::is_permission_denied;

/// Why a database could not be opened. No message shows a URL that did not parse, nor a
/// password ([`redact_url`]).
#[derive(Debug, Error)]
pub enum ConnectError {
    /// The URL names no supported backend. The URL is not shown: only what is wrong with it.
    #[error("unsupported database URL ({reason}): expected sqlite://PATH, postgres://… or mysql://…")]
    UnsupportedUrl {
        /// What is wrong: the scheme (`scheme 'oracle'`, when it is a scheme's characters only),
        /// or which part is missing.
        reason: String,
    },
    /// The URL names a server backend but does not parse as its URL. The URL is not shown.
    #[error("the database URL is not a valid {backend} URL ({reason}): expected {backend}://USER:PASSWORD@HOST/DB")]
    BadUrl {
        /// `postgres` or `mysql`.
        backend: &'static str,
        /// Which part is wrong.
        reason: String,
    },
    /// The server could not be reached or refused the connection.
    #[error("cannot connect to the {backend} database at {url}: {source}")]
    Connect {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: DbErr,
    },
    /// The tables the linking needs are missing.
    #[error(
        "the {backend} database at {url} lacks the table(s) {missing}; run `program-enrollments migrate` on a standalone database"
    )]
    MissingTables {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// The URL, password hidden.
        url: String,
        /// The missing tables, comma-separated.
        missing: String,
    },
    /// The tables exist, but the user holds no privilege on them (a catalog shows only the
    /// tables the user holds a privilege on).
    #[error(
        "the {backend} user of {url} holds no privilege on the table(s) {tables}; the grants `link` needs are listed in the README, section \"Grants needed on an Open edX database\""
    )]
    MissingGrants {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// The URL, password hidden.
        url: String,
        /// The tables, comma-separated.
        tables: String,
    },
    /// The catalog could not be read.
    #[error("cannot read the schema of the {backend} database at {url}: {source}")]
    Catalog {
        /// `sqlite`, `postgres` or `mysql`.
        backend: &'static str,
        /// The URL, password hidden.
        url: String,
        /// The driver's error.
        #[source]
        source: DbErr,
    },
}

impl ConnectError {
    /// Whether the error is the caller's URL (unsupported or unparsable), not the database.
    pub fn is_usage(&self) -> bool {
        matches!(self, Self::UnsupportedUrl { .. } | Self::BadUrl { .. })
    }
}

/// Query parameters whose value is a secret: shown as `***`. Matched on the decoded name, in
/// any case: `password` (PostgreSQL's drivers read it), `pass`, `pwd`, and any name containing
/// `password` (`sslpassword`, …).
fn is_secret_parameter(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "pass" || name == "pwd" || name.contains("password")
}

/// What [`redact_url`] shows for a URL that does not parse.
pub const UNPARSABLE_URL: &str = "(a URL that does not parse, not shown)";

/// The URL as messages and logs show it: parsed by the `url` crate (the parser the drivers
/// use), with its password, the value of every secret query parameter (`password`, `pass`,
/// `pwd`, `sslpassword`, …) and any fragment replaced by `***`. A URL that does not parse is
/// never shown: [`UNPARSABLE_URL`]. Neither is one with an `@` after its host (a password's
/// unencoded `/`, `?` or `#` moves the rest of it there). A SQLite URL that sqlx reads and
/// that has no `@` is shown as written (it names a file and holds no secret).
pub fn redact_url(url: &str) -> String {
    shown(url).unwrap_or_else(|| UNPARSABLE_URL.to_owned())
}

fn shown(url: &str) -> Option<String> {
    // sqlx reads a SQLite URL as a file name, without the `url` crate (`sqlite://c:d.db`, and
    // `a/../b.db` not normalised); the query it accepts holds only `mode`, `cache`,
    // `immutable` and `vfs`, so such a URL without an `@` holds no secret: shown as written.
    if matches!(backend_of(url), Ok(Backend::Sqlite))
        && !url.contains('@')
        && sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).is_ok()
    {
        return Some(url.to_owned());
    }
    let mut parsed = Url::parse(url).ok()?;
    if at_after_host(&parsed) {
        return None;
    }
    if parsed.password().is_some() {
        parsed.set_password(Some("***")).ok()?;
    }
    if let Some(query) = parsed.query().filter(|query| !query.is_empty()) {
        let pieces: Vec<String> = query
            .split('&')
            .map(|piece| {
                let name = piece.split_once('=').map_or(piece, |(name, _)| name);
                let decoded: String = form_urlencoded::parse(name.as_bytes()).map(|(name, _)| name).collect();
                if piece.contains('=') && is_secret_parameter(&decoded) {
                    format!("{name}=***")
                } else {
                    piece.to_owned()
                }
            })
            .collect();
        parsed.set_query(Some(&pieces.join("&")));
    }
    if parsed.fragment().is_some() {
        parsed.set_fragment(Some("***"));
    }
    Some(parsed.to_string())
}

/// Whether an `@` follows the host: in the path, query or fragment, which a password's
/// unencoded `/`, `?` or `#` would have cut there (`postgres://u:12/34@h/db` reads as port 12
/// and database `34@h/db`).
fn at_after_host(url: &Url) -> bool {
    [Some(url.path()), url.query(), url.fragment()].into_iter().flatten().any(|part| part.contains('@'))
}

/// The backend a URL names, from its scheme alone.
///
/// # Errors
/// [`ConnectError::UnsupportedUrl`], saying what is wrong without showing the URL.
pub fn backend_of(url: &str) -> Result<Backend, ConnectError> {
    let unsupported = |reason: String| ConnectError::UnsupportedUrl { reason };
    let Some((scheme, _)) = url.split_once(':') else {
        return Err(unsupported(
            known_scheme_prefix(url)
                .map_or_else(|| "no scheme: no `:`".to_owned(), |known| format!("`{known}` must be followed by `://`")),
        ));
    };
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        "mysql" | "mariadb" => Ok(Backend::MySql),
        _ => Err(unsupported(match known_scheme_prefix(scheme) {
            Some(known) => format!("`{known}` must be followed by `://`"),
            None if is_scheme(scheme) => format!("scheme '{scheme}'"),
            None => "the text before the first `:` is not a scheme".to_owned(),
        })),
    }
}

/// Whether `text` can be a URL scheme: a letter, then letters, digits, `+`, `-` or `.`, and
/// short (a longer text before a `:` is more likely a user or a password).
fn is_scheme(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && text.len() <= 20
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// The supported scheme `text` starts with, followed by something a scheme cannot hold
/// (`postgres//u:pw@h` names `postgres`), if any.
fn known_scheme_prefix(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    ["postgresql", "postgres", "mariadb", "mysql", "sqlite"].into_iter().find(|known| {
        lower.strip_prefix(known).and_then(|rest| rest.chars().next()).is_some_and(|next| !next.is_ascii_alphanumeric())
    })
}

/// Checks a database URL before anything connects: a supported scheme and, for a server, a
/// URL its driver reads (parsed with no tracing subscriber: sqlx logs an unknown parameter with
/// its value). Never shows the URL.
///
/// # Errors
/// [`ConnectError::UnsupportedUrl`] or [`ConnectError::BadUrl`].
pub fn check_url(url: &str) -> Result<Backend, ConnectError> {
    let backend = backend_of(url)?;
    if backend == Backend::Sqlite {
        return Ok(backend);
    }
    let bad = |reason: String| ConnectError::BadUrl { backend: backend.name(), reason };
    let (scheme, rest) = url.split_once(':').unwrap_or_default();
    if !rest.starts_with("//") {
        return Err(bad(format!("`//` must follow `{scheme}:`")));
    }
    let parsed = Url::parse(url).map_err(|error| bad(error.to_string()))?;
    if at_after_host(&parsed) {
        return Err(bad(
            "an `@` after the host: percent-encode `@`, `/`, `?` and `#` in a user, password or parameter \
             (%40, %2F, %3F, %23)"
                .to_owned(),
        ));
    }
    let driver = tracing::subscriber::with_default(NoSubscriber::default(), || match backend {
        Backend::Postgres => sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).map(drop),
        _ => sea_orm::sqlx::mysql::MySqlConnectOptions::from_str(&format!("mysql:{rest}")).map(drop),
    });
    driver.map_err(|error| {
        let reason = error.to_string();
        bad(reason.strip_prefix("error with configuration: ").unwrap_or(&reason).to_owned())
    })?;
    Ok(backend)
}

/// Opens a connection pool for `url` (`sqlite://PATH?mode=rwc`, `postgres://…`, `mysql://…`).
/// Reads nothing: use it to run migrations, or pass it to `SeaOrmDatabase::new`.
///
/// # Errors
/// [`ConnectError::UnsupportedUrl`], [`ConnectError::BadUrl`] or [`ConnectError::Connect`].
pub async fn open(url: &str) -> Result<DatabaseConnection, ConnectError> {
    let backend = check_url(url)?;
    let url = match (backend, url.strip_prefix("mariadb:")) {
        (Backend::MySql, Some(rest)) => format!("mysql:{rest}"),
        _ => url.to_owned(),
    };
    // The pool retries until its time-out and then reports only "pool timed out"; one direct
    // connection first gives the operator the real cause (refused, unknown host, bad password).
    probe(backend, &url).with_subscriber(NoSubscriber::default()).await.map_err(|source| ConnectError::Connect {
        backend: backend.name(),
        url: redact_url(&url),
        source,
    })?;
    let mut options = ConnectOptions::new(url.clone());
    options.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    if backend == Backend::Sqlite {
        // One connection: a SQLite database has one writer, and `sqlite::memory:` is one
        // database per connection.
        options.max_connections(1).min_connections(1);
        // Savepoints keep the pages they change in a sub-journal: in memory, not a temp file.
        // This is a setting of our connection only; the database file is not changed.
        // Our statements bind up to 10,000 values and differ by their lengths: caching a hundred
        // prepared ones costs memory and saves little.
        // Another process's write transaction (or a second service on the same file) makes
        // ours wait for the lock, up to a minute, instead of failing with "database is locked".
        options.map_sqlx_sqlite_opts(|opts| {
            opts.pragma("temp_store", "memory").statement_cache_capacity(16).busy_timeout(Duration::from_secs(60))
        });
    }
    // SeaORM's `Database::connect` records its options, the URL and its password included, as a
    // field of a trace span, which a log line inside the span prints (sqlx logs one at DEBUG
    // on MySQL while connecting): connect with no subscriber, so that no log ever holds the
    // password, whatever `RUST_LOG` or the embedding application's subscriber says.
    Database::connect(options).with_subscriber(NoSubscriber::default()).await.map_err(|source| ConnectError::Connect {
        backend: backend.name(),
        url: redact_url(&url),
        source,
    })
}

async fn probe(backend: Backend, url: &str) -> Result<(), DbErr> {
    use sea_orm::sqlx::Connection;
    let to_db_err = |e| DbErr::Conn(RuntimeErr::SqlxError(Arc::new(e)));
    let timeout = |_| DbErr::Custom("no answer within 10 seconds".to_owned());
    match backend {
        Backend::Sqlite => Ok(()),
        Backend::Postgres => {
            let attempt = sea_orm::sqlx::PgConnection::connect(url);
            let conn =
                tokio::time::timeout(Duration::from_secs(10), attempt).await.map_err(timeout)?.map_err(to_db_err)?;
            conn.close().await.map_err(to_db_err)
        }
        Backend::MySql => {
            let attempt = sea_orm::sqlx::MySqlConnection::connect(url);
            let conn =
                tokio::time::timeout(Duration::from_secs(10), attempt).await.map_err(timeout)?.map_err(to_db_err)?;
            conn.close().await.map_err(to_db_err)
        }
    }
}

/// What a connection is for: which tables must exist, and be granted, for it to open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Purpose {
    /// `link` and its dry run: every table of `LINK_GRANTS` that exists must be granted, and
    /// the linking's required tables must exist.
    #[default]
    Link,
    /// `inspect`: the tables of `INSPECT_GRANTS` that exist must be granted; only accounts,
    /// program enrollments, their course enrollments must exist (a missing SSO or SAML table
    /// refuses only the lookups that need it).
    Inspect,
    /// `serve` (linking and the inspector): the linking's required tables must exist, and the
    /// user must hold a privilege on every table of one of the two lists at least; the tables
    /// of the other it holds none on are listed by `SeaOrmDatabase::ungranted_tables` (the
    /// service warns at start): a link then fails on its first statement that needs one, an
    /// inspector read says which table it may not read.
    Serve,
}

/// What a transaction needs to know about its database.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) encoding: Encoding,
    pub(crate) catalog: Catalog,
    /// Tables that exist but that the user holds no privilege on ([`Purpose::Serve`] only).
    pub(crate) ungranted: Vec<&'static str>,
}

pub(crate) async fn read_context(
    conn: &DatabaseConnection,
    url: &str,
    purpose: Purpose,
) -> Result<Arc<Context>, ConnectError> {
    let backend = Backend::from_db(conn.get_database_backend());
    let catalog = Catalog::read(conn, backend).await.map_err(|source| ConnectError::Catalog {
        backend: backend.name(),
        url: redact_url(url),
        source,
    })?;
    // A table the user holds no privilege on is absent from the catalog: ask the table itself
    // whether it is missing or only out of reach, so that a missing grant is named as such
    // (and an optional table, whose absence turns a feature off, is not taken for absent when
    // it is only not granted).
    let mut probed: Vec<&'static str> = match purpose {
        Purpose::Link => REQUIRED.into_iter().chain(OPTIONAL).collect(),
        Purpose::Inspect => INSPECTOR_READS.to_vec(),
        Purpose::Serve => REQUIRED.into_iter().chain(OPTIONAL).chain(INSPECTOR_READS).collect(),
    };
    probed.sort_unstable();
    probed.dedup();
    let mut denied = Vec::new();
    for table in probed.into_iter().filter(|t| !catalog.has_table(t)) {
        if backend == Backend::Sqlite {
            continue;
        }
        let probe = Query::select().expr(Expr::val(1)).from(table).limit(0).take();
        if let Err(error) = conn.query_all_raw(backend.db_backend().build(&probe)).await
            && is_permission_denied(backend, &error)
        {
            denied.push(table);
        }
    }
    let (fatal, ungranted): (Vec<&'static str>, Vec<&'static str>) = match purpose {
        Purpose::Link | Purpose::Inspect => (denied, Vec::new()),
        Purpose::Serve => {
            let linking = denied.iter().any(|t| REQUIRED.contains(t) || OPTIONAL.contains(t));
            let inspector = denied.iter().any(|t| INSPECTOR_READS.contains(t));
            if linking && inspector { (denied, Vec::new()) } else { (Vec::new(), denied) }
        }
    };
    if !fatal.is_empty() {
        return Err(ConnectError::MissingGrants {
            backend: backend.name(),
            url: redact_url(url),
            tables: fatal.join(", "),
        });
    }
    let required: &[&str] = match purpose {
        Purpose::Link | Purpose::Serve => &REQUIRED,
        Purpose::Inspect => &INSPECTOR_REQUIRED,
    };
    let missing: Vec<&str> =
        required.iter().copied().filter(|t| !catalog.has_table(t) && !ungranted.contains(t)).collect();
    if !missing.is_empty() {
        return Err(ConnectError::MissingTables {
            backend: backend.name(),
            url: redact_url(url),
            missing: missing.join(", "),
        });
    }
    let uuid_column = |table, column| match catalog.column_type(table, column) {
        Some("uuid") => UuidColumn::Native,
        _ if backend == Backend::Postgres => UuidColumn::Native,
        _ => UuidColumn::Char32,
    };
    let encoding = Encoding {
        backend,
        program_uuid: uuid_column(tables::PE, "program_uuid"),
        history_id: uuid_column(tables::CE_HISTORY, "history_id"),
    };
    Ok(Arc::new(Context { encoding, catalog, ungranted }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(redact_url("postgres://app:s3cret@127.0.0.1:5432/db"), "postgres://app:***@127.0.0.1:5432/db");
        assert_eq!(redact_url("mysql://u:p%40ss@h/db?ssl-mode=x"), "mysql://u:***@h/db?ssl-mode=x");
        assert_eq!(redact_url("mysql://u:p@ss@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact_url("sqlite://./x.sqlite3?mode=rwc"), "sqlite://./x.sqlite3?mode=rwc");
        assert_eq!(redact_url("sqlite:///tmp/x.sqlite3"), "sqlite:///tmp/x.sqlite3");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact_url("sqlite://c:d.db"), "sqlite://c:d.db");
        assert_eq!(redact_url("postgres://user@h/db"), "postgres://user@h/db");
    }

    #[test]
    fn query_passwords_never_show() {
        assert_eq!(
            redact_url("postgres://u@127.0.0.1:1/db?password=s3cr3t"),
            "postgres://u@127.0.0.1:1/db?password=***"
        );
        assert_eq!(
            redact_url("postgres:///db?host=/tmp&password=s3cr3t&sslmode=disable"),
            "postgres:///db?host=/tmp&password=***&sslmode=disable"
        );
        assert_eq!(
            redact_url("mysql://u:a@h/d?PASS=1&pwd=2&sslpassword=3&pass%77ord=4&x=pwd"),
            "mysql://u:***@h/d?PASS=***&pwd=***&sslpassword=***&pass%77ord=***&x=pwd"
        );
        assert_eq!(redact_url("postgres://u:pw@h/db#s3cr3t"), "postgres://u:***@h/db#***");
    }

    #[test]
    fn urls_that_do_not_parse_are_never_shown() {
        for url in [
            "postgres:/u:s3cr3t@127.0.0.1:56432/x",
            "postgres//u:s3cr3t@127.0.0.1/db",
            "postgres://u:s3cr3t@127.0.0.1:notaport/db",
            "postgres://u:12/s3cr3t@h/db",
            "postgres://u:12?s3cr3t@h/db",
            "mysql://u:12#s3cr3t@h/db",
        ] {
            let shown = redact_url(url);
            assert!(!shown.contains("s3cr3t"), "{url}: {shown}");
        }
        assert_eq!(redact_url("postgres://u:s3cr3t@h:notaport/db"), UNPARSABLE_URL);
    }

    #[test]
    fn backends_by_scheme() {
        assert_eq!(backend_of("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("postgresql://h/db").unwrap(), Backend::Postgres);
        assert_eq!(backend_of("mariadb://h/db").unwrap(), Backend::MySql);
        let reason = |url| match backend_of(url) {
            Err(ConnectError::UnsupportedUrl { reason }) => reason,
            other => panic!("{url}: {other:?}"),
        };
        assert_eq!(reason("oracle://u:pw@h/db"), "scheme 'oracle'");
        assert_eq!(reason("postgres//u:pw@h/db"), "`postgres` must be followed by `://`");
        assert_eq!(reason("sqlite3://x.db"), "scheme 'sqlite3'");
        assert_eq!(reason("just-a-file.db"), "no scheme: no `:`");
        assert_eq!(reason("a/b:pw@h"), "the text before the first `:` is not a scheme");
    }

    #[test]
    fn server_urls_are_checked_without_showing_them() {
        let reason = |url| match check_url(url) {
            Err(ConnectError::BadUrl { reason, .. }) => reason,
            other => panic!("{url}: {other:?}"),
        };
        assert_eq!(reason("postgres:/u:s3cr3t@127.0.0.1:56432/x"), "`//` must follow `postgres:`");
        assert_eq!(reason("postgres://u:s3cr3t@127.0.0.1:notaport/db"), "invalid port number");
        assert!(reason("postgres://u:12/s3cr3t@h/db").starts_with("an `@` after the host"));
        assert!(check_url("postgres:///db?host=/tmp&password=s3cr3t").is_ok());
        assert!(check_url("mysql://u:pw@h:3306/db?ssl-mode=disabled").is_ok());
        assert!(check_url("sqlite://anything").is_ok());
        let message = check_url("postgres:/u:s3cr3t@h/x").unwrap_err().to_string();
        assert!(!message.contains("s3cr3t"), "{message}");
    }
}
