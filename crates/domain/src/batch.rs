//! The input of one call: ordered (key, username) pairs with unique keys.

use std::collections::HashSet;

use crate::ids::{ExternalUserKey, Username};

/// A key given twice (text in `messages.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key.
    pub key: ExternalUserKey,
}

/// The ordered mapping of external user key to username that one call links.
/// Keys are unique; order is the input's and is the order of the result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkBatch {
    pairs: Vec<(ExternalUserKey, Username)>,
}

impl LinkBatch {
    /// Builds a batch from pairs in order.
    ///
    /// # Errors
    /// [`DuplicateKey`] for the first key that appears twice.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (ExternalUserKey, Username)>) -> Result<Self, DuplicateKey> {
        let mut batch = Self::default();
        let mut seen = HashSet::new();
        for (key, username) in pairs {
            if !seen.insert(key.clone()) {
                return Err(DuplicateKey { key });
            }
            batch.pairs.push((key, username));
        }
        Ok(batch)
    }

    /// The pairs in input order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&ExternalUserKey, &Username)> {
        self.pairs.iter().map(|(k, u)| (k, u))
    }

    /// The keys in input order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &ExternalUserKey> {
        self.pairs.iter().map(|(k, _)| k)
    }

    /// The distinct usernames, in order of first appearance.
    pub fn usernames(&self) -> Vec<Username> {
        let mut seen = HashSet::new();
        self.pairs.iter().filter(|(_, u)| seen.insert(u)).map(|(_, u)| u.clone()).collect()
    }

    /// The pairs in `range` (clamped to the batch), as a batch of their own.
    pub fn slice(&self, range: std::ops::Range<usize>) -> LinkBatch {
        let end = range.end.min(self.pairs.len());
        let start = range.start.min(end);
        LinkBatch { pairs: self.pairs[start..end].to_vec() }
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(k: &str, u: &str) -> (ExternalUserKey, Username) {
        (ExternalUserKey::parse(k).unwrap(), Username::parse(u).unwrap())
    }

    #[test]
    fn keeps_input_order_and_refuses_a_duplicate_key() {
        let batch = LinkBatch::from_pairs([pair("b", "u1"), pair("a", "u1")]).unwrap();
        assert_eq!(batch.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(batch.usernames().len(), 1);
        let err = LinkBatch::from_pairs([pair("a", "u1"), pair("a", "u2")]).unwrap_err();
        assert_eq!(err.to_string(), "external user key a provided multiple times");
    }

    #[test]
    fn keys_differing_by_case_or_space_are_distinct() {
        assert!(LinkBatch::from_pairs([pair("a", "u"), pair("A", "u"), pair("a ", "u")]).is_ok());
    }
}
