//! The command line, declared with clap's derive API.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The embedded default database: the SQLite file `program_enrollments.sqlite3` in the current
/// directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://program_enrollments.sqlite3";

/// The file the demo creates when given no path.
pub const DEFAULT_DEMO_PATH: &str = "demo.sqlite3";

/// `program-enrollments`: links Open edX program enrollments to LMS users.
#[derive(Debug, Parser)]
#[command(
    name = "program-enrollments",
    version,
    about = "Links Open edX program enrollments to LMS users, as Open edX's `link_program_enrollments` does.",
    after_help = "Exit status: 0 every key linked; 1 the run completed and some keys have errors; \
                  2 invalid input or usage (nothing written); 3 the database could not be used or the \
                  run was stopped: the open transaction is rolled back, so nothing is written, except that \
                  with --chunk-size, the chunks the report names stay committed.\n\
                  Logs go to standard error; RUST_LOG filters them (default: info; warn for demo and --quiet)."
)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The database: sqlite://PATH, postgres://USER:PASSWORD@HOST/DB or mysql://USER:PASSWORD@HOST/DB.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// No progress bar, and only WARNING and ERROR logs unless RUST_LOG says otherwise.
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade our tables (idempotent). Never needed on an Open edX database: one
    /// whose `django_migrations` table lists `program_enrollments` is refused (exit 2).
    Migrate(MigrateArgs),
    /// Link external user keys to LMS usernames in one program.
    Link(LinkArgs),
    /// Create a fresh SQLite database holding an example program, link its example batch
    /// through the same code as `link`, and print the report (SQLite only: --database-url is
    /// not used; logs default to WARNING and ERROR).
    Demo(DemoArgs),
    /// Show what the LMS holds about a learner, as the support tool's Program Enrollments
    /// Inspector does: by account (--user) or by institution and external key (--org, --key).
    /// Exit 0 when found, 1 when not (with the inspector's message), 2 on bad arguments, 3 when
    /// the database cannot be read. Read-only.
    Inspect(InspectArgs),
    /// Serve the LMS's support endpoints for linking (`/support/link_program_enrollments*`) and
    /// the Program Enrollments Inspector (`/support/program_enrollments_inspector*`,
    /// `/support/get_saml_providers/`, `/support/sso_records/…`) to Open edX's support
    /// micro-frontend and staff's browsers, behind the LMS's reverse proxy.
    Serve(ServeArgs),
}

