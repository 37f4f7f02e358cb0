//! Moments, as the rules compare them: no clock here, the callers pass them in.

/// A moment, in microseconds since 1970-01-01 00:00:00 UTC (Django keeps microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);
