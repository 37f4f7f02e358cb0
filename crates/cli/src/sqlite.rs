//! What a SQLite URL names, read by sqlx's own parser (`SqliteConnectOptions`), so that the
//! command line sees the file the driver will open: percent-encoded paths (`a%20b.db`),
//! `sqlite:` and `sqlite://` prefixes, `mode=…` and `:memory:` as sqlx reads them.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use adapters_seaorm::{Backend, backend_of};
use sea_orm::sqlx::ConnectOptions as _;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;

/// How sqlx opens the file of a SQLite URL (its `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read-write, the file must exist (`mode=rw`, or no mode).
    ReadWrite,
    /// Read-write, the file is created if missing (`mode=rwc`).
    Create,
    /// Read-only (`mode=ro`).
    ReadOnly,
}

/// The file a SQLite URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteFile {
    /// The path, percent-decoded as sqlx decodes it.
    pub path: PathBuf,
    /// How sqlx opens it.
    pub mode: OpenMode,
}

impl SqliteFile {
    /// The file `url` names, as sqlx reads it; `None` for another backend, an in-memory
    /// database, or a URL sqlx refuses (opening it then reports the driver's reason).
    pub fn of_url(url: &str) -> Option<Self> {
        if !matches!(backend_of(url), Ok(Backend::Sqlite)) {
            return None;
        }
        let options = SqliteConnectOptions::from_str(url).ok()?;
        let path = options.get_filename().to_path_buf();
        // The options keep their mode private; the URL they render says it (`memory`, `rwc`,
        // `ro` or `rw`). Rendered with a placeholder file name: sqlx panics on a name the `url`
        // crate cannot parse back (`file:sqlx-in-memory-0` for `:memory:`, `a:b.db`).
        let rendered = options.filename("placeholder.db").to_url_lossy();
        let mode = rendered.query_pairs().find(|(key, _)| key == "mode").map(|(_, value)| value.into_owned());
        let mode = match mode.as_deref() {
            Some("rwc") => OpenMode::Create,
            Some("ro") => OpenMode::ReadOnly,
            Some("rw") | None => OpenMode::ReadWrite,
            Some(_) => return None,
        };
        (path != Path::new("")).then_some(Self { path, mode })
    }

    /// Whether opening the URL needs the file to exist already (any mode but `rwc`).
    pub fn must_exist(&self) -> bool {
        self.mode != OpenMode::Create
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, mode: OpenMode) -> Option<SqliteFile> {
        Some(SqliteFile { path: PathBuf::from(path), mode })
    }

    #[test]
    fn sqlite_files_of_urls() {
        assert_eq!(SqliteFile::of_url("sqlite://a/b.db"), file("a/b.db", OpenMode::ReadWrite));
        assert_eq!(SqliteFile::of_url("sqlite:///tmp/b.db?mode=rw"), file("/tmp/b.db", OpenMode::ReadWrite));
        assert_eq!(SqliteFile::of_url("sqlite:b.db?mode=rwc"), file("b.db", OpenMode::Create));
        assert_eq!(SqliteFile::of_url("sqlite://b.db?mode=ro"), file("b.db", OpenMode::ReadOnly));
        assert_eq!(SqliteFile::of_url("sqlite://a%20b.db"), file("a b.db", OpenMode::ReadWrite));
        assert_eq!(SqliteFile::of_url("sqlite://a%3Fb%25.db?mode=rwc"), file("a?b%.db", OpenMode::Create));
        assert_eq!(SqliteFile::of_url("sqlite://c:d.db"), file("c:d.db", OpenMode::ReadWrite));
    }

    #[test]
    fn no_file_for_memory_other_backends_or_urls_sqlx_refuses() {
        assert_eq!(SqliteFile::of_url("sqlite::memory:"), None);
        assert_eq!(SqliteFile::of_url("sqlite://a.db?mode=memory"), None);
        assert_eq!(SqliteFile::of_url("sqlite://a.db?mode=bogus"), None);
        assert_eq!(SqliteFile::of_url("sqlite://"), None);
        assert_eq!(SqliteFile::of_url("postgres://h/db"), None);
        assert_eq!(SqliteFile::of_url("mysql://h/sqlite.db"), None);
    }

    #[test]
    fn only_rwc_creates_the_file() {
        assert!(SqliteFile::of_url("sqlite://a.db").is_some_and(|f| f.must_exist()));
        assert!(SqliteFile::of_url("sqlite://a.db?mode=ro").is_some_and(|f| f.must_exist()));
        assert!(SqliteFile::of_url("sqlite://a.db?mode=rwc").is_some_and(|f| !f.must_exist()));
    }
}
