//! The engine under both the fixture API and the ports: the tables with their id sequences,
//! the undo journal that makes transactions and savepoints, the one write of a row with its
//! history row and its undo entry ([`State::save`], and the conditional [`State::update`]),
//! and the unique constraints, checked on every write as a database checks them.
//!
//! It imports neither `database.rs` (the fixture API) nor `transaction.rs` (the ports); both
//! build on it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use domain::{
    Collation, CourseEnrollmentId, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId, RoleAssignmentId,
    UniqueViolation, UserId,
};
use ports::{StoreError, StoreResult};

use crate::rows::{
    CourseAccessRoleRow, CourseEnrollmentRow, ForumRoleRow, ForumRoleUserRow, HistoryRow, HistoryType, InvitationRow,
    ProgramCourseEnrollmentRow, ProgramEnrollmentRow, RoleAssignmentRow, ScheduleExperienceRow, ScheduleRow, Tables,
};

/// How to undo one change (the row's previous value, or a history row to drop).
#[derive(Debug)]
pub(crate) enum Undo {
    ProgramEnrollment(ProgramEnrollmentId, Option<ProgramEnrollmentRow>),
    ProgramCourseEnrollment(ProgramCourseEnrollmentId, Option<ProgramCourseEnrollmentRow>),
    CourseEnrollment(CourseEnrollmentId, Option<CourseEnrollmentRow>),
    Invitation(InvitationId, Option<InvitationRow>),
    CourseAccessRole(i64, Option<CourseAccessRoleRow>),
    RoleAssignment(RoleAssignmentId, Option<RoleAssignmentRow>),
    ForumRole(i64, Option<ForumRoleRow>),
    ForumRoleUser(i64, Option<ForumRoleUserRow>),
    Schedule(i64, Option<ScheduleRow>),
    ScheduleExperience(i64, Option<ScheduleExperienceRow>),
    ScheduleHistory,
    ProgramEnrollmentHistory,
    ProgramCourseEnrollmentHistory,
    CourseEnrollmentHistory,
}

/// The tables and the journal of the open transaction.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tables: Tables,
    pub(crate) journal: Vec<Undo>,
    next_ids: [i64; 12],
    next_history_id: u64,
    /// The `history_user_id` of the open transaction's history rows (its acting user).
    pub(crate) history_user: Option<UserId>,
    /// The users whose `is_staff` is true.
    pub(crate) staff: std::collections::BTreeSet<UserId>,
    /// How course keys and emails compare, in reads and unique checks.
    pub(crate) collation: Collation,
}

/// The tables with an autoincrement id, each with its own counter as in a database.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sequence {
    User = 0,
    ProgramEnrollment = 1,
    ProgramCourseEnrollment = 2,
    CourseEnrollment = 3,
    Invitation = 4,
    CourseMode = 5,
    CourseAccessRole = 6,
    RoleAssignment = 7,
    ForumRole = 8,
    ForumRoleUser = 9,
    Schedule = 10,
    ScheduleExperience = 11,
}

impl State {
    /// A state holding `tables`, with fresh sequences and an empty journal.
    pub(crate) fn new(tables: Tables) -> Self {
        Self { tables, ..Self::default() }
    }

    /// A fresh id. Like database sequences, ids are never reused, even after a rollback.
    pub(crate) fn next_id(&mut self, sequence: Sequence) -> i64 {
        let counter = &mut self.next_ids[sequence as usize];
        *counter += 1;
        *counter
    }

    fn next_history_id(&mut self) -> u64 {
        self.next_history_id += 1;
        self.next_history_id
    }

