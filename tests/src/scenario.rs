//! Random scenarios for the equivalence of the write paths: every error kind, existing course
//! enrollments in every mode and activity, inactive PCEs, a missing course, PEs in several
//! curricula and programs, repeated usernames, keys that differ only by case or trailing
//! spaces, invitations; and upstream's later rules: relinking and case-insensitive keys (each on
//! or off), course modes (some expired), role assignments (known and unknown roles), existing
//! roles and inactive users. [`Scenario::run`] links one on a fresh database and returns what can be
//! compared: the errors, the log lines and the tables without ids and times.

use std::collections::BTreeMap;

use adapters_memory::{HistoryType, Tables};
use domain::{CourseEnrollmentId, CurriculumUuid, ProgramUuid, UserId};
use proptest::prelude::*;

use crate::database::TestDatabase;
use crate::fixtures::link_with_rules;

const KEYS: [&str; 6] = ["k1", "K1", "k1 ", "k2", "k3", "k%_'"];
const USERNAMES: [&str; 4] = ["u1", "u2", "u3", "u4"];
const INPUT_USERNAMES: [&str; 7] = ["u1", "u2", "u3", "u4", "U1", "u1 ", "nobody"];
const COURSES: [&str; 3] = ["course-v1:X+A+1", "course-v1:X+B+1", "course-v1:X+Gone+1"];
const MODES: [&str; 6] = ["audit", "honor", "verified", "masters", "professional", "credit"];
const ROLES: [&str; 2] = ["staff", "wizard"];

/// A program enrollment to create.
#[derive(Debug, Clone)]
pub struct PeSpec {
    key: usize,
    other_program: bool,
    curriculum: usize,
    user: Option<usize>,
    /// `(course, active, role assignment)`.
    pces: Vec<(usize, bool, Option<usize>)>,
}

/// A random database and input.
#[derive(Debug, Clone)]
pub struct Scenario {
    emails: Vec<usize>,
    course_gone: bool,
    pes: Vec<PeSpec>,
    enrollments: Vec<(usize, usize, usize, bool)>,
    invitations: Vec<(usize, usize)>,
    pairs: Vec<(usize, usize)>,
    relink: bool,
    case_insensitive_keys: bool,
    /// `(course, mode, expired)`.
    course_modes: Vec<(usize, usize, bool)>,
    /// `(user, course)` staff roles that exist.
    roles: Vec<(usize, usize)>,
    inactive: Vec<bool>,
}

/// What a run gives, without ids and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `(key, message)` in order.
    pub errors: Vec<(String, String)>,
    /// The log lines in order.
    pub log: Vec<String>,
    /// The tables, comparable.
    pub state: Vec<String>,
}

/// The strategy for [`Scenario`].
pub fn scenarios() -> impl Strategy<Value = Scenario> {
    let pe = (
        0..KEYS.len(),
        prop::bool::weighted(0.2),
        0..2usize,
        prop::option::weighted(0.3, 0..USERNAMES.len()),
        prop::collection::vec(
            (0..COURSES.len(), prop::bool::weighted(0.7), prop::option::weighted(0.3, 0..ROLES.len())),
            0..3,
        ),
    )
        .prop_map(|(key, other_program, curriculum, user, pces)| PeSpec {
            key,
            other_program,
            curriculum,
            user,
            pces,
        });
    (
        prop::collection::vec(0..2usize, USERNAMES.len()),
        prop::bool::weighted(0.3),
        prop::collection::vec(pe, 0..9),
        prop::collection::vec((0..USERNAMES.len(), 0..COURSES.len(), 0..MODES.len(), any::<bool>()), 0..5),
        prop::collection::vec((0..USERNAMES.len(), 0..COURSES.len()), 0..4),
        prop::collection::vec((0..KEYS.len(), 0..INPUT_USERNAMES.len()), 0..8),
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec((0..COURSES.len(), 0..MODES.len(), prop::bool::weighted(0.2)), 0..4),
            prop::collection::vec((0..USERNAMES.len(), 0..COURSES.len()), 0..2),
            prop::collection::vec(prop::bool::weighted(0.2), USERNAMES.len()),
        ),
    )
        .prop_map(
            |(
                emails,
                course_gone,
                pes,
                enrollments,
                invitations,
                pairs,
                (relink, case_insensitive_keys, course_modes, roles, inactive),
            )| {
                Scenario {
                    emails,
                    course_gone,
                    pes,
                    enrollments,
                    invitations,
                    pairs,
                    relink,
                    case_insensitive_keys,
                    course_modes,
                    roles,
                    inactive,
                }
            },
        )
}

