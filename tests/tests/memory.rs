//! The contract suite on the in-memory adapter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batched {
    acceptance::contract_suite!(async { Some(acceptance::MemoryTestDatabase::default()) });
}

mod per_key {
    acceptance::contract_suite!(async {
        Some(acceptance::MemoryTestDatabase::with_write_path(app::WritePath::PerKey))
    });
}

mod chunks_of_two {
    acceptance::contract_suite!(async {
        Some(acceptance::MemoryTestDatabase::with_write_path(app::WritePath::Batched(
            std::num::NonZeroUsize::new(2).unwrap(),
        )))
    });
}
