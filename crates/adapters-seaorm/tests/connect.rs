//! Connection errors name the backend and never show a password.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapters_seaorm::{ConnectError, SeaOrmDatabase};

async fn error_of(url: &str) -> String {
    match SeaOrmDatabase::connect(url).await {
        Ok(_) => panic!("{url} connected"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn an_unreachable_server_is_named_without_its_password() {
    for (url, backend) in [
        ("postgres://operator:s3cret-pw@127.0.0.1:1/edxapp", "postgres"),
        ("mysql://operator:s3cret-pw@127.0.0.1:1/edxapp", "mysql"),
    ] {
        let message = error_of(url).await;
        eprintln!("{message}");
        assert!(message.starts_with(&format!("cannot connect to the {backend} database at ")), "{message}");
        assert!(message.contains("operator:***@127.0.0.1:1/edxapp"), "{message}");
        assert!(!message.contains("s3cret-pw"), "{message}");
    }
}

#[tokio::test]
async fn a_password_in_the_query_is_hidden_too() {
    for (url, shown) in [
        (
            "postgres://operator@127.0.0.1:1/edxapp?password=s3cret-pw",
            "postgres://operator@127.0.0.1:1/edxapp?password=***",
        ),
        (
            "postgres:///edxapp?host=127.0.0.1&port=1&password=s3cret-pw",
            "postgres:///edxapp?host=127.0.0.1&port=1&password=***",
        ),
        ("mysql://operator@127.0.0.1:1/edxapp?pwd=s3cret-pw", "mysql://operator@127.0.0.1:1/edxapp?pwd=***"),
    ] {
        let message = error_of(url).await;
        assert!(message.contains(&format!(" database at {shown}: ")), "{message}");
        assert!(!message.contains("s3cret-pw"), "{message}");
    }
}

#[tokio::test]
async fn an_unsupported_or_unparsable_url_is_refused_without_showing_it() {
    for (url, start) in [
        ("oracle://operator:s3cret-pw@db/edxapp", "unsupported database URL (scheme 'oracle')"),
        ("postgres//operator:s3cret-pw@db/edxapp", "unsupported database URL (`postgres` must be followed by `://`)"),
        (
            "postgres:/operator:s3cret-pw@127.0.0.1:1/x",
            "the database URL is not a valid postgres URL (`//` must follow `postgres:`)",
        ),
    ] {
        let err = SeaOrmDatabase::connect(url).await.err().unwrap();
        assert!(err.is_usage(), "{err}");
        let message = err.to_string();
        assert!(message.starts_with(start), "{message}");
        assert!(!message.contains("s3cret-pw") && !message.contains("operator"), "{message}");
    }
}

#[tokio::test]
async fn a_database_without_the_tables_says_which_are_missing() {
    let err = SeaOrmDatabase::connect("sqlite::memory:").await.unwrap_err();
    assert!(matches!(err, ConnectError::MissingTables { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("program_enrollments_programenrollment"), "{message}");
    assert!(message.contains("run `program-enrollments migrate`"), "{message}");
}

#[tokio::test]
async fn a_sqlite_file_that_cannot_be_opened_is_named() {
    let message = error_of("sqlite:///nonexistent-dir/x.sqlite3").await;
    assert!(
        message.starts_with("cannot connect to the sqlite database at sqlite:///nonexistent-dir/x.sqlite3"),
        "{message}"
    );
}
