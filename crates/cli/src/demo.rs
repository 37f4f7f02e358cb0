//! `demo`: a fresh SQLite database holding an example program, linked through the same code as
//! `link`.
//!
//! The example: 300 waiting learners with two courses each (some already enrolled in audit,
//! honor or verified mode, some with an inactive enrollment, some with a pending invitation),
//! one learner for each error of the spec, and three learners left waiting for the reader to
//! link with `link`.

use std::io::Read;
use std::path::{Path, PathBuf};

use adapters_seaorm::SeaOrmDatabase;
use domain::{ExternalUserKey, LinkBatch, ProgramUuid, Username};
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, Statement, TransactionTrait, Value};
use sea_orm_migration::MigratorTrait;

use crate::args::{DemoArgs, Format};
use crate::commands::{self, run_link};
use crate::error::{CliError, EXIT_KEY_ERRORS, EXIT_OK};
use crate::progress::Stderr;

/// The example program.
pub const PROGRAM_UUID: &str = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";
/// The curriculum of the example program's enrollments.
pub const CURRICULUM_UUID: &str = "6f1c2d3e4a5b4c6d8e7f901234567801";
/// The SQLite `application_id` the demo stamps on its files, so that it replaces only files it
/// created ("PEnr").
pub const APPLICATION_ID: u32 = 0x5045_6e72;
/// How many waiting learners the example batch links.
pub const LEARNERS: usize = 300;
/// The organisation of the example's SAML provider (`inspect --org`).
pub const DEMO_ORG: &str = "univ";
/// The example SAML provider's slug: its learners' SSO uids are `univ:{external key}`.
pub const DEMO_SAML_SLUG: &str = "univ";
/// How many of the first learners sign in through the SAML provider.
pub const SSO_LEARNERS: u32 = 5;

const FRUIT: &str = "course-v1:edX+Oranges+Apples";
const ANIMAL: &str = "course-v1:edX+Cats+Dogs";
const MISSING_COURSE: &str = "course-v1:edX+Zilch+Bupkis";

/// The keys of the example batch that must fail, one per error of the spec, in input order.
pub const FAILING_KEYS: [&str; 6] =
    ["univ-unknown", "univ-missing", "univ-returning", "univ-taken", "univ-nocourse", "univ-double-2"];

/// The learners left waiting for the reader, `(key, username)`; one key holds a comma, to show
/// CSV quoting.
pub const WAITING: [(&str, &str); 3] =
    [("univ-late-1", "late_learner_1"), ("univ-late-2", "late_learner_2"), ("univ-late,3", "late_learner_3")];

/// `demo`: builds the example database at `args.path`, links the example batch, prints the
/// report and how to look at the result. Exit status 0 when the example gave exactly the
/// expected errors.
///
/// # Errors
/// [`CliError::DemoPathTaken`] for a file the demo did not create; [`CliError::Demo`],
/// [`CliError::Connect`], [`CliError::Link`] or [`CliError::Io`] otherwise.
pub async fn demo(args: &DemoArgs, stderr: &Stderr) -> Result<u8, CliError> {
    let path = &args.path;
    claim(path)?;
    let url = format!("sqlite://{}?mode=rwc", url_path(path));
    let program = ProgramUuid::parse(PROGRAM_UUID).map_err(|e| demo_error(path, DbErr::Custom(e.to_string())))?;
    let conn = adapters_seaorm::open(&url).await?;
    let pairs = match build(&conn).await {
        Ok(pairs) => pairs,
        Err(source) => {
            let _ = conn.close().await;
            return Err(demo_error(path, source));
        }
    };
    let batch = example_batch(&pairs).map_err(|e| demo_error(path, DbErr::Custom(e)))?;
    let db = SeaOrmDatabase::new(conn, &url).await?;
    let report = run_link(&db, program, &batch, commands::LinkRun::default(), stderr).await;
    let _ = db.connection().close_by_ref().await;
    let report = report.map_err(|(report, cause)| CliError::Link {
        cause,
        written: format!("nothing was written to the example database ({} keys)", report.total),
    })?;
    commands::print_report(&report, args.format)?;
    let failed: Vec<&str> = report.errors.iter().map(|(key, _)| key.as_str()).collect();
    if failed != FAILING_KEYS {
        tracing::error!(target: commands::LOG_TARGET, "the example batch did not give the expected errors");
        return Ok(EXIT_KEY_ERRORS);
    }
    if args.format == Format::Text {
        commands::write_stdout(&hints(path), "the demo database was written")?;
    }
    Ok(EXIT_OK)
}

fn demo_error(path: &Path, source: DbErr) -> CliError {
    CliError::Demo { path: path.to_owned(), source }
}

