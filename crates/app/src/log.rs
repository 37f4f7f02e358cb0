//! Emits the domain's log lines through `tracing`, at their levels.

use domain::{LogLevel, LogLine};

/// The `tracing` target of every line of the linking.
pub const LOG_TARGET: &str = "program_enrollments::linking";

/// Emits one line. The text is formatted only when the level is enabled.
pub fn emit(line: &LogLine) {
    match line.level() {
        LogLevel::Info => tracing::info!(target: LOG_TARGET, "{line}"),
        LogLevel::Warn => tracing::warn!(target: LOG_TARGET, "{line}"),
        LogLevel::Error => tracing::error!(target: LOG_TARGET, "{line}"),
    }
}

/// Emits lines in order.
pub fn emit_all(lines: &[LogLine]) {
    for line in lines {
        emit(line);
    }
}
