//! The report of a link: text (one line per error, then a summary) or one JSON object.

use std::ops::Range;

use domain::{LinkBatch, ProgramUuid};
use serde::Serialize;
use serde::ser::Serializer;

use crate::args::Format;

/// One transaction of keys that committed, by position in the input (from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// The position of its first key.
    pub first: usize,
    /// The position of its last key.
    pub last: usize,
    /// Its first key.
    pub first_key: String,
    /// Its last key.
    pub last_key: String,
    /// Its number in the input (from 1): chunk 3 holds keys 2001-3000 of `--chunk-size 1000`.
    #[serde(skip)]
    pub number: usize,
}

impl Chunk {
    /// The chunk of `batch` at the positions `range` (from 0), of a run committing every `size`
    /// keys (its number follows from them).
    pub fn new(batch: &LinkBatch, range: &Range<usize>, size: usize) -> Self {
        let key = |i: usize| batch.keys().nth(i).map(ToString::to_string).unwrap_or_default();
        Self {
            number: range.start / size.max(1) + 1,
            first: range.start + 1,
            last: range.end,
            first_key: key(range.start),
            last_key: key(range.end.saturating_sub(1)),
        }
    }
}

impl Chunk {
    /// Its line in the text report, with its newline:
    /// `chunk {n}: keys {a}-{b} ({first key} .. {last key}) committed`.
    pub fn line(&self) -> String {
        format!(
            "chunk {}: keys {}-{} ({} .. {}) committed\n",
            self.number, self.first, self.last, self.first_key, self.last_key
        )
    }
}

/// The last line of a dry run's text report.
pub const DRY_RUN_LINE: &str =
    "dry run: nothing was written; planned from reads only, so conflicts with other writers cannot be foreseen\n";

/// The kinds of error the summary counts, in the order it lists them.
pub const ERROR_KINDS: [&str; 7] = [
    "no user",
    "no enrollment",
    "already linked to the requested user",
    "already linked to another account",
    "no course",
    "integrity error",
    "several case-insensitive matches",
];

/// The kind of `error`, one of [`ERROR_KINDS`], as the summary counts it.
pub fn error_kind(error: &domain::LinkError) -> &'static str {
    use domain::{AccountRelation, LinkError};
    match error {
        LinkError::NoUser { .. } => ERROR_KINDS[0],
        LinkError::NoProgramEnrollment { .. } => ERROR_KINDS[1],
        LinkError::AlreadyLinked { relation: AccountRelation::Target, .. } => ERROR_KINDS[2],
        LinkError::AlreadyLinked { relation: AccountRelation::Different, .. } => ERROR_KINDS[3],
        LinkError::NonExistentCourse => ERROR_KINDS[4],
        LinkError::Integrity(_) => ERROR_KINDS[5],
        LinkError::MultipleCaseInsensitiveMatches { .. } => ERROR_KINDS[6],
    }
}

/// How many of the report's errors are of each kind, in the order of [`ERROR_KINDS`], kinds
/// without errors left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorCounts(pub Vec<(&'static str, usize)>);

impl ErrorCounts {
    /// The counts of `kinds`.
    pub fn of<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Self {
        let mut counts = [0usize; ERROR_KINDS.len()];
        for kind in kinds {
            if let Some(i) = ERROR_KINDS.iter().position(|k| *k == kind) {
                counts[i] += 1;
            }
        }
        Self(ERROR_KINDS.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(k, n)| (*k, n)).collect())
    }

    /// `12 no user, 3 no enrollment, …`; empty without errors.
    pub fn text(&self) -> String {
        self.0.iter().map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ")
    }
}

impl Serialize for ErrorCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, n)| (k, n)))
    }
}

/// The keys a run did not write because it stopped, by position in the input (from 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotWritten {
    /// The position of the first key not written.
    pub first: usize,
    /// The position of the last key.
    pub last: usize,
    /// The first key not written.
    pub first_key: String,
    /// With `--jobs`, when chunks after the first key not written committed: the positions
    /// (from 1, first and last) of each run of keys not written, in input order. Empty (and
    /// left out of the JSON) when the keys not written are `first` to `last`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<[usize; 2]>,
}

impl NotWritten {
    /// `{first}-{last}`, or with [`Self::ranges`] each run's, joined by `, `.
    pub fn positions(&self) -> String {
        if self.ranges.is_empty() {
            format!("{}-{}", self.first, self.last)
        } else {
            self.ranges.iter().map(|[first, last]| format!("{first}-{last}")).collect::<Vec<_>>().join(", ")
        }
    }
}

