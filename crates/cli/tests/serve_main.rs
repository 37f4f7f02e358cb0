//! The black-box tests of `program-enrollments serve` (issue 13); see `serve/mod.rs`.
mod serve;
