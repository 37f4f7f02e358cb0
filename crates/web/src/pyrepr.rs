//! Python's `repr` of strings and of a 2-tuple of strings, exactly as CPython writes them:
//! upstream's successes are `str((key, username))`, and the support MFE parses those strings.

use std::fmt::Write;

use crate::printable_table::NOT_PRINTABLE;

/// Whether Python's `str.isprintable()` is true for `c`.
pub fn is_printable(c: char) -> bool {
    let cp = u32::from(c);
    NOT_PRINTABLE
        .binary_search_by(|&(start, end)| {
            if end < cp {
                std::cmp::Ordering::Less
            } else if start > cp {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_err()
}

/// `repr(s)` of a Python `str`: single quotes unless `s` holds a `'` and no `"`; backslash,
/// the chosen quote, tab, newline and carriage return escaped; other characters that Python
/// does not print as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x7f && (c as u32) >= 0x20 => out.push(c),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push(quote);
    out
}

/// `str((key, username))`: Python's repr of a 2-tuple of strings, `('0001', 'learner-01')`.
pub fn tuple_repr(key: &str, username: &str) -> String {
    format!("({}, {})", repr_str(key), repr_str(username))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_single_quoted() {
        assert_eq!(tuple_repr("0001", "learner-01"), "('0001', 'learner-01')");
    }

    #[test]
    fn quote_choice_and_escapes() {
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(repr_str("say \"hi\""), "'say \"hi\"'");
        assert_eq!(repr_str("a\\b"), "'a\\\\b'");
        assert_eq!(repr_str("\t\n\r\u{0}\u{7f}"), "'\\t\\n\\r\\x00\\x7f'");
        assert_eq!(repr_str("é\u{a0}\u{ad}\u{200b}\u{e000}\u{10ffff}ü😀"), "'é\\xa0\\xad\\u200b\\ue000\\U0010ffffü😀'");
    }
}
