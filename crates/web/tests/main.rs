//! The web crate's tests: one binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod inspector;
mod jwt_matrix;
mod python;
mod router;
mod sqlite_queue;
