//! The commands `migrate` and `link`, and what `link` and `demo` share.

use std::io::Write;

use adapters_seaorm::{Backend, ConnectError, SeaOrmDatabase, redact_url};
use domain::{LinkBatch, ProgramUuid};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

use crate::args::{Format, LinkArgs, ServeArgs};
use crate::error::{CliError, EXIT_KEY_ERRORS, EXIT_OK};
use crate::input;
use crate::progress::Stderr;
use crate::report::{Report, RunKind};
use crate::sqlite::{OpenMode, SqliteFile};

pub use crate::texts::{LOG_TARGET, READ_ONLY_ADVICE};

/// Creates the SQLite file a read-write `url` names (no mode, or `mode=rw`) when it is
/// missing, so that `migrate` makes a new database: an empty file is an empty SQLite database.
/// `mode=ro` is left to fail and `mode=rwc` creates the file itself.
fn create_if_missing(url: &str) {
    let Some(file) = SqliteFile::of_url(url).filter(|file| file.mode == OpenMode::ReadWrite) else { return };
    // A file that exists is kept; any other failure (a missing directory, no permission) is
    // left to the connection, whose error names the database.
    let _ = std::fs::OpenOptions::new().write(true).create_new(true).open(&file.path);
}

/// Checks the database URL before anything connects ([`adapters_seaorm::check_url`]): a
/// scheme we support, and for a server a URL its driver can read. The URL is never shown (it
/// may hold a password): the error says which part is wrong.
///
/// # Errors
/// [`CliError::UnsupportedUrl`] or [`CliError::BadUrl`] (exit 2).
pub fn check_url(url: &str) -> Result<Backend, CliError> {
    adapters_seaorm::check_url(url).map_err(|error| match error {
        ConnectError::UnsupportedUrl { reason } => CliError::UnsupportedUrl { reason },
        ConnectError::BadUrl { backend, reason } => CliError::BadUrl { backend, reason },
        other => CliError::Connect(other),
    })
}

/// Whether the database's `django_migrations` table lists migrations of the app
/// `program_enrollments`: its schema is then Django's (Open edX's). A database without the
/// table is not Django's.
async fn is_django_schema(conn: &DatabaseConnection) -> bool {
    let backend = conn.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres { "$1" } else { "?" };
    let sql = format!("SELECT COUNT(*) AS n FROM django_migrations WHERE app = {placeholder}");
    let statement = Statement::from_sql_and_values(backend, sql, ["program_enrollments".into()]);
    match conn.query_one_raw(statement).await {
        Ok(Some(row)) => row.try_get::<i64>("", "n").is_ok_and(|n| n > 0),
        _ => false,
    }
}

/// `migrate`: creates or upgrades our tables (idempotent); on SQLite, creates the file first.
/// A database whose schema Django made is refused unless `force`.
///
/// # Errors
/// [`CliError::UnsupportedUrl`], [`CliError::BadUrl`], [`CliError::Connect`],
/// [`CliError::DjangoSchema`] or [`CliError::Migrate`].
pub async fn migrate(url: &str, force: bool) -> Result<u8, CliError> {
    check_url(url)?;
    create_if_missing(url);
    let conn = adapters_seaorm::open(url).await?;
    if !force && is_django_schema(&conn).await {
        let _ = conn.close().await;
        return Err(CliError::DjangoSchema { url: redact_url(url) });
    }
    let result = migrations::Migrator::up(&conn, None).await;
    let _ = conn.close().await;
    result.map_err(|source| CliError::Migrate { url: redact_url(url), source })?;
    write_stdout(&format!("the database at {} is up to date\n", redact_url(url)), "the migration was applied")?;
    Ok(EXIT_OK)
}

