//! Hostile input for the parsing of `link` (`cli::input`), library-level and fast: arbitrary
//! bytes and structured hostile documents (byte order marks, NUL and other non-printing
//! characters, CR-only and mixed line ends, unbalanced quotes, invalid UTF-8, empty and extra
//! fields, long fields, header variants, SQL/LIKE/regex metacharacters).
//!
//! The properties: the parser never panics; it either returns exactly the literal fields that
//! were written (round trip), or an error that names the source and the line where the first bad
//! record starts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cli::input::{Position, RawPair, argument_pair, batch, csv_pairs, is_non_printing, link_input, shown};
use proptest::prelude::*;

const SOURCE: &str = "hostile.csv";
const FORMAT: &str = "must be in the format 'external_user_key,lms_username'";
const QUOTES: &str = "unbalanced quotes";
const NOT_UTF8: &str = "not valid UTF-8";

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Characters of keys and usernames, rich in SQL, LIKE, regex and CSV metacharacters.
fn value_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::sample::select(vec![
            '\'', '"', '%', '_', '\\', ';', ',', ':', '*', '?', '[', ']', '^', '$', '.', '(', ')', '|', '+', '{',
            '}', '-', '/', '#', '=', '`', '!', ' ', '@', '<', '>', '&',
        ]),
        6 => prop::char::range('a', 'z'),
        2 => prop::char::range('A', 'Z'),
        2 => prop::char::range('0', '9'),
        1 => prop::sample::select(vec!['é', 'ü', 'ß', '日', '本', '😀', 'Ω', '\u{a0}']),
    ]
}

/// A value as the parser returns it: non-empty, no white space at either end, at most `max`
/// characters (sometimes close to `max`).
fn value(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::collection::vec(value_char(), 1..=12),
        1 => prop::collection::vec(value_char(), max - 8..=max),
    ]
    .prop_map(|chars| chars.into_iter().collect::<String>().trim().to_owned())
    .prop_filter("non-empty after trimming", |v| !v.is_empty())
}

fn key() -> impl Strategy<Value = String> {
    value(255)
}

fn username() -> impl Strategy<Value = String> {
    value(150)
}

/// Padding an unquoted field may carry (trimmed away).
fn pad() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", "", "", " ", "  ", "\t", " \t "])
}

/// A line end: `\n`, `\r\n` or a lone `\r`.
fn ending() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["\n", "\r\n", "\r"])
}

/// A field as CSV: quoted (without padding) when it must be or when `quote` says so, else
/// padded.
fn field(value: &str, quote: bool, pad: &str) -> String {
    if quote || value.contains([',', '"']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        format!("{pad}{value}{pad}")
    }
}

