//! The README's session, replayed (issue 15, defect 5): the block after the HTML comment
//! `<!-- session: … -->` is read as `$ command` lines, each followed by the standard output
//! it shows; the commands run in order in one shell in a fresh directory, with the built
//! binary for `cargo run -q -p cli --`, `target/debug/program-enrollments` and
//! `program-enrollments` (and, in the output, `target/debug/program-enrollments` for its
//! path), and each one's standard output must be what the README shows. Log
//! lines (standard error, shown in the README as lines starting with `…`) are left aside.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

/// The marker before the session's code block.
const MARKER: &str = "<!-- session:";

/// One command of the session and the standard output the README shows for it.
#[derive(Debug)]
struct Step {
    command: String,
    output: String,
}

/// The steps of the session block of `readme`.
fn session(readme: &str) -> Vec<Step> {
    let after = &readme[readme.find(MARKER).expect("the README marks its session")..];
    let block = after.split("```").nth(1).expect("a code block follows the marker");
    let block = block.split_once('\n').map_or("", |(_, body)| body);
    let mut steps: Vec<Step> = Vec::new();
    for line in block.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            steps.push(Step { command: command.to_owned(), output: String::new() });
        } else if line.starts_with('…') {
            // A log line, on standard error.
        } else if let Some(step) = steps.last_mut() {
            step.output.push_str(line);
            step.output.push('\n');
        }
    }
    for step in &mut steps {
        let trimmed = step.output.trim_end_matches('\n').len();
        step.output.truncate(trimmed);
        if trimmed > 0 {
            step.output.push('\n');
        }
    }
    steps
}

/// `command` with the binary put in for the ways the README names it.
fn with_binary(command: &str) -> String {
    let command =
        command.replace("cargo run -q -p cli --", "\"$BIN\"").replace("target/debug/program-enrollments", "\"$BIN\"");
    match command.strip_prefix("program-enrollments ") {
        Some(rest) => format!("\"$BIN\" {rest}"),
        None => command,
    }
}

#[test]
fn the_readme_session_replays_as_shown() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let steps = session(&readme);
    assert!(steps.len() >= 5, "{steps:?}");
    // One shell, so that `echo $?` sees the previous command's status; a marker line after
    // each command's output, which keeps that status.
    let mut script = String::new();
    for (i, step) in steps.iter().enumerate() {
        script.push_str(&with_binary(&step.command));
        script.push_str(&format!("\n__status=$?; printf '@@step {i}@@\\n'; (exit $__status)\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("BIN", env!("CARGO_BIN_EXE_program-enrollments"))
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut rest = stdout.as_str();
    for (i, step) in steps.iter().enumerate() {
        let marker = format!("@@step {i}@@\n");
        let (shown, after) = rest.split_once(&marker).unwrap_or_else(|| panic!("no output for step {i}: {stdout}"));
        // The demo names the binary it was run as; the README, the one `cargo build` makes.
        let shown = shown.replace(env!("CARGO_BIN_EXE_program-enrollments"), "target/debug/program-enrollments");
        assert_eq!(shown, step.output, "`{}` (step {i}) printed otherwise than the README shows", step.command);
        rest = after;
    }
}
