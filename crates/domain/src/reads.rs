//! Reading for the rules, apart from the rules themselves: what to read after the first two
//! bulk reads ([`follow_up_reads`]), and how reads taken at different moments fit together
//! ([`reconcile`]).

use std::collections::{HashMap, HashSet};

use crate::batch::LinkBatch;
use crate::ids::{CourseKey, ProgramCourseEnrollmentId, ProgramEnrollmentId, UserId, Username};
use crate::key_match::lookup_text;
use crate::options::RuleOptions;
use crate::snapshot::{LinkedUser, ProgramEnrollmentRecord, Snapshot, UserRecord};

/// What to read after the first two bulk reads (program enrollments and users): only what the
/// keys that can still link need. Built by [`follow_up_reads`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUpReads {
    /// Users that may be linked (found, with a waiting enrollment), and with relinking the
    /// current users of the PEs to relink.
    pub user_ids: Vec<UserId>,
    /// The emails of the users that may be linked, for the invitations.
    pub emails: Vec<String>,
    /// The courses of those enrollments.
    pub course_keys: Vec<CourseKey>,
    /// The courses whose unexpired modes decide where an unlinked user's enrollments go
    /// (relinking only): those of the PCEs of a PE to relink that have a course enrollment.
    pub mode_courses: Vec<CourseKey>,
    /// The PCEs whose pending role assignments may be fulfilled.
    pub program_course_enrollments: Vec<ProgramCourseEnrollmentId>,
}

impl FollowUpReads {
    /// Whether nothing more needs reading.
    pub fn is_empty(&self) -> bool {
        self.user_ids.is_empty()
    }
}

/// From the first two bulk reads, what else must be read: the users that may be linked (found,
/// with a PE that can link), their emails, and the courses of those PEs.
///
/// With case-insensitive keys, keys match up to case. With relinking, a PE linked to a
/// different user may link too: its current user's course enrollments are read as well
/// (unlinking changes them), and the modes of its courses.
pub fn follow_up_reads(
    batch: &LinkBatch,
    program_enrollments: &[ProgramEnrollmentRecord],
    users: &[UserRecord],
    options: RuleOptions,
) -> FollowUpReads {
    let users: HashMap<&Username, &UserRecord> = users.iter().map(|u| (&u.username, u)).collect();
    let mut by_key: HashMap<String, Vec<&ProgramEnrollmentRecord>> = HashMap::new();
    for pe in program_enrollments {
        by_key.entry(lookup_text(&pe.external_user_key, options.case_insensitive_keys)).or_default().push(pe);
    }
    let mut reads = FollowUpReads::default();
    let mut seen_users = HashSet::new();
    let mut seen_targets = HashSet::new();
    let mut seen_courses = HashSet::new();
    let mut seen_mode_courses = HashSet::new();
    for (key, username) in batch.iter() {
        let Some(user) = users.get(username) else { continue };
        let sharing = by_key.get(&lookup_text(key, options.case_insensitive_keys)).map_or(&[][..], Vec::as_slice);
        let relinked = |pe: &ProgramEnrollmentRecord| {
            pe.user.as_ref().filter(|linked| options.relink && linked.id != user.id).map(|linked| linked.id)
        };
        if !sharing.iter().any(|pe| pe.user.is_none() || relinked(pe).is_some()) {
            continue;
        }
        if seen_users.insert(user.id) {
            reads.user_ids.push(user.id);
        }
        if seen_targets.insert(user.id) {
            reads.emails.push(user.email.clone());
        }
        // Every PE that shares the key, not only the one the planner keeps: cheap and safe.
        for pe in sharing {
            for pce in &pe.course_enrollments {
                if seen_courses.insert(&pce.course_key) {
                    reads.course_keys.push(pce.course_key.clone());
                }
                reads.program_course_enrollments.push(pce.id);
            }
            let Some(linked) = relinked(pe) else { continue };
            // The current user's enrollments change when the PE is unlinked: later keys must
            // see that.
            if seen_users.insert(linked) {
                reads.user_ids.push(linked);
            }
            for pce in pe.course_enrollments.iter().filter(|pce| pce.course_enrollment_id.is_some()) {
                if seen_mode_courses.insert(&pce.course_key) {
                    reads.mode_courses.push(pce.course_key.clone());
                }
            }
        }
    }
    reads
}

/// Fits together reads taken at different moments.
///
/// The reads are separate statements, each seeing what other writers had committed when it ran
/// (READ COMMITTED): a PE read as waiting can show up linked in the later read of its users'
/// enrollments, linked by another writer in between. The later read wins, so that rule 3 sees
/// the link (rather than the unique constraint, which it would meet).
pub(crate) fn reconcile(snapshot: &mut Snapshot) {
    let linked_since: HashMap<ProgramEnrollmentId, UserId> =
        snapshot.user_program_enrollments.iter().map(|pe| (pe.id, pe.user_id)).collect();
    for pe in &mut snapshot.program_enrollments {
        if pe.user.is_none()
            && let Some(&user_id) = linked_since.get(&pe.id)
            && let Some(user) = snapshot.users.iter().find(|u| u.id == user_id)
        {
            pe.user = Some(LinkedUser { id: user_id, username: user.username.clone() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::UserProgramEnrollment;
    use crate::test_fixtures::*;

    #[test]
    fn the_later_read_of_a_link_wins() {
        let mut snapshot = Snapshot {
            program_enrollments: vec![waiting(2, "a", 1, &[]), waiting(3, "b", 1, &[])],
            users: vec![user(7, "u")],
            user_program_enrollments: vec![UserProgramEnrollment {
                id: ProgramEnrollmentId(2),
                user_id: UserId(7),
                curriculum_uuid: curriculum(1),
            }],
            ..Snapshot::default()
        };
        reconcile(&mut snapshot);
        let linked: Vec<Option<UserId>> =
            snapshot.program_enrollments.iter().map(|pe| pe.user.as_ref().map(|u| u.id)).collect();
        assert_eq!(linked, vec![Some(UserId(7)), None]);
    }

    #[test]
    fn follow_up_reads_cover_only_keys_that_can_link() {
        let mut linked = waiting(2, "b", 1, &[(11, "course-v1:x+B+1", "active")]);
        linked.user = Some(LinkedUser { id: UserId(8), username: name("v") });
        let pes = vec![waiting(1, "a", 1, &[(10, FRUIT, "active")]), linked];
        let users = vec![user(7, "u"), user(8, "v")];
        let reads =
            follow_up_reads(&batch(&[("a", "u"), ("b", "v"), ("c", "u")]), &pes, &users, RuleOptions::default());
        assert_eq!(reads.user_ids, vec![UserId(7)]);
        assert_eq!(reads.emails, vec!["u@example.com".to_string()]);
        assert_eq!(reads.course_keys, vec![course(FRUIT)]);
    }
}