impl Scenario {
    /// Writes the fixture (skipping what a unique constraint would refuse) and links the
    /// input with `path`.
    pub async fn run(&self, db: &dyn TestDatabase, path: app::WritePath) -> Outcome {
        let program = ProgramUuid::from_uuid(uuid::Uuid::from_u128(0xA));
        let other = ProgramUuid::from_uuid(uuid::Uuid::from_u128(0xB));
        let curricula = [
            CurriculumUuid::from_uuid(uuid::Uuid::from_u128(0xC1)),
            CurriculumUuid::from_uuid(uuid::Uuid::from_u128(0xC2)),
        ];
        for (i, course) in COURSES.iter().enumerate() {
            if !(self.course_gone && i == 2) {
                db.add_course_overview(course).await;
            }
        }
        // Schedules: the first course is self-paced with highlights (started), the second
        // starts in the future, the third has no start.
        let future = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(4_102_444_800);
        db.set_course_overview_fields(COURSES[0], Some(crate::database::course_start()), true, Some(true)).await;
        db.set_course_overview_fields(COURSES[1], Some(future), false, Some(false)).await;
        if !self.course_gone {
            db.set_course_overview_fields(COURSES[2], None, true, None).await;
        }
        db.add_upgrade_deadline_configuration(adapters_memory::UpgradeDeadlineScope::Global, true, 21, false).await;
        let mut users = Vec::new();
        for (i, name) in USERNAMES.iter().enumerate() {
            let user = db.add_user(name, &format!("e{}@example.com", self.emails[i])).await;
            if self.inactive[i] {
                db.deactivate_user(user).await;
            }
            users.push(user);
        }
        let mut seen = std::collections::HashSet::new();
        for &(course, mode, expired) in &self.course_modes {
            if seen.insert((course, mode)) {
                db.add_course_mode(COURSES[course], MODES[mode], expired).await;
            }
        }
        let mut seen = std::collections::HashSet::new();
        for &(user, course) in &self.roles {
            if seen.insert((user, course)) {
                db.add_course_access_role(users[user], "X", COURSES[course], "staff").await;
            }
        }
        // Course enrollments before the PEs, so that a linked PE's PCEs point at its user's.
        let mut enrollments = std::collections::HashMap::new();
        for &(user, course, mode, active) in &self.enrollments {
            if let std::collections::hash_map::Entry::Vacant(entry) = enrollments.entry((user, course)) {
                let ce = db.add_course_enrollment(users[user], COURSES[course], MODES[mode], active).await;
                entry.insert(ce);
                if course == 0 {
                    db.add_schedule(ce, Some(crate::database::course_start())).await;
                }
            }
        }
        let mut taken_keys = std::collections::HashSet::new();
        let mut taken_users = std::collections::HashSet::new();
        for pe in &self.pes {
            let prog = if pe.other_program { other } else { program };
            // MariaDB's default collation makes `k1`, `K1` and `k1 ` one value in the unique
            // index: keep the fixture the same on every backend.
            let folded = KEYS[pe.key].trim_end().to_lowercase();
            if !taken_keys.insert((folded, pe.other_program, pe.curriculum)) {
                continue;
            }
            if let Some(u) = pe.user
                && !taken_users.insert((u, pe.other_program, pe.curriculum))
            {
                continue;
            }
            let id = db
                .add_program_enrollment(
                    Some(KEYS[pe.key]),
                    prog,
                    curricula[pe.curriculum],
                    pe.user.map(|u| users[u]),
                    "enrolled",
                )
                .await;
            let mut seen = std::collections::HashSet::new();
            for &(course, active, role) in &pe.pces {
                if seen.insert(course) {
                    let status = if active { "active" } else { "inactive" };
                    let ce = pe.user.and_then(|u| enrollments.get(&(u, course)).copied());
                    let pce = db.add_program_course_enrollment(id, COURSES[course], status, ce).await;
                    if let Some(role) = role {
                        db.add_role_assignment(pce, ROLES[role]).await;
                    }
                }
            }
        }
        let mut seen = std::collections::HashSet::new();
        for &(user, course) in &self.invitations {
            let email = format!("e{}@example.com", self.emails[user]);
            if seen.insert((email.clone(), course)) {
                db.add_invitation(&email, COURSES[course], None).await;
            }
        }
        // Distinct keys (up to case with case-insensitive keys, which refuses the batch otherwise).
        let mut keys = std::collections::HashSet::new();
        let distinct =
            |k: usize| if self.case_insensitive_keys { domain::fold_case(KEYS[k]) } else { KEYS[k].to_owned() };
        let pairs: Vec<(&str, &str)> = self
            .pairs
            .iter()
            .filter(|(k, _)| keys.insert(distinct(*k)))
            .map(|&(k, u)| (KEYS[k], INPUT_USERNAMES[u]))
            .collect();
        let rules = app::RuleOptions { relink: self.relink, case_insensitive_keys: self.case_insensitive_keys };
        let run = link_with_rules(db, program, &pairs, path, rules).await;
        Outcome { errors: run.errors, log: run.log, state: normalize(&db.tables().await) }
    }
}