    /// Undoes the journal back to `mark` entries.
    pub(crate) fn undo_to(&mut self, mark: usize) {
        while self.journal.len() > mark {
            let Some(undo) = self.journal.pop() else { break };
            let t = &mut self.tables;
            match undo {
                Undo::ProgramEnrollment(id, row) => restore(&mut t.program_enrollments, id, row),
                Undo::ProgramCourseEnrollment(id, row) => restore(&mut t.program_course_enrollments, id, row),
                Undo::CourseEnrollment(id, row) => restore(&mut t.course_enrollments, id, row),
                Undo::Invitation(id, row) => {
                    if let Some(invitations) = t.invitations.as_mut() {
                        restore(invitations, id, row);
                    }
                }
                Undo::CourseAccessRole(id, row) => {
                    if let Some(roles) = t.course_access_roles.as_mut() {
                        restore(roles, id, row);
                    }
                }
                Undo::RoleAssignment(id, row) => {
                    if let Some(assignments) = t.role_assignments.as_mut() {
                        restore(assignments, id, row);
                    }
                }
                Undo::ForumRole(id, row) => {
                    if let Some(roles) = t.forum_roles.as_mut() {
                        restore(roles, id, row);
                    }
                }
                Undo::ForumRoleUser(id, row) => {
                    if let Some(users) = t.forum_role_users.as_mut() {
                        restore(users, id, row);
                    }
                }
                Undo::Schedule(id, row) => {
                    if let Some(schedules) = t.schedules.as_mut() {
                        restore(schedules, id, row);
                    }
                }
                Undo::ScheduleExperience(id, row) => {
                    if let Some(experiences) = t.schedule_experiences.as_mut() {
                        restore(experiences, id, row);
                    }
                }
                Undo::ScheduleHistory => {
                    t.schedule_history.pop();
                }
                Undo::ProgramEnrollmentHistory => {
                    t.program_enrollment_history.pop();
                }
                Undo::ProgramCourseEnrollmentHistory => {
                    t.program_course_enrollment_history.pop();
                }
                Undo::CourseEnrollmentHistory => {
                    t.course_enrollment_history.pop();
                }
            }
        }
    }

    /// Stores `after` with its history row (`+` when `before` is `None`: an insert; `~`
    /// otherwise), undoably, once the table's unique constraints allow it.
    ///
    /// # Errors
    /// [`StoreError::UniqueViolation`], nothing stored.
    pub(crate) fn save<R: Historied>(&mut self, before: Option<R>, after: R, now: SystemTime) -> StoreResult<()> {
        R::check_unique(self, &after)?;
        let kind = if before.is_some() { HistoryType::Update } else { HistoryType::Insert };
        let id = after.id();
        self.journal.push(R::undo(id, before));
        R::rows_mut(&mut self.tables).insert(id, after.clone());
        let history = self.history(after, kind, now);
        R::history_rows(&mut self.tables).push(history);
        self.journal.push(R::UNDO_HISTORY);
        Ok(())
    }

    /// Applies `change` to a copy of the row `id` and [saves](State::save) it (`~`); when
    /// `change` says the write does not apply (returns `false`), leaves the row untouched and
    /// returns `Ok(false)`.
    ///
    /// # Errors
    /// [`StoreError::Misuse`] when there is no row `id`; [`StoreError::UniqueViolation`].
    pub(crate) fn update<R: Historied>(
        &mut self,
        id: R::Id,
        now: SystemTime,
        change: impl FnOnce(&mut R) -> bool,
    ) -> StoreResult<bool> {
        let Some(before) = R::rows(&self.tables).get(&id).cloned() else {
            return Err(StoreError::Misuse(R::MISSING));
        };
        let mut after = before.clone();
        if !change(&mut after) {
            return Ok(false);
        }
        self.save(Some(before), after, now)?;
        Ok(true)
    }