/// What one link run did: the keys linked and the keys not linked with their messages, each in
/// input order, and which transactions committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The program, printed lowercase hyphenated.
    pub program_uuid: ProgramUuid,
    /// The number of keys in the input.
    pub total: usize,
    /// The keys linked by this run, in input order.
    pub linked: Vec<String>,
    /// The keys not linked and their messages, in input order: the library's result (less
    /// [`Report::already_linked`] with `--resume`).
    pub errors: Vec<(String, String)>,
    /// How many of [`Report::errors`] are of each kind.
    pub error_counts: ErrorCounts,
    /// With `--resume`: the keys whose PE was already linked to the requested user before this
    /// run, counted as done.
    pub already_linked: Vec<String>,
    /// Without `--resume`: how many of [`Report::errors`] are keys already linked to the
    /// requested user.
    pub already_linked_errors: usize,
    /// The transactions that committed, in order.
    pub chunks: Vec<Chunk>,
    /// Whether the run committed every `--chunk-size` keys (the chunks are then listed in the
    /// text report).
    pub chunked: bool,
    /// Whether the chunk lines were printed as each chunk committed (the text report then does
    /// not repeat them).
    pub chunks_printed: bool,
    /// The keys not written because the run stopped, if it did.
    pub not_written: Option<NotWritten>,
    /// How many transactions were rolled back and run again after conflicts with other writers.
    pub retries: usize,
    /// Whether the run was a dry run (planned from reads only, nothing written).
    pub dry_run: bool,
    /// A dry run's plan: the keys that would be linked and what each would write.
    pub plan: Option<Vec<crate::plan::PlannedKey>>,
    /// Whether the run stopped because the database is read-only (the report then does not
    /// suggest `--resume`, which cannot help).
    pub read_only: bool,
}

/// How the run was asked for, as the report needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunKind {
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--resume`.
    pub resume: bool,
    /// `--chunk-size` was given.
    pub chunked: bool,
    /// `--chunk-size`'s value (the chunks' numbers follow from it).
    pub chunk_size: Option<std::num::NonZeroUsize>,
}

impl Report {
    /// The report of `batch` given the library's report; `not_written` the positions of the
    /// keys a stopped run did not write, in input order (empty: every key was decided).
    pub fn new(
        program_uuid: ProgramUuid,
        batch: &LinkBatch,
        result: &app::LinkReport,
        not_written: &[Range<usize>],
        kind: RunKind,
    ) -> Self {
        let failed: std::collections::HashSet<&domain::ExternalUserKey> =
            result.errors.iter().map(|(key, _)| key).collect();
        // A dry run commits nothing, yet its keys (up to a failure) were all decided.
        let dry_run_end = not_written.first().map_or(batch.len(), |r| r.start);
        let decided = |i: &usize| {
            if kind.dry_run { *i < dry_run_end } else { result.committed.iter().any(|r| r.contains(i)) }
        };
        let decided_keys = batch.keys().enumerate().filter(|(i, _)| decided(i));
        let linked = decided_keys.filter(|(_, key)| !failed.contains(key)).map(|(_, key)| key.to_string()).collect();
        let mut errors = Vec::new();
        let mut kinds = Vec::new();
        let mut already_linked = Vec::new();
        let mut already_linked_errors = 0;
        for (key, error) in result.errors.iter() {
            let done_before = error.is_already_linked_to_target();
            if done_before && kind.resume {
                already_linked.push(key.to_string());
            } else {
                already_linked_errors += usize::from(done_before);
                errors.push((key.to_string(), error.to_string()));
                kinds.push(error_kind(error));
            }
        }
        Self {
            program_uuid,
            total: batch.len(),
            linked,
            errors,
            error_counts: ErrorCounts::of(kinds),
            already_linked,
            already_linked_errors,
            chunks: result
                .committed
                .iter()
                .map(|range| Chunk::new(batch, range, kind.chunk_size.map_or(batch.len(), |n| n.get())))
                .collect(),
            chunked: kind.chunked,
            chunks_printed: false,
            not_written: not_written.first().zip(not_written.last()).map(|(first, last)| NotWritten {
                first: first.start + 1,
                last: last.end,
                first_key: batch.keys().nth(first.start).map(ToString::to_string).unwrap_or_default(),
                ranges: if not_written.len() > 1 {
                    not_written.iter().map(|range| [range.start + 1, range.end]).collect()
                } else {
                    Vec::new()
                },
            }),
            retries: result.retries,
            dry_run: kind.dry_run,
            plan: None,
            read_only: false,
        }
    }

    /// Whether every key is linked (or, with `--resume`, was already).
    pub fn complete(&self) -> bool {
        self.errors.is_empty() && self.not_written.is_none()
    }

    /// The report as text: `{key}: {message}` per error; with `--chunk-size`, a line per
    /// committed chunk; `linked {n} of {m}` (and the keys found already linked with `--resume`);
    /// then, where they apply, the error counts by kind (`errors: 2 no user, 1 no course`), lines on keys already linked, keys not written, retries and a
    /// dry run. Every line ends with a newline.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for planned in self.plan.iter().flatten() {
            out.push_str(&planned.text());
        }
        for (key, message) in &self.errors {
            out.push_str(&format!("{key}: {message}\n"));
        }
        if self.chunked && !self.chunks_printed {
            for chunk in &self.chunks {
                out.push_str(&chunk.line());
            }
        }
        out.push_str(&format!("linked {} of {}", self.linked.len(), self.total));
        if !self.already_linked.is_empty() {
            out.push_str(&format!("; {} already linked to the same user before this run", self.already_linked.len()));
        }
        out.push('\n');
        if !self.error_counts.0.is_empty() {
            out.push_str(&format!("errors: {}\n", self.error_counts.text()));
        }
        match self.already_linked_errors {
            0 => {}
            1 => out.push_str(
                "note: 1 of the errors above is a key already linked to the requested user before this run; \
                 --resume counts such keys as done\n",
            ),
            n => out.push_str(&format!(
                "note: {n} of the errors above are keys already linked to the requested user before this run; \
                 --resume counts them as done\n"
            )),
        }
        if let Some(rest) = self.not_written.as_ref().filter(|_| self.read_only) {
            out.push_str(&format!(
                "not written: keys {} (from {} on): {}\n",
                rest.positions(),
                rest.first_key,
                crate::texts::READ_ONLY_ADVICE
            ));
        } else if let Some(rest) = &self.not_written {
            out.push_str(&format!(
                "not written: keys {} (from {} on): the run stopped; rerun the same input with --resume\n",
                rest.positions(),
                rest.first_key
            ));
        }
        if self.retries > 0 {
            out.push_str(&format!("retried {} transaction(s) after conflicts with other writers\n", self.retries));
        }
        if self.dry_run {
            out.push_str(DRY_RUN_LINE);
        }
        out
    }

    /// The report as one JSON object and a newline: `{"program_uuid": …, "linked": […],
    /// "errors": {…}, "error_counts": {"no user": n, …}, "already_linked": […], "chunks": [{"first", "last", "first_key",
    /// "last_key"}…], "not_written": null or {"first", "last", "first_key"} (and `"ranges"` when
    /// several), "retries": n,
    /// "dry_run": …}`, in input order; a dry run adds `"plan": [{"key", "username", "user_id",
    /// "program_enrollment", "unlinked_from_user", "courses": [{"course_key",
    /// "course_enrollment", "action", "from_mode", "mode", "is_active", "invitations"}…],
    /// "roles"}…]`.
    ///
    /// # Errors
    /// Only if serde_json fails, which it does not for strings.
    pub fn json(&self) -> Result<String, serde_json::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            program_uuid: String,
            linked: &'a [String],
            errors: InOrder<'a>,
            error_counts: &'a ErrorCounts,
            already_linked: &'a [String],
            chunks: &'a [Chunk],
            not_written: &'a Option<NotWritten>,
            retries: usize,
            dry_run: bool,
            #[serde(skip_serializing_if = "Option::is_none")]
            plan: Option<&'a Vec<crate::plan::PlannedKey>>,
        }
        let json = Json {
            program_uuid: self.program_uuid.to_string(),
            linked: &self.linked,
            errors: InOrder(&self.errors),
            error_counts: &self.error_counts,
            already_linked: &self.already_linked,
            chunks: &self.chunks,
            not_written: &self.not_written,
            retries: self.retries,
            dry_run: self.dry_run,
            plan: self.plan.as_ref(),
        };
        Ok(serde_json::to_string(&json)? + "\n")
    }

    /// The report in `format`.
    ///
    /// # Errors
    /// As [`Report::json`].
    pub fn render(&self, format: Format) -> Result<String, serde_json::Error> {
        match format {
            Format::Text => Ok(self.text()),
            Format::Json => self.json(),
        }
    }
}

