//! Links an example batch on the in-memory adapter and prints the report.
//!
//! `cargo run -p app --example link_demo` — 300 waiting learners with two courses each, plus
//! one learner for each error of the spec. Logs go to standard error (`RUST_LOG` filters them).

use std::process::ExitCode;

use adapters_memory::MemoryDatabase;
use domain::{CurriculumUuid, ExternalUserKey, LinkBatch, ProgramUuid, Username};
use ports::StoreError;

const FRUIT: &str = "course-v1:edX+Oranges+Apples";
const ANIMAL: &str = "course-v1:edX+Cats+Dogs";

#[derive(Debug, thiserror::Error)]
enum DemoError {
    #[error("cannot build the example database: {0}")]
    Store(StoreError),
    #[error("invalid example input: {0}")]
    Input(String),
    #[error(transparent)]
    Link(app::LinkCallError),
}

fn example_database(program: ProgramUuid) -> Result<(MemoryDatabase, Vec<(String, String)>), StoreError> {
    let db = MemoryDatabase::new();
    let curriculum = CurriculumUuid::from_uuid(uuid_from(1));
    db.add_course_overview(FRUIT, "Oranges and Apples");
    db.add_course_overview(ANIMAL, "Cats and Dogs");
    let mut pairs = Vec::new();
    for i in 0..300 {
        let username = format!("learner_{i:03}");
        let user = db.add_user(&username, &format!("{username}@example.com"))?;
        let key = format!("univ-{i:05}");
        let pe = db.add_program_enrollment(Some(&key), program, curriculum, None, "enrolled")?;
        db.add_program_course_enrollment(pe, FRUIT, "active", None)?;
        db.add_program_course_enrollment(pe, ANIMAL, if i % 10 == 0 { "inactive" } else { "active" }, None)?;
        if i % 25 == 0 {
            db.add_course_enrollment(user, FRUIT, "audit", true)?;
        }
        pairs.push((key, username));
    }
    // One learner for each error of the spec.
    pairs.push(("univ-missing".into(), "learner_000".into()));
    pairs.push(("univ-00001-x".into(), "no_such_user".into()));
    let taken = db.add_user("already_linked", "already@example.com")?;
    db.add_program_enrollment(Some("univ-taken"), program, curriculum, Some(taken), "enrolled")?;
    pairs.push(("univ-taken".into(), "learner_001".into()));
    let pe = db.add_program_enrollment(
        Some("univ-nocourse"),
        program,
        CurriculumUuid::from_uuid(uuid_from(2)),
        None,
        "enrolled",
    )?;
    db.add_program_course_enrollment(pe, "course-v1:edX+Zilch+Bupkis", "active", None)?;
    pairs.push(("univ-nocourse".into(), "learner_002".into()));
    db.add_program_enrollment(Some("univ-second"), program, curriculum, None, "enrolled")?;
    pairs.push(("univ-second".into(), "learner_003".into()));
    Ok((db, pairs))
}

fn uuid_from(n: u128) -> uuid::Uuid {
    uuid::Uuid::from_u128(0x6f1c_2d3e_4a5b_4c6d_8e7f_9012_3456_7800 + n)
}

async fn run() -> Result<usize, DemoError> {
    let program =
        ProgramUuid::parse("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10").map_err(|e| DemoError::Input(e.to_string()))?;
    let (db, pairs) = example_database(program).map_err(DemoError::Store)?;
    let parsed = pairs
        .iter()
        .map(|(k, u)| Ok((ExternalUserKey::parse(k.as_str())?, Username::parse(u.as_str())?)))
        .collect::<Result<Vec<_>, domain::InvalidValue>>()
        .map_err(|e| DemoError::Input(e.to_string()))?;
    let batch = LinkBatch::from_pairs(parsed).map_err(|e| DemoError::Input(e.to_string()))?;
    let errors = app::link_program_enrollments(&db, program, &batch).await.map_err(DemoError::Link)?;
    for (key, error) in errors.iter() {
        println!("{key}: {error}");
    }
    println!("linked {} of {}", batch.len() - errors.len(), batch.len());
    let tables = db.tables();
    println!(
        "rows: {} course enrollments, {} history rows",
        tables.course_enrollments.len(),
        tables.program_enrollment_history.len()
            + tables.program_course_enrollment_history.len()
            + tables.course_enrollment_history.len()
    );
    Ok(errors.len())
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    match runtime.block_on(run()) {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(3)
        }
    }
}