    /// [Updates](State::update) the row each of `items` names (`id_of`) by `change`; returns
    /// the items whose change did not apply (their rows untouched), in order.
    ///
    /// # Errors
    /// Those of [`State::update`]; the items before the failing one stay written.
    pub(crate) fn update_each<'a, R: Historied, T>(
        &mut self,
        items: &'a [T],
        now: SystemTime,
        id_of: impl Fn(&T) -> R::Id,
        change: impl Fn(&T, &mut R) -> bool,
    ) -> StoreResult<Vec<&'a T>> {
        let mut untouched = Vec::new();
        for item in items {
            if !self.update(id_of(item), now, |row| change(item, row))? {
                untouched.push(item);
            }
        }
        Ok(untouched)
    }

    /// Stores a schedule with its history row (`+` when `before` is `None`, `~` otherwise),
    /// undoably, once its unique `enrollment_id` allows it.
    ///
    /// # Errors
    /// [`StoreError::Misuse`] without the schedule tables; [`StoreError::UniqueViolation`]
    /// naming `(enrollment_id)`, nothing stored.
    pub(crate) fn save_schedule(
        &mut self,
        before: Option<ScheduleRow>,
        after: ScheduleRow,
        now: SystemTime,
    ) -> StoreResult<()> {
        let Some(schedules) = self.tables.schedules.as_mut() else {
            return Err(StoreError::Misuse("the schedule tables do not exist"));
        };
        if schedules.values().any(|s| s.id != after.id && s.enrollment_id == after.enrollment_id) {
            return Err(StoreError::UniqueViolation(UniqueViolation::new("schedules_schedule", ["enrollment_id"])));
        }
        let kind = if before.is_some() { HistoryType::Update } else { HistoryType::Insert };
        schedules.insert(after.id, after.clone());
        self.journal.push(Undo::Schedule(after.id, before));
        let history = self.history(after, kind, now);
        self.tables.schedule_history.push(history);
        self.journal.push(Undo::ScheduleHistory);
        Ok(())
    }

    fn history<T>(&mut self, row: T, kind: HistoryType, now: SystemTime) -> HistoryRow<T> {
        HistoryRow {
            history_id: self.next_history_id(),
            row,
            history_date: now,
            history_type: kind,
            history_user_id: self.history_user,
            history_change_reason: None,
        }
    }
}

/// A table with django-simple-history (PE, PCE, course enrollment) as the engine writes it:
/// its live rows and history rows, how to undo a change, and its unique constraints.
pub(crate) trait Historied: Clone {
    /// The row's id.
    type Id: Ord + Copy;
    /// The misuse of a write naming a row that does not exist.
    const MISSING: &'static str;
    /// The undo entry that drops the table's last history row.
    const UNDO_HISTORY: Undo;
    /// The row's id.
    fn id(&self) -> Self::Id;
    /// The live rows.
    fn rows(tables: &Tables) -> &BTreeMap<Self::Id, Self>;
    /// The live rows, to write.
    fn rows_mut(tables: &mut Tables) -> &mut BTreeMap<Self::Id, Self>;
    /// The history rows.
    fn history_rows(tables: &mut Tables) -> &mut Vec<HistoryRow<Self>>;
    /// The undo entry that puts back `before` (or removes the row when `None`).
    fn undo(id: Self::Id, before: Option<Self>) -> Undo;
    /// Whether the table's unique constraints allow `row` beside the other rows.
    fn check_unique(state: &State, row: &Self) -> StoreResult<()>;
}

macro_rules! historied {
    ($row:ty, $id:ty, $what:literal, $rows:ident, $history:ident, $undo:ident, $undo_history:ident, $unique:expr) => {
        impl Historied for $row {
            type Id = $id;
            const MISSING: &'static str = concat!("a write names a ", $what, " that does not exist");
            const UNDO_HISTORY: Undo = Undo::$undo_history;
            fn id(&self) -> $id {
                self.id
            }
            fn rows(tables: &Tables) -> &BTreeMap<$id, Self> {
                &tables.$rows
            }
            fn rows_mut(tables: &mut Tables) -> &mut BTreeMap<$id, Self> {
                &mut tables.$rows
            }
            fn history_rows(tables: &mut Tables) -> &mut Vec<HistoryRow<Self>> {
                &mut tables.$history
            }
            fn undo(id: $id, before: Option<Self>) -> Undo {
                Undo::$undo(id, before)
            }
            fn check_unique(state: &State, row: &Self) -> StoreResult<()> {
                $unique(state, row)
            }
        }
    };
}

