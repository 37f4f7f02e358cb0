//! The command line's own texts that several modules share; a leaf module, so that `input`
//! and `report` need not import `commands`, which imports them.

/// Log target of the command line's own lines.
pub const LOG_TARGET: &str = "program_enrollments::cli";

/// What a run stopped by a read-only database tells the operator instead of `--resume`: nothing
/// can have been written, so the same input runs again once the database is writable.
pub const READ_ONLY_ADVICE: &str = "the database is read-only, so nothing could be written: \
    open it read-write (no mode=ro; write permission on the file and its directory) and run the same input again";

/// The warning before linking when the program has no enrollment at all in the database.
pub fn no_enrollments(program: domain::ProgramUuid) -> String {
    format!("program {program} has no enrollments in this database")
}
