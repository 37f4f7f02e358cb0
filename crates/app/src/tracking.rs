//! The tracking log ([`crate::LinkOptions::tracking_log`]): after each commit, the enrollment
//! events the LMS would have emitted for the keys that committed ([`domain::enrollment_events`]),
//! one line each, in the LMS's tracking-log format, so that event-routing-backends'
//! `transform_tracking_logs` can replay them.
//!
//! A line is what the LMS's `tracking` logger writes for a server event emitted outside a
//! request: the prefix `<asctime> INFO <pid> [tracking] [user None] [ip None] logger.py:41 - `,
//! then the event as `json.dumps` writes it (`", "` and `": "` separators, non-ASCII escaped),
//! with the fields in the LMS's order. `asctime` is Python logging's default format
//! (`2026-12-01 18:05:01,123`) in UTC; `time` is when the key's writes were made, as
//! `datetime.isoformat()` writes it (`2026-12-01T18:05:01.123456+00:00`).

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use domain::{EnrollmentEvent, KeyOutcome, KeyPlan};
use serde::Serialize;
use thiserror::Error;

/// Why the tracking log could not be used.
#[derive(Debug, Error)]
pub enum TrackingLogError {
    /// The file could not be opened for appending (before anything was linked).
    #[error("cannot open the tracking log {} for appending: {source}", .path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// The lines of a transaction that had committed could not be appended.
    #[error(
        "cannot append to the tracking log {}: {source}; the transaction had committed, so the lines of its keys \
         are missing from the file (or cut short)",
        .path.display()
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
}

/// A tracking-log file, opened for appending. Lines are appended and flushed once per
/// committed transaction; calls sharing one file append one at a time.
#[derive(Debug)]
pub struct TrackingLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl TrackingLog {
    /// Opens (or creates) `path` for appending.
    ///
    /// # Errors
    /// [`TrackingLogError::Open`], naming the path.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, TrackingLogError> {
        let path = path.into();
        match OpenOptions::new().append(true).create(true).open(&path) {
            Ok(file) => Ok(Self { path, file: Mutex::new(file) }),
            Err(source) => Err(TrackingLogError::Open { path, source }),
        }
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line per event, logged now by this process, and flushes them.
    pub(crate) fn append(&self, events: &[Stamped]) -> Result<(), TrackingLogError> {
        if events.is_empty() {
            return Ok(());
        }
        let logged = Utc::now();
        let pid = std::process::id();
        let file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = BufWriter::new(&*file);
        let written = events
            .iter()
            .try_for_each(|stamped| write_line(&mut out, &stamped.event, stamped.time, logged, pid))
            .and_then(|()| out.flush());
        written.map_err(|source| TrackingLogError::Write { path: self.path.clone(), source })
    }
}

/// An event with the time its key's writes were made.
#[derive(Debug, Clone)]
pub(crate) struct Stamped {
    event: EnrollmentEvent,
    time: DateTime<Utc>,
}

/// Adds the events of `plans`, just written, stamped now, when the call keeps a tracking log
/// (`enabled`).
pub(crate) fn record<'a>(enabled: bool, events: &mut Vec<Stamped>, plans: impl IntoIterator<Item = &'a KeyPlan>) {
    if !enabled {
        return;
    }
    let time = Utc::now();
    for plan in plans {
        if let KeyOutcome::Link(writes) = &plan.outcome {
            events.extend(domain::enrollment_events(writes).into_iter().map(|event| Stamped { event, time }));
        }
    }
}

/// `datetime.isoformat()` of a UTC time: microseconds only when not zero.
fn isoformat(time: DateTime<Utc>) -> String {
    let micros = time.timestamp_subsec_micros().min(999_999);
    let fraction = if micros == 0 { String::new() } else { format!(".{micros:06}") };
    format!("{}{fraction}+00:00", time.format("%Y-%m-%dT%H:%M:%S"))
}

/// Python logging's default `%(asctime)s`: `2026-12-01 18:05:01,123` (milliseconds truncated).
fn asctime(time: DateTime<Utc>) -> String {
    format!("{},{:03}", time.format("%Y-%m-%d %H:%M:%S"), time.timestamp_subsec_millis().min(999))
}

/// The event's JSON object, its fields in the LMS's order.
#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    context: Context<'a>,
    username: &'a str,
    session: &'a str,
    ip: &'a str,
    agent: &'a str,
    host: &'a str,
    referer: &'a str,
    accept_language: &'a str,
    event: Data<'a>,
    time: String,
    event_type: &'a str,
    event_source: &'a str,
    page: Option<&'a str>,
}

