//! Upstream's reading of a request: `validate_and_link_program_enrollments`'s checks, Python's
//! `UUID()`, `str.splitlines()`, `str.strip()` and the `csv` module's excel dialect, with one
//! change: a key given twice is refused instead of silently keeping the last line.

use domain::{ExternalUserKey, LinkBatch, ProgramUuid, Username};

/// Upstream's message when a field is empty.
pub const MISSING_FIELDS: &str = "You must provide both a program uuid and a series of lines with the format \
                                  'external_user_key,lms_username'.";

/// Upstream's message when a line lacks a key or a username (no trailing period, as upstream).
pub const BAD_LINE: &str = "All linking lines must be in the format 'external_user_key,lms_username'";

/// Upstream's message for a program UUID that Python's `UUID()` refuses.
pub fn invalid_uuid(program_uuid: &str) -> String {
    format!("Supplied program UUID '{program_uuid}' is not a valid UUID.")
}

/// Python's `str.isspace()`.
pub fn is_py_space(c: char) -> bool {
    matches!(c, '\t'..='\r' | '\u{1c}'..='\u{20}' | '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}')
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}')
}

/// Python's `str.strip()` (no argument).
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.splitlines()`: splits at `\n`, `\r`, `\r\n`, `\v`, `\f`, `\x1c`, `\x1d`,
/// `\x1e`, `\x85`, `\u2028` and `\u2029`; no empty last line after a final separator.
pub fn splitlines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let is_break = matches!(
            c,
            '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        );
        if !is_break {
            continue;
        }
        lines.push(&s[start..i]);
        let mut end = i + c.len_utf8();
        if c == '\r' && chars.peek().is_some_and(|&(_, next)| next == '\n') {
            chars.next();
            end += 1;
        }
        start = end;
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuotedField,
    QuoteInQuotedField,
}

/// Python's `csv.reader(lines)` with the excel dialect (non-strict), on lines that hold no
/// line break (as [`splitlines`] gives them): a quoted field may go on over the next lines,
/// which are joined without a separator, as CPython does; an empty line is an empty row.
pub fn csv_rows<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::StartRecord;
    for line in lines {
        for c in line.chars().map(Some).chain(std::iter::once(None)) {
            // `None` is the end of the line.
            if state == State::StartRecord {
                if c.is_none() {
                    rows.push(Vec::new());
                    continue;
                }
                state = State::StartField;
            }
            match state {
                State::StartRecord | State::StartField => match c {
                    None => {
                        fields.push(std::mem::take(&mut field));
                        rows.push(std::mem::take(&mut fields));
                        state = State::StartRecord;
                    }
                    Some('"') => state = State::InQuotedField,
                    Some(',') => fields.push(std::mem::take(&mut field)),
                    Some(c) => {
                        field.push(c);
                        state = State::InField;
                    }
                },
                State::InField => match c {
                    None => {
                        fields.push(std::mem::take(&mut field));
                        rows.push(std::mem::take(&mut fields));
                        state = State::StartRecord;
                    }
                    Some(',') => {
                        fields.push(std::mem::take(&mut field));
                        state = State::StartField;
                    }
                    Some(c) => field.push(c),
                },
                State::InQuotedField => match c {
                    None => {}
                    Some('"') => state = State::QuoteInQuotedField,
                    Some(c) => field.push(c),
                },
                State::QuoteInQuotedField => match c {
                    Some('"') => {
                        field.push('"');
                        state = State::InQuotedField;
                    }
                    Some(',') => {
                        fields.push(std::mem::take(&mut field));
                        state = State::StartField;
                    }
                    None => {
                        fields.push(std::mem::take(&mut field));
                        rows.push(std::mem::take(&mut fields));
                        state = State::StartRecord;
                    }
                    Some(c) => {
                        field.push(c);
                        state = State::InField;
                    }
                },
            }
        }
    }
    // The end of the input inside a record (a quoted field left open): the record so far.
    if !field.is_empty() || state == State::InQuotedField {
        fields.push(field);
        rows.push(fields);
    }
    rows
}

/// Python's `UUID(text)`: `urn:` and `uuid:` removed anywhere, braces stripped at both ends,
/// hyphens removed, then exactly 32 characters that `int(…, 16)` reads as a value in range.
pub fn python_uuid(text: &str) -> Option<ProgramUuid> {
    let hex = text.replace("urn:", "").replace("uuid:", "");
    let hex = hex.trim_matches(|c| c == '{' || c == '}').replace('-', "");
    if hex.chars().count() != 32 {
        return None;
    }
    let value = python_int_16(&hex)?;
    Some(ProgramUuid::from_uuid(uuid::Uuid::from_u128(value)))
}

/// Python's `int(text, 16)` for a value that fits 128 bits and is not negative (ASCII digits).
fn python_int_16(text: &str) -> Option<u128> {
    let text = py_strip(text);
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (prefixed, digits) = match rest.get(..2) {
        Some("0x" | "0X") => (true, &rest[2..]),
        _ => (false, rest),
    };
    let mut value: u128 = 0;
    let mut seen_digit = false;
    let mut after_underscore = false;
    for (i, c) in digits.chars().enumerate() {
        if c == '_' {
            // One underscore between digits, or right after the base prefix.
            if after_underscore || (i == 0 && !prefixed) {
                return None;
            }
            after_underscore = true;
            continue;
        }
        let digit = c.to_digit(16)?;
        value = value.checked_mul(16)?.checked_add(u128::from(digit))?;
        seen_digit = true;
        after_underscore = false;
    }
    if !seen_digit || after_underscore || (negative && value != 0) {
        return None;
    }
    Some(value)
}

/// Each non-empty row of `text` as upstream's `DictReader` reads it: the first two fields,
/// stripped (a missing username is empty); extra fields ignored; repeated keys all kept.
pub fn stripped_pairs(text: &str) -> Vec<(String, String)> {
    csv_rows(splitlines(text))
        .into_iter()
        .filter(|row| !row.is_empty())
        .map(|row| {
            let key = row.first().map(|k| py_strip(k)).unwrap_or_default();
            let username = row.get(1).map(|u| py_strip(u)).unwrap_or_default();
            (key.to_owned(), username.to_owned())
        })
        .collect()
}

/// The outcome of reading a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// Refused before linking: the single message of `errors`.
    Refused(String),
    /// The program and the pairs to link, in input order.
    Link(ProgramUuid, LinkBatch),
}

/// Upstream's validation of `program_uuid` (already stripped) and `text` (raw), in its order;
/// then a key given twice is refused with one error naming it.
pub fn read_request(program_uuid: &str, text: &str) -> Reading {
    if program_uuid.is_empty() || text.is_empty() {
        return Reading::Refused(MISSING_FIELDS.to_owned());
    }
    let Some(program) = python_uuid(program_uuid) else {
        return Reading::Refused(invalid_uuid(program_uuid));
    };
    let pairs = stripped_pairs(text);
    if pairs.iter().any(|(key, username)| key.is_empty() || username.is_empty()) {
        return Reading::Refused(BAD_LINE.to_owned());
    }
    let mut parsed = Vec::with_capacity(pairs.len());
    for (key, username) in pairs {
        let key = match ExternalUserKey::parse(key.clone()) {
            Ok(k) => k,
            Err(error) => return Reading::Refused(format!("{}: {error}", crate::pyrepr::repr_str(&key))),
        };
        let username = match Username::parse(username.clone()) {
            Ok(u) => u,
            Err(error) => return Reading::Refused(format!("{}: {error}", crate::pyrepr::repr_str(&username))),
        };
        parsed.push((key, username));
    }
    match LinkBatch::from_pairs(parsed) {
        Ok(batch) => Reading::Link(program, batch),
        Err(duplicate) => Reading::Refused(duplicate.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_messages() {
        assert_eq!(read_request("", "a,b"), Reading::Refused(MISSING_FIELDS.into()));
        assert_eq!(read_request("x", ""), Reading::Refused(MISSING_FIELDS.into()));
        assert_eq!(
            read_request("notauuid", "a,b"),
            Reading::Refused("Supplied program UUID 'notauuid' is not a valid UUID.".into())
        );
        let p = "8bee627e-d85e-4a76-be41-d58921da666e";
        assert_eq!(read_request(p, "0001,"), Reading::Refused(BAD_LINE.into()));
        assert_eq!(read_request(p, "garbage_text"), Reading::Refused(BAD_LINE.into()));
        assert_eq!(read_request(p, "   "), Reading::Refused(BAD_LINE.into()));
    }

    #[test]
    fn a_key_given_twice_is_refused_naming_it() {
        let p = "8bee627e-d85e-4a76-be41-d58921da666e";
        assert_eq!(
            read_request(p, "k1,u1\r\nk2,u2\r\nk1,u3"),
            Reading::Refused("external user key k1 provided multiple times".into())
        );
    }

    #[test]
    fn lines_quotes_blanks_and_extra_fields() {
        let p = "8bee627e-d85e-4a76-be41-d58921da666e";
        let Reading::Link(program, batch) = read_request(p, "\r\n \"k,1\" , u1 ,extra\n\nk2,u2\u{2028}k3,\"u\"\"3\"")
        else {
            panic!("refused")
        };
        assert_eq!(program.to_string(), p);
        let pairs: Vec<(String, String)> = batch.iter().map(|(k, u)| (k.to_string(), u.to_string())).collect();
        let expected = [("\"k", "1\""), ("k2", "u2"), ("k3", "u\"3")];
        assert_eq!(pairs, expected.map(|(k, u)| (k.to_owned(), u.to_owned())));
    }

    #[test]
    fn python_uuid_forms() {
        let p = "8bee627e-d85e-4a76-be41-d58921da666e";
        for form in [
            "8bee627ed85e4a76be41d58921da666e",
            "{8BEE627E-D85E-4A76-BE41-D58921DA666E}",
            "urn:uuid:8bee627e-d85e-4a76-be41-d58921da666e",
            "{{8bee627e-d85e-4a76-be41-d58921da666e}",
        ] {
            assert_eq!(python_uuid(form).map(|u| u.to_string()).as_deref(), Some(p), "{form}");
        }
        assert!(python_uuid("0x000000000000000000000000000001").is_some());
        assert!(python_uuid("+0000000000000000000000000000001").is_some());
        assert!(python_uuid("-0000000000000000000000000000001").is_none());
        assert!(python_uuid("0000000000000000_000000000000001").is_some());
        assert!(python_uuid("000000000000000__00000000000001").is_none());
        assert!(python_uuid("8bee627e-d85e-4a76-be41-d58921da666").is_none());
        assert!(python_uuid("undefined").is_none());
    }
}
