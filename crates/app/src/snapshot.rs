//! The bulk reads of one call, assembled into a [`Snapshot`].

use domain::{LinkBatch, ProgramUuid, Snapshot, follow_up_reads};
use ports::{LinkingReads, StoreResult};

/// Reads everything the rules look at for `batch`: two reads by the input (program
/// enrollments by key, users by username), then, for the keys that can still link, their
/// users' other enrollments in the program, course enrollments, courses and invitations.
///
/// # Errors
/// Any [`ports::StoreError`] of the reads.
pub async fn read_snapshot(
    reads: &dyn LinkingReads,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
) -> StoreResult<Snapshot> {
    let keys: Vec<_> = batch.keys().cloned().collect();
    let program_enrollments = reads.program_enrollments_by_keys(program_uuid, &keys).await?;
    let users = reads.users_by_usernames(&batch.usernames()).await?;
    let next = follow_up_reads(batch, &program_enrollments, &users);
    let mut snapshot = Snapshot { program_enrollments, users, ..Snapshot::default() };
    if next.is_empty() {
        return Ok(snapshot);
    }
    snapshot.user_program_enrollments = reads.program_enrollments_of_users(program_uuid, &next.user_ids).await?;
    if !next.course_keys.is_empty() {
        snapshot.course_enrollments = reads.course_enrollments(&next.user_ids, &next.course_keys).await?;
        snapshot.existing_courses = reads.existing_courses(&next.course_keys).await?;
        snapshot.invitations = reads.pending_invitations(&next.emails, &next.course_keys).await?;
    }
    Ok(snapshot)
}
