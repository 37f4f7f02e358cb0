//! The plan of a dry run, as the report shows it: per key to link, its program enrollment and
//! user, and per course the course enrollment created, converted (from which mode) or left,
//! and the invitations marked used. Built from the domain's [`KeyPlan`]s, not recomputed.

use domain::{CourseEnrollmentRef, CourseEnrollmentWrite, KeyOutcome, KeyPlan};
use serde::Serialize;

/// A key a real run would link, and what it would write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedKey {
    /// The key as given.
    pub key: String,
    /// The username as given.
    pub username: String,
    /// The user's `auth_user` id.
    pub user_id: i64,
    /// The id of the waiting program enrollment that gets the user.
    pub program_enrollment: i64,
    /// Relinking: the id of the user the program enrollment is unlinked from first.
    pub unlinked_from_user: Option<i64>,
    /// One entry per program course enrollment, in id order.
    pub courses: Vec<PlannedCourse>,
    /// How many pending course access role assignments are fulfilled.
    pub roles: usize,
}

/// What a course of a planned key gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCourse {
    /// The course key.
    pub course_key: String,
    /// The id of the course enrollment the program course enrollment ends up pointing at;
    /// `null` for one this run creates.
    pub course_enrollment: Option<i64>,
    /// `create`, `convert` (mode or activity changed), `leave` (an existing one, unchanged) or
    /// `share` (the one an earlier key of the run creates or changes).
    pub action: &'static str,
    /// For `convert`: the mode the enrollment has now.
    pub from_mode: Option<String>,
    /// For `create` and `convert`: the mode written.
    pub mode: Option<String>,
    /// For `create` and `convert`: whether it is active.
    pub is_active: Option<bool>,
    /// The pending invitations (`student_courseenrollmentallowed` ids) marked used.
    pub invitations: Vec<i64>,
}

/// The keys of `plans` that would be linked, in input order.
pub fn planned(plans: &[KeyPlan]) -> Vec<PlannedKey> {
    plans
        .iter()
        .filter_map(|plan| {
            let KeyOutcome::Link(writes) = &plan.outcome else { return None };
            let courses = writes
                .courses
                .iter()
                .map(|course| {
                    let course_enrollment = match &course.enrollment {
                        CourseEnrollmentRef::Stored(id) => Some(id.0),
                        CourseEnrollmentRef::New { .. } => None,
                    };
                    let (action, from_mode, mode, is_active) = match &course.write {
                        Some(CourseEnrollmentWrite::Create { mode, is_active }) => {
                            ("create", None, Some(mode.to_string()), Some(*is_active))
                        }
                        Some(CourseEnrollmentWrite::Update { mode, is_active, read_mode, .. }) => {
                            ("convert", Some(read_mode.to_string()), Some(mode.to_string()), Some(*is_active))
                        }
                        None if course_enrollment.is_some() => ("leave", None, None, None),
                        None => ("share", None, None, None),
                    };
                    PlannedCourse {
                        course_key: course.course_key.to_string(),
                        course_enrollment,
                        action,
                        from_mode,
                        mode,
                        is_active,
                        invitations: course.invitations.iter().map(|id| id.0).collect(),
                    }
                })
                .collect();
            Some(PlannedKey {
                key: plan.key.to_string(),
                username: plan.username.to_string(),
                user_id: writes.user_id.0,
                program_enrollment: writes.program_enrollment.0,
                unlinked_from_user: writes.unlink.as_ref().map(|unlink| unlink.user_id.0),
                courses,
                roles: writes.roles.len(),
            })
        })
        .collect()
}

impl PlannedKey {
    /// Its lines in the text report, each with its newline:
    /// `would link {key} to {username} (user id {n}): program enrollment {id}`, then per course
    /// `  {course}: …`.
    pub fn text(&self) -> String {
        let mut out = format!(
            "would link {} to {} (user id {}): program enrollment {}",
            self.key, self.username, self.user_id, self.program_enrollment
        );
        if let Some(user) = self.unlinked_from_user {
            out.push_str(&format!(", unlinked from user id {user} first"));
        }
        out.push('\n');
        for course in &self.courses {
            let active = |a: Option<bool>| if a == Some(true) { "active" } else { "inactive" };
            let id = course.course_enrollment.map(|id| id.to_string()).unwrap_or_default();
            let what = match course.action {
                "create" => {
                    format!(
                        "course enrollment created ({}, {})",
                        course.mode.as_deref().unwrap_or(""),
                        active(course.is_active)
                    )
                }
                "convert" => format!(
                    "course enrollment {id} converted from {} to {} ({})",
                    course.from_mode.as_deref().unwrap_or(""),
                    course.mode.as_deref().unwrap_or(""),
                    active(course.is_active)
                ),
                "leave" => format!("course enrollment {id} left as it is"),
                _ => "the course enrollment an earlier key creates".to_owned(),
            };
            out.push_str(&format!("  {}: {what}", course.course_key));
            if !course.invitations.is_empty() {
                let ids: Vec<String> = course.invitations.iter().map(ToString::to_string).collect();
                out.push_str(&format!("; invitation(s) {} marked used", ids.join(", ")));
            }
            out.push('\n');
        }
        if self.roles > 0 {
            out.push_str(&format!("  {} pending course access role assignment(s) fulfilled\n", self.roles));
        }
        out
    }
}
