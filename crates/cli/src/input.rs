//! The input of `link`: the program UUID and the (key, username) pairs from the arguments and
//! from a CSV file or standard input, checked before anything touches the database.
//!
//! Every error names where it comes from: the argument itself, or the file (or standard input)
//! and the line.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use domain::{DuplicateKey, DuplicateKeyIgnoringCase, ExternalUserKey, InvalidValue, LinkBatch, ProgramUuid, Username};
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
        /// The file's name as given, or `standard input` (shared by the file's pairs).
        source: Arc<str>,
        /// The line the record starts on, from 1.
        line: u64,
    },
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Argument(argument) => write!(f, "argument '{}'", shown(argument)),
            Self::Line { source, line } => write!(f, "{source}: line {line}"),
        }
    }
}

/// Why the input was refused. Nothing is linked, and the exit status is 2.
#[derive(Debug, Error)]
pub enum InputError {
    /// The program UUID is not a UUID.
    #[error("supplied program_uuid '{}' is not a valid UUID", shown(.value))]
    ProgramUuid {
        /// The text given.
        value: String,
    },
    /// An argument is not `KEY:USERNAME` with both sides non-empty.
    #[error(
        "incorrectly formatted argument '{}', must be in form <external user key>:<lms username>",
        shown(.argument)
    )]
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
    #[error("{position}: {error}")]
    Duplicate {
        /// The second occurrence.
        position: Position,
        /// The key.
        error: DuplicateKey,
    },
    /// With `--case-insensitive-keys`, two keys are equal up to case.
    #[error("{position}: {error}")]
    DuplicateIgnoringCase {
        /// The second occurrence.
        position: Position,
        /// The key there.
        error: DuplicateKeyIgnoringCase,
    },
    /// The file could not be opened or read.
    #[error("cannot read {source_name}: {error}")]
    Unreadable {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The system's reason.
        error: std::io::Error,
    },
    /// No pair at all: no `KEY:USERNAME` argument and no `--file`.
    #[error(
        "no pairs to link: give KEY:USERNAME arguments or --file PATH (`-` for standard input); \
         --allow-empty accepts an empty input"
    )]
    NoInput,
    /// The file (or standard input) holds no pair, and no argument gave one.
    #[error("{source_name}: no pairs")]
    NoPairs {
        /// The file's name, or `standard input`.
        source_name: String,
    },
    /// The file is UTF-16 (a byte order mark, or ASCII with every other byte NUL), as
    /// spreadsheets save "Unicode text".
    #[error("{source_name}: the text is UTF-16; save as UTF-8 CSV")]
    Utf16 {
        /// The file's name, or `standard input`.
        source_name: String,
    },
    /// The file is not UTF-8.
    #[error("{source_name}: line {line}: not valid UTF-8")]
    NotUtf8 {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The line, from 1.
        line: u64,
    },
    /// A quoted field is never closed, or a quote stands elsewhere than around a whole field.
    #[error("{source_name}: line {line}: unbalanced quotes")]
    UnbalancedQuotes {
        /// The file's name, or `standard input`.
        source_name: String,
        /// The line the record starts on, from 1.
        line: u64,
    },
    /// A key or username holds a non-printing character ([`is_non_printing`]).
    #[error("{position}: {what} contains the non-printing character U+{code:04X}")]
    NonPrinting {
        /// Where the value is.
        position: Position,
        /// `external user key` or `username`.
        what: &'static str,
        /// The character's code point.
        code: u32,
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

/// The name a file goes by in messages: as given, or `standard input` for `-`.
pub fn source_name(path: &Path) -> String {
    if path.as_os_str() == "-" { STDIN_NAME.to_owned() } else { path.display().to_string() }
}

/// Whether `bytes` look like UTF-16 text: a UTF-16 byte order mark, or (in the first 256
/// bytes, at least 8 of them) ASCII with every other byte NUL.
pub fn is_utf16(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return true;
    }
    let head = bytes.get(..bytes.len().min(256) & !1).unwrap_or_default();
    let units = || head.chunks_exact(2);
    let ascii = |b: u8| b != 0 && b.is_ascii();
    head.len() >= 8
        && (units().all(|unit| ascii(unit[0]) && unit[1] == 0) || units().all(|unit| unit[0] == 0 && ascii(unit[1])))
}