historied!(
    ProgramEnrollmentRow,
    ProgramEnrollmentId,
    "program enrollment",
    program_enrollments,
    program_enrollment_history,
    ProgramEnrollment,
    ProgramEnrollmentHistory,
    program_enrollment_unique
);
// Its one unique constraint, `(program_enrollment_id, course_key)`, no write of the linking
// changes.
historied!(
    ProgramCourseEnrollmentRow,
    ProgramCourseEnrollmentId,
    "program course enrollment",
    program_course_enrollments,
    program_course_enrollment_history,
    ProgramCourseEnrollment,
    ProgramCourseEnrollmentHistory,
    |_: &State, _: &ProgramCourseEnrollmentRow| Ok(())
);
historied!(
    CourseEnrollmentRow,
    CourseEnrollmentId,
    "course enrollment",
    course_enrollments,
    course_enrollment_history,
    CourseEnrollment,
    CourseEnrollmentHistory,
    course_enrollment_unique
);

/// The unique constraints of `program_enrollments_programenrollment`.
fn program_enrollment_unique(state: &State, row: &ProgramEnrollmentRow) -> StoreResult<()> {
    for other in state.tables.program_enrollments.values().filter(|o| o.id != row.id) {
        let same_place = other.program_uuid == row.program_uuid && other.curriculum_uuid == row.curriculum_uuid;
        if same_place && row.user_id.is_some() && other.user_id == row.user_id {
            return Err(StoreError::UniqueViolation(UniqueViolation::program_enrollment_user()));
        }
        if same_place && row.external_user_key.is_some() && other.external_user_key == row.external_user_key {
            return Err(StoreError::UniqueViolation(UniqueViolation::new(
                "program_enrollments_programenrollment",
                ["external_user_key", "program_uuid", "curriculum_uuid"],
            )));
        }
    }
    Ok(())
}

/// The unique constraint `(user_id, course_id)` of `student_courseenrollment`.
fn course_enrollment_unique(state: &State, row: &CourseEnrollmentRow) -> StoreResult<()> {
    let clash = state
        .tables
        .course_enrollments
        .values()
        .any(|o| o.id != row.id && o.user_id == row.user_id && state.collation.equal(&o.course_id, &row.course_id));
    if clash {
        return Err(StoreError::UniqueViolation(UniqueViolation::new(
            "student_courseenrollment",
            ["user_id", "course_id"],
        )));
    }
    Ok(())
}

fn restore<K: Ord, V>(table: &mut BTreeMap<K, V>, id: K, row: Option<V>) {
    match row {
        Some(row) => {
            table.insert(id, row);
        }
        None => {
            table.remove(&id);
        }
    }
}

/// Inserts `row` as `id` into a table a database may lack (`None`), unless a row `clashes`
/// with it on a unique constraint.
///
/// # Errors
/// [`StoreError::Misuse`] (`missing`) without the table; the `violation` of the constraint.
pub(crate) fn insert_unique<K: Ord, V>(
    table: Option<&mut BTreeMap<K, V>>,
    missing: &'static str,
    id: K,
    row: V,
    clashes: impl Fn(&V, &V) -> bool,
    violation: impl FnOnce() -> UniqueViolation,
) -> StoreResult<()> {
    let Some(table) = table else { return Err(StoreError::Misuse(missing)) };
    if table.values().any(|other| clashes(other, &row)) {
        return Err(StoreError::UniqueViolation(violation()));
    }
    table.insert(id, row);
    Ok(())
}

/// Whether two course access roles have the same `(user_id, org, course_id, role)`, the
/// course compared under `collation`.
pub(crate) fn same_role(collation: Collation) -> impl Fn(&CourseAccessRoleRow, &CourseAccessRoleRow) -> bool {
    move |a: &CourseAccessRoleRow, b: &CourseAccessRoleRow| {
        a.user_id == b.user_id && a.org == b.org && collation.equal(&a.course_id, &b.course_id) && a.role == b.role
    }
}

/// The `(user_id, org, course_id, role)` constraint of `student_courseaccessrole`.
pub(crate) fn role_violation() -> UniqueViolation {
    UniqueViolation::new("student_courseaccessrole", ["user_id", "org", "course_id", "role"])
}

/// The `(role_id, user_id)` constraint of `django_comment_client_role_users`.
pub(crate) fn forum_role_violation() -> UniqueViolation {
    UniqueViolation::new("django_comment_client_role_users", ["role_id", "user_id"])
}

pub(crate) fn lock_state(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave a half-applied row: every change is one
    // map insert. Keep going with the data as it is.
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
