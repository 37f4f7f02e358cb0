//! `bench`: links N keys in one call through the library and compares it with the raw bound,
//! the same writes made by a handful of set-based statements.
//!
//! ```text
//! cargo run --release -p bench -- --backend sqlite|postgres|mysql --keys 100000 --courses 2 --runs 3 \
//!     [--order shuffled|id] [--schema django|ours] [--background 10] [--log warn|info] \
//!     [--chunk-size 1000 [--jobs 2]] [--jobs-run 2]
//! ```
//! PostgreSQL and MariaDB need an admin URL (`--admin-url`, or `TEST_POSTGRES_URL` /
//! `TEST_MYSQL_URL`) of a user who may create databases. Each measured run is a child process
//! on a fresh database with the same fixture (by default Django's schema, background rows, the
//! pairs in a fixed shuffled order), so its peak RSS is its own; on SQLite and PostgreSQL the
//! fixture is built once and copied for each run. The report gives medians over the runs.
//! `BENCH_PROFILE=1` prints the time per kind of statement; `BENCH_PRAGMA='PRAGMA …'` runs one
//! statement on the link's connection before it links (for trying settings).
#![deny(missing_docs)]

/// glibc's allocator spends a quarter of a large run in `malloc`/`free`; mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod raw;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use adapters_seaorm::{Backend, SeaOrmDatabase};
use bench::{BenchError, fixture};
use clap::{Parser, ValueEnum};
use domain::{ExternalUserKey, LinkBatch, ProgramUuid, Username};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Mysql,
}

