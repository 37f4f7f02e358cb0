//! The guard that makes speed safe: on random scenarios, the batched write path gives the same
//! errors, the same log lines and the same end state (every row and history row, ignoring ids
//! and times) as the plain per-key path. In memory and on SQLite always; a few cases on
//! PostgreSQL and MariaDB. Two families: small scenarios of every rule ([`scenarios`]), and
//! operator batches in a shuffled order among background rows ([`bulk_scenarios`]), whose
//! chunks the SeaORM adapter writes in storage order.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::num::NonZeroUsize;

use acceptance::bulk_scenario::{BulkScenario, bulk_scenarios};
use acceptance::scenario::{Outcome, Scenario, scenarios};
use acceptance::{MemoryTestDatabase, SeaTestDatabase, Target};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

const BATCHED: [app::WritePath; 2] = [
    app::WritePath::Batched(NonZeroUsize::MIN.saturating_add(1)),
    app::WritePath::Batched(NonZeroUsize::MIN.saturating_add(999)),
];

/// One of the two families of scenarios: linked on a database with a write path.
trait Runs {
    async fn outcome(&self, db: &dyn acceptance::TestDatabase, path: app::WritePath) -> Outcome;
}

impl Runs for Scenario {
    async fn outcome(&self, db: &dyn acceptance::TestDatabase, path: app::WritePath) -> Outcome {
        self.run(db, path).await
    }
}

impl Runs for BulkScenario {
    async fn outcome(&self, db: &dyn acceptance::TestDatabase, path: app::WritePath) -> Outcome {
        self.run(db, path).await
    }
}

fn check_memory(scenario: &impl Runs) {
    runtime().block_on(async {
        let expected = scenario.outcome(&MemoryTestDatabase::default(), app::WritePath::PerKey).await;
        for path in BATCHED {
            let got = scenario.outcome(&MemoryTestDatabase::default(), path).await;
            assert_eq!(got, expected, "{path:?}");
        }
    });
}

fn check_target(scenario: &impl Runs, target: Target) {
    runtime().block_on(async {
        let Some(per_key_db) = SeaTestDatabase::create(target).await else { return };
        let expected = scenario.outcome(&per_key_db, app::WritePath::PerKey).await;
        let memory = scenario.outcome(&MemoryTestDatabase::default(), app::WritePath::PerKey).await;
        assert_eq!(expected, memory, "{target:?} per key against the in-memory adapter");
        for path in BATCHED {
            let db = SeaTestDatabase::create(target).await.unwrap();
            let got = scenario.outcome(&db, path).await;
            assert_eq!(got, expected, "{target:?} {path:?}");
            acceptance::TestDatabase::finish(&db).await;
        }
        acceptance::TestDatabase::finish(&per_key_db).await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn batched_equals_per_key_in_memory(scenario in scenarios()) {
        check_memory(&scenario);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn batched_equals_per_key_on_sqlite(scenario in scenarios()) {
        check_target(&scenario, Target::SqliteMemory);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]
    #[test]
    fn batched_equals_per_key_on_postgres(scenario in scenarios()) {
        check_target(&scenario, Target::Postgres);
    }

    #[test]
    fn batched_equals_per_key_on_mysql(scenario in scenarios()) {
        check_target(&scenario, Target::MySql);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn shuffled_batches_among_background_rows_in_memory(scenario in bulk_scenarios()) {
        check_memory(&scenario);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
    #[test]
    fn shuffled_batches_among_background_rows_on_sqlite(scenario in bulk_scenarios()) {
        check_target(&scenario, Target::SqliteMemory);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]
    #[test]
    fn shuffled_batches_among_background_rows_on_postgres(scenario in bulk_scenarios()) {
        check_target(&scenario, Target::Postgres);
    }

    #[test]
    fn shuffled_batches_among_background_rows_on_mysql(scenario in bulk_scenarios()) {
        check_target(&scenario, Target::MySql);
    }
}
