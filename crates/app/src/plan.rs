//! A dry run from reads only: [`plan_program_enrollments`] reads the snapshot in a transaction
//! that writes nothing and asks the [`domain::Planner`] what it would do for each key, in input
//! order, each key seeing the earlier keys' planned effects.

use domain::{KeyOutcome, KeyPlan, LinkBatch, ProgramUuid, RuleOptions};
use ports::UnitOfWork;

use crate::log::emit_all;
use crate::roles;
use crate::snapshot::read_snapshot;
use crate::types::{LinkCallError, LinkErrors};

/// What a call would do, planned from one read of the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkPlan {
    /// Each key's decision, in input order: its error, or the writes that would link it.
    pub plans: Vec<KeyPlan>,
}

impl LinkPlan {
    /// The keys that would not be linked, with their errors, in input order.
    pub fn errors(&self) -> LinkErrors {
        let mut errors = LinkErrors::default();
        for plan in &self.plans {
            if let KeyOutcome::Refused(error) | KeyOutcome::Failed(error) = &plan.outcome {
                errors.push(plan.key.clone(), error.clone());
            }
        }
        errors
    }
}

/// Plans the linking of `batch` from reads only, as a dry run that works on a read-only
/// database: one transaction that only reads, rolled back; the planned log lines are emitted.
/// The plan is the one a real run would follow if no other writer changed the rows meanwhile;
/// a conflict with another writer (a PE linked, an enrollment changed in between) cannot be
/// foreseen.
///
/// # Errors
/// [`LinkCallError`] when a read fails or the rules meet data they cannot work with; with
/// case-insensitive keys, two input keys equal up to case.
pub async fn plan_program_enrollments(
    uow: &dyn UnitOfWork,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    rules: RuleOptions,
) -> Result<LinkPlan, LinkCallError> {
    if rules.case_insensitive_keys {
        domain::check_distinct_ignoring_case(batch)?;
    }
    let tx = uow.begin().await?;
    let planned = async {
        roles::announce(tx.reads()).await?;
        let snapshot = read_snapshot(tx.reads(), program_uuid, batch, rules).await?;
        Ok::<_, LinkCallError>(domain::plan_batch(program_uuid, snapshot, batch, rules)?)
    }
    .await;
    // Nothing was written: the rollback only ends the transaction.
    let _ = tx.rollback().await;
    let plans = planned?;
    for plan in &plans {
        emit_all(&plan.log);
    }
    Ok(LinkPlan { plans })
}
