//! The bulk reads of one call, assembled into a [`Snapshot`].

use domain::{LinkBatch, ProgramUuid, RuleOptions, Snapshot, follow_up_reads, stored_keys_matching};
use ports::{LinkingReads, StoreResult};

/// Reads everything the rules look at for `batch` under `options`: two reads by the input
/// (program enrollments by key, users by username), then, for the keys that can still link
/// ([`follow_up_reads`]), their users' other enrollments in the program, course enrollments,
/// courses (with their overviews' start, pacing and highlights, and the upgrade deadline
/// configuration), invitations and the PCEs' pending role assignments.
///
/// With case-insensitive keys, the program's stored keys are read first and those equal to an
/// input key up to case are read (exactly); with relinking, the current users of PEs to relink
/// are read too, and their courses' modes.
///
/// # Errors
/// Any [`ports::StoreError`] of the reads.
pub async fn read_snapshot(
    reads: &dyn LinkingReads,
    program_uuid: ProgramUuid,
    batch: &LinkBatch,
    options: RuleOptions,
) -> StoreResult<Snapshot> {
    let keys: Vec<_> = if options.case_insensitive_keys {
        stored_keys_matching(batch, &reads.program_enrollment_keys(program_uuid).await?)
    } else {
        batch.keys().cloned().collect()
    };
    let program_enrollments = reads.program_enrollments_by_keys(program_uuid, &keys).await?;
    let users = reads.users_by_usernames(&batch.usernames()).await?;
    let next = follow_up_reads(batch, &program_enrollments, &users, options);
    let mut snapshot = Snapshot { program_enrollments, users, collation: reads.collation(), ..Snapshot::default() };
    if next.is_empty() {
        return Ok(snapshot);
    }
    snapshot.user_program_enrollments = reads.program_enrollments_of_users(program_uuid, &next.user_ids).await?;
    if !next.course_keys.is_empty() {
        snapshot.course_enrollments = reads.course_enrollments(&next.user_ids, &next.course_keys).await?;
        snapshot.existing_courses = reads.existing_courses(&next.course_keys).await?;
        snapshot.invitations = reads.pending_invitations(&next.emails, &next.course_keys).await?;
        snapshot.course_overviews = reads.course_overviews(&next.course_keys).await?;
        snapshot.upgrade_deadlines = reads.upgrade_deadline_settings(&next.course_keys).await?;
    }
    if !next.mode_courses.is_empty() {
        snapshot.course_modes = reads.course_modes(&next.mode_courses).await?;
    }
    if !next.program_course_enrollments.is_empty() {
        snapshot.role_assignments = reads.role_assignments(&next.program_course_enrollments).await?;
    }
    Ok(snapshot)
}
