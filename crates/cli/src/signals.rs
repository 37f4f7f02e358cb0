//! SIGINT and SIGTERM during `link`: the first asks the run to stop at its next safe point
//! (between keys or chunks, never inside a commit), so that the open transaction is rolled
//! back and the report of what committed is printed (exit 3); a second stops at once.

use app::StopFlag;

use crate::error::EXIT_DATABASE;
use crate::progress::Stderr;
use crate::texts::LOG_TARGET;

/// Watches for SIGINT and SIGTERM (Ctrl-C only where there is no SIGTERM) until the returned
/// task is aborted. The handlers are installed before this returns, so a signal that comes
/// at any time after is seen.
///
/// # Errors
/// The system's error when a handler cannot be installed.
pub fn watch(stop: StopFlag, stderr: Stderr) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let mut signals = Signals::install()?;
    Ok(tokio::spawn(async move {
        let first = signals.next().await;
        stop.raise();
        tracing::warn!(
            target: LOG_TARGET,
            "{first} received: stopping at the next safe point; the open transaction will be rolled back \
             (a second signal stops at once)"
        );
        let second = signals.next().await;
        stderr.clear_bar();
        eprintln!(
            "error: {second} received again: stopped at once; the database rolls back the open transaction; \
             the chunk lines above name the chunks that committed; rerun the same input with --resume"
        );
        std::process::exit(i32::from(EXIT_DATABASE));
    }))
}

/// The installed handlers.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self { interrupt: signal(SignalKind::interrupt())?, terminate: signal(SignalKind::terminate())? })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// The name of the next signal received.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
