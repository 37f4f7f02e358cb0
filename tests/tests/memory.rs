//! The contract suite on the in-memory adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

acceptance::contract_suite!(async { Some(acceptance::MemoryTestDatabase::default()) });
