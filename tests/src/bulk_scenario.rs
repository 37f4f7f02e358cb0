//! Random operator batches for the equivalence of the write paths: many keys given in a shuffled
//! order, among background rows (other users, another program's waiting and linked PEs, other
//! users' course enrollments in the same courses, an existing `Student` forum role with
//! members), with the learners' accounts created in an order of their own, so that input order,
//! PE id order and user id order all differ. The SeaORM adapter writes a chunk's rows in storage
//! order: these scenarios check that the order changes no row, history row, log line or error.

use domain::{CurriculumUuid, ProgramUuid};
use proptest::prelude::*;

use crate::database::TestDatabase;
use crate::fixtures::link_with;
use crate::scenario::{Outcome, normalize};

const COURSES: [&str; 2] = ["course-v1:Bulk+A+1", "course-v1:Bulk+B+1"];
const MODES: [&str; 3] = ["audit", "verified", "masters"];

/// One key of a batch.
#[derive(Debug, Clone)]
pub struct BulkKey {
    /// The learner's course enrollment before the call: `(course, mode, active)`.
    existing: Option<(usize, usize, bool)>,
    /// The input names an account that does not exist.
    unknown_user: bool,
    /// Its PE's PCEs: per course, whether it has one.
    courses: [bool; 2],
}

/// A batch, its database and the orders that matter.
#[derive(Debug, Clone)]
pub struct BulkScenario {
    keys: Vec<BulkKey>,
    /// The keys in the order of the input.
    input_order: Vec<usize>,
    /// The keys in the order their learners' accounts were created.
    account_order: Vec<usize>,
    /// Other users created before each learner (each enrolled in a course, some linked in the
    /// other program).
    background: usize,
    /// The first course has a `Student` forum role, with the background users as members.
    forum_role: bool,
}

/// The strategy for [`BulkScenario`]: 2 to 40 keys.
pub fn bulk_scenarios() -> impl Strategy<Value = BulkScenario> {
    let key = (
        prop::option::weighted(0.3, (0..COURSES.len(), 0..MODES.len(), any::<bool>())),
        prop::bool::weighted(0.1),
        (prop::bool::weighted(0.9), prop::bool::weighted(0.7)),
    )
        .prop_map(|(existing, unknown_user, (a, b))| BulkKey { existing, unknown_user, courses: [a, b] });
    (2..40usize)
        .prop_flat_map(move |n| {
            let order: Vec<usize> = (0..n).collect();
            (
                prop::collection::vec(key.clone(), n),
                Just(order.clone()).prop_shuffle(),
                Just(order).prop_shuffle(),
                0..3usize,
                any::<bool>(),
            )
        })
        .prop_map(|(keys, input_order, account_order, background, forum_role)| BulkScenario {
            keys,
            input_order,
            account_order,
            background,
            forum_role,
        })
}

impl BulkScenario {
    /// Writes the database and links the batch with `path` on `db`.
    pub async fn run(&self, db: &dyn TestDatabase, path: app::WritePath) -> Outcome {
        let program = ProgramUuid::from_uuid(uuid::Uuid::from_u128(0xA1));
        let other = ProgramUuid::from_uuid(uuid::Uuid::from_u128(0xB2));
        let curriculum = CurriculumUuid::from_uuid(uuid::Uuid::from_u128(0xC3));
        for course in COURSES {
            db.add_course_overview(course).await;
        }
        db.set_course_overview_fields(COURSES[0], Some(crate::database::course_start()), true, Some(true)).await;
        let role = if self.forum_role { Some(db.add_forum_role(COURSES[0], "Student").await) } else { None };
        // Each learner's account after its background users: user ids interleave, in an order
        // unrelated to the keys'.
        for (position, &k) in self.account_order.iter().enumerate() {
            for b in 0..self.background {
                let user = db.add_user(&format!("other_{position}_{b}"), &format!("o{position}_{b}@example.com")).await;
                db.add_course_enrollment(user, COURSES[(position + b) % 2], "audit", true).await;
                if let Some(role) = role {
                    db.add_forum_role_user(role, user).await;
                }
                if b == 0 {
                    db.add_program_enrollment(
                        Some(&format!("o-{position}")),
                        other,
                        curriculum,
                        Some(user),
                        "enrolled",
                    )
                    .await;
                }
            }
            if !self.keys[k].unknown_user {
                let user = db.add_user(&format!("learner_{k:02}"), &format!("l{k}@example.com")).await;
                if let Some((course, mode, active)) = self.keys[k].existing {
                    db.add_course_enrollment(user, COURSES[course], MODES[mode], active).await;
                }
            }
        }
        // The PEs in key order: the other program's waiting PE of the same key first.
        for (k, key) in self.keys.iter().enumerate() {
            let external = format!("key-{k:02}");
            db.add_program_enrollment(Some(&external), other, curriculum, None, "enrolled").await;
            let pe = db.add_program_enrollment(Some(&external), program, curriculum, None, "enrolled").await;
            for (course, _) in COURSES.iter().enumerate().filter(|(c, _)| key.courses[*c]) {
                db.add_program_course_enrollment(pe, COURSES[course], "active", None).await;
            }
        }
        let names: Vec<(String, String)> =
            self.input_order.iter().map(|&k| (format!("key-{k:02}"), format!("learner_{k:02}"))).collect();
        let pairs: Vec<(&str, &str)> = names.iter().map(|(k, u)| (k.as_str(), u.as_str())).collect();
        let run = link_with(db, program, &pairs, path).await;
        Outcome { errors: run.errors, log: run.log, state: normalize(&db.tables().await) }
    }
}