/// `link`: checks the whole input, then links it and prints the report.
///
/// # Errors
/// [`CliError::Input`] before anything touches the database; [`CliError::Connect`] when the
/// database cannot be used (nothing written); [`CliError::Link`] when a transaction fails, after
/// printing the report of what committed before it.
pub async fn link(url: &str, args: &LinkArgs, stderr: &Stderr) -> Result<u8, CliError> {
    let (program, batch) = input::link_input_with(&args.program_uuid, &args.pairs, args.file.as_deref(), args.rules())?;
    if batch.is_empty() && !args.allow_empty {
        return Err(match &args.file {
            None => input::InputError::NoInput.into(),
            Some(path) => input::InputError::NoPairs { source_name: input::source_name(path) }.into(),
        });
    }
    check_url(url)?;
    if let Some(file) = SqliteFile::of_url(url).filter(|file| file.must_exist() && !file.path.exists()) {
        return Err(CliError::NoSqliteFile { path: file.path.display().to_string() });
    }
    let db = SeaOrmDatabase::connect(url).await?;
    let acting_user = match &args.acting_user {
        Some(username) => match acting_user(&db, username).await {
            Ok(id) => Some(id),
            Err(error) => {
                let _ = db.connection().close_by_ref().await;
                return Err(error);
            }
        },
        None => None,
    };
    let run = LinkRun {
        kind: RunKind { dry_run: args.dry_run, resume: args.resume, chunked: args.chunk_size.is_some() },
        commit_every: args.chunk_size,
        rules: args.rules(),
        acting_user,
    };
    let outcome = run_link(&db, program, &batch, run, stderr).await;
    let _ = db.connection().close_by_ref().await;
    match outcome {
        Ok(report) => print_report(&report, args.format),
        Err((mut report, cause)) => {
            report.read_only = is_read_only(&cause);
            let written = written_before(&report);
            print_report(&report, args.format)?;
            Err(CliError::Link { cause, written })
        }
    }
}

/// How `link` runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkRun {
    /// Dry run, resume, chunked.
    pub kind: RunKind,
    /// `--chunk-size`.
    pub commit_every: Option<std::num::NonZeroUsize>,
    /// `--relink`, `--case-insensitive-keys`.
    pub rules: app::RuleOptions,
    /// `--acting-user`, looked up: the id the history rows carry.
    pub acting_user: Option<domain::UserId>,
}

/// The id of the LMS user `username` (`--acting-user`).
///
/// # Errors
/// [`CliError::NoActingUser`] when there is none; [`CliError::ActingUserLookup`] when the
/// database fails.
pub async fn acting_user(db: &SeaOrmDatabase, username: &str) -> Result<domain::UserId, CliError> {
    match ports::Accounts::account(db, username).await {
        Ok(Some(account)) => Ok(account.id),
        Ok(None) => Err(CliError::NoActingUser { username: username.to_owned() }),
        Err(source) => Err(CliError::ActingUserLookup { username: username.to_owned(), source }),
    }
}

