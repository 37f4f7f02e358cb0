//! The report of a link: text (one line per error, then a summary) or one JSON object.

use domain::{LinkBatch, ProgramUuid};
use serde::Serialize;
use serde::ser::Serializer;

use crate::args::Format;

/// What one link run did: the keys linked and the keys not linked with their messages, each in
/// input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The program, printed lowercase hyphenated.
    pub program_uuid: ProgramUuid,
    /// The keys linked, in input order.
    pub linked: Vec<String>,
    /// The keys not linked and their messages, in input order: the library's result.
    pub errors: Vec<(String, String)>,
    /// Whether the run was rolled back on purpose.
    pub dry_run: bool,
}

impl Report {
    /// The report of `batch` given the library's result.
    pub fn new(program_uuid: ProgramUuid, batch: &LinkBatch, errors: &app::LinkErrors, dry_run: bool) -> Self {
        let failed: std::collections::HashSet<&domain::ExternalUserKey> = errors.iter().map(|(key, _)| key).collect();
        let linked = batch.keys().filter(|key| !failed.contains(key)).map(ToString::to_string).collect();
        Self { program_uuid, linked, errors: errors.messages(), dry_run }
    }

    /// The number of keys in the input.
    pub fn total(&self) -> usize {
        self.linked.len() + self.errors.len()
    }

    /// The report as text: `{key}: {message}` per error, `linked {n} of {m}`, and for a dry run
    /// a last line `dry run: nothing was written`. Every line ends with a newline.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (key, message) in &self.errors {
            out.push_str(&format!("{key}: {message}\n"));
        }
        out.push_str(&format!("linked {} of {}\n", self.linked.len(), self.total()));
        if self.dry_run {
            out.push_str("dry run: nothing was written\n");
        }
        out
    }

    /// The report as one JSON object and a newline:
    /// `{"program_uuid": …, "linked": […], "errors": {…}, "dry_run": …}`, in input order.
    ///
    /// # Errors
    /// Only if serde_json fails, which it does not for strings.
    pub fn json(&self) -> Result<String, serde_json::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            program_uuid: String,
            linked: &'a [String],
            errors: InOrder<'a>,
            dry_run: bool,
        }
        let json = Json {
            program_uuid: self.program_uuid.to_string(),
            linked: &self.linked,
            errors: InOrder(&self.errors),
            dry_run: self.dry_run,
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
            linked: vec!["z".into(), "a".into()],
            errors: vec![("y".into(), "No user found with username q".into()), ("b".into(), "m\"2".into())],
            dry_run,
        }
    }

    #[test]
    fn text_lists_errors_in_order_then_the_summary() {
        assert_eq!(report(false).text(), "y: No user found with username q\nb: m\"2\nlinked 2 of 4\n");
        assert!(report(true).text().ends_with("linked 2 of 4\ndry run: nothing was written\n"));
    }

    #[test]
    fn json_keeps_input_order() {
        assert_eq!(
            report(false).json().unwrap(),
            "{\"program_uuid\":\"9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10\",\"linked\":[\"z\",\"a\"],\
             \"errors\":{\"y\":\"No user found with username q\",\"b\":\"m\\\"2\"},\"dry_run\":false}\n"
        );
    }
}