impl BackendArg {
    fn backend(self) -> Backend {
        match self {
            Self::Sqlite => Backend::Sqlite,
            Self::Postgres => Backend::Postgres,
            Self::Mysql => Backend::MySql,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LogArg {
    /// `RUST_LOG=warn`: no per-key INFO line.
    Warn,
    /// The default INFO level, written to a file.
    Info,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OrderArg {
    /// A fixed permutation of the keys (an operator's file is in the university's order).
    Shuffled,
    /// The keys' order, which is the program enrollments' id order.
    Id,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
enum SchemaArg {
    /// The tables Django's `migrate` made (`tests/django/ddl/<backend>.sql`).
    Django,
    /// Our migrations.
    Ours,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Serialize, Deserialize)]
enum Mode {
    Link,
    /// The link with `--chunk-size` (default 1,000) and `--jobs-run`'s jobs.
    Jobs,
    Raw,
    /// Only build a fixture and print its URL (for profiling a child run by hand).
    Fixture,
}

/// Benchmark of one link call.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// The database server.
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: BackendArg,
    /// Keys in the one call.
    #[arg(long, default_value_t = 100_000)]
    keys: usize,
    /// Waiting course enrollments per key.
    #[arg(long, default_value_t = 2)]
    courses: usize,
    /// Measured runs (medians are reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Log level of the link runs.
    #[arg(long, value_enum, default_value = "warn")]
    log: LogArg,
    /// The order of the input pairs (not of the program enrollments' ids).
    #[arg(long, value_enum, default_value = "shuffled")]
    order: OrderArg,
    /// Where the tables come from.
    #[arg(long, value_enum, default_value = "django")]
    schema: SchemaArg,
    /// Other users per key, with the rest of the background rows (0: none).
    #[arg(long, default_value_t = 10)]
    background: usize,
    /// Keys per write chunk; 0 writes key by key (upstream's shape).
    #[arg(long, default_value_t = app::WritePath::DEFAULT_CHUNK)]
    chunk: usize,
    /// Commit every N keys, as `link --chunk-size N` (default: one transaction).
    #[arg(long, value_name = "N")]
    chunk_size: Option<std::num::NonZeroUsize>,
    /// With --chunk-size: commit up to N chunks at once on N connections, as `link --jobs N`
    /// (PostgreSQL and MariaDB).
    #[arg(long, value_name = "N", requires = "chunk_size", value_parser = clap::value_parser!(u16).range(1..=8))]
    jobs: Option<u16>,
    /// Also time, in each run, the link with `--chunk-size` (default 1,000) and J jobs, against
    /// the same run's raw bound (PostgreSQL and MariaDB).
    #[arg(long, value_name = "J", value_parser = clap::value_parser!(u16).range(2..=8))]
    jobs_run: Option<u16>,
    /// Admin URL of the server (PostgreSQL/MariaDB).
    #[arg(long)]
    admin_url: Option<String>,
    /// Internal: run one measurement on this database and print it as JSON.
    #[arg(long, hide = true)]
    child: Option<Mode>,
    /// Internal: the database of a child run.
    #[arg(long, hide = true)]
    database: Option<String>,
}

impl Args {
    fn fixture(&self) -> fixture::Fixture {
        fixture::Fixture {
            keys: self.keys,
            courses: self.courses,
            background: self.background,
            schema: match self.schema {
                SchemaArg::Django => fixture::Schema::Django,
                SchemaArg::Ours => fixture::Schema::Ours,
            },
        }
    }

    /// The positions of the keys in the order the pairs are given.
    fn input_order(&self) -> Vec<usize> {
        fixture::input_order(self.keys, self.order == OrderArg::Shuffled)
    }
}

/// One child run's figures.
#[derive(Debug, Serialize, Deserialize)]
struct Measurement {
    seconds: f64,
    statements: usize,
    peak_rss_kb: u64,
    /// Seconds the fixture took to build (set by the parent).
    #[serde(default)]
    fixture_seconds: f64,
}

fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn child(args: &Args, mode: Mode, url: &str) -> Result<Measurement, BenchError> {
    let backend = args.backend.backend();
    let mut conn = adapters_seaorm::open(url).await?;
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    let profile: Arc<std::sync::Mutex<std::collections::HashMap<String, (usize, f64)>>> = Arc::default();
    let by_kind = Arc::clone(&profile);
    conn.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut by_kind) = by_kind.lock() {
            let kind: String = info.statement.sql.chars().take(60).collect();
            let entry = by_kind.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += info.elapsed.as_secs_f64();
        }
    });
    let started;
    match mode {
        Mode::Fixture => return Err(BenchError::Input("--child fixture takes no --database".into())),
        Mode::Raw => {
            started = Instant::now();
            let counted = raw::run(&conn, backend, &args.input_order()).await?;
            statements.store(counted, Ordering::Relaxed);
        }
        Mode::Link | Mode::Jobs => {
            // An experiment's setting of the link's own connection (say `PRAGMA cache_size =
            // -65536` on SQLite), run before the link; the bench's own, not the library's.
            if let Ok(pragma) = std::env::var("BENCH_PRAGMA")
                && !pragma.is_empty()
            {
                use sea_orm::ConnectionTrait;
                conn.execute_unprepared(&pragma).await?;
            }
            let db = SeaOrmDatabase::new(conn, url).await?;
            let program = ProgramUuid::parse(fixture::PROGRAM).map_err(|e| BenchError::Input(e.to_string()))?;
            let pairs = args
                .input_order()
                .into_iter()
                .map(|i| {
                    Ok((ExternalUserKey::parse(format!("KEY-{i:06}"))?, Username::parse(format!("learner_{i:06}"))?))
                })
                .collect::<Result<Vec<_>, domain::InvalidValue>>()
                .map_err(|e| BenchError::Input(e.to_string()))?;
            let batch = LinkBatch::from_pairs(pairs).map_err(|e| BenchError::Input(e.to_string()))?;
            let write_path = match std::num::NonZeroUsize::new(args.chunk) {
                Some(n) => app::WritePath::Batched(n),
                None => app::WritePath::PerKey,
            };
            let (commit_every, jobs) = match (mode, args.jobs_run) {
                (Mode::Jobs, Some(jobs)) => {
                    (Some(args.chunk_size.unwrap_or(std::num::NonZeroUsize::MIN.saturating_add(999))), Some(jobs))
                }
                _ => (args.chunk_size, args.jobs),
            };
            let options = app::LinkOptions {
                write_path,
                commit_every,
                jobs: jobs.and_then(|jobs| std::num::NonZeroUsize::new(usize::from(jobs))),
                ..app::LinkOptions::default()
            };
            statements.store(0, Ordering::Relaxed);
            started = Instant::now();
            let errors = app::link_program_enrollments_with(&db, program, &batch, &options).await?;
            if !errors.is_empty() {
                return Err(BenchError::Child(format!("{} keys were not linked", errors.len())));
            }
        }
    }
    if std::env::var_os("BENCH_PROFILE").is_some()
        && let Ok(by_kind) = profile.lock()
    {
        let mut kinds: Vec<_> = by_kind.iter().collect();
        kinds.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));
        for (kind, (count, seconds)) in kinds.iter().take(15) {
            eprintln!("{seconds:8.3} s {count:6} x {kind}");
        }
    }
    Ok(Measurement {
        seconds: started.elapsed().as_secs_f64(),
        statements: statements.load(Ordering::Relaxed),
        peak_rss_kb: peak_rss_kb(),
        fixture_seconds: 0.0,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Builds a fixture; returns its URL and the seconds it took.
async fn build_fixture(args: &Args, admin: Option<&str>) -> Result<(String, f64), BenchError> {
    let backend = args.backend.backend();
    let url = fixture::create_database(backend, admin).await?;
    let started = Instant::now();
    fixture::build(backend, &url, &args.fixture()).await?;
    Ok((url, started.elapsed().as_secs_f64()))
}

/// One measured run on a fresh database: a copy of `template` where the backend copies
/// databases (its build time reported), else a fixture built for the run.
async fn measure(
    args: &Args,
    admin: Option<&str>,
    mode: Mode,
    template: Option<&(String, f64)>,
) -> Result<Measurement, BenchError> {
    let backend = args.backend.backend();
    let copied = match template {
        Some((url, seconds)) => fixture::copy_database(backend, admin, url).await?.map(|copy| (copy, *seconds)),
        None => None,
    };
    let (url, fixture_seconds) = match copied {
        Some(copied) => copied,
        None => build_fixture(args, admin).await?,
    };
    let exe = std::env::current_exe()?;
    let mut command = std::process::Command::new(exe);
    let child = match mode {
        Mode::Link => "link",
        Mode::Jobs => "jobs",
        Mode::Raw | Mode::Fixture => "raw",
    };
    command.args(std::env::args().skip(1)).args(["--child", child]);
    command.args(["--database", &url]);
    let log_file = std::env::temp_dir().join("bench-link.log");
    if args.log == LogArg::Info {
        command.env("RUST_LOG", "info").env("BENCH_LOG_FILE", &log_file);
    } else {
        command.env("RUST_LOG", std::env::var("BENCH_CHILD_LOG").unwrap_or_else(|_| "warn".to_owned()));
    }
    let output = command.output()?;
    fixture::drop_database(backend, admin, &url).await?;
    if output.status.success() && !output.stderr.is_empty() {
        eprint!("{}", String::from_utf8_lossy(&output.stderr));
    }
    if !output.status.success() {
        return Err(BenchError::Child(String::from_utf8_lossy(&output.stderr).into_owned()));
    }
    let measurement: Measurement =
        serde_json::from_slice(&output.stdout).map_err(|e| BenchError::Child(e.to_string()))?;
    Ok(Measurement { fixture_seconds, ..measurement })
}

fn init_logging() -> Result<(), BenchError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
    match std::env::var_os("BENCH_LOG_FILE") {
        Some(path) => {
            let file = std::io::BufWriter::new(std::fs::File::create(path)?);
            tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_writer(std::sync::Mutex::new(file))
                .with_ansi(false)
                .init();
        }
        None => tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init(),
    }
    Ok(())
}

async fn run(args: Args) -> Result<(), BenchError> {
    if args.child == Some(Mode::Fixture) {
        let backend = args.backend.backend();
        let url = fixture::create_database(backend, args.admin_url.as_deref()).await?;
        fixture::build(backend, &url, &args.fixture()).await?;
        println!("{url}");
        return Ok(());
    }
    if let (Some(mode), Some(url)) = (args.child, args.database.as_deref()) {
        init_logging()?;
        let measurement = child(&args, mode, url).await?;
        println!("{}", serde_json::to_string(&measurement).map_err(|e| BenchError::Child(e.to_string()))?);
        return Ok(());
    }
    let backend = args.backend.backend();
    if backend == Backend::Sqlite && (args.jobs.is_some_and(|jobs| jobs > 1) || args.jobs_run.is_some()) {
        return Err(BenchError::Input("--jobs needs PostgreSQL or MariaDB: a SQLite file has one writer".into()));
    }
    let env_admin = match backend {
        Backend::Postgres => std::env::var("TEST_POSTGRES_URL").ok(),
        Backend::MySql => std::env::var("TEST_MYSQL_URL").ok(),
        Backend::Sqlite => None,
    };
    let admin = args.admin_url.clone().or(env_admin);
    let mut links = Vec::new();
    let mut raws = Vec::new();
    let mut jobs_runs = Vec::new();
    // Built once and copied per run on SQLite and PostgreSQL (MariaDB cannot copy a database).
    let template = match backend {
        Backend::Sqlite | Backend::Postgres => Some(build_fixture(&args, admin.as_deref()).await?),
        Backend::MySql => None,
    };
    for run in 0..args.runs {
        let link = measure(&args, admin.as_deref(), Mode::Link, template.as_ref()).await?;
        let raw = measure(&args, admin.as_deref(), Mode::Raw, template.as_ref()).await?;
        if args.jobs_run.is_some() {
            let jobs = measure(&args, admin.as_deref(), Mode::Jobs, template.as_ref()).await?;
            eprintln!(
                "run {}: jobs {:.3} s ({} statements, peak RSS {} MB)",
                run + 1,
                jobs.seconds,
                jobs.statements,
                jobs.peak_rss_kb / 1024
            );
            jobs_runs.push(jobs.seconds);
        }
        eprintln!(
            "run {}: link {:.3} s ({} statements, peak RSS {} MB), raw {:.3} s ({} statements), fixtures {:.1} s + {:.1} s",
            run + 1,
            link.seconds,
            link.statements,
            link.peak_rss_kb / 1024,
            raw.seconds,
            raw.statements,
            link.fixture_seconds,
            raw.fixture_seconds
        );
        links.push(link);
        raws.push(raw);
    }
    let link = median(links.iter().map(|m| m.seconds).collect());
    let raw = median(raws.iter().map(|m| m.seconds).collect());
    let rss = links.iter().map(|m| m.peak_rss_kb).max().unwrap_or(0);
    let statements = links.iter().map(|m| m.statements).max().unwrap_or(0);
    let fixture = median(links.iter().chain(&raws).map(|m| m.fixture_seconds).collect());
    println!(
        "backend={} keys={} courses={} order={:?} schema={:?} background={} chunk={} chunk-size={} jobs={} log={:?} runs={}: \
         link median {:.3} s ({:.0} keys/s), raw median {:.3} s ({:.0} keys/s), link/raw {:.2}, peak RSS {:.1} MB, \
         statements {}, fixture median {:.1} s",
        backend.name(),
        args.keys,
        args.courses,
        args.order,
        args.schema,
        args.background,
        args.chunk,
        args.chunk_size.map_or_else(|| "none".to_owned(), |n| n.to_string()),
        args.jobs.unwrap_or(1),
        args.log,
        args.runs,
        link,
        args.keys as f64 / link,
        raw,
        args.keys as f64 / raw,
        link / raw,
        rss as f64 / 1024.0,
        statements,
        fixture
    );
    if let Some(jobs) = args.jobs_run {
        let median = median(jobs_runs);
        println!(
            "  with --chunk-size {} --jobs {jobs}: link median {median:.3} s ({:.0} keys/s), against the raw bound {:.2}",
            args.chunk_size.map_or(1_000, std::num::NonZeroUsize::get),
            args.keys as f64 / median,
            median / raw
        );
    }
    if let Some((url, _)) = template {
        fixture::drop_database(backend, admin.as_deref(), &url).await?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: {e}");
            ExitCode::FAILURE
        }
    }
}