/// The arguments of `inspect`: `--user`, or `--org` with `--key`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("search").required(true).args(["user", "org"])))]
pub struct InspectArgs {
    /// The learner's username or email.
    #[arg(long, value_name = "USERNAME_OR_EMAIL", conflicts_with_all = ["org", "key"])]
    pub user: Option<String>,
    /// The institution: the short name of an organisation with a SAML provider.
    #[arg(long, value_name = "ORG", requires = "key")]
    pub org: Option<String>,
    /// The learner's external key at that institution (matched without case, in every program).
    #[arg(long, value_name = "EXTERNAL_KEY", requires = "org")]
    pub key: Option<String>,
    /// The output's format: text for a person, or JSON as the inspector API's
    /// `learner_program_enrollments`.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// The arguments of `serve`; each also from an environment variable.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (port 0: any free port).
    #[arg(long, env = "PROGRAM_ENROLLMENTS_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8000")]
    pub listen: std::net::SocketAddr,
    /// The LMS's public signing keys: a JWKS file (the LMS's `JWT_PUBLIC_SIGNING_JWK_SET`);
    /// RS256 and RS512 tokens are verified against it.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_JWT_JWKS", value_name = "PATH")]
    pub jwt_jwks: Option<PathBuf>,
    /// A file holding the shared secret of HS256 tokens (the LMS's `JWT_SECRET_KEY`); without
    /// it HS256 tokens are refused.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_JWT_SECRET_FILE", value_name = "PATH")]
    pub jwt_secret_file: Option<PathBuf>,
    /// An accepted `iss` (the LMS's `JWT_ISSUER`); repeat for several.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_JWT_ISSUER", value_name = "ISS", required = true, value_delimiter = ',')]
    pub jwt_issuer: Vec<String>,
    /// The required `aud` (the LMS's `JWT_AUDIENCE`).
    #[arg(long, env = "PROGRAM_ENROLLMENTS_JWT_AUDIENCE", value_name = "AUD")]
    pub jwt_audience: String,
    /// An origin allowed to call the API from a browser (the support MFE's), for CORS and the
    /// CSRF origin check; repeat for several.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_ALLOWED_ORIGIN", value_name = "ORIGIN", value_delimiter = ',')]
    pub allowed_origin: Vec<String>,
    /// Where the page sends a visitor without credentials (`?next=<path>` added); without it
    /// the page answers 401.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_LOGIN_URL", value_name = "URL")]
    pub login_url: Option<String>,
    /// The largest request body accepted; a larger one is refused with 413 before it is read.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_MAX_BODY_BYTES", value_name = "N", default_value_t = web::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Relink a key whose program enrollment is linked to a different user (upstream since
    /// May 2020).
    #[arg(long, env = "PROGRAM_ENROLLMENTS_RELINK")]
    pub relink: bool,
    /// Match keys to stored keys regardless of case (upstream since December 2021).
    #[arg(long, env = "PROGRAM_ENROLLMENTS_CASE_INSENSITIVE_KEYS")]
    pub case_insensitive_keys: bool,
    /// Commit every N keys, each group in its own transaction; a fault then keeps the
    /// committed chunks, which the response's errors name. Default: one transaction per request.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_CHUNK_SIZE", value_name = "N")]
    pub chunk_size: Option<std::num::NonZeroUsize>,
    /// The inspector's course links: `URL/course/COURSE_KEY/home` (the Learning MFE's, as the
    /// LMS's `LEARNING_MICROFRONTEND_URL`). Default: the LMS's relative `/courses/COURSE_KEY/course/`.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_LEARNING_MFE_URL", value_name = "URL")]
    pub learning_mfe_url: Option<String>,
    /// A CSV file of `program_uuid,title` lines: the inspector's program names (read at start;
    /// a bad line is refused with its number, exit 2). Default: `""`, as the LMS shows a program
    /// missing from its catalog cache.
    #[arg(long, env = "PROGRAM_ENROLLMENTS_PROGRAM_TITLES", value_name = "FILE")]
    pub program_titles: Option<PathBuf>,
}

/// The arguments of `migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Migrate even a database whose schema Django's migrations made (Open edX's own): adds
    /// our migration table and our indexes beside Django's.
    #[arg(long)]
    pub force: bool,
}

