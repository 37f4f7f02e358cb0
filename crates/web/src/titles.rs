//! `--program-titles FILE`: the programs' titles the inspector shows as `program_name`, from a
//! CSV file of `program_uuid,title` lines (upstream reads them from the LMS's catalog cache,
//! which this service does not read). Read once, at start; strictly: a line that is not a UUID
//! and a title is refused with its number.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use domain::ProgramUuid;

use crate::inspector_json::ProgramTitles;

/// Why a titles file is refused: the line (1-based) and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitlesError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// The fields of one CSV line: commas separate; a field may be quoted (`"a, b"`, `""` for a
/// quote inside); unquoted fields are trimmed.
fn fields(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err("a quoted field is not closed on its line".to_owned()),
                }
            }
            while chars.peek().is_some_and(|c| *c == ' ' || *c == '\t') {
                chars.next();
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => out.push(field),
                Some(c) => return Err(format!("unexpected {c:?} after a quoted field")),
            }
        } else {
            let mut ended = true;
            for c in chars.by_ref() {
                if c == ',' {
                    ended = false;
                    break;
                }
                if c == '"' {
                    return Err("a quote inside an unquoted field".to_owned());
                }
                field.push(c);
            }
            out.push(field.trim().to_owned());
            if ended {
                return Ok(out);
            }
        }
    }
}

/// Reads `program_uuid,title` lines (an optional header line `program_uuid,title`, blank lines
/// skipped, a byte order mark and CRLF line ends accepted).
///
/// # Errors
/// [`TitlesError`] for the first line that is not valid UTF-8, not two fields, not a UUID and
/// a non-empty title, or a program given a second time.
pub fn parse_program_titles(bytes: &[u8]) -> Result<ProgramTitles, TitlesError> {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let mut titles = ProgramTitles::new();
    let mut first_line: HashMap<ProgramUuid, usize> = HashMap::new();
    let mut seen_record = false;
    for (at, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_number = at + 1;
        let refuse = |reason: String| TitlesError { line: line_number, reason };
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|_| refuse("not valid UTF-8".to_owned()))?;
        if line.trim().is_empty() {
            continue;
        }
        let fields = fields(line).map_err(refuse)?;
        let first = !seen_record;
        seen_record = true;
        let [uuid, title] = fields.as_slice() else {
            return Err(refuse(format!("expected 2 fields, program_uuid,title; found {}", fields.len())));
        };
        if first && uuid.eq_ignore_ascii_case("program_uuid") {
            continue;
        }
        let program = ProgramUuid::parse(uuid).map_err(|_| refuse(format!("'{uuid}' is not a program UUID")))?;
        if title.is_empty() {
            return Err(refuse(format!("program {program} has an empty title")));
        }
        match first_line.entry(program) {
            Entry::Occupied(earlier) => {
                return Err(refuse(format!(
                    "program {program} is given a title twice (first on line {})",
                    earlier.get()
                )));
            }
            Entry::Vacant(slot) => {
                slot.insert(line_number);
            }
        }
        titles.insert(program, title.clone());
    }
    Ok(titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "8bee627e-d85e-4a76-be41-d58921da666e";
    const P2: &str = "9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10";

    #[test]
    fn titles_with_a_header_quotes_and_crlf() {
        let text =
            format!("\u{feff}program_uuid,title\r\n{P1},Master of Data\r\n\r\n\"{P2}\" , \"Fruit, \"\"Animals\"\"\"\n");
        let titles = parse_program_titles(text.as_bytes()).unwrap();
        assert_eq!(titles.len(), 2);
        assert_eq!(titles[&ProgramUuid::parse(P1).unwrap()], "Master of Data");
        assert_eq!(titles[&ProgramUuid::parse(P2).unwrap()], "Fruit, \"Animals\"");
        assert!(parse_program_titles(b"").unwrap().is_empty());
    }

    #[test]
    fn a_bad_line_is_named() {
        let cases: Vec<(String, usize, &str)> = vec![
            (format!("{P1},A\nnot-a-uuid,B\n"), 2, "'not-a-uuid' is not a program UUID"),
            (format!("{P1}\n"), 1, "expected 2 fields, program_uuid,title; found 1"),
            (format!("{P1},A,extra\n"), 1, "expected 2 fields, program_uuid,title; found 3"),
            (format!("{P1},A\n\n{P1},B\n"), 3, "is given a title twice (first on line 1)"),
            (format!("{P1},\"open\n"), 1, "a quoted field is not closed on its line"),
            (format!("{P1},\n"), 1, "has an empty title"),
            ("program_uuid,title\nprogram_uuid,title\n".to_owned(), 2, "'program_uuid' is not a program UUID"),
        ];
        for (text, line, reason) in cases {
            let err = parse_program_titles(text.as_bytes()).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err:?}");
            assert!(err.reason.contains(reason), "{text:?}: {err:?}");
        }
        let err = parse_program_titles(b"\xff,x\n").unwrap_err();
        assert_eq!((err.line, err.reason.as_str()), (1, "not valid UTF-8"));
    }
}