/// `serve`: runs the support tool's web service until SIGTERM or Ctrl-C, then lets running
/// requests finish; prints `listening on http://ADDR` on standard error once it accepts.
///
/// # Errors
/// [`CliError::Serve`] for missing keys or bad flags (exit 2) and a failing listener;
/// [`CliError::Connect`] when the database cannot be used.
pub async fn serve(url: &str, args: &ServeArgs) -> Result<u8, CliError> {
    let files = web::KeyFiles { jwks: args.jwt_jwks.clone(), secret: args.jwt_secret_file.clone() };
    let verifier = web::load_verifier(&files, args.jwt_issuer.clone(), args.jwt_audience.clone())?;
    if let Some(file) = SqliteFile::of_url(url).filter(|file| file.must_exist() && !file.path.exists()) {
        return Err(CliError::NoSqliteFile { path: file.path.display().to_string() });
    }
    let db = SeaOrmDatabase::connect(url).await?;
    let config = web::Config {
        verifier,
        allowed_origins: args.allowed_origin.clone(),
        login_url: args.login_url.clone(),
        max_body_bytes: args.max_body_bytes,
        body_timeout: web::DEFAULT_BODY_TIMEOUT,
        rules: app::RuleOptions { relink: args.relink, case_insensitive_keys: args.case_insensitive_keys },
        chunk_size: args.chunk_size,
        concurrent_links: if db.backend() == adapters_seaorm::Backend::Sqlite {
            1
        } else {
            web::DEFAULT_CONCURRENT_LINKS
        },
    };
    let router = web::router(config, std::sync::Arc::new(db.clone()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|source| CliError::Io { what: format!("cannot listen on {}", args.listen), source })?;
    let address = listener
        .local_addr()
        .map_err(|source| CliError::Io { what: "cannot read the listening address".into(), source })?;
    eprintln!("listening on http://{address}");
    tracing::info!(target: LOG_TARGET, "serving the support tool on http://{address} for the database at {}", redact_url(url));
    let result = web::serve(router, listener, web::shutdown_signal()).await;
    let _ = db.connection().close_by_ref().await;
    result?;
    tracing::info!(target: LOG_TARGET, "stopped");
    Ok(EXIT_OK)
}

/// Whether the run stopped because the database refuses every write (a read-only SQLite file
/// or `mode=ro`, a read-only PostgreSQL transaction or MariaDB server): rerunning cannot help.
fn is_read_only(cause: &app::LinkCallError) -> bool {
    let text = cause.to_string();
    ["attempt to write a readonly database", "read-only transaction", "--read-only option"]
        .iter()
        .any(|sign| text.contains(sign))
}

/// What a stopped run wrote and did not write, for its error message.
fn written_before(report: &Report) -> String {
    let advice =
        if report.read_only { READ_ONLY_ADVICE } else { "rerun the same input with --resume to complete the work" };
    let rest = report
        .not_written
        .as_ref()
        .map(|rest| format!("keys {}-{} (from {} on) were not written", rest.first, rest.last, rest.first_key))
        .unwrap_or_default();
    match (report.chunks.first(), report.chunks.last()) {
        (Some(first), Some(last)) => format!(
            "the transaction was rolled back; chunks 1-{} (keys {}-{}) had committed and stay: {} linked, {} with errors; \
             {rest}; {advice}",
            report.chunks.len(),
            first.first,
            last.last,
            report.linked.len(),
            report.errors.len()
        ),
        _ => format!("the transaction was rolled back and nothing was written; {rest}"),
    }
}

/// Links `batch` through the library and returns its report; when a transaction fails, the
/// report of what committed before it and the error. Shared by `link` and `demo`.
///
/// # Errors
/// The report and the cause when a transaction of the run was rolled back.
pub async fn run_link(
    db: &SeaOrmDatabase,
    program: ProgramUuid,
    batch: &LinkBatch,
    run: LinkRun,
    stderr: &Stderr,
) -> Result<Report, (Report, app::LinkCallError)> {
    tracing::info!(
        target: LOG_TARGET,
        "linking {} key(s) of program {program}{}{}",
        batch.len(),
        run.commit_every.map(|n| format!(", committing every {n} keys")).unwrap_or_default(),
        if run.kind.dry_run { " (dry run: everything will be rolled back)" } else { "" }
    );
    let bar = stderr.progress(batch.len()).map(std::sync::Arc::new);
    let options = app::LinkOptions {
        dry_run: run.kind.dry_run,
        commit_every: run.commit_every,
        rules: run.rules,
        progress: bar.as_ref().map(|bar| std::sync::Arc::clone(bar) as std::sync::Arc<dyn app::Progress>),
        acting_user: run.acting_user,
        ..app::LinkOptions::default()
    };
    let result = app::link_program_enrollments_report(db, program, batch, &options).await;
    drop(options);
    drop(bar);
    match result {
        Ok(report) => Ok(Report::new(program, batch, &report, None, run.kind)),
        Err(aborted) => {
            Err((Report::new(program, batch, &aborted.report, Some(aborted.not_written), run.kind), aborted.cause))
        }
    }
}

/// Prints the report on standard output; returns the exit status it implies.
///
/// # Errors
/// [`CliError::Io`] when standard output cannot be written.
pub fn print_report(report: &Report, format: Format) -> Result<u8, CliError> {
    let written = if report.dry_run {
        "it was a dry run: nothing was written"
    } else if report.not_written.is_some() {
        "the chunks named in the error were committed"
    } else {
        "the link was committed"
    };
    let text = report
        .render(format)
        .map_err(|e| CliError::Io { what: format!("cannot format the report ({written})"), source: e.into() })?;
    write_stdout(&text, written)?;
    Ok(if report.complete() { EXIT_OK } else { EXIT_KEY_ERRORS })
}

/// Writes `text` on standard output; `written` says what the run wrote, for the error.
///
/// # Errors
/// [`CliError::Io`].
pub fn write_stdout(text: &str, written: &str) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|source| CliError::Io { what: format!("cannot write to standard output ({written})"), source })
}
