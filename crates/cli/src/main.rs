//! `program-enrollments`: see the `cli` library.

/// glibc's allocator spends a quarter of a 100,000-key link in `malloc`/`free` (measured with
/// the `bench` crate); mimalloc takes a fifth off the whole run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