/// Reads the pairs of a CSV file, or of standard input for `-`.
///
/// # Errors
/// [`InputError::Unreadable`] when the file cannot be read, and the errors of [`csv_pairs`].
pub fn file_pairs(path: &Path) -> Result<Vec<RawPair>, InputError> {
    file_pairs_with(path, b',')
}

/// [`file_pairs`] with fields separated by `delimiter` (`,`, `;` or a tab).
///
/// # Errors
/// As [`file_pairs`].
pub fn file_pairs_with(path: &Path, delimiter: u8) -> Result<Vec<RawPair>, InputError> {
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
    csv_pairs_with(&source_name, &bytes, delimiter)
}

/// Whether a record's first two fields are the header, `external_user_key,lms_username`, in
/// any case (the fields are trimmed already).
fn is_header(fields: &[&str]) -> bool {
    fields.len() >= 2 && fields.iter().zip(CSV_HEADER).all(|(field, name)| field.eq_ignore_ascii_case(name))
}

/// Reads the pairs of CSV text: one `external_user_key,lms_username` pair per line, an optional
/// header line, blank lines skipped, fields trimmed, fields beyond the second ignored, CSV
/// quoting honoured (a key may contain a comma).
///
/// The rules, strict so that an operator gets a positioned error rather than a silently odd
/// key (each error names the line the bad record starts on, and the first bad record wins):
///
/// - A UTF-8 byte order mark at the very start (as spreadsheets write) is skipped; anywhere
///   else U+FEFF is a non-printing character (see [`check_pair`]).
/// - `\n`, `\r\n` and a lone `\r` each end a line, mixed freely. A record is one line.
/// - Quoting is RFC 4180's, within the line: a field that starts with `"` runs to the next
///   single `"` (a doubled `""` stands for one `"`), which must be followed by `,`, the line's
///   end or the end of the text. Any other `"` (inside an unquoted field, after a closing
///   quote, before an opening quote, a quote not closed on its line) is
///   [`InputError::UnbalancedQuotes`]: no field spans lines, so a stray quote can never swallow
///   the lines after it.
/// - The whole text must be UTF-8 ([`InputError::NotUtf8`] names the line); UTF-16 text (see
///   [`is_utf16`]) is [`InputError::Utf16`].
/// - The header is recognised in any case, its fields trimmed; a header line after the first
///   record (two exports concatenated) is skipped with a warning.
/// - Fields are trimmed of white space after unquoting; a line of white space only is blank.
/// - The key and username are checked as [`check_pair`] does: no non-printing character, not
///   too long for their columns.
///
/// # Errors
/// [`InputError::Line`] for a line without key or username, [`InputError::Utf16`], [`InputError::NotUtf8`],
/// [`InputError::UnbalancedQuotes`], [`InputError::NonPrinting`], [`InputError::Value`].
pub fn csv_pairs(source_name: &str, bytes: &[u8]) -> Result<Vec<RawPair>, InputError> {
    csv_pairs_with(source_name, bytes, b',')
}

