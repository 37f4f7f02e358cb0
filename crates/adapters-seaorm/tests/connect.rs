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
async fn an_unsupported_url_is_refused_without_its_password() {
    let message = error_of("oracle://operator:s3cret-pw@db/edxapp").await;
    assert!(message.starts_with("unsupported database URL 'oracle://operator:***@db/edxapp'"), "{message}");
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
