//! A real SQLite file in a temporary directory, made by `program-enrollments migrate`, with
//! fixture rows inserted through SeaORM, and the real binary to run on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, Value};
use tempfile::TempDir;

/// The program of the fixtures.
pub const PROGRAM: &str = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";
/// Another program.
pub const OTHER_PROGRAM: &str = "0c1d2e3f-4a5b-4c6d-8e7f-901234567890";
/// The curriculum of the fixtures.
pub const CURRICULUM: &str = "6f1c2d3e4a5b4c6d8e7f901234567890";
/// A course with an overview row.
pub const FRUIT: &str = "course-v1:edX+Oranges+Apples";
/// A course with an overview row.
pub const ANIMAL: &str = "course-v1:edX+Cats+Dogs";

/// The binary.
pub fn bin() -> Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("program-enrollments");
    cmd.env_remove("DATABASE_URL").env_remove("RUST_LOG");
    cmd
}

/// A migrated SQLite database in its own temporary directory.
pub struct Db {
    /// The directory (removed on drop).
    pub dir: TempDir,
    /// The database file.
    pub path: PathBuf,
}

impl Db {
    /// A migrated database with two courses and no other row.
    pub fn new() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.sqlite3");
        let db = Db { dir, path };
        bin().args(["migrate", "--database-url", &db.url_rwc()]).assert().success();
        db.exec(
            "INSERT INTO course_overviews_courseoverview (id, display_name, start) VALUES (?, 'Fruit', '2020-01-01 00:00:00')",
            vec![FRUIT.into()],
        );
        db.exec(
            "INSERT INTO course_overviews_courseoverview (id, display_name, start) VALUES (?, 'Animal', '2020-01-01 00:00:00')",
            vec![ANIMAL.into()],
        );
        db
    }

    /// `sqlite://PATH` (no creation).
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// `sqlite://PATH?mode=rwc`.
    pub fn url_rwc(&self) -> String {
        format!("{}?mode=rwc", self.url())
    }

    /// The binary, run in the database's directory, with `--database-url` set.
    pub fn cmd(&self) -> Command {
        let mut cmd = bin();
        cmd.current_dir(self.dir.path()).args(["--database-url", &self.url()]);
        cmd
    }

    /// `link PROGRAM args…` on this database.
    pub fn link(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.arg("link").arg(PROGRAM).args(args);
        cmd
    }

    /// Writes `contents` to a file in the directory; returns its path.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// The database file's bytes.
    pub fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).unwrap()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    /// Runs one statement.
    pub fn exec(&self, sql: &str, values: Vec<Value>) {
        let url = self.url();
        Self::runtime().block_on(async move {
            let conn = Database::connect(url.as_str()).await.unwrap();
            conn.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await.unwrap();
            conn.close().await.unwrap();
        });
    }

    /// The rows of a query, each column as text (NULL as `NULL`).
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let url = self.url();
        Self::runtime().block_on(async move {
            let conn = Database::connect(url.as_str()).await.unwrap();
            let rows = conn.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql)).await.unwrap();
            let out = rows
                .iter()
                .map(|row| {
                    row.column_names()
                        .iter()
                        .map(|c| {
                            if let Ok(v) = row.try_get::<Option<String>>("", c) {
                                return v.unwrap_or_else(|| "NULL".into());
                            }
                            match row.try_get::<Option<i64>>("", c).unwrap() {
                                Some(v) => v.to_string(),
                                None => "NULL".into(),
                            }
                        })
                        .collect()
                })
                .collect();
            conn.close().await.unwrap();
            out
        })
    }

    /// One integer.
    pub fn count(&self, sql: &str) -> i64 {
        self.rows(sql)[0][0].parse().unwrap()
    }

    /// Adds a user; returns its id.
    pub fn user(&self, username: &str) -> i64 {
        self.exec(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, \
             is_active, date_joined) VALUES ('!', 0, ?, '', '', ?, 0, 1, '2024-01-01 00:00:00.000000')",
            vec![username.into(), format!("{username}@example.com").into()],
        );
        self.count(&format!("SELECT id FROM auth_user WHERE username = '{username}'"))
    }

    /// Adds a PE of `program` (hyphenated) in the curriculum, linked to `user` or waiting, with
    /// PCEs `(course, status)`; returns its id.
    pub fn pe(&self, key: &str, program: &str, user: Option<i64>, courses: &[(&str, &str)]) -> i64 {
        self.exec(
            "INSERT INTO program_enrollments_programenrollment (created, modified, external_user_key, program_uuid, \
             curriculum_uuid, status, user_id) VALUES ('2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000', \
             ?, ?, ?, 'enrolled', ?)",
            vec![key.into(), program.replace('-', "").into(), CURRICULUM.into(), user.into()],
        );
        let id = self.count("SELECT MAX(id) FROM program_enrollments_programenrollment");
        for (course, status) in courses {
            self.exec(
                "INSERT INTO program_enrollments_programcourseenrollment (created, modified, course_key, status, \
                 course_enrollment_id, program_enrollment_id) VALUES ('2024-01-01 00:00:00.000000', \
                 '2024-01-01 00:00:00.000000', ?, ?, NULL, ?)",
                vec![(*course).into(), (*status).into(), id.into()],
            );
        }
        id
    }

    /// A waiting PE of [`PROGRAM`] with an active PCE in [`FRUIT`].
    pub fn waiting(&self, key: &str) -> i64 {
        self.pe(key, PROGRAM, None, &[(FRUIT, "active")])
    }

    /// The user id linked to `key` in [`PROGRAM`], or `NULL`.
    pub fn linked_user(&self, key: &str) -> String {
        self.rows(&format!(
            "SELECT user_id FROM program_enrollments_programenrollment WHERE external_user_key = '{}' \
             AND program_uuid = '{}'",
            key.replace('\'', "''"),
            PROGRAM.replace('-', "")
        ))[0][0]
            .clone()
    }

    /// Rows written by links: linked PEs, CEs and history rows.
    pub fn written(&self) -> i64 {
        self.count(
            "SELECT (SELECT COUNT(*) FROM program_enrollments_programenrollment WHERE user_id IS NOT NULL) \
             + (SELECT COUNT(*) FROM student_courseenrollment) \
             + (SELECT COUNT(*) FROM program_enrollments_historicalprogramenrollment) \
             + (SELECT COUNT(*) FROM program_enrollments_historicalprogramcourseenrollment) \
             + (SELECT COUNT(*) FROM student_courseenrollment_history)",
        )
    }
}

/// Standard output of an assertion, as text.
pub fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// Standard error of an assertion, as text.
pub fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(assert.get_output().stderr.clone()).unwrap()
}

/// Whether `dir` holds exactly the given file names.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}
