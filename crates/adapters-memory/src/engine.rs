//! The engine under both the fixture API and the ports: the tables with their id sequences,
//! the undo journal that makes transactions and savepoints, the writes of a row with its
//! history row and its undo entry (`save_*`), and the unique constraints.
//!
//! It imports neither `database.rs` (the fixture API) nor `transaction.rs` (the ports); both
//! build on it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use domain::{
    CourseEnrollmentId, InvitationId, ProgramCourseEnrollmentId, ProgramEnrollmentId, RoleAssignmentId, UniqueViolation,
};
use ports::{StoreError, StoreResult};

use crate::rows::{
    CourseAccessRoleRow, CourseEnrollmentRow, HistoryRow, HistoryType, InvitationRow, ProgramCourseEnrollmentRow,
    ProgramEnrollmentRow, RoleAssignmentRow, Tables,
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
    ProgramEnrollmentHistory,
    ProgramCourseEnrollmentHistory,
    CourseEnrollmentHistory,
}

/// The tables and the journal of the open transaction.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) tables: Tables,
    pub(crate) journal: Vec<Undo>,
    next_ids: [i64; 8],
    next_history_id: u64,
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

    /// Stores a PE's new state (`before` is its old one) with its `~` history row, undoably.
    pub(crate) fn save_program_enrollment(
        &mut self,
        before: ProgramEnrollmentRow,
        after: ProgramEnrollmentRow,
        now: SystemTime,
    ) {
        self.journal.push(Undo::ProgramEnrollment(after.id, Some(before)));
        self.tables.program_enrollments.insert(after.id, after.clone());
        let history = self.history(after, HistoryType::Update, now);
        self.tables.program_enrollment_history.push(history);
        self.journal.push(Undo::ProgramEnrollmentHistory);
    }

    /// Stores a PCE's new state with its `~` history row, undoably.
    pub(crate) fn save_program_course_enrollment(
        &mut self,
        before: ProgramCourseEnrollmentRow,
        after: ProgramCourseEnrollmentRow,
        now: SystemTime,
    ) {
        self.journal.push(Undo::ProgramCourseEnrollment(after.id, Some(before)));
        self.tables.program_course_enrollments.insert(after.id, after.clone());
        let history = self.history(after, HistoryType::Update, now);
        self.tables.program_course_enrollment_history.push(history);
        self.journal.push(Undo::ProgramCourseEnrollmentHistory);
    }

    /// Stores a course enrollment (new when `before` is `None`: history `+`, else `~`), undoably.
    pub(crate) fn save_course_enrollment(
        &mut self,
        before: Option<CourseEnrollmentRow>,
        after: CourseEnrollmentRow,
        now: SystemTime,
    ) {
        let kind = if before.is_some() { HistoryType::Update } else { HistoryType::Insert };
        self.journal.push(Undo::CourseEnrollment(after.id, before));
        self.tables.course_enrollments.insert(after.id, after.clone());
        let history = self.history(after, kind, now);
        self.tables.course_enrollment_history.push(history);
        self.journal.push(Undo::CourseEnrollmentHistory);
    }

    fn history<T>(&mut self, row: T, kind: HistoryType, now: SystemTime) -> HistoryRow<T> {
        HistoryRow {
            history_id: self.next_history_id(),
            row,
            history_date: now,
            history_type: kind,
            history_user_id: None,
            history_change_reason: None,
        }
    }

    pub(crate) fn check_program_enrollment_unique(&self, row: &ProgramEnrollmentRow) -> StoreResult<()> {
        for other in self.tables.program_enrollments.values().filter(|o| o.id != row.id) {
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

    pub(crate) fn check_course_enrollment_unique(&self, row: &CourseEnrollmentRow) -> StoreResult<()> {
        let clash = self
            .tables
            .course_enrollments
            .values()
            .any(|o| o.id != row.id && o.user_id == row.user_id && o.course_id == row.course_id);
        if clash {
            return Err(StoreError::UniqueViolation(UniqueViolation::new(
                "student_courseenrollment",
                ["user_id", "course_id"],
            )));
        }
        Ok(())
    }
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

/// Whether two course access roles have the same `(user_id, org, course_id, role)`.
pub(crate) fn same_role(a: &CourseAccessRoleRow, b: &CourseAccessRoleRow) -> bool {
    a.user_id == b.user_id && a.org == b.org && a.course_id == b.course_id && a.role == b.role
}

/// The `(user_id, org, course_id, role)` constraint of `student_courseaccessrole`.
pub(crate) fn role_violation() -> UniqueViolation {
    UniqueViolation::new("student_courseaccessrole", ["user_id", "org", "course_id", "role"])
}

pub(crate) fn lock_state(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave a half-applied row: every change is one
    // map insert. Keep going with the data as it is.
    state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
