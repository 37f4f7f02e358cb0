//! Case-insensitive matching of external user keys: literal comparison of case-folded text,
//! never a pattern (`%`, `_`, `.`, `*`, `(` and `\` are ordinary characters).

use std::collections::HashMap;

use crate::batch::LinkBatch;
use crate::ids::ExternalUserKey;

/// Two input keys equal up to case, with case-insensitive keys: an input error (nothing is
/// written). Text in `messages.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKeyIgnoringCase {
    /// The second of the two keys, as given.
    pub key: ExternalUserKey,
}

/// The case fold of one character: its single-character uppercase, then that character's
/// single-character lowercase. Two characters have the same fold exactly when Unicode's simple
/// case folding (`CaseFolding.txt`, statuses C and S) makes them equal: `ς`, `σ` and `Σ`; `ſ`,
/// `s` and `S`; `K` and the Kelvin sign. Characters whose case mapping takes several characters
/// (`ß`, `İ`) fold to themselves, as simple folding has it.
fn fold_char(c: char, out: &mut String) {
    let upper = single(c.to_uppercase()).unwrap_or(c);
    let lower = single(upper.to_lowercase()).or_else(|| single(c.to_lowercase())).unwrap_or(c);
    out.push(lower);
}

/// The only character of a case mapping, if it has exactly one.
fn single(mut mapping: impl Iterator<Item = char>) -> Option<char> {
    let first = mapping.next()?;
    mapping.next().is_none().then_some(first)
}

/// `text` case-folded (see the module): equal folds mean equal up to case.
pub fn fold_case(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut folded);
    }
    folded
}

/// The text a key is looked up by: itself, or its fold with case-insensitive keys.
pub(crate) fn lookup_text(key: &ExternalUserKey, case_insensitive: bool) -> String {
    if case_insensitive { fold_case(key.as_str()) } else { key.as_str().to_owned() }
}

/// Refuses a batch with two keys equal up to case.
///
/// # Errors
/// [`DuplicateKeyIgnoringCase`] naming the second key of the first such pair.
pub fn check_distinct_ignoring_case(batch: &LinkBatch) -> Result<(), DuplicateKeyIgnoringCase> {
    let mut seen = std::collections::HashSet::new();
    for key in batch.keys() {
        if !seen.insert(fold_case(key.as_str())) {
            return Err(DuplicateKeyIgnoringCase { key: key.clone() });
        }
    }
    Ok(())
}

/// Of the stored keys of a program, those equal up to case to an input key, each once, in the
/// order given: what to read with case-insensitive keys.
pub fn stored_keys_matching(batch: &LinkBatch, stored: &[ExternalUserKey]) -> Vec<ExternalUserKey> {
    let wanted: std::collections::HashSet<String> = batch.keys().map(|k| fold_case(k.as_str())).collect();
    let mut seen = std::collections::HashSet::new();
    stored.iter().filter(|k| wanted.contains(&fold_case(k.as_str())) && seen.insert(*k)).cloned().collect()
}

/// Distinct stored keys by lookup text.
pub(crate) fn stored_keys_by_lookup<'a>(
    stored: impl IntoIterator<Item = &'a ExternalUserKey>,
    case_insensitive: bool,
) -> HashMap<String, Vec<ExternalUserKey>> {
    let mut by_lookup: HashMap<String, Vec<ExternalUserKey>> = HashMap::new();
    for key in stored {
        let keys = by_lookup.entry(lookup_text(key, case_insensitive)).or_default();
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    by_lookup
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Username;

    fn key(k: &str) -> ExternalUserKey {
        ExternalUserKey::parse(k).unwrap()
    }

    #[test]
    fn folding_is_unicode_aware_and_literal() {
        assert_eq!(fold_case("STUDEnt-43"), fold_case("student-43"));
        assert_eq!(fold_case("ΣΊΣΥΦΟΣ"), fold_case("σίσυφος"));
        assert_eq!(fold_case("ſ"), "s");
        assert_eq!(fold_case("\u{212A}"), "k");
        assert_eq!(fold_case("ÉCOLE"), "école");
        assert_ne!(fold_case("a%"), fold_case("ab"));
        assert_ne!(fold_case("a.c"), fold_case("abc"));
        assert_eq!(fold_case("A_(*)\\"), "a_(*)\\");
    }

    #[test]
    fn duplicates_up_to_case_are_refused() {
        let pairs =
            |ks: &[&str]| LinkBatch::from_pairs(ks.iter().map(|k| (key(k), Username::parse("u").unwrap()))).unwrap();
        assert!(check_distinct_ignoring_case(&pairs(&["a", "b"])).is_ok());
        let err = check_distinct_ignoring_case(&pairs(&["abc", "x", "ABC"])).unwrap_err();
        assert_eq!(err.to_string(), "external user key ABC provided multiple times (case-insensitively)");
    }

    #[test]
    fn stored_keys_are_matched_literally() {
        let batch = LinkBatch::from_pairs([(key("STUDEnt-4%"), Username::parse("u").unwrap())]).unwrap();
        let stored = [key("student-4%"), key("student-45"), key("Student-4%")];
        assert_eq!(stored_keys_matching(&batch, &stored), vec![key("student-4%"), key("Student-4%")]);
    }
}