#[derive(Serialize)]
struct Context<'a> {
    course_id: &'a str,
    org_id: &'a str,
    enterprise_uuid: &'a str,
}

#[derive(Serialize)]
struct Data<'a> {
    user_id: i64,
    course_id: &'a str,
    mode: &'a str,
}

/// Writes one line: the logger's prefix, the JSON object, a newline.
fn write_line(
    out: &mut impl Write,
    event: &EnrollmentEvent,
    time: DateTime<Utc>,
    logged: DateTime<Utc>,
    pid: u32,
) -> io::Result<()> {
    let name = event.name.as_str();
    let course_id = event.course_key.as_str();
    let line = Line {
        name,
        context: Context { course_id, org_id: event.org_id(), enterprise_uuid: "" },
        username: "",
        session: "",
        ip: "",
        agent: "",
        host: "",
        referer: "",
        accept_language: "",
        event: Data { user_id: event.user_id.0, course_id, mode: event.mode.as_str() },
        time: isoformat(time),
        event_type: name,
        event_source: "server",
        page: None,
    };
    write!(out, "{} INFO {pid} [tracking] [user None] [ip None] logger.py:41 - ", asctime(logged))?;
    line.serialize(&mut serde_json::Serializer::with_formatter(&mut *out, PythonJson)).map_err(io::Error::other)?;
    out.write_all(b"\n")
}

/// Python's `json.dumps` defaults: `", "` between items, `": "` after keys, every character
/// outside printable ASCII escaped as `\uXXXX` (UTF-16 units, lowercase hex).
struct PythonJson;

impl serde_json::ser::Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { writer.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut plain = 0;
        for (at, c) in fragment.char_indices() {
            if (' '..='~').contains(&c) {
                continue;
            }
            writer.write_all(fragment.get(plain..at).unwrap_or_default().as_bytes())?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            plain = at + c.len_utf8();
        }
        writer.write_all(fragment.get(plain..).unwrap_or_default().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{CourseKey, CourseMode, EnrollmentEventName, UserId};

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn line(course: &str, time: &str) -> String {
        let event = EnrollmentEvent {
            name: EnrollmentEventName::ModeChanged,
            user_id: UserId(7),
            course_key: CourseKey::parse(course).unwrap(),
            mode: CourseMode::masters(),
        };
        let mut out = Vec::new();
        write_line(&mut out, &event, at(time), at("2026-12-01T18:05:01.123999Z"), 4242).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_line_is_the_lms_loggers_prefix_and_json_dumps_of_the_event() {
        assert_eq!(
            line("course-v1:edX+Cats+Dogs", "2026-12-01T18:05:00.5Z"),
            "2026-12-01 18:05:01,123 INFO 4242 [tracking] [user None] [ip None] logger.py:41 - \
             {\"name\": \"edx.course.enrollment.mode_changed\", \"context\": {\"course_id\": \
             \"course-v1:edX+Cats+Dogs\", \"org_id\": \"edX\", \"enterprise_uuid\": \"\"}, \"username\": \"\", \
             \"session\": \"\", \"ip\": \"\", \"agent\": \"\", \"host\": \"\", \"referer\": \"\", \
             \"accept_language\": \"\", \"event\": {\"user_id\": 7, \"course_id\": \"course-v1:edX+Cats+Dogs\", \
             \"mode\": \"masters\"}, \"time\": \"2026-12-01T18:05:00.500000+00:00\", \"event_type\": \
             \"edx.course.enrollment.mode_changed\", \"event_source\": \"server\", \"page\": null}\n"
        );
    }

    #[test]
    fn times_and_text_are_written_as_python_writes_them() {
        assert_eq!(isoformat(at("2026-12-01T18:05:00Z")), "2026-12-01T18:05:00+00:00", "no zero microseconds");
        assert_eq!(isoformat(at("2026-12-01T18:05:00.000001Z")), "2026-12-01T18:05:00.000001+00:00");
        assert_eq!(asctime(at("2026-12-01T08:05:00.0999Z")), "2026-12-01 08:05:00,099");
        let text = line("course-v1:Ünï+C\"x\\+\u{7f}😀", "2026-12-01T18:05:00Z");
        assert!(
            text.contains(
                r#""course_id": "course-v1:\u00dcn\u00ef+C\"x\\+\u007f\ud83d\ude00", "org_id": "\u00dcn\u00ef""#
            ),
            "{text}"
        );
    }

    #[test]
    fn a_bad_path_is_named() {
        let error = TrackingLog::open("/nonexistent-dir/tracking.log").unwrap_err();
        assert!(
            error.to_string().starts_with("cannot open the tracking log /nonexistent-dir/tracking.log for appending: "),
            "{error}"
        );
    }
}
