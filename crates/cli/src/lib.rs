//! The operator's command line, `program-enrollments`: a driving adapter over the library.
//!
//! It plays the part of Open edX's `link_program_enrollments` management command, and reports
//! every failure and says so in its exit status (`../shared/spec/cli.md`):
//!
//! - `migrate` creates or upgrades our tables on a standalone database;
//! - `link PROGRAM_UUID [KEY:USERNAME ...] [--file PATH|-] [--format text|json] [--dry-run]`
//!   checks the whole input first ([`input`]), links it in one call of
//!   [`app::link_program_enrollments_report`] (a dry run: plans it from reads only, [`plan`]),
//!   and prints the [`report`];
//! - `serve` runs the support tool's web service ([`web`]): the LMS's
//!   `/support/link_program_enrollments*` endpoints, for the support MFE and staff;
//! - `demo [PATH]` builds an example SQLite database and links its example batch through the
//!   same code ([`demo`]).
//!
//! Exit status: 0 every key linked; 1 the run completed and some keys have errors; 2 invalid
//! input or usage (nothing written); 3 the database could not be used or the run was stopped
//! by a fault or by SIGINT/SIGTERM ([`signals`]): the open transaction is rolled back, so
//! nothing is written, except the chunks committed before with `--chunk-size`. Logs go to standard error, filtered by `RUST_LOG` (default `info`;
//! `warn` for `demo` and with `--quiet`, which also hides the progress bar).
#![deny(missing_docs)]

pub mod args;
pub mod commands;
pub mod demo;
pub mod error;
pub mod input;
pub mod inspect;
pub mod plan;
pub mod progress;
pub mod report;
pub mod signals;
pub mod sqlite;
pub mod texts;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::args::{Cli, Command};
use crate::error::CliError;
use crate::progress::Stderr;

/// Runs the command line: parses the arguments, sets up the logs, runs the command on a
/// Tokio runtime, prints any error on standard error and returns the exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version exit 0; usage errors exit 2, as clap decides.
        Err(error) => error.exit(),
    };
    let stderr = Stderr::new(cli.global.quiet);
    // The demo's hundreds of INFO lines would bury its report: it shows WARNING and ERROR only.
    let quiet_logs = cli.global.quiet || matches!(cli.command, Command::Demo(_));
    let resume = matches!(&cli.command, Command::Link(args) if args.resume);
    let log_file = match &cli.command {
        Command::Link(args) => args.log_file.as_deref(),
        _ => None,
    };
    let log_file = match log_file.map(open_log_file).transpose() {
        Ok(file) => file,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(error.exit_status());
        }
    };
    init_logs(&stderr, quiet_logs, resume, log_file);
    // The service answers many requests at once: one thread per core.
    let mut builder = if matches!(cli.command, Command::Serve(_)) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let status = builder
        .enable_all()
        .build()
        .map_err(|source| CliError::Io { what: "cannot start the async runtime (nothing was written)".into(), source })
        .and_then(|runtime| runtime.block_on(run(&cli, &stderr)));
    match status {
        Ok(status) => ExitCode::from(status),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_status())
        }
    }
}

/// Runs one parsed command; returns its exit status (0 or 1).
///
/// # Errors
/// [`CliError`], whose [`CliError::exit_status`] is 2 or 3.
pub async fn run(cli: &Cli, stderr: &Stderr) -> Result<u8, CliError> {
    match &cli.command {
        Command::Migrate(args) => commands::migrate(&cli.global.database_url, args.force).await,
        Command::Link(args) => commands::link(&cli.global.database_url, args, stderr).await,
        Command::Demo(args) => demo::demo(args, stderr).await,
        Command::Inspect(args) => inspect::inspect(&cli.global.database_url, args).await,
        Command::Serve(args) => commands::serve(&cli.global.database_url, args).await,
    }
}

/// Opens the `--log-file` for appending (created if missing), before anything else is done.
fn open_log_file(path: &std::path::Path) -> Result<std::fs::File, CliError> {
    std::fs::OpenOptions::new().append(true).create(true).open(path).map_err(|source| CliError::OutputFile {
        what: "log",
        path: path.display().to_string(),
        source,
    })
}

/// Logs to `stderr` (or to `log_file`, without colours), filtered by `RUST_LOG`, else at `warn`
/// when `quiet`, else at `info`; with `resume`, the linking's warnings that a key is already
/// linked to its user are INFO lines ([`AlreadyLinkedAtInfo`]).
fn init_logs(stderr: &Stderr, quiet: bool, resume: bool, log_file: Option<std::fs::File>) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = log_file.is_none() && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let writer = match log_file {
        Some(file) => tracing_subscriber::fmt::writer::BoxMakeWriter::new(std::sync::Mutex::new(file)),
        None => tracing_subscriber::fmt::writer::BoxMakeWriter::new(stderr.clone()),
    };
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi).finish();
    let _ = subscriber.with(resume.then_some(AlreadyLinkedAtInfo)).try_init();
}

/// With `--resume`, a key already linked to the requested user is work done by an earlier run,
/// not a problem: the linking's WARNING line for it (the message of
/// [`domain::LinkError::AlreadyLinked`] to the target account) is logged at INFO instead, with
/// the same target and text, so that `--quiet` does not print one line per such key.
#[derive(Debug, Clone, Copy)]
pub struct AlreadyLinkedAtInfo;

impl AlreadyLinkedAtInfo {
    /// Whether `message` is the text of a key already linked to the target account.
    fn is_already_linked_to_target(message: &str) -> bool {
        message.starts_with("Program enrollment with external_student_key=")
            && message.contains(" is already linked to target account username=")
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AlreadyLinkedAtInfo {
    fn event_enabled(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) -> bool {
        let metadata = event.metadata();
        if *metadata.level() != tracing::Level::WARN || metadata.target() != app::LOG_TARGET {
            return true;
        }
        let mut message = Message(None);
        event.record(&mut message);
        match message.0 {
            Some(text) if Self::is_already_linked_to_target(&text) => {
                // The same line at INFO; this layer lets INFO events through.
                tracing::info!(target: app::LOG_TARGET, "{text}");
                false
            }
            _ => true,
        }
    }
}

/// The `message` field of an event.
struct Message(Option<String>);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.0 = Some(value.to_owned());
        }
    }
}
