//! Standard error: the logs and, for large batches on a terminal, a progress bar that the log
//! lines do not tear.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;

/// The smallest batch that gets a progress bar.
pub const PROGRESS_MIN_KEYS: usize = 1_000;

/// Standard error, shared by the log lines and the progress bar.
///
/// Log lines written while a bar is shown are written with the bar hidden, then the bar is
/// drawn again below them.
#[derive(Debug, Clone, Default)]
pub struct Stderr {
    bar: Arc<Mutex<Option<ProgressBar>>>,
    quiet: bool,
}

impl Stderr {
    /// Standard error; `quiet` means never a progress bar.
    pub fn new(quiet: bool) -> Self {
        Self { bar: Arc::default(), quiet }
    }

    /// A progress bar for a batch of `keys` keys, if it should have one: at least
    /// [`PROGRESS_MIN_KEYS`] keys, standard error a terminal, and not quiet.
    pub fn progress(&self, keys: usize) -> Option<Bar> {
        if self.quiet || keys < PROGRESS_MIN_KEYS || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(keys as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} keys ({elapsed}, {eta} left)") {
            bar.set_style(style);
        }
        *self.bar.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
        Some(Bar { bar, shown: Arc::clone(&self.bar) })
    }

    /// Clears the progress bar shown, if any (before the process stops at once).
    pub fn clear_bar(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(PoisonError::into_inner).take() {
            bar.finish_and_clear();
        }
    }

    fn current_bar(&self) -> Option<ProgressBar> {
        self.bar.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A progress bar on standard error; cleared when dropped.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    shown: Arc<Mutex<Option<ProgressBar>>>,
}

impl app::Progress for Bar {
    fn advance(&self, keys: usize) {
        self.bar.inc(keys as u64);
    }

    fn retreat(&self, keys: usize) {
        self.bar.set_position(self.bar.position().saturating_sub(keys as u64));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        *self.shown.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The writer of one log line.
#[derive(Debug)]
pub struct LineWriter {
    bar: Option<ProgressBar>,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let write = || std::io::stderr().lock().write_all(buf);
        match &self.bar {
            Some(bar) => bar.suspend(write)?,
            None => write()?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Stderr {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter { bar: self.current_bar() }
    }
}
