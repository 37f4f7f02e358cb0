//! The one integration-test binary of the package: each file of this folder is a module.
mod concurrent_writer;
mod conflicts;
mod equivalence;
mod failures;
mod large_batches;
mod layout;
mod least_privilege;
mod memory;
mod servers;
mod sqlite;