/// [`csv_pairs`] with fields separated by `delimiter` rather than `,` (`;` or a tab, as
/// spreadsheets export in some locales); the header, quoting and every other rule stay.
///
/// # Errors
/// As [`csv_pairs`].
pub fn csv_pairs_with(source_name: &str, bytes: &[u8], delimiter: u8) -> Result<Vec<RawPair>, InputError> {
    if is_utf16(bytes) {
        return Err(InputError::Utf16 { source_name: source_name.to_owned() });
    }
    let source: Arc<str> = Arc::from(source_name);
    // A spreadsheet's UTF-8 byte order mark is not part of the first key.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut records = Records { bytes, at: 0, line: 1, delimiter };
    let mut fields = Vec::new();
    let mut pairs = Vec::new();
    let mut first = true;
    while let Some(line) = records.next_into(&mut fields) {
        let line = line.map_err(|line| InputError::UnbalancedQuotes { source_name: source_name.to_owned(), line })?;
        let text = fields
            .iter()
            .map(|field| std::str::from_utf8(field).map(str::trim))
            .collect::<Result<Vec<&str>, _>>()
            .map_err(|_| InputError::NotUtf8 { source_name: source_name.to_owned(), line })?;
        if let [only] = text.as_slice()
            && only.is_empty()
        {
            continue;
        }
        if is_header(&text) {
            if !std::mem::replace(&mut first, false) {
                // Two exports concatenated: the second one's header is not a learner.
                tracing::warn!(
                    target: crate::texts::LOG_TARGET,
                    "{source_name}: line {line}: a repeated header line is skipped (two exports concatenated?)"
                );
            }
            continue;
        }
        first = false;
        let (key, username) = match text.as_slice() {
            [key, username, ..] if !key.is_empty() && !username.is_empty() => (*key, *username),
            _ => return Err(InputError::Line { source_name: source_name.to_owned(), line }),
        };
        let pair = RawPair {
            key: key.to_owned(),
            username: username.to_owned(),
            position: Position::Line { source: Arc::clone(&source), line },
        };
        check_pair(&pair)?;
        pairs.push(pair);
    }
    Ok(pairs)
}

/// The records of CSV bytes, one per line, read one at a time with their line numbers.
#[derive(Debug)]
struct Records<'a> {
    bytes: &'a [u8],
    /// The next byte to read.
    at: usize,
    /// The line of the byte at `at`, from 1.
    line: u64,
    /// The byte between fields.
    delimiter: u8,
}

impl<'a> Records<'a> {
    /// Reads the next record's fields (unquoted, untrimmed) into `fields`; returns its line,
    /// `Err(line)` for a quote out of place, `None` at the end.
    fn next_into(&mut self, fields: &mut Vec<Cow<'a, [u8]>>) -> Option<Result<u64, u64>> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let start = self.line;
        fields.clear();
        loop {
            let field = if self.bytes.get(self.at) == Some(&b'"') {
                match self.quoted() {
                    Some(field) => field,
                    None => return Some(Err(start)),
                }
            } else {
                let rest = self.bytes.get(self.at..).unwrap_or_default();
                let delimiter = self.delimiter;
                let len = rest.iter().position(|&b| b == delimiter || matches!(b, b'\r' | b'\n')).unwrap_or(rest.len());
                let field = rest.get(..len).unwrap_or_default();
                if field.contains(&b'"') {
                    return Some(Err(start));
                }
                self.at += len;
                Cow::Borrowed(field)
            };
            fields.push(field);
            match self.bytes.get(self.at) {
                Some(&b) if b == self.delimiter => self.at += 1,
                Some(b'\r') => {
                    self.at += if self.bytes.get(self.at + 1) == Some(&b'\n') { 2 } else { 1 };
                    self.line += 1;
                    return Some(Ok(start));
                }
                Some(b'\n') => {
                    self.at += 1;
                    self.line += 1;
                    return Some(Ok(start));
                }
                _ => return Some(Ok(start)),
            }
        }
    }

