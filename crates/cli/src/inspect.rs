//! `inspect`: what the LMS holds about a learner, as the support tool's inspector shows it: by
//! account (username or email) or by institution and external key. Read-only.

use std::io::Write;

use adapters_seaorm::SeaOrmDatabase;
use domain::{InspectedLearner, InspectorQuery, LearnerProgramEnrollments};
use web::inspector_json::{CourseUrls, ProgramTitles, inspector_time, learner_program_enrollments};

use crate::args::{Format, InspectArgs};
use crate::error::{CliError, EXIT_KEY_ERRORS, EXIT_OK};
use crate::sqlite::SqliteFile;

/// Runs the search and prints what it found: exit 0 when found, 1 (with upstream's message on
/// standard error) when not.
///
/// # Errors
/// [`CliError::NoSqliteFile`], [`CliError::Connect`], or [`CliError::Inspect`] when a read
/// fails (a table the database lacks is named).
pub async fn inspect(url: &str, args: &InspectArgs) -> Result<u8, CliError> {
    if let Some(file) = SqliteFile::of_url(url).filter(|file| file.must_exist() && !file.path.exists()) {
        return Err(CliError::NoSqliteFile { path: file.path.display().to_string() });
    }
    let query = InspectorQuery::new(
        args.user.as_deref().unwrap_or(""),
        args.org.as_deref().unwrap_or(""),
        args.key.as_deref().unwrap_or(""),
    );
    let db = SeaOrmDatabase::connect_for(url, adapters_seaorm::Purpose::Inspect).await?;
    let answer = app::inspect_learner(&db, &query).await;
    let _ = db.connection().close_by_ref().await;
    let found = match answer.map_err(|source| CliError::Inspect { source })? {
        Ok(found) => found,
        Err(not_found) => {
            if args.format == Format::Json {
                println!(
                    "{}",
                    serde_json::json!({ "error": not_found.to_string(), "learner_program_enrollments": {} })
                );
            }
            eprintln!("{not_found}");
            return Ok(EXIT_KEY_ERRORS);
        }
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            let value = learner_program_enrollments(&found, &CourseUrls::default(), &ProgramTitles::new());
            writeln!(out, "{}", serde_json::json!({ "error": "", "learner_program_enrollments": value }))
        }
        Format::Text => out.write_all(text(&found).as_bytes()),
    };
    written.map_err(|source| CliError::Io { what: "cannot write to standard output".into(), source })?;
    Ok(EXIT_OK)
}

/// The text a person reads: the account and its SSO uids, then one block per program
/// enrollment with its course enrollments.
pub fn text(found: &LearnerProgramEnrollments) -> String {
    let mut lines = Vec::new();
    match &found.learner {
        InspectedLearner::Account { username, email, sso_uids } => {
            lines.push(format!("account: {username} <{email}>"));
            if sso_uids.is_empty() {
                lines.push("sso: none".to_owned());
            } else {
                lines.push(format!("sso: {}", sso_uids.join(", ")));
            }
        }
        InspectedLearner::ExternalKeyOnly { external_user_key } => {
            lines.push(format!("account: none holds the external key {external_user_key}"));
        }
    }
    if found.enrollments.is_empty() {
        lines.push("program enrollments: none".to_owned());
    }
    for pe in &found.enrollments {
        lines.push(format!(
            "program {} ({}), external key {}, created {}, modified {}",
            pe.program_uuid,
            pe.status,
            pe.external_user_key.as_deref().unwrap_or("(none)"),
            inspector_time(pe.created),
            inspector_time(pe.modified),
        ));
        if pe.program_course_enrollments.is_empty() {
            lines.push("  no course enrollments".to_owned());
        }
        for pce in &pe.program_course_enrollments {
            let ce = match &pce.course_enrollment {
                Some(ce) => format!("{}, {}", ce.mode, if ce.is_active { "active" } else { "inactive" }),
                None => "no course enrollment yet".to_owned(),
            };
            lines.push(format!("  {} ({}): {ce}", pce.course_key, pce.status));
        }
    }
    for note in &found.notes {
        lines.push(format!("note: {note}"));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}
