//! The input of `link`: the program UUID and the (key, username) pairs from the arguments and
//! from a CSV file or standard input, checked before anything touches the database.
//!
//! Every error names where it comes from: the argument itself, or the file (or standard input)
//! and the line.

use std::fmt;
use std::io::Read;
use std::path::Path;

use domain::{ExternalUserKey, InvalidValue, LinkBatch, ProgramUuid, Username};
use thiserror::Error;

/// The header line a CSV file may start with.
pub const CSV_HEADER: [&str; 2] = ["external_user_key", "lms_username"];

/// Where a pair comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// A command-line argument, as given.
    Argument(String),
    /// A line of a file (or of standard input).
    Line {
        /// The file's name as given, or `standard input`.
        source: String,
        /// The line the record starts on, from 1.
        line: u64,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argument(argument) => write!(f, "argument '{argument}'"),
            Self::Line { source, line } => write!(f, "{source}: line {line}"),
        }
    }
}

/// Why the input was refused. Nothing is linked, and the exit status is 2.
#[derive(Debug, Error)]
pub enum InputError {
    /// The program UUID is not a UUID.
    #[error("supplied program_uuid '{value}' is not a valid UUID")]
    ProgramUuid {
        /// The text given.
        value: String,
    },
    /// An argument is not `KEY:USERNAME` with both sides non-empty.
    #[error("incorrectly formatted argument '{argument}', must be in form <external user key>:<lms username>")]
    Argument {
        /// The argument as given.
        argument: String,
    },
    /// A CSV line lacks its key or its username.
    #[error("{source_name}: line {line}: must be in the format 'external_user_key,lms_username'")]
    Line {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The line, from 1.
        line: u64,
    },
    /// A key or username is too long for its column.
    #[error("{position}: {error}")]
    Value {
        /// Where the value is.
        position: Position,
        /// What is wrong with it.
        error: InvalidValue,
    },
    /// The same key was given twice (arguments and file together).
    #[error("{position}: external user key {key} provided multiple times")]
    Duplicate {
        /// The second occurrence.
        position: Position,
        /// The key.
        key: String,
    },
    /// With `--case-insensitive-keys`, two keys are equal up to case.
    #[error("{position}: external user key {key} provided multiple times (case-insensitively)")]
    DuplicateIgnoringCase {
        /// The second occurrence.
        position: Position,
        /// The key there.
        key: String,
    },
    /// The file could not be opened or read.
    #[error("cannot read {source_name}: {error}")]
    Unreadable {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The system's reason.
        error: std::io::Error,
    },
    /// The file is not UTF-8.
    #[error("{source_name}: line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The line, from 1.
        line: u64,
    },
    /// A quoted field is never closed, or a quote stands inside an unquoted field.
    #[error("{source_name}: line {line}: unbalanced quotes")]
    UnbalancedQuotes {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The line the record starts on, from 1.
        line: u64,
    },
    /// The CSV reader failed otherwise.
    #[error("{source_name}: {error}")]
    Csv {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The reader's error.
        error: csv::Error,
    },
}

/// One input pair before validation of its values, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawPair {
    /// The key, trimmed, non-empty.
    pub key: String,
    /// The username, trimmed, non-empty.
    pub username: String,
    /// Where it comes from.
    pub position: Position,
}

/// Parses the program UUID.
///
/// # Errors
/// [`InputError::ProgramUuid`].
pub fn program_uuid(value: &str) -> Result<ProgramUuid, InputError> {
    ProgramUuid::parse(value).map_err(|_| InputError::ProgramUuid { value: value.to_owned() })
}

/// Splits an argument `KEY:USERNAME` at its last `:` and trims both sides.
///
/// # Errors
/// [`InputError::Argument`] when there is no `:` or a side is empty.
pub fn argument_pair(argument: &str) -> Result<RawPair, InputError> {
    let malformed = || InputError::Argument { argument: argument.to_owned() };
    let (key, username) = argument.rsplit_once(':').ok_or_else(malformed)?;
    let (key, username) = (key.trim(), username.trim());
    if key.is_empty() || username.is_empty() {
        return Err(malformed());
    }
    Ok(RawPair {
        key: key.to_owned(),
        username: username.to_owned(),
        position: Position::Argument(argument.to_owned()),
    })
}

/// The name standard input goes by in messages.
pub const STDIN_NAME: &str = "standard input";

/// Reads the pairs of a CSV file, or of standard input for `-`.
///
/// # Errors
/// [`InputError::Unreadable`] when the file cannot be read, and the errors of [`csv_pairs`].
pub fn file_pairs(path: &Path) -> Result<Vec<RawPair>, InputError> {
    let (source_name, bytes) = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|error| InputError::Unreadable { source_name: STDIN_NAME.to_owned(), error })?;
        (STDIN_NAME.to_owned(), bytes)
    } else {
        let source_name = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => (source_name, bytes),
            Err(error) => return Err(InputError::Unreadable { source_name, error }),
        }
    };
    csv_pairs(&source_name, &bytes)
}

