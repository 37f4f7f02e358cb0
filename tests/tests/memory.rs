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

/// The in-memory adapter playing MariaDB's case-insensitive collations, for the case whose
/// outcome depends on them.
mod case_insensitive_collation {
    #[tokio::test]
    async fn x_course_keys_and_emails_compare_as_the_database_compares_them() {
        let db = acceptance::MemoryTestDatabase::with_collation(domain::Collation::CaseInsensitive);
        acceptance::cases::x_course_keys_and_emails_compare_as_the_database_compares_them(&db).await;
    }
}
