//! The opt-in rules of upstream's later versions (`later-upstream.md`).

/// Which of upstream's later behaviours a call follows. The default is the 2019 behaviour
/// that `linking.md` describes; course access role fulfilment needs no option (it acts only
/// where assignments exist).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RuleOptions {
    /// Relinking (upstream, May 2020): a PE linked to a different user is unlinked from it and
    /// linked to the requested user, instead of the "already linked to a different account"
    /// error.
    pub relink: bool,
    /// Case-insensitive external keys (upstream, December 2021): an input key matches a stored
    /// key equal to it up to case (Unicode simple case folding).
    pub case_insensitive_keys: bool,
}
