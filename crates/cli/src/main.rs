//! `program-enrollments`: see the `cli` library.

fn main() -> std::process::ExitCode {
    cli::main()
}