/// Pairs serialized as a JSON object, keeping their order.
struct InOrder<'a>(&'a [(String, String)]);

impl Serialize for InOrder<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn report(dry_run: bool) -> Report {
        Report {
            program_uuid: ProgramUuid::parse("9B7D3D1C3F0E4A8E9A553C6A5D9B2F10").unwrap(),
            total: 4,
            linked: vec!["z".into(), "a".into()],
            errors: vec![("y".into(), "No user found with username q".into()), ("b".into(), "m\"2".into())],
            error_counts: ErrorCounts::of(["no user", "no course"]),
            already_linked: vec![],
            already_linked_errors: 0,
            chunks: vec![Chunk { first: 1, last: 4, first_key: "z".into(), last_key: "b".into(), number: 1 }],
            chunked: false,
            chunks_printed: false,
            not_written: None,
            retries: 0,
            dry_run,
            plan: None,
            read_only: false,
        }
    }

    #[test]
    fn text_lists_errors_in_order_then_the_summary() {
        assert_eq!(
            report(false).text(),
            "y: No user found with username q\nb: m\"2\nlinked 2 of 4\nerrors: 1 no user, 1 no course\n"
        );
        assert!(
            report(true).text().ends_with(&format!("linked 2 of 4\nerrors: 1 no user, 1 no course\n{DRY_RUN_LINE}"))
        );
    }

    #[test]
    fn json_keeps_input_order() {
        assert_eq!(
            report(false).json().unwrap(),
            "{\"program_uuid\":\"9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10\",\"linked\":[\"z\",\"a\"],\
             \"errors\":{\"y\":\"No user found with username q\",\"b\":\"m\\\"2\"},\"error_counts\":{\"no user\":1,\"no course\":1},\"already_linked\":[],\
             \"chunks\":[{\"first\":1,\"last\":4,\"first_key\":\"z\",\"last_key\":\"b\"}],\"not_written\":null,\
             \"retries\":0,\"dry_run\":false}\n"
        );
    }
}