/// One line of a generated document.
#[derive(Debug, Clone)]
enum Rec {
    /// White space only (or nothing).
    Blank(&'static str),
    /// A pair, with how it is written.
    Pair { key: String, username: String, quote: (bool, bool), pad: &'static str, extra: Vec<String> },
}

fn rec() -> impl Strategy<Value = Rec> {
    prop_oneof![
        1 => prop::sample::select(vec!["", "", " ", "\t", "  \t  "]).prop_map(Rec::Blank),
        6 => (key(), username(), any::<(bool, bool)>(), pad(), prop::collection::vec("[a-z,\" %_']{0,6}", 0..3))
            .prop_map(|(key, username, quote, pad, extra)| Rec::Pair { key, username, quote, pad, extra }),
    ]
}

/// A document: optional byte order mark and header (in one of its accepted spellings), lines
/// with their endings, and whether the last line has one.
#[derive(Debug, Clone)]
struct Doc {
    bom: bool,
    header: Option<&'static str>,
    recs: Vec<(Rec, &'static str)>,
    final_ending: bool,
}

fn doc(max: usize) -> impl Strategy<Value = Doc> {
    (
        any::<bool>(),
        prop::option::of(prop::sample::select(vec![
            "external_user_key,lms_username",
            " external_user_key , lms_username ",
            "\"external_user_key\",\"lms_username\"",
            "external_user_key,lms_username,notes",
        ])),
        prop::collection::vec((rec(), ending()), 0..max),
        any::<bool>(),
    )
        .prop_map(|(bom, header, recs, final_ending)| Doc { bom, header, recs, final_ending })
}

impl Rec {
    fn text(&self) -> String {
        match self {
            Rec::Blank(ws) => (*ws).to_owned(),
            Rec::Pair { key, username, quote, pad, extra } => {
                let mut fields = vec![field(key, quote.0, pad), field(username, quote.1, pad)];
                fields.extend(extra.iter().map(|e| field(e, false, "")));
                fields.join(",")
            }
        }
    }
}

impl Doc {
    /// The bytes, and the expected pairs with their lines.
    fn render(&self) -> (Vec<u8>, Vec<(String, String, u64)>) {
        let mut out = String::new();
        if self.bom {
            out.push('\u{feff}');
        }
        let mut line = 1;
        if let Some(header) = self.header {
            out.push_str(header);
            out.push('\n');
            line += 1;
        }
        let mut expected = Vec::new();
        let count = self.recs.len();
        for (i, (rec, ending)) in self.recs.iter().enumerate() {
            let text = rec.text();
            // A lone `\r` then an empty line ending in `\n` would read as one `\r\n`.
            let ending = if text.is_empty() && ending.starts_with('\n') && out.ends_with('\r') { "\r" } else { ending };
            if let Rec::Pair { key, username, .. } = rec {
                expected.push((key.clone(), username.clone(), line));
            }
            out.push_str(&text);
            if i + 1 < count || self.final_ending {
                out.push_str(ending);
                line += 1;
            }
        }
        (out.into_bytes(), expected)
    }
}

fn parsed(bytes: &[u8]) -> Result<Vec<(String, String, u64)>, String> {
    let pairs = csv_pairs(SOURCE, bytes).map_err(|e| e.to_string())?;
    Ok(pairs
        .into_iter()
        .map(|RawPair { key, username, position }| match position {
            Position::Line { source, line } => {
                assert_eq!(&*source, SOURCE);
                (key, username, line)
            }
            Position::Argument(a) => panic!("a file pair positioned at argument {a}"),
        })
        .collect())
}

/// The physical lines of `bytes` (split at `\n`, `\r\n` and a lone `\r`), without their ends.
fn physical_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&bytes[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&bytes[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        lines.push(&bytes[start..]);
    }
    lines
}

/// Bytes biased to what a CSV reader finds hard.
fn hostile_bytes() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        4 => prop::sample::select(vec![
            &b","[..], b"\"", b"\"\"", b"\n", b"\r", b"\r\n", b" ", b"\t", b"\0", b"\xEF\xBB\xBF", b"\xFF", b"\xC3",
            b"\xE6\x97", b"\xED\xA0\x80", b"\xC0\x80", b"'", b"%", b"_", b"\\", b";", b"\x7F", b"\xC2\x85",
            b"\xE2\x80\xAE", b"\xC3\xA9",
        ])
        .prop_map(<[u8]>::to_vec),
        4 => "[a-z0-9]{1,4}".prop_map(String::into_bytes),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(token, 0..40).prop_map(|tokens| tokens.concat())
}

/// The kinds of defect one line may carry, and the message each gives.
#[derive(Debug, Clone, Copy)]
enum Defect {
    InvalidUtf8(&'static [u8]),
    NonPrintingKey(char),
    NonPrintingUsername(char),
    KeyTooLong,
    UsernameTooLong,
    Format(&'static str),
    Quotes(&'static str),
}

fn defect() -> impl Strategy<Value = Defect> {
    let non_printing = prop::sample::select(vec![
        '\0', '\u{1}', '\t', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{ad}', '\u{200b}',
        '\u{200d}', '\u{202e}', '\u{2028}', '\u{2066}', '\u{feff}',
    ]);
    prop_oneof![
        prop::sample::select(vec![
            &b"\xFF"[..],
            b"\xC3",
            b"\xE6\x97",
            b"\xED\xA0\x80",
            b"\xC0\x80",
            b"\xF8\x88\x80\x80"
        ])
        .prop_map(Defect::InvalidUtf8),
        non_printing.clone().prop_map(Defect::NonPrintingKey),
        non_printing.prop_map(Defect::NonPrintingUsername),
        Just(Defect::KeyTooLong),
        Just(Defect::UsernameTooLong),
        prop::sample::select(vec![
            "{k}", "{k},", "{k}, ", ",{u}", " ,{u}", "\"\",{u}", "{k},\"\"", ",", " , ", "{k};{u}"
        ])
        .prop_map(Defect::Format),
        prop::sample::select(vec![
            "{k}\"x,{u}",
            "\"{k},{u}",
            "\"{k}\"x,{u}",
            " \"{k}\",{u}",
            "\"{k}\" ,{u}",
            "{k},\"{u}",
            "{k},{u}\"",
            "{k},{u},\"extra",
            "{k},{u},\"ex\"tra",
            "\"{k}\n\",{u}",
            "\"{k}\r\",{u}",
            "\"\"\"{k},{u}",
        ])
        .prop_map(Defect::Quotes),
    ]
}

/// A placeholder replaced by invalid bytes after rendering.
const MARK: char = '\u{E000}';

impl Defect {
    /// The defective line (for a pair of plain values `k`, `u`) and the message's tail.
    fn line(self, key: &str, username: &str, split: usize) -> (Vec<u8>, String) {
        let insert = |value: &str, c: char| {
            let chars: Vec<char> = value.chars().collect();
            let at = split % (chars.len() + 1);
            format!("x{}{c}{}x", chars[..at].iter().collect::<String>(), chars[at..].iter().collect::<String>())
        };
        let plain = |k: &str, u: &str| format!("{},{}", field(k, false, ""), field(u, false, ""));
        match self {
            Defect::InvalidUtf8(bytes) => {
                let text = plain(&insert(key, MARK), username);
                let mark = MARK.to_string();
                let (before, after) = text.split_once(&mark).unwrap();
                ([before.as_bytes(), bytes, after.as_bytes()].concat(), NOT_UTF8.to_owned())
            }
            Defect::NonPrintingKey(c) => (
                plain(&insert(key, c), username).into_bytes(),
                format!("external user key contains the non-printing character U+{:04X}", u32::from(c)),
            ),
            Defect::NonPrintingUsername(c) => (
                plain(key, &insert(username, c)).into_bytes(),
                format!("username contains the non-printing character U+{:04X}", u32::from(c)),
            ),
            Defect::KeyTooLong => (
                plain(&format!("{key}{}", "k".repeat(256)), username).into_bytes(),
                "external user key is longer than 255 characters".to_owned(),
            ),
            Defect::UsernameTooLong => (
                plain(key, &format!("{username}{}", "u".repeat(151))).into_bytes(),
                "username is longer than 150 characters".to_owned(),
            ),
            Defect::Format(template) | Defect::Quotes(template) => {
                let tail = if matches!(self, Defect::Format(_)) { FORMAT } else { QUOTES };
                (template.replace("{k}", key).replace("{u}", username).into_bytes(), tail.to_owned())
            }
        }
    }
}

/// A plain value (letters, digits and metacharacters that need no quoting), for defect lines.
fn plain_value() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9%_'\\\\;:.*?()|+-]{1,10}"
}

proptest! {
    #![proptest_config(config(400))]

    /// Generated pairs written as CSV (any line ends, padding, quoting, blank lines, extra
    /// fields, header spellings, byte order mark) read back exactly, each at its line.
    #[test]
    fn written_pairs_read_back_exactly_at_their_lines(doc in doc(12)) {
        let (bytes, expected) = doc.render();
        prop_assert_eq!(parsed(&bytes), Ok(expected), "{:?}", String::from_utf8_lossy(&bytes));
    }

    /// Defects on some lines of a valid document: the error names the first defective line,
    /// with that defect's message.
    #[test]
    fn the_first_defective_line_is_named(
        doc in doc(8),
        defects in prop::collection::vec((any::<prop::sample::Index>(), defect(), plain_value(), plain_value(), any::<usize>()), 1..3),
    ) {
        let (bytes, _) = doc.render();
        let text = String::from_utf8(bytes).unwrap();
        // Re-split into lines with their ends, so that lines can be replaced.
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut ends: Vec<&str> = Vec::new();
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let cut = rest.find(['\r', '\n']).unwrap_or(rest.len());
            lines.push(rest.as_bytes()[..cut].to_vec());
            let end = if rest[cut..].starts_with("\r\n") { "\r\n" } else { &rest[cut..(cut + 1).min(rest.len())] };
            ends.push(end);
            rest = &rest[cut + end.len()..];
        }
        // The header line keeps its place; defects go on later lines (or a new line).
        let first_free = usize::from(doc.header.is_some());
        if lines.len() <= first_free {
            lines.push(Vec::new());
            ends.push("");
        }
        let mut expected: Option<(usize, String)> = None;
        for (index, defect, key, username, split) in defects {
            let at = first_free + index.index(lines.len() - first_free);
            let (line, message) = defect.line(&key, &username, split);
            lines[at] = line;
            if expected.as_ref().is_none_or(|(first, _)| at <= *first) {
                expected = Some((at, message));
            }
        }
        let mut bytes = Vec::new();
        for (i, (line, end)) in lines.iter().zip(&ends).enumerate() {
            // A line that lost its end (the last) gets one if a line follows.
            bytes.extend_from_slice(line);
            bytes.extend_from_slice(if end.is_empty() && i + 1 < lines.len() { b"\n" } else { end.as_bytes() });
        }
        if doc.bom {
            // Keep the mark at the very start even if line 1 was replaced.
            if !bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.splice(0..0, *b"\xEF\xBB\xBF");
            }
        }
        let (at, message) = expected.unwrap();
        let want = format!("{SOURCE}: line {}: {message}", at + 1);
        prop_assert_eq!(parsed(&bytes), Err(want), "{:?}", String::from_utf8_lossy(&bytes));
    }

    /// Arbitrary hostile bytes: no panic; the result is the one of its lines read one by one
    /// (no record spans lines, the first bad line is the one named); an error names the
    /// source and a line that exists; pairs are trimmed, non-empty and printable.
    #[test]
    fn arbitrary_bytes_are_read_line_by_line(bytes in hostile_bytes()) {
        // UTF-16 text is refused whole (`a_byte_order_mark_is_skipped_at_the_start_only`).
        prop_assume!(!cli::input::is_utf16(&bytes));
        let whole = parsed(&bytes);
        let lines = physical_lines(&bytes);
        let mut expected = Ok(Vec::new());
        for (i, line) in lines.iter().enumerate() {
            let number = i as u64 + 1;
            // Line 1 as is (a leading byte order mark is skipped); later lines behind a blank
            // line, so that a mark there is not at the start.
            let alone = if i == 0 { line.to_vec() } else { [b"\n", *line].concat() };
            match parsed(&alone) {
                Ok(pairs) => {
                    if let Ok(all) = expected.as_mut() {
                        all.extend(pairs.into_iter().map(|(k, u, _)| (k, u, number)));
                    }
                }
                Err(error) => {
                    let own = if i == 0 { "line 1: " } else { "line 2: " };
                    prop_assert!(error.starts_with(&format!("{SOURCE}: {own}")), "{}", error);
                    expected = Err(error.replacen(own, &format!("line {number}: "), 1));
                    break;
                }
            }
        }
        prop_assert_eq!(&whole, &expected, "{:?}", String::from_utf8_lossy(&bytes));
        match whole {
            Ok(pairs) => {
                for (key, username, line) in pairs {
                    for value in [&key, &username] {
                        prop_assert!(!value.is_empty() && value.trim() == value);
                        prop_assert!(!value.chars().any(is_non_printing), "{:?}", value);
                    }
                    prop_assert!(line >= 1 && line <= lines.len() as u64);
                }
            }
            Err(error) => {
                let number: u64 = error
                    .strip_prefix(&format!("{SOURCE}: line "))
                    .and_then(|rest| rest.split_once(':'))
                    .and_then(|(n, _)| n.parse().ok())
                    .unwrap_or_else(|| panic!("not positioned: {error}"));
                prop_assert!(number >= 1 && number <= lines.len().max(1) as u64, "{}", error);
            }
        }
    }

    /// Arguments `KEY:USERNAME`, padded, split at the last colon: the exact values come back,
    /// metacharacters and colons in the key included.
    #[test]
    fn argument_pairs_read_back_exactly(key in key(), username in username(), pads in (pad(), pad(), pad(), pad())) {
        let username = username.replace(':', "-");
        let username = username.trim();
        prop_assume!(!username.is_empty());
        let argument = format!("{}{key}{}:{}{username}{}", pads.0, pads.1, pads.2, pads.3);
        let pair = argument_pair(&argument).unwrap();
        prop_assert_eq!((pair.key.as_str(), pair.username.as_str()), (key.as_str(), username));
        prop_assert_eq!(pair.position, Position::Argument(argument.clone()));
        let (_, batch) = link_input("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10", &[argument], None).unwrap();
        let got: Vec<(&str, &str)> = batch.iter().map(|(k, u)| (k.as_str(), u.as_str())).collect();
        prop_assert_eq!(got, vec![(key.as_str(), username)]);
    }

    /// Any argument: no panic; refused naming the argument itself, or exact trimmed values.
    #[test]
    fn arbitrary_arguments_are_refused_naming_them_or_read_exactly(argument in any::<String>()) {
        match link_input("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10", std::slice::from_ref(&argument), None) {
            Ok((_, batch)) => {
                let (key, username) = argument.rsplit_once(':').unwrap();
                let got: Vec<(&str, &str)> = batch.iter().map(|(k, u)| (k.as_str(), u.as_str())).collect();
                prop_assert_eq!(got, vec![(key.trim(), username.trim())]);
            }
            Err(error) => {
                let error = error.to_string();
                prop_assert!(error.contains(&format!("argument '{}'", shown(&argument))), "{}", error);
                prop_assert!(!error.chars().any(is_non_printing), "{:?}", error);
            }
        }
    }

    /// The same key twice is refused at its second position (its first line only then being
    /// known); distinct keys, however alike, make a batch in their order.
    #[test]
    fn duplicates_are_named_at_their_second_line(
        keys in prop::collection::btree_set(key(), 1..8),
        pick in any::<(prop::sample::Index, prop::sample::Index)>(),
    ) {
        let keys: Vec<String> = keys.into_iter().collect();
        let mut lines: Vec<String> = keys.iter().map(|k| format!("{},u", field(k, false, ""))).collect();
        let pairs = csv_pairs(SOURCE, lines.join("\n").as_bytes()).unwrap();
        let batch_keys: Vec<String> = batch(pairs).unwrap().keys().map(|k| k.as_str().to_owned()).collect();
        prop_assert_eq!(&batch_keys, &keys);
        let (a, p) = (pick.0.index(keys.len()), pick.1.index(keys.len() + 1));
        lines.insert(p, format!("{},v", field(&keys[a], true, "")));
        let original = if a < p { a } else { a + 1 };
        let error = batch(csv_pairs(SOURCE, lines.join("\r").as_bytes()).unwrap()).unwrap_err().to_string();
        let line = original.max(p) + 1;
        prop_assert_eq!(error, format!("{SOURCE}: line {line}: external user key {} provided multiple times", keys[a]));
    }
}

// ---- The rules, one example each ------------------------------------------------------------

fn pairs_of(bytes: &[u8]) -> Vec<(String, String, u64)> {
    parsed(bytes).unwrap()
}

fn error_of(bytes: &[u8]) -> String {
    parsed(bytes).unwrap_err()
}

#[test]
fn a_byte_order_mark_is_skipped_at_the_start_only() {
    let expected = vec![("k".to_owned(), "u".to_owned(), 2)];
    assert_eq!(pairs_of(b"\xEF\xBB\xBFexternal_user_key,lms_username\nk,u\n"), expected);
    assert_eq!(pairs_of(b"\xEF\xBB\xBF\nk,u"), expected);
    assert_eq!(
        error_of(b"k,u\n\xEF\xBB\xBFk2,u\n"),
        format!("{SOURCE}: line 2: external user key contains the non-printing character U+FEFF")
    );
    // A second mark is not skipped: the header is then not a header, and its key is refused.
    assert_eq!(
        error_of(b"\xEF\xBB\xBF\xEF\xBB\xBFexternal_user_key,lms_username\n"),
        format!("{SOURCE}: line 1: external user key contains the non-printing character U+FEFF")
    );
    // UTF-16 is named as such.
    assert_eq!(error_of(b"\xFF\xFEk\0,\0u\0"), format!("{SOURCE}: the text is UTF-16; save as UTF-8 CSV"));
}

#[test]
fn nul_and_other_non_printing_characters_are_refused_at_their_line() {
    assert_eq!(
        error_of(b"a,u\nb\0c,u\n"),
        format!("{SOURCE}: line 2: external user key contains the non-printing character U+0000")
    );
    assert_eq!(
        error_of(b"a,u\r\rb,u\x7f\n"),
        format!("{SOURCE}: line 3: username contains the non-printing character U+007F")
    );
    // White space at either end is trimmed, whatever it is; inside a value it is refused.
    assert_eq!(pairs_of(b"\ta\t,\x0bu\x0c\n"), vec![("a".into(), "u".into(), 1)]);
    assert_eq!(
        error_of(b"a\tb,u\n"),
        format!("{SOURCE}: line 1: external user key contains the non-printing character U+0009")
    );
    // A NUL alone on a line is not blank.
    assert_eq!(error_of(b"a,u\n\0\n"), format!("{SOURCE}: line 2: {FORMAT}"));
}

#[test]
fn cr_only_crlf_and_mixed_line_ends_each_end_a_line() {
    let expected: Vec<(String, String, u64)> =
        vec![("a".into(), "u".into(), 1), ("b".into(), "v".into(), 3), ("c".into(), "w".into(), 4)];
    assert_eq!(pairs_of(b"a,u\r\rb,v\rc,w\r"), expected);
    assert_eq!(pairs_of(b"a,u\r\n\r\nb,v\r\nc,w"), expected);
    assert_eq!(pairs_of(b"a,u\n\r\nb,v\rc,w\n"), expected);
    assert_eq!(error_of(b"a,u\r\rb,v\rc\r"), format!("{SOURCE}: line 4: {FORMAT}"));
}

#[test]
fn quotes_must_wrap_whole_fields_on_one_line() {
    assert_eq!(
        pairs_of(b"\"a,b\",\"u\"\n\"say \"\"hi\"\"\",v\n"),
        vec![("a,b".into(), "u".into(), 1), ("say \"hi\"".into(), "v".into(), 2)]
    );
    for bad in [
        &b"\"ab\"cd,u"[..],
        b" \"a,b\",u",
        b"\"a,b\" ,u",
        b"ab\"c,u",
        b"\"a\nb\",u",
        b"\"a\rb\",u",
        b"a,u,\"notes\nmore\"",
        b"\"unclosed,u",
    ] {
        let text = [&b"ok,u\n"[..], bad, b"\nlater,\"x\"\n"].concat();
        assert_eq!(error_of(&text), format!("{SOURCE}: line 2: {QUOTES}"), "{:?}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn keys_differing_by_case_or_white_space_inside_quotes_are_different_keys() {
    let pairs = csv_pairs(SOURCE, "a b,u\nA B,u\na  b,u\n\"a\u{a0}b\",u\n".as_bytes()).unwrap();
    assert_eq!(batch(pairs).unwrap().len(), 4);
}

#[test]
fn metacharacters_are_kept_literally() {
    let text = "a%,u1\na_b,u2\n\"a\\\\b\",u3\n\"a'b;--\",u4\n\"x\"\" OR \"\"1\"\"=\"\"1\",u5\n%,_\n";
    let keys: Vec<String> = pairs_of(text.as_bytes()).into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(keys, ["a%", "a_b", "a\\\\b", "a'b;--", "x\" OR \"1\"=\"1", "%"]);
}

#[test]
fn a_10_mb_line_is_refused_as_too_long_at_its_line() {
    let big = "k".repeat(10 * 1024 * 1024);
    for text in [format!("a,u\n{big},u\n"), format!("a,u\n\"{big}\",u\n"), format!("a,u\nk,{big}\n")] {
        let started = Instant::now();
        let error = error_of(text.as_bytes());
        assert!(
            error == format!("{SOURCE}: line 2: external user key is longer than 255 characters")
                || error == format!("{SOURCE}: line 2: username is longer than 150 characters"),
            "{error}"
        );
        assert!(started.elapsed().as_secs() < 10, "{:?}", started.elapsed());
    }
    let quotes = format!("a,u\n\"{}\n", "\"\"".repeat(5 * 1024 * 1024));
    assert_eq!(error_of(quotes.as_bytes()), format!("{SOURCE}: line 2: {QUOTES}"));
}

/// `lines` valid lines parsed and checked into a batch; how long that took.
fn parse_valid_lines(lines: usize) -> Duration {
    let mut text = String::from("external_user_key,lms_username\n");
    for i in 0..lines {
        text.push_str(&format!("key-{i:07},user_{}\n", i % 1000));
    }
    let started = Instant::now();
    let pairs = csv_pairs(SOURCE, text.as_bytes()).unwrap();
    assert_eq!(pairs.len(), lines);
    assert_eq!(pairs[lines - 1].position, Position::Line { source: Arc::from(SOURCE), line: lines as u64 + 1 });
    let batch = batch(pairs).unwrap();
    assert_eq!(batch.len(), lines);
    started.elapsed()
}

/// A million lines parse, and in time linear in their number: ten times the lines take at most
/// twenty times as long (a quadratic step would take a hundred times). A ratio, not a fixed limit:
/// this debug build's absolute time depends on the machine's load (27 s alone, over 40 s beside
/// other builds).
#[test]
fn one_million_valid_lines_parse_into_a_batch() {
    let tenth = parse_valid_lines(100_000);
    let whole = parse_valid_lines(1_000_000);
    eprintln!("100,000 lines parsed and checked in {tenth:?}; 1,000,000 in {whole:?}");
    assert!(whole.as_secs_f64() <= 20.0 * tenth.as_secs_f64(), "{tenth:?} for 100,000 lines, {whole:?} for 1,000,000");
}

#[test]
fn a_file_that_cannot_be_read_names_itself() {
    let error = link_input("9b7d3d1c-3f0e-4a8e-9a55-3c6a5d9b2f10", &[], Some(Path::new("/nonexistent/x.csv")))
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("cannot read /nonexistent/x.csv: "), "{error}");
}