/// Reads the pairs of CSV text: one `external_user_key,lms_username` pair per line, an optional
/// header line, blank lines skipped, fields trimmed, fields beyond the second ignored, CSV
/// quoting honoured (a key may contain a comma).
///
/// # Errors
/// [`InputError::Line`] for a line without key or username, [`InputError::NotUtf8`],
/// [`InputError::UnbalancedQuotes`], [`InputError::Csv`].
pub fn csv_pairs(source_name: &str, bytes: &[u8]) -> Result<Vec<RawPair>, InputError> {
    // A spreadsheet's UTF-8 byte order mark is not part of the first key.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut pairs = Vec::new();
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    let mut lines = LineCounter::default();
    loop {
        let start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|error| InputError::Csv { source_name: source_name.to_owned(), error })?;
        if !more {
            break;
        }
        let end = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
        let raw = bytes.get(start..end).unwrap_or_default();
        // The reader's own line numbers miscount blank lines; count from the record's first
        // byte that is not a line break.
        let content = start + raw.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        let line = lines.line_at(bytes, content);
        if raw.iter().filter(|&&b| b == b'"').count() % 2 != 0 {
            return Err(InputError::UnbalancedQuotes { source_name: source_name.to_owned(), line });
        }
        let fields = record
            .iter()
            .map(|field| std::str::from_utf8(field).map(str::trim))
            .collect::<Result<Vec<&str>, _>>()
            .map_err(|_| InputError::NotUtf8 { source_name: source_name.to_owned(), line })?;
        let is_first = std::mem::replace(&mut first, false);
        if fields.iter().all(|f| f.is_empty()) && fields.len() == 1 {
            first = is_first;
            continue;
        }
        if is_first && fields.len() >= 2 && fields[..2] == CSV_HEADER {
            continue;
        }
        let (key, username) = match fields.as_slice() {
            [key, username, ..] if !key.is_empty() && !username.is_empty() => (*key, *username),
            _ => return Err(InputError::Line { source_name: source_name.to_owned(), line }),
        };
        pairs.push(RawPair {
            key: key.to_owned(),
            username: username.to_owned(),
            position: Position::Line { source: source_name.to_owned(), line },
        });
    }
    Ok(pairs)
}

/// Line numbers of byte offsets, counted forward only (`\n`, `\r\n` and a lone `\r` each end a
/// line, as for the CSV reader).
#[derive(Debug, Default)]
struct LineCounter {
    offset: usize,
    breaks: u64,
}

impl LineCounter {
    /// The line (from 1) of the byte at `offset`, which must not be less than the last one asked.
    fn line_at(&mut self, bytes: &[u8], offset: usize) -> u64 {
        let upto = offset.min(bytes.len());
        for i in self.offset..upto {
            match bytes[i] {
                b'\n' => self.breaks += 1,
                b'\r' if bytes.get(i + 1) != Some(&b'\n') => self.breaks += 1,
                _ => {}
            }
        }
        self.offset = self.offset.max(upto);
        self.breaks + 1
    }
}

/// Validates the pairs (lengths, unique keys) into a batch, in order.
///
/// # Errors
/// [`InputError::Value`] for a key or username too long, [`InputError::Duplicate`] for a key
/// given twice (at its second position).
pub fn batch(pairs: Vec<RawPair>) -> Result<LinkBatch, InputError> {
    let parsed = pairs
        .iter()
        .map(|RawPair { key, username, position }| {
            let invalid = |error| InputError::Value { position: position.clone(), error };
            Ok((
                ExternalUserKey::parse(key.as_str()).map_err(invalid)?,
                Username::parse(username.as_str()).map_err(invalid)?,
            ))
        })
        .collect::<Result<Vec<_>, InputError>>()?;
    LinkBatch::from_pairs(parsed).map_err(|duplicate| {
        let key = duplicate.key.to_string();
        // The second occurrence: the one that made the key a duplicate.
        let position = pairs
            .iter()
            .filter(|pair| pair.key == key)
            .nth(1)
            .map_or_else(|| Position::Argument(key.clone()), |pair| pair.position.clone());
        InputError::Duplicate { position, key }
    })
}

/// The program and batch of `link`: the arguments' pairs first, then the file's, in order.
///
/// # Errors
/// Any [`InputError`]; nothing has touched the database.
pub fn link_input(
    program: &str,
    arguments: &[String],
    file: Option<&Path>,
) -> Result<(ProgramUuid, LinkBatch), InputError> {
    let program = program_uuid(program)?;
    let mut pairs = arguments.iter().map(|a| argument_pair(a)).collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = file {
        pairs.extend(file_pairs(path)?);
    }
    Ok((program, batch(pairs)?))
}

