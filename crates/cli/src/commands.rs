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

/// `link`: checks the whole input and the output files, then links it (or, with `--dry-run`,
/// plans it from reads only) and prints the report.
///
/// # Errors
/// [`CliError::Input`] and [`CliError::OutputFile`] before anything touches the database;
/// [`CliError::Connect`] when the database cannot be used (nothing written); [`CliError::Link`]
/// when a transaction fails or the run is stopped by a signal, after printing the report of
/// what committed before it.
pub async fn link(url: &str, args: &LinkArgs, stderr: &Stderr) -> Result<u8, CliError> {
    let (program, batch) =
        input::link_input_with(&args.program_uuid, &args.pairs, args.file.as_deref(), args.rules(), args.delimiter)?;
    if batch.is_empty() && !args.allow_empty {
        return Err(match &args.file {
            None => input::InputError::NoInput.into(),
            Some(path) => input::InputError::NoPairs { source_name: input::source_name(path) }.into(),
        });
    }
    let mut report_file = args.report.as_deref().map(ReportFile::check).transpose()?;
    let result = link_checked(url, args, stderr, program, &batch, &mut report_file).await;
    if let Some(unused) = report_file {
        unused.discard();
    }
    result
}

/// `link` once its input and output files are checked; `report_file` is taken when the report
/// is written to it.
async fn link_checked(
    url: &str,
    args: &LinkArgs,
    stderr: &Stderr,
    program: ProgramUuid,
    batch: &LinkBatch,
    report_file: &mut Option<ReportFile>,
) -> Result<u8, CliError> {
    let backend = check_url(url)?;
    if let Some(jobs) = args.jobs.filter(|jobs| *jobs > 1 && backend == Backend::Sqlite) {
        return Err(CliError::JobsOnSqlite { jobs });
    }
    if let Some(file) = SqliteFile::of_url(url).filter(|file| file.must_exist() && !file.path.exists()) {
        return Err(CliError::NoSqliteFile { path: file.path.display().to_string() });
    }
    let tracking_log = match &args.tracking_log {
        Some(path) => Some(std::sync::Arc::new(app::TrackingLog::open(path).map_err(CliError::TrackingLog)?)),
        None => None,
    };
    let db = SeaOrmDatabase::connect(url).await?;
    let db = match args.lock_timeout {
        Some(wait) if !args.dry_run => db.with_sqlite_lock_wait(wait),
        _ => db,
    };
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
    warn_if_no_enrollments(&db, program).await;
    let kind = RunKind {
        dry_run: args.dry_run,
        resume: args.resume,
        chunked: args.chunk_size.is_some(),
        chunk_size: args.chunk_size,
    };
    let outcome = if args.dry_run {
        plan_link(&db, program, batch, args.rules(), kind).await
    } else {
        let stop = app::StopFlag::new();
        let watcher = crate::signals::watch(stop.clone(), stderr.clone()).map_err(|source| CliError::Io {
            what: "cannot watch for SIGINT and SIGTERM (nothing was written)".into(),
            source,
        })?;
        let run = LinkRun {
            kind,
            commit_every: args.chunk_size,
            rules: args.rules(),
            acting_user,
            tracking_log,
            stop: Some(stop),
            stream_chunks: Some(args.format),
            jobs: args.jobs.and_then(|jobs| std::num::NonZeroUsize::new(usize::from(jobs))),
        };
        let outcome = run_link(&db, program, batch, run, stderr).await;
        watcher.abort();
        outcome
    };
    let _ = db.connection().close_by_ref().await;
    match outcome {
        Ok(report) => {
            let status = print_report(&report, args.format)?;
            if let Some(file) = report_file.take() {
                file.write(&report)?;
            }
            Ok(status)
        }
        Err((mut report, cause)) => {
            report.read_only = is_read_only(&cause);
            let written = match &cause {
                app::LinkCallError::TrackingLog(_) => tracking_log_stopped(&report),
                _ => written_before(&report),
            };
            print_report(&report, args.format)?;
            if let Some(file) = report_file.take() {
                file.write(&report)?;
            }
            Err(CliError::Link { cause, written })
        }
    }
}

/// Warns, before linking, when the program has no enrollment at all in the database (a typo in
/// the UUID would otherwise turn every key into "No program enrollment found"). A failed read is
/// left to the link, which reports it.
async fn warn_if_no_enrollments(db: &SeaOrmDatabase, program: ProgramUuid) {
    let Ok(tx) = ports::UnitOfWork::begin(db).await else { return };
    let has = tx.reads().program_has_enrollments(program).await;
    let _ = tx.rollback().await;
    if matches!(has, Ok(false)) {
        tracing::warn!(target: LOG_TARGET, "{}", crate::texts::no_enrollments(program));
    }
}