/// The arguments of `link`.
#[derive(Debug, Args)]
pub struct LinkArgs {
    /// The program's UUID, in any common written form.
    #[arg(value_name = "PROGRAM_UUID")]
    pub program_uuid: String,
    /// Pairs `KEY:USERNAME`, split at the last `:`.
    #[arg(value_name = "KEY:USERNAME")]
    pub pairs: Vec<String>,
    /// A CSV file of `external_user_key,lms_username` lines (`-` for standard input).
    #[arg(long, short, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Accept an input without any pair (no argument and an empty file): report `linked 0 of 0`
    /// and exit 0 rather than refuse it with exit 2.
    #[arg(long)]
    pub allow_empty: bool,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the report, in JSON, to this file (replaced), whatever --format says.
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,
    /// Write the log lines to this file (appended) instead of standard error.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// The character between the fields of --file: `,` (default), `;` or `tab`.
    #[arg(long, value_name = ",|;|tab", default_value = ",", value_parser = parse_delimiter)]
    pub delimiter: u8,
    /// SQLite: how long each transaction waits for another process's write lock on the file
    /// before the run stops (exit 3). Default: it does not wait for a lock taken between its
    /// reads and its writes, and gives up after a few quick retries (about 1.5 s).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub lock_timeout: Option<std::time::Duration>,
    /// Read only, write nothing: list what a real run would link (per key its program
    /// enrollment, per course the course enrollment created, converted or left, the invitations
    /// marked), then the report. Works on a read-only database; conflicts with other writers
    /// cannot be foreseen.
    #[arg(long)]
    pub dry_run: bool,
    /// Commit every N keys, each group in its own transaction, so that an interrupted run
    /// keeps what it committed; the report names the chunks that committed. Default: the whole
    /// run in one transaction, as upstream.
    #[arg(long, value_name = "N")]
    pub chunk_size: Option<std::num::NonZeroUsize>,
    /// With --chunk-size: write and commit up to N chunks at once (1 to 8), each on its own
    /// connection, so that a big run uses more than one core of the database server
    /// (PostgreSQL, MariaDB; refused on SQLite, which has one writer). Each chunk stays whole;
    /// chunks commit in any order (their lines print as they commit), the report lists them in
    /// input order. Default: 1, one chunk after the other.
    #[arg(long, value_name = "N", requires = "chunk_size", value_parser = clap::value_parser!(u16).range(1..=8))]
    pub jobs: Option<u16>,
    /// Count keys whose program enrollment is already linked to the requested user (by an
    /// earlier, interrupted run, or by the learner's own sign-in) as done, not as errors: for
    /// rerunning the same input after an interruption.
    #[arg(long)]
    pub resume: bool,
    /// Relink a key whose program enrollment is linked to a different user (upstream since May
    /// 2020): unlink it from that user (their enrollments in its courses deactivated, moved to
    /// audit where the course offers it) and link it to the given one.
    #[arg(long)]
    pub relink: bool,
    /// Match keys to stored keys regardless of case (upstream since December 2021); two input
    /// keys equal up to case are refused.
    #[arg(long)]
    pub case_insensitive_keys: bool,
    /// The LMS user (an `auth_user` username) on whose behalf the link runs: the history rows
    /// it writes carry that user's id in `history_user_id`, as the LMS records the user of a
    /// request. Refused if the user does not exist.
    #[arg(long, value_name = "USERNAME")]
    pub acting_user: Option<String>,
    /// Append to this file, after each commit, the tracking-log events the LMS would have
    /// emitted for the keys that committed (`edx.course.enrollment.activated`, `…deactivated`,
    /// `…mode_changed`), one line each in the LMS's tracking-log format, for event-routing-backends'
    /// `transform_tracking_logs` to replay. Opened (created if missing) before linking.
    #[arg(long, value_name = "PATH")]
    pub tracking_log: Option<PathBuf>,
}

/// `,`, `;` or `tab` (also `comma`, `semicolon`, a tab character).
fn parse_delimiter(value: &str) -> Result<u8, String> {
    match value {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "tab" | "\t" => Ok(b'\t'),
        _ => Err("expected `,`, `;` or `tab`".to_owned()),
    }
}

/// A number of seconds, whole or not, at most a day.
fn parse_seconds(value: &str) -> Result<std::time::Duration, String> {
    match value.parse::<f64>() {
        Ok(seconds) if (0.0..=86_400.0).contains(&seconds) => Ok(std::time::Duration::from_secs_f64(seconds)),
        _ => Err("expected a number of seconds from 0 to 86400".to_owned()),
    }
}

impl LinkArgs {
    /// The later upstream rules these arguments turn on.
    pub fn rules(&self) -> app::RuleOptions {
        app::RuleOptions { relink: self.relink, case_insensitive_keys: self.case_insensitive_keys }
    }
}

/// The arguments of `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The SQLite file to create. An existing file is replaced only if an earlier demo created it.
    #[arg(value_name = "PATH", default_value = DEFAULT_DEMO_PATH)]
    pub path: PathBuf,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One line per error, `KEY: MESSAGE`, then `linked N of M`.
    Text,
    /// One JSON object.
    Json,
}