/// [`link_input`] for the later upstream rules `rules`: with case-insensitive keys, two keys
/// equal up to case are refused at the second one's position.
///
/// # Errors
/// Any [`InputError`]; nothing has touched the database.
pub fn link_input_with(
    program: &str,
    arguments: &[String],
    file: Option<&Path>,
    rules: app::RuleOptions,
) -> Result<(ProgramUuid, LinkBatch), InputError> {
    let program = program_uuid(program)?;
    let mut pairs = arguments.iter().map(|a| argument_pair(a)).collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = file {
        pairs.extend(file_pairs(path)?);
    }
    let batch = batch(pairs.clone())?;
    if rules.case_insensitive_keys {
        let mut seen = std::collections::HashSet::new();
        if let Some(second) = pairs.iter().find(|pair| !seen.insert(domain::fold_case(&pair.key))) {
            return Err(InputError::DuplicateIgnoringCase {
                position: second.position.clone(),
                key: second.key.clone(),
            });
        }
    }
    Ok((program, batch))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn keys(pairs: &[RawPair]) -> Vec<(&str, &str)> {
        pairs.iter().map(|p| (p.key.as_str(), p.username.as_str())).collect()
    }

    #[test]
    fn arguments_split_at_the_last_colon_and_are_trimmed() {
        let pair = argument_pair(" urn:key:1 : user ").unwrap();
        assert_eq!((pair.key.as_str(), pair.username.as_str()), ("urn:key:1", "user"));
        for bad in ["nocolon", ":user", "key:", " : ", "key: "] {
            assert_eq!(
                argument_pair(bad).unwrap_err().to_string(),
                format!("incorrectly formatted argument '{bad}', must be in form <external user key>:<lms username>")
            );
        }
    }

    #[test]
    fn csv_header_blank_lines_quotes_crlf_and_extra_fields() {
        let text = b"external_user_key,lms_username\r\n\r\n  a , u1 \r\n\"b,c\",u2,extra\r\n   \r\n\"d\"\"e\",u3";
        let pairs = csv_pairs("f.csv", text).unwrap();
        assert_eq!(keys(&pairs), [("a", "u1"), ("b,c", "u2"), ("d\"e", "u3")]);
        assert_eq!(pairs[1].position, Position::Line { source: "f.csv".into(), line: 4 });
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = csv_pairs("f.csv", b"a,u\nb,\n").unwrap_err().to_string();
        assert_eq!(err, "f.csv: line 2: must be in the format 'external_user_key,lms_username'");
        let err = csv_pairs("f.csv", b"a,u\n\"b,u\nc,u\n").unwrap_err().to_string();
        assert_eq!(err, "f.csv: line 2: unbalanced quotes");
        let err = csv_pairs("f.csv", b"a,u\nb,u\xff\n").unwrap_err().to_string();
        assert_eq!(err, "f.csv: line 2: not valid UTF-8");
        let err = csv_pairs("f.csv", b"a,u\n,\n").unwrap_err().to_string();
        assert_eq!(err, "f.csv: line 2: must be in the format 'external_user_key,lms_username'");
    }

    #[test]
    fn a_header_elsewhere_than_first_is_a_pair() {
        let pairs = csv_pairs("f", b"a,u\nexternal_user_key,lms_username\n").unwrap();
        assert_eq!(pairs.len(), 2);
    }

    #[test]
    fn duplicates_and_lengths_are_refused_with_their_position() {
        let pairs = vec![argument_pair("a:u").unwrap(), argument_pair("a :v").unwrap()];
        assert_eq!(
            batch(pairs).unwrap_err().to_string(),
            "argument 'a :v': external user key a provided multiple times"
        );
        let long = format!("{}:u", "k".repeat(256));
        let err = batch(vec![argument_pair(&long).unwrap()]).unwrap_err().to_string();
        assert_eq!(err, format!("argument '{long}': external user key is longer than 255 characters"));
        let err = batch(vec![argument_pair(&format!("k:{}", "u".repeat(151))).unwrap()]).unwrap_err().to_string();
        assert!(err.ends_with("username is longer than 150 characters"), "{err}");
        assert!(batch(vec![argument_pair(&format!("{}:{}", "k".repeat(255), "u".repeat(150))).unwrap()]).is_ok());
    }

    #[test]
    fn keys_equal_up_to_case_are_refused_with_case_insensitive_keys() {
        let args = ["Abc:u".to_string(), "x:v".to_string(), "aBC:w".to_string()];
        let program = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";
        let rules = app::RuleOptions { case_insensitive_keys: true, ..app::RuleOptions::default() };
        let err = link_input_with(program, &args, None, rules).unwrap_err();
        assert_eq!(
            err.to_string(),
            "argument 'aBC:w': external user key aBC provided multiple times (case-insensitively)"
        );
        assert!(link_input_with(program, &args, None, app::RuleOptions::default()).is_ok());
    }

    #[test]
    fn program_uuid_forms() {
        for ok in ["9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10", "9B7D3D1C3F0E4A8E9A553C6A5D9B2F10"] {
            assert_eq!(program_uuid(ok).unwrap().to_string(), "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10");
        }
        assert_eq!(program_uuid("nope").unwrap_err().to_string(), "supplied program_uuid 'nope' is not a valid UUID");
    }
}
