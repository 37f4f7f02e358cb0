//! The contract suite on SQLite, in memory and in a file, from our migrations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod memory {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::SqliteMemory));
}

mod file {
    acceptance::contract_suite!(acceptance::SeaTestDatabase::create(acceptance::Target::SqliteFile));
}