/// The tables as sorted lines, without times, history ids or course enrollment ids (a course
/// enrollment is named by its user and course).
pub fn normalize(t: &Tables) -> Vec<String> {
    let ce_name: BTreeMap<CourseEnrollmentId, String> =
        t.course_enrollments.values().map(|c| (c.id, format!("{}/{}", c.user_id, c.course_id))).collect();
    let ce_ref =
        |id: Option<CourseEnrollmentId>| id.map(|id| ce_name.get(&id).cloned().unwrap_or_else(|| format!("?{id}")));
    let kind = |k: HistoryType| k.as_char();
    let mut lines = Vec::new();
    for pe in t.program_enrollments.values() {
        lines.push(format!(
            "pe {} {:?} {:?} {} {} {}",
            pe.id, pe.user_id, pe.external_user_key, pe.program_uuid, pe.curriculum_uuid, pe.status
        ));
    }
    for p in t.program_course_enrollments.values() {
        lines.push(format!(
            "pce {} {} {:?} {} {}",
            p.id,
            p.program_enrollment_id,
            ce_ref(p.course_enrollment_id),
            p.course_key,
            p.status
        ));
    }
    for c in t.course_enrollments.values() {
        lines.push(format!("ce {}/{} {} {}", c.user_id, c.course_id, c.mode, c.is_active));
    }
    for r in t.course_access_roles.iter().flat_map(|m| m.values()) {
        lines.push(format!("role {} {} {} {}", r.user_id, r.org, r.course_id, r.role));
    }
    for a in t.role_assignments.iter().flat_map(|m| m.values()) {
        lines.push(format!("assignment {} {} {}", a.id, a.enrollment_id, a.role));
    }
    for i in t.invitations.iter().flat_map(|m| m.values()) {
        lines.push(format!("invitation {} {} {} {:?}", i.id, i.email, i.course_id, i.user_id));
    }
    for h in &t.program_enrollment_history {
        let pe = &h.row;
        lines.push(format!(
            "pe-history {} {} {:?} {:?} {:?}",
            kind(h.history_type),
            pe.id,
            pe.user_id,
            pe.external_user_key,
            h.history_user_id
        ));
    }
    for h in &t.program_course_enrollment_history {
        let p = &h.row;
        lines.push(format!(
            "pce-history {} {} {:?} {}",
            kind(h.history_type),
            p.id,
            ce_ref(p.course_enrollment_id),
            p.status
        ));
    }
    for h in &t.course_enrollment_history {
        let c = &h.row;
        lines.push(format!(
            "ce-history {} {}/{} {} {}",
            kind(h.history_type),
            c.user_id,
            c.course_id,
            c.mode,
            c.is_active
        ));
    }
    side_rows(t, &ce_ref, &mut lines);
    let _ = UserId(0);
    lines.sort();
    lines
}

/// The discussion role and schedule lines of [`normalize`]: no ids or times (a schedule's start
/// is told relative to its course's start).
fn side_rows(t: &Tables, ce_ref: &dyn Fn(Option<CourseEnrollmentId>) -> Option<String>, lines: &mut Vec<String>) {
    let roles: BTreeMap<i64, String> =
        t.forum_roles.iter().flat_map(|m| m.values()).map(|r| (r.id, format!("{}/{}", r.course_id, r.name))).collect();
    for role in roles.values() {
        lines.push(format!("forum-role {role}"));
    }
    for m in t.forum_role_users.iter().flat_map(|m| m.values()) {
        lines.push(format!("forum-member {:?} {}", roles.get(&m.role_id), m.user_id));
    }
    let course_of: BTreeMap<CourseEnrollmentId, &str> =
        t.course_enrollments.values().map(|c| (c.id, c.course_id.as_str())).collect();
    let start = |s: &adapters_memory::ScheduleRow| {
        let course_start =
            course_of.get(&s.enrollment_id).and_then(|c| t.course_overview_fields.get(*c)).and_then(|f| f.start);
        match (s.start_date, course_start) {
            (None, _) => "none",
            (Some(_), None) => "no-course-start",
            (Some(at), Some(course)) if at == course => "course-start",
            (Some(at), Some(course)) if at > course => "later",
            _ => "earlier",
        }
    };
    let schedule_ce: BTreeMap<i64, Option<String>> =
        t.schedules.iter().flat_map(|m| m.values()).map(|s| (s.id, ce_ref(Some(s.enrollment_id)))).collect();
    for s in t.schedules.iter().flat_map(|m| m.values()) {
        let deadline = s.upgrade_deadline.is_some();
        lines.push(format!("schedule {:?} {} {} {deadline}", ce_ref(Some(s.enrollment_id)), s.active, start(s)));
    }
    for e in t.schedule_experiences.iter().flat_map(|m| m.values()) {
        lines.push(format!("experience {:?} {}", schedule_ce.get(&e.schedule_id), e.experience_type));
    }
    for h in &t.schedule_history {
        let s = &h.row;
        lines.push(format!(
            "schedule-history {} {:?} {}",
            h.history_type.as_char(),
            ce_ref(Some(s.enrollment_id)),
            start(s)
        ));
    }
}