/// Makes `path` ours: creates it, or replaces it if an earlier demo created it.
fn claim(path: &Path) -> Result<(), CliError> {
    let io = |what: &str, source| CliError::Io { what: format!("{what} {}", path.display()), source };
    match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(_) => return Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(io("cannot create", error)),
    }
    if !made_by_demo(path) {
        return Err(CliError::DemoPathTaken { path: path.to_owned() });
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut sibling = path.as_os_str().to_owned();
        sibling.push(suffix);
        match std::fs::remove_file(PathBuf::from(sibling)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(io("cannot remove", error)),
            _ => {}
        }
    }
    std::fs::remove_file(path).map_err(|e| io("cannot remove", e))?;
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| io("cannot create", e))?;
    Ok(())
}

/// Whether `path` is a SQLite database stamped with [`APPLICATION_ID`] (read from its header,
/// without opening it as a database).
fn made_by_demo(path: &Path) -> bool {
    let mut header = [0_u8; 72];
    let read = std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut header));
    read.is_ok() && header.starts_with(b"SQLite format 3\0") && header[68..72] == APPLICATION_ID.to_be_bytes()
}

/// The path as the path part of a `sqlite://` URL (sqlx percent-decodes it).
fn url_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => out.push_str(&format!("%{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

fn example_batch(pairs: &[(String, String)]) -> Result<LinkBatch, String> {
    let parsed = pairs
        .iter()
        .map(|(k, u)| Ok((ExternalUserKey::parse(k.as_str())?, Username::parse(u.as_str())?)))
        .collect::<Result<Vec<_>, domain::InvalidValue>>()
        .map_err(|e| e.to_string())?;
    LinkBatch::from_pairs(parsed).map_err(|e| e.to_string())
}

/// Creates the tables and the example rows; returns the example batch's pairs in order.
async fn build(conn: &sea_orm::DatabaseConnection) -> Result<Vec<(String, String)>, DbErr> {
    conn.execute_unprepared(&format!("PRAGMA application_id = {APPLICATION_ID}")).await?;
    migrations::Migrator::up(conn, None).await?;
    let tx = conn.begin().await?;
    let pairs = Rows::new(&tx).fill().await?;
    tx.commit().await?;
    Ok(pairs)
}

/// Inserts the example rows with explicit ids.
struct Rows<'a> {
    tx: &'a DatabaseTransaction,
    now: String,
    users: i64,
    program_enrollments: i64,
    course_enrollments: i64,
}

impl<'a> Rows<'a> {
    fn new(tx: &'a DatabaseTransaction) -> Self {
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        Self { tx, now, users: 0, program_enrollments: 0, course_enrollments: 0 }
    }

    async fn exec(&self, sql: &str, values: Vec<Value>) -> Result<(), DbErr> {
        self.tx.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await.map(|_| ())
    }

    async fn user(&mut self, username: &str) -> Result<i64, DbErr> {
        self.users += 1;
        self.exec(
            "INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name, last_name, \
             email, is_staff, is_active, date_joined) VALUES (?, '!demo', NULL, 0, ?, '', '', ?, 0, 1, ?)",
            vec![self.users.into(), username.into(), format!("{username}@example.com").into(), self.now.clone().into()],
        )
        .await?;
        Ok(self.users)
    }

    async fn program_enrollment(
        &mut self,
        key: &str,
        user: Option<i64>,
        courses: &[(&str, &str)],
    ) -> Result<(), DbErr> {
        self.program_enrollments += 1;
        let program = PROGRAM_UUID.replace('-', "");
        self.exec(
            "INSERT INTO program_enrollments_programenrollment (id, created, modified, external_user_key, \
             program_uuid, curriculum_uuid, status, user_id) VALUES (?, ?, ?, ?, ?, ?, 'enrolled', ?)",
            vec![
                self.program_enrollments.into(),
                self.now.clone().into(),
                self.now.clone().into(),
                key.into(),
                program.into(),
                CURRICULUM_UUID.into(),
                user.into(),
            ],
        )
        .await?;
        for (course, status) in courses {
            self.exec(
                "INSERT INTO program_enrollments_programcourseenrollment (created, modified, course_key, status, \
                 course_enrollment_id, program_enrollment_id) VALUES (?, ?, ?, ?, NULL, ?)",
                vec![
                    self.now.clone().into(),
                    self.now.clone().into(),
                    (*course).into(),
                    (*status).into(),
                    self.program_enrollments.into(),
                ],
            )
            .await?;
        }
        Ok(())
    }

    async fn course_enrollment(&mut self, user: i64, course: &str, mode: &str, active: bool) -> Result<(), DbErr> {
        self.course_enrollments += 1;
        self.exec(
            "INSERT INTO student_courseenrollment (id, created, is_active, mode, course_id, user_id) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                self.course_enrollments.into(),
                self.now.clone().into(),
                active.into(),
                mode.into(),
                course.into(),
                user.into(),
            ],
        )
        .await
    }

    async fn invitation(&self, username: &str, course: &str) -> Result<(), DbErr> {
        self.exec(
            "INSERT INTO student_courseenrollmentallowed (email, course_id, auto_enroll, created, user_id) \
             VALUES (?, ?, 1, ?, NULL)",
            vec![format!("{username}@example.com").into(), course.into(), self.now.clone().into()],
        )
        .await
    }

    async fn fill(mut self) -> Result<Vec<(String, String)>, DbErr> {
        // Fruit: self-paced, started, with highlights; Animal: instructor-paced, starting later.
        // A linked learner gets a schedule in each (`start_date` the later of enrollment and
        // course start) and the `Student` discussion role of each.
        let courses = [
            (FRUIT, "Oranges and Apples", "2024-01-01 00:00:00", true, true),
            (ANIMAL, "Cats and Dogs", "2099-09-01 00:00:00", false, false),
        ];
        for (course, name, start, self_paced, has_highlights) in courses {
            self.exec(
                "INSERT INTO course_overviews_courseoverview (id, display_name, start, self_paced, has_highlights) \
                 VALUES (?, ?, ?, ?, ?)",
                vec![course.into(), name.into(), start.into(), self_paced.into(), has_highlights.into()],
            )
            .await?;
        }
        let mut pairs = Vec::new();
        for i in 0..LEARNERS {
            let username = format!("learner_{i:03}");
            let key = format!("univ-{i:05}");
            let user = self.user(&username).await?;
            let animal_status = if i % 10 == 0 { "inactive" } else { "active" };
            self.program_enrollment(&key, None, &[(FRUIT, "active"), (ANIMAL, animal_status)]).await?;
            // Existing enrollments: converted from audit or honor, reused when inactive, left
            // as they are in verified mode (with an ERROR log line).
            if i % 25 == 0 {
                self.course_enrollment(user, FRUIT, "audit", true).await?;
            } else if i % 50 == 13 {
                self.course_enrollment(user, FRUIT, "verified", true).await?;
            }
            if i % 30 == 7 {
                self.course_enrollment(user, ANIMAL, "honor", true).await?;
            } else if i % 40 == 21 {
                self.course_enrollment(user, ANIMAL, "audit", false).await?;
            }
            if i % 100 == 42 {
                self.invitation(&username, FRUIT).await?;
            }
            pairs.push((key, username));
        }
        let both = [(FRUIT, "active"), (ANIMAL, "active")];
        // One learner for each error of the spec, in the order of FAILING_KEYS.
        self.user("stray_learner").await?;
        pairs.push(("univ-unknown".into(), "no_such_user".into()));
        pairs.push(("univ-missing".into(), "stray_learner".into()));
        let returning = self.user("returning_learner").await?;
        self.program_enrollment("univ-returning", Some(returning), &both).await?;
        pairs.push(("univ-returning".into(), "returning_learner".into()));
        let owner = self.user("first_owner").await?;
        self.program_enrollment("univ-taken", Some(owner), &both).await?;
        self.user("second_account").await?;
        pairs.push(("univ-taken".into(), "second_account".into()));
        self.user("learner_nocourse").await?;
        self.program_enrollment("univ-nocourse", None, &[(FRUIT, "active"), (MISSING_COURSE, "active")]).await?;
        pairs.push(("univ-nocourse".into(), "learner_nocourse".into()));
        self.user("double_learner").await?;
        self.program_enrollment("univ-double-1", None, &both).await?;
        self.program_enrollment("univ-double-2", None, &both).await?;
        pairs.push(("univ-double-1".into(), "double_learner".into()));
        pairs.push(("univ-double-2".into(), "double_learner".into()));
        for (key, username) in WAITING {
            self.user(username).await?;
            self.program_enrollment(key, None, &both).await?;
        }
        self.single_sign_on().await?;
        Ok(pairs)
    }

    /// For the inspector: the university's organisation and SAML provider, and the first
    /// [`SSO_LEARNERS`] learners signed in through it (uid `{slug}:{external key}`).
    async fn single_sign_on(&self) -> Result<(), DbErr> {
        self.exec("INSERT INTO django_site (id, domain, name) VALUES (1, 'example.com', 'example.com')", vec![])
            .await?;
        self.exec(
            "INSERT INTO organizations_organization (id, created, modified, name, short_name, description, logo, active) \
             VALUES (1, ?, ?, 'Example University', ?, NULL, NULL, 1)",
            vec![self.now.clone().into(), self.now.clone().into(), DEMO_ORG.into()],
        )
        .await?;
        self.exec(
            "INSERT INTO third_party_auth_samlproviderconfig (id, change_date, enabled, icon_class, icon_image, name, \
             slug, secondary, skip_hinted_login_dialog, skip_registration_form, skip_email_verification, \
             send_welcome_email, visible, send_to_registration_first, sync_learner_profile_data, \
             enable_sso_id_verification, disable_for_enterprise_sso, display_name, backend_name, entity_id, \
             metadata_source, attr_user_permanent_id, attr_full_name, default_full_name, attr_first_name, \
             default_first_name, attr_last_name, default_last_name, attr_username, default_username, attr_email, \
             default_email, automatic_refresh_enabled, identity_provider_type, debug_mode, country, other_settings, \
             archived, organization_id, site_id) \
             VALUES (1, ?, 1, 'fa-university', '', 'Example University', ?, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, '', \
             'tpa-saml', 'https://idp.example.edu/idp/shibboleth', '', '', '', '', '', '', '', '', '', '', '', '', 1, \
             'standard_saml_provider', 0, '', '{}', 0, 1, 1)",
            vec![self.now.clone().into(), DEMO_SAML_SLUG.into()],
        )
        .await?;
        for i in 0..SSO_LEARNERS {
            let uid = format!("{DEMO_SAML_SLUG}:univ-{i:05}");
            for (table, history) in [
                ("social_auth_usersocialauth", ""),
                ("support_historicalusersocialauth", ", history_date, history_type"),
            ] {
                let extra = if history.is_empty() { "" } else { ", ?, '+'" };
                let id = i64::from(i) + 1;
                let mut values: Vec<Value> =
                    vec![id.into(), uid.clone().into(), self.now.clone().into(), self.now.clone().into(), id.into()];
                if !history.is_empty() {
                    values.push(self.now.clone().into());
                }
                self.exec(
                    &format!(
                        "INSERT INTO {table} (id, provider, uid, extra_data, created, modified, user_id{history}) \
                         VALUES (?, 'tpa-saml', ?, '{{}}', ?, ?, ?{extra})"
                    ),
                    values,
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// How to look at the result, and what to try next.
fn hints(path: &Path) -> String {
    let me = std::env::args().next().unwrap_or_else(|| "program-enrollments".to_owned());
    let file = path.display();
    let url = format!("sqlite://{}", url_path(path));
    let csv: String = WAITING
        .iter()
        .map(|(key, user)| if key.contains(',') { format!("\"{key}\",{user}\\n") } else { format!("{key},{user}\\n") })
        .collect();
    format!(
        "\n\
         The example database is {file} (program {PROGRAM_UUID}).\n\
         Look at the result with the sqlite3 shell:\n\
         \x20 sqlite3 {file} \"SELECT external_user_key, user_id FROM program_enrollments_programenrollment ORDER BY id LIMIT 5\"\n\
         \x20 sqlite3 {file} \"SELECT course_id, mode, is_active, COUNT(*) FROM student_courseenrollment GROUP BY 1, 2, 3\"\n\
         \x20 sqlite3 {file} \"SELECT e.user_id, e.course_id, r.name, s.start_date, x.experience_type FROM student_courseenrollment e JOIN django_comment_client_role_users u ON u.user_id = e.user_id JOIN django_comment_client_role r ON r.id = u.role_id AND r.course_id = e.course_id JOIN schedules_schedule s ON s.enrollment_id = e.id JOIN schedules_scheduleexperience x ON x.schedule_id = s.id WHERE e.user_id = 1\"\n\
         Link the {waiting} learners still waiting (add --dry-run to only see what would happen):\n\
         \x20 printf 'external_user_key,lms_username\\n{csv}' > batch.csv\n\
         \x20 {me} link --database-url {url} {PROGRAM_UUID} --file batch.csv\n\
         Look up a learner as support staff do (by account, or by institution and external key):\n\
         \x20 {me} inspect --database-url {url} --user learner_001\n\
         \x20 {me} inspect --database-url {url} --org {DEMO_ORG} --key UNIV-00002\n",
        waiting = WAITING.len(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn url_paths_escape_what_sqlx_decodes() {
        assert_eq!(url_path(Path::new("/tmp/a b%?#.db")), "/tmp/a b%25%3F%23.db");
    }

    #[test]
    fn the_example_batch_is_valid() {
        let pairs = vec![("k".to_owned(), "u".to_owned())];
        assert_eq!(example_batch(&pairs).unwrap().len(), 1);
    }
}
