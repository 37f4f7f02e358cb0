//! Course access role fulfilment: each planned [`RoleFulfilment`] in its own savepoint, inside
//! the key's (or chunk's) savepoint, after the key's other writes. A failure rolls back that
//! savepoint only, keeps the assignment and is logged; the key stays linked.

use std::collections::HashSet;

use domain::{LinkWrites, LogLine, RoleAction, RoleAssignmentId, RoleFulfilment};
use ports::{CourseAccessRoleGrant, LinkingReads, LinkingWrites, StoreError, StoreResult, Transaction};

use crate::log::emit;

/// Logs, once per call, that role fulfilment is skipped on a database without its tables.
pub(crate) async fn announce(reads: &dyn LinkingReads) -> StoreResult<()> {
    if !reads.course_access_roles_supported().await? {
        emit(&LogLine::RoleFulfilmentSkipped);
    }
    Ok(())
}

/// The grant and delete of some fulfilments, one statement each.
async fn write(writes: &dyn LinkingWrites, fulfilments: &[&RoleFulfilment]) -> StoreResult<()> {
    let mut seen = HashSet::new();
    let grants: Vec<CourseAccessRoleGrant> = fulfilments
        .iter()
        .filter_map(|f| match &f.action {
            RoleAction::Grant { org } => Some(CourseAccessRoleGrant {
                user_id: f.attempt.user_id,
                org: org.clone(),
                course_key: f.attempt.course_key.clone(),
                role: f.attempt.role.clone(),
            }),
            RoleAction::ConsumeOnly | RoleAction::Fail => None,
        })
        .filter(|grant| seen.insert(grant.clone()))
        .collect();
    if !grants.is_empty() {
        writes.grant_course_access_roles(&grants).await?;
    }
    let assignments: Vec<RoleAssignmentId> = fulfilments.iter().map(|f| f.attempt.assignment).collect();
    writes.delete_role_assignments(&assignments).await
}

/// Runs `fulfilments` in one savepoint of `tx`; `Ok(false)` when it was rolled back.
async fn in_savepoint(tx: &dyn Transaction, fulfilments: &[&RoleFulfilment]) -> StoreResult<bool> {
    let savepoint = tx.savepoint().await?;
    match write(savepoint.writes(), fulfilments).await {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(true)
        }
        // A deadlock or lock wait timeout is not this assignment's failure: the whole
        // transaction must run again (MariaDB has already rolled it back on a deadlock). Nor is
        // a missing privilege: a grant the operator forgot must stop the run, not be logged
        // once per key.
        Err(error @ (StoreError::Conflict { .. } | StoreError::PermissionDenied { .. })) => {
            let _ = savepoint.rollback().await;
            Err(error)
        }
        Err(error) => {
            tracing::debug!(%error, "a course access role could not be given");
            // If even the rollback fails, the transaction is unusable: abort the call.
            savepoint.rollback().await?;
            Ok(false)
        }
    }
}

/// Fulfils the roles of linked keys inside `tx` (their savepoint), each assignment in its own
/// savepoint. With `grouped`, all are first tried in one savepoint with one statement per kind
/// of write, and only if that fails one by one (same result). Returns the assignments whose
/// fulfilment failed.
///
/// # Errors
/// A savepoint that cannot be opened, released or rolled back.
pub(crate) async fn fulfil(
    tx: &dyn Transaction,
    plans: &[&LinkWrites],
    grouped: bool,
) -> Result<HashSet<RoleAssignmentId>, StoreError> {
    let fulfilments: Vec<&RoleFulfilment> =
        plans.iter().flat_map(|plan| plan.roles.iter()).filter(|f| f.writes()).collect();
    let mut failed = HashSet::new();
    if fulfilments.is_empty() || (grouped && fulfilments.len() > 1 && in_savepoint(tx, &fulfilments).await?) {
        return Ok(failed);
    }
    for fulfilment in fulfilments {
        if !in_savepoint(tx, &[fulfilment]).await? {
            failed.insert(fulfilment.attempt.assignment);
        }
    }
    Ok(failed)
}