    /// Reads a quoted field starting at its opening quote; `None` when it is not closed on its
    /// line or its closing quote is followed by anything but `,`, a line end or the end.
    fn quoted(&mut self) -> Option<Cow<'a, [u8]>> {
        let begin = self.at + 1;
        let mut at = begin;
        let mut unescaped: Option<Vec<u8>> = None;
        loop {
            match *self.bytes.get(at)? {
                b'"' if self.bytes.get(at + 1) == Some(&b'"') => {
                    let field = unescaped.get_or_insert_with(|| self.bytes.get(begin..at).unwrap_or_default().to_vec());
                    field.push(b'"');
                    at += 2;
                }
                b'"' => break,
                b'\r' | b'\n' => return None,
                byte => {
                    if let Some(field) = unescaped.as_mut() {
                        field.push(byte);
                    }
                    at += 1;
                }
            }
        }
        let field = match unescaped {
            Some(field) => Cow::Owned(field),
            None => Cow::Borrowed(self.bytes.get(begin..at).unwrap_or_default()),
        };
        self.at = at + 1;
        match self.bytes.get(self.at) {
            None | Some(b'\r' | b'\n') => Some(field),
            Some(&b) if b == self.delimiter => Some(field),
            Some(_) => None,
        }
    }
}

/// Whether `c` is refused in a key or username: a control character (Unicode category `Cc`:
/// NUL, tab, line breaks, DEL, C1), a line or paragraph separator, or an invisible format
/// character (byte order mark, zero-width spaces and joiners, bidirectional marks and
/// overrides, soft hyphen, …). Such a character cannot be told from its absence on screen, so a
/// key holding one would look like another key.
pub fn is_non_printing(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// `value` as messages show it: each non-printing character ([`is_non_printing`]) written
/// `\u{…}`, so that an argument cannot break a message's line or drive the terminal.
pub fn shown(value: &str) -> Cow<'_, str> {
    if !value.chars().any(is_non_printing) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .map(|c| if is_non_printing(c) { c.escape_unicode().to_string() } else { c.to_string() })
            .collect(),
    )
}

/// Checks one pair's values: no non-printing character ([`is_non_printing`]), key and username
/// not too long for their columns.
///
/// # Errors
/// [`InputError::NonPrinting`] or [`InputError::Value`], at the pair's position.
pub fn check_pair(pair: &RawPair) -> Result<(), InputError> {
    for (what, value, max) in [
        ("external user key", &pair.key, ExternalUserKey::MAX_CHARS),
        ("username", &pair.username, Username::MAX_CHARS),
    ] {
        if let Some(c) = value.chars().find(|&c| is_non_printing(c)) {
            return Err(InputError::NonPrinting { position: pair.position.clone(), what, code: u32::from(c) });
        }
        // Counting stops past the maximum: a 10 MB key is not counted to its end.
        if value.chars().nth(max).is_some() {
            return Err(InputError::Value {
                position: pair.position.clone(),
                error: InvalidValue::TooLong { what, max },
            });
        }
    }
    Ok(())
}

