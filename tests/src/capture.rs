//! Captures the linking's log lines (level and text) for assertions.

use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The captured lines, shared with the capturing layer.
#[derive(Debug, Clone, Default)]
pub struct CapturedLog {
    lines: Arc<Mutex<Vec<(Level, String)>>>,
}

impl CapturedLog {
    /// The lines so far, in order, as `LEVEL text`.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().iter().map(|(level, text)| format!("{level} {text}")).collect()
    }
}

struct Capture(CapturedLog);

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() != app::LOG_TARGET {
            return;
        }
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        self.0.lines.lock().unwrap().push((*event.metadata().level(), visitor.0));
    }
}

/// Starts capturing on this thread until the guard drops. Tests run on a current-thread
/// runtime, so every line of the call is seen.
pub fn capture_logs() -> (CapturedLog, tracing::subscriber::DefaultGuard) {
    let log = CapturedLog::default();
    let subscriber = tracing_subscriber::registry().with(Capture(log.clone()));
    let guard = tracing::subscriber::set_default(subscriber);
    (log, guard)
}
