//! Opening a database by URL, with errors that name the backend and hide the password.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, RuntimeErr, Statement};
use thiserror::Error;
use tracing::instrument::WithSubscriber;
use tracing::subscriber::NoSubscriber;

use crate::catalog::{Catalog, tables};
use crate::dialect::{Backend, Encoding, UuidColumn};
use crate::error::is_permission_denied;

/// Why a database could not be opened.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// The URL names no supported backend.
    #[error("unsupported database URL '{url}': expected sqlite://PATH, postgres://… or mysql://…")]
    UnsupportedUrl {
        /// The URL, password hidden.
        url: String,
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

/// The URL with its password replaced by `***`, for messages and logs.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:***{host}{tail}"),
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    }
}

/// The backend a URL names.
///
/// # Errors
/// [`ConnectError::UnsupportedUrl`].
pub fn backend_of(url: &str) -> Result<Backend, ConnectError> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default();
    match scheme.as_str() {
        "sqlite" => Ok(Backend::Sqlite),
        "postgres" | "postgresql" => Ok(Backend::Postgres),
        "mysql" | "mariadb" => Ok(Backend::MySql),
        _ => Err(ConnectError::UnsupportedUrl { url: redact_url(url) }),
    }
}

/// Opens a connection pool for `url` (`sqlite://PATH?mode=rwc`, `postgres://…`, `mysql://…`).
/// Reads nothing: use it to run migrations, or pass it to [`crate::SeaOrmDatabase::new`].
///
/// # Errors
/// [`ConnectError::UnsupportedUrl`] or [`ConnectError::Connect`].
pub async fn open(url: &str) -> Result<DatabaseConnection, ConnectError> {
    let backend = backend_of(url)?;
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

/// What a transaction needs to know about its database.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) encoding: Encoding,
    pub(crate) catalog: Catalog,
}

pub(crate) async fn read_context(conn: &DatabaseConnection, url: &str) -> Result<Arc<Context>, ConnectError> {
    let backend = Backend::from_db(conn.get_database_backend());
    let catalog = Catalog::read(conn, backend).await.map_err(|source| ConnectError::Catalog {
        backend: backend.name(),
        url: redact_url(url),
        source,
    })?;
    let required = [
        tables::USER,
        tables::PE,
        tables::PCE,
        tables::CE,
        tables::PE_HISTORY,
        tables::PCE_HISTORY,
        tables::CE_HISTORY,
        tables::COURSE_OVERVIEW,
    ];
    // A table the user holds no privilege on is absent from the catalog: ask the table itself
    // whether it is missing or only out of reach, so that a missing grant is named as such
    // (and an optional table, whose absence turns a feature off, is not taken for absent when
    // it is only not granted).
    let optional = [tables::INVITATION, tables::COURSE_MODE, tables::ROLE, tables::ROLE_ASSIGNMENT];
    let mut denied = Vec::new();
    for table in required.into_iter().chain(optional).filter(|t| !catalog.has_table(t)) {
        if backend == Backend::Sqlite {
            continue;
        }
        let probe = Statement::from_string(conn.get_database_backend(), format!("SELECT 1 FROM {table} WHERE 1 = 0"));
        if let Err(error) = conn.query_all_raw(probe).await
            && is_permission_denied(backend, &error)
        {
            denied.push(table);
        }
    }
    if !denied.is_empty() {
        return Err(ConnectError::MissingGrants {
            backend: backend.name(),
            url: redact_url(url),
            tables: denied.join(", "),
        });
    }
    let missing: Vec<&str> = required.into_iter().filter(|t| !catalog.has_table(t)).collect();
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
    Ok(Arc::new(Context { encoding, catalog }))
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
        assert_eq!(redact_url("postgres://user@h/db"), "postgres://user@h/db");
    }

    #[test]
    fn backends_by_scheme() {
        assert_eq!(backend_of("sqlite::memory:").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("postgresql://h/db").unwrap(), Backend::Postgres);
        assert_eq!(backend_of("mariadb://h/db").unwrap(), Backend::MySql);
        let err = backend_of("oracle://u:pw@h/db").unwrap_err().to_string();
        assert!(!err.contains("pw"), "{err}");
    }
}