/// Validates the pairs (as [`check_pair`], then unique keys) into a batch, in order.
///
/// # Errors
/// [`InputError::NonPrinting`] or [`InputError::Value`] for a bad key or username,
/// [`InputError::Duplicate`] for a key given twice (at its second position).
pub fn batch(pairs: Vec<RawPair>) -> Result<LinkBatch, InputError> {
    // The pairs are consumed as they are checked, so that a large file's text is held once.
    let mut parsed = Vec::with_capacity(pairs.len());
    let mut positions = Vec::with_capacity(pairs.len());
    for pair in pairs {
        check_pair(&pair)?;
        let RawPair { key, username, position } = pair;
        let invalid = |error| InputError::Value { position: position.clone(), error };
        parsed.push((ExternalUserKey::parse(key).map_err(invalid)?, Username::parse(username).map_err(invalid)?));
        positions.push(position);
    }
    // The second occurrence: the one that makes the key a duplicate.
    let mut seen = HashSet::with_capacity(parsed.len());
    let duplicate = parsed.iter().map(|(key, _)| key).enumerate().find(|(_, key)| !seen.insert(*key));
    if let Some((i, key)) = duplicate {
        let error = DuplicateKey { key: key.clone() };
        return Err(InputError::Duplicate { position: positions.swap_remove(i), error });
    }
    drop((seen, positions));
    LinkBatch::from_pairs(parsed).map_err(|error| {
        let position = Position::Argument(error.key.to_string());
        InputError::Duplicate { position, error }
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
    Ok((program, batch(raw_pairs(arguments, file, b',')?)?))
}

/// The arguments' pairs, then the file's. The arguments are checked before the file is read:
/// the first bad input is reported.
fn raw_pairs(arguments: &[String], file: Option<&Path>, delimiter: u8) -> Result<Vec<RawPair>, InputError> {
    let mut pairs = arguments
        .iter()
        .map(|a| argument_pair(a).and_then(|pair| check_pair(&pair).map(|()| pair)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = file {
        pairs.extend(file_pairs_with(path, delimiter)?);
    }
    Ok(pairs)
}

/// [`link_input`] for the later upstream rules `rules`, the file's fields separated by
/// `delimiter`: with case-insensitive keys, two keys equal up to case are refused at the
/// second one's position.
///
/// # Errors
/// Any [`InputError`]; nothing has touched the database.
pub fn link_input_with(
    program: &str,
    arguments: &[String],
    file: Option<&Path>,
    rules: app::RuleOptions,
    delimiter: u8,
) -> Result<(ProgramUuid, LinkBatch), InputError> {
    let program = program_uuid(program)?;
    let pairs = raw_pairs(arguments, file, delimiter)?;
    if !rules.case_insensitive_keys {
        return Ok((program, batch(pairs)?));
    }
    // Kept before `batch` consumes the pairs; checked after it, so that an invalid pair before
    // the duplicate is the one reported.
    let positions: Vec<Position> = pairs.iter().map(|pair| pair.position.clone()).collect();
    let batch = batch(pairs)?;
    if let Err(error) = domain::check_distinct_ignoring_case(&batch) {
        // The batch's keys are distinct: the duplicate's key is at one position.
        let at = batch.keys().position(|key| *key == error.key).and_then(|i| positions.get(i).cloned());
        let position = at.unwrap_or_else(|| Position::Argument(error.key.to_string()));
        return Err(InputError::DuplicateIgnoringCase { position, error });
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
    fn a_header_elsewhere_than_first_is_skipped_and_any_case_is_a_header() {
        let pairs = csv_pairs("f", b"a,u\nexternal_user_key,lms_username\nb,v\n").unwrap();
        assert_eq!(keys(&pairs), [("a", "u"), ("b", "v")]);
        let pairs = csv_pairs("f", b" External_User_Key , LMS_username \na,u\n").unwrap();
        assert_eq!(keys(&pairs), [("a", "u")]);
    }

    #[test]
    fn utf16_is_told_from_utf8() {
        assert!(is_utf16(b"\xFF\xFEk\0"));
        assert!(is_utf16(b"\xFE\xFF\0k"));
        assert!(is_utf16(b"k\0,\0u\0\n\0"));
        assert!(is_utf16(b"\0k\0,\0u\0\n"));
        assert!(!is_utf16(b"'\0\n"));
        assert!(!is_utf16(b"k,u\n"));
        assert!(!is_utf16(b"k\0,u\n"));
        assert!(!is_utf16(b""));
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
        let err = link_input_with(program, &args, None, rules, b',').unwrap_err();
        assert_eq!(
            err.to_string(),
            "argument 'aBC:w': external user key aBC provided multiple times (case-insensitively)"
        );
        assert!(link_input_with(program, &args, None, app::RuleOptions::default(), b',').is_ok());
    }

    #[test]
    fn program_uuid_forms() {
        for ok in ["9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10", "9B7D3D1C3F0E4A8E9A553C6A5D9B2F10"] {
            assert_eq!(program_uuid(ok).unwrap().to_string(), "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10");
        }
        assert_eq!(program_uuid("nope").unwrap_err().to_string(), "supplied program_uuid 'nope' is not a valid UUID");
    }
}
