//! The one way a test skips: when something outside the build that it needs is missing (a
//! database server's URL, a Django template, a program such as `script` or chromium), it says
//! why on standard error and passes, except under `REQUIRE_DB_TESTS=1` (as CI runs), where the
//! missing thing fails the test instead of letting it pass silently.

use std::path::PathBuf;

/// The variable that forbids skipping when it is `1`.
pub const REQUIRE: &str = "REQUIRE_DB_TESTS";

/// Skips `what` (a test, a target) because `missing` is missing: prints why and returns
/// `None`; panics instead when `REQUIRE_DB_TESTS=1`.
pub fn skip<T>(what: &str, missing: &str) -> Option<T> {
    if std::env::var(REQUIRE).as_deref() == Ok("1") {
        panic!("{missing} and {REQUIRE}=1: {what} cannot run");
    }
    eprintln!("skipped {what}: {missing}");
    None
}

/// The environment variable `name` that `what` needs, or [`skip`] when it is not set.
pub fn env_or_skip_for(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => Some(value),
        _ => skip(what, &format!("{name} is not set")),
    }
}

/// The program `name` (found on `PATH`) that `what` needs, or [`skip`] when there is none.
pub fn program_or_skip(name: &str, what: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| candidate.is_file());
    found.or_else(|| skip(what, &format!("no `{name}` program on PATH")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_on_path_is_found_and_a_missing_one_skipped_or_refused() {
        assert!(program_or_skip("sh", "this test").is_some_and(|sh| sh.ends_with("sh")));
        let missing = std::panic::catch_unwind(|| program_or_skip("no-such-program-x7", "this test"));
        match std::env::var(REQUIRE).as_deref() {
            Ok("1") => assert!(missing.is_err(), "a missing program must fail under {REQUIRE}=1"),
            _ => assert!(matches!(missing, Ok(None))),
        }
    }
}