/// A dry run: the plan from reads only, and the report it implies.
async fn plan_link(
    db: &SeaOrmDatabase,
    program: ProgramUuid,
    batch: &LinkBatch,
    rules: app::RuleOptions,
    kind: RunKind,
) -> Result<Report, (Report, app::LinkCallError)> {
    tracing::info!(
        target: LOG_TARGET,
        "planning {} key(s) of program {program} (dry run: reads only, nothing will be written)",
        batch.len()
    );
    match app::plan_program_enrollments(db, program, batch, rules).await {
        Ok(plan) => {
            let result = app::LinkReport { errors: plan.errors(), ..app::LinkReport::default() };
            let report = Report::new(program, batch, &result, &[], kind);
            Ok(Report { plan: Some(crate::plan::planned(&plan.plans)), ..report })
        }
        Err(cause) => {
            let every_key = 0..batch.len();
            let not_written = std::slice::from_ref(&every_key);
            Err((Report::new(program, batch, &app::LinkReport::default(), not_written, kind), cause))
        }
    }
}

/// The file `--report` names, checked before linking.
#[derive(Debug)]
struct ReportFile {
    path: std::path::PathBuf,
    /// Whether the check created it (it is then removed if no report is written).
    created: bool,
}

impl ReportFile {
    /// Checks that `path` can be written (creating it empty if missing).
    fn check(path: &std::path::Path) -> Result<Self, CliError> {
        let existed = path.exists();
        std::fs::OpenOptions::new().append(true).create(true).open(path).map_err(|source| CliError::OutputFile {
            what: "report",
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self { path: path.to_owned(), created: !existed })
    }

    /// Replaces the file's content with the JSON report.
    fn write(self, report: &Report) -> Result<(), CliError> {
        let what = || format!("cannot write the report file {} ({})", self.path.display(), written_note(report));
        let json = report.json().map_err(|e| CliError::Io { what: what(), source: e.into() })?;
        std::fs::write(&self.path, json).map_err(|source| CliError::Io { what: what(), source })
    }

    /// Removes the file if the check created it.
    fn discard(self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// How `link` runs.
#[derive(Debug, Clone, Default)]
pub struct LinkRun {
    /// Dry run, resume, chunked.
    pub kind: RunKind,
    /// `--chunk-size`.
    pub commit_every: Option<std::num::NonZeroUsize>,
    /// `--relink`, `--case-insensitive-keys`.
    pub rules: app::RuleOptions,
    /// `--acting-user`, looked up: the id the history rows carry.
    pub acting_user: Option<domain::UserId>,
    /// `--tracking-log`, opened.
    pub tracking_log: Option<std::sync::Arc<app::TrackingLog>>,
    /// Raised by SIGINT or SIGTERM ([`crate::signals`]): the run stops at its next safe point.
    pub stop: Option<app::StopFlag>,
    /// With `--chunk-size`, the report's format, to say each chunk as it commits: in text, its
    /// line on standard output (not repeated at the end); in JSON, an INFO log line.
    pub stream_chunks: Option<Format>,
    /// `--jobs`: how many chunks are written and committed at once.
    pub jobs: Option<std::num::NonZeroUsize>,
}

/// Says each chunk as it commits ([`LinkRun::stream_chunks`]), in the order they commit.
struct ChunkLines {
    batch: LinkBatch,
    format: Format,
    /// `--chunk-size`.
    size: usize,
}

impl app::CommitObserver for ChunkLines {
    fn committed(&self, keys: std::ops::Range<usize>, _errors: &app::LinkErrors) {
        let line = crate::report::Chunk::new(&self.batch, &keys, self.size).line();
        match self.format {
            // A failed write here (standard output closed) is reported by the final report's.
            Format::Text => {
                let mut stdout = std::io::stdout().lock();
                let _ = stdout.write_all(line.as_bytes()).and_then(|()| stdout.flush());
            }
            Format::Json => tracing::info!(target: LOG_TARGET, "{}", line.trim_end()),
        }
    }
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
    let course_urls = web::course_urls(args.learning_mfe_url.as_deref())?;
    let program_titles = match &args.program_titles {
        Some(path) => web::load_program_titles(path)?,
        None => web::inspector_json::ProgramTitles::new(),
    };
    if let Some(file) = SqliteFile::of_url(url).filter(|file| file.must_exist() && !file.path.exists()) {
        return Err(CliError::NoSqliteFile { path: file.path.display().to_string() });
    }
    let db = SeaOrmDatabase::connect_for(url, adapters_seaorm::Purpose::Serve).await?;
    if !db.ungranted_tables().is_empty() {
        tracing::warn!(
            target: LOG_TARGET,
            "the database user holds no privilege on {}: the requests that need them will fail (the README lists the grants of the linking and of the inspector)",
            db.ungranted_tables().join(", ")
        );
    }
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
        course_urls,
        program_titles,
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
        .map(|rest| format!("keys {} (from {} on) were not written", rest.positions(), rest.first_key))
        .unwrap_or_default();
    if report.chunks.is_empty() {
        return format!("the transaction was rolled back and nothing was written; {rest}");
    }
    // Runs of consecutive chunks (one run, from chunk 1, without --jobs).
    let mut runs: Vec<(&crate::report::Chunk, &crate::report::Chunk)> = Vec::new();
    for chunk in &report.chunks {
        match runs.last_mut() {
            Some((_, last)) if last.last + 1 == chunk.first => *last = chunk,
            _ => runs.push((chunk, chunk)),
        }
    }
    let numbers = runs.iter().map(|(first, last)| format!("{}-{}", first.number, last.number)).collect::<Vec<_>>();
    let keys = runs.iter().map(|(first, last)| format!("{}-{}", first.first, last.last)).collect::<Vec<_>>();
    let (numbers, keys) = (numbers.join(", "), keys.join(", "));
    // With --jobs, chunks after the first not written may have committed; the others were
    // rolled back.
    let rolled_back = if report.not_written.as_ref().is_some_and(|rest| !rest.ranges.is_empty()) {
        "the open transactions were"
    } else {
        "the transaction was"
    };
    format!(
        "{rolled_back} rolled back; chunks {numbers} (keys {keys}) had committed and stay: {} linked, {} with \
         errors; {rest}; {advice}",
        report.linked.len(),
        report.errors.len()
    )
}

/// What a run stopped by the tracking log wrote: every transaction it ran committed.
fn tracking_log_stopped(report: &Report) -> String {
    let rest = report
        .not_written
        .as_ref()
        .map(|rest| format!("; keys {} (from {} on) were not written", rest.positions(), rest.first_key))
        .unwrap_or_default();
    format!(
        "the run stopped after its last commit: {} linked, {} with errors{rest}",
        report.linked.len(),
        report.errors.len()
    )
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
        "linking {} key(s) of program {program}{}{}{}",
        batch.len(),
        run.commit_every.map(|n| format!(", committing every {n} keys")).unwrap_or_default(),
        run.jobs.filter(|jobs| jobs.get() > 1).map(|jobs| format!(", {jobs} chunks at once")).unwrap_or_default(),
        if run.kind.dry_run { " (dry run: everything will be rolled back)" } else { "" }
    );
    let bar = stderr.progress(batch.len()).map(std::sync::Arc::new);
    let stream = run.stream_chunks.filter(|_| run.kind.chunked && !run.kind.dry_run);
    let size = run.commit_every.map_or(batch.len(), std::num::NonZeroUsize::get);
    let on_commit = stream.map(|format| {
        std::sync::Arc::new(ChunkLines { batch: batch.clone(), format, size })
            as std::sync::Arc<dyn app::CommitObserver>
    });
    let options = app::LinkOptions {
        dry_run: run.kind.dry_run,
        commit_every: run.commit_every,
        rules: run.rules,
        progress: bar.as_ref().map(|bar| std::sync::Arc::clone(bar) as std::sync::Arc<dyn app::Progress>),
        acting_user: run.acting_user,
        tracking_log: run.tracking_log,
        stop: run.stop.clone(),
        on_commit,
        jobs: run.jobs,
        ..app::LinkOptions::default()
    };
    let result = app::link_program_enrollments_report(db, program, batch, &options).await;
    drop(options);
    drop(bar);
    let printed = stream == Some(Format::Text);
    match result {
        Ok(report) => Ok(Report { chunks_printed: printed, ..Report::new(program, batch, &report, &[], run.kind) }),
        Err(aborted) => {
            // A tracking log that failed after the last commit leaves no key unwritten.
            let report = Report::new(program, batch, &aborted.report, &aborted.unwritten(), run.kind);
            Err((Report { chunks_printed: printed, ..report }, aborted.cause))
        }
    }
}

/// Prints the report on standard output; returns the exit status it implies.
///
/// # Errors
/// [`CliError::Io`] when standard output cannot be written.
pub fn print_report(report: &Report, format: Format) -> Result<u8, CliError> {
    let written = written_note(report);
    let text = report
        .render(format)
        .map_err(|e| CliError::Io { what: format!("cannot format the report ({written})"), source: e.into() })?;
    write_stdout(&text, written)?;
    Ok(if report.complete() { EXIT_OK } else { EXIT_KEY_ERRORS })
}

/// What the run of `report` wrote, for an error after it.
fn written_note(report: &Report) -> &'static str {
    if report.dry_run {
        "it was a dry run: nothing was written"
    } else if report.not_written.is_some() {
        "the chunks named in the error were committed"
    } else {
        "the link was committed"
    }
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
