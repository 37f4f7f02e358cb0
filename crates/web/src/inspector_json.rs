//! The inspector's answers as the support MFE reads them (`support-web.md` §2.4, §1.6): the
//! `learner_program_enrollments` object and the SSO records. Shared by the service's endpoints
//! and `program-enrollments inspect --format json`.

use domain::{
    InspectedLearner, InspectedProgramCourseEnrollment, InspectedProgramEnrollment, LearnerProgramEnrollments,
    ProgramUuid, SsoRecord, Timestamp,
};
use serde_json::{Map, Value, json};

/// Where a course's link points: upstream's relative courseware URL, or the Learning MFE's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CourseUrls {
    /// `--learning-mfe-url`: links are `{url}/course/{course_key}/home` when given.
    pub learning_mfe_url: Option<String>,
}

impl CourseUrls {
    /// The URL of a course (`course_url`).
    pub fn of(&self, course_key: &str) -> String {
        match &self.learning_mfe_url {
            Some(base) => format!("{}/course/{course_key}/home", base.trim_end_matches('/')),
            None => format!("/courses/{course_key}/course/"),
        }
    }
}

/// Program titles by UUID (`--program-titles`); a program without one is shown as `""`, as
/// upstream shows a program missing from the LMS's catalog cache.
pub type ProgramTitles = std::collections::HashMap<ProgramUuid, String>;

/// DRF's `DateTimeField(format='%Y-%m-%dT%H:%M:%S')` in UTC: no offset, no fraction.
pub fn inspector_time(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_micros(at.0)
        .map_or_else(String::new, |at| at.format("%Y-%m-%dT%H:%M:%S").to_string())
}

/// The same moment as the SSO records show it: ISO-8601 with microseconds and `Z`.
pub fn sso_time(at: Timestamp) -> String {
    chrono::DateTime::from_timestamp_micros(at.0)
        .map_or_else(String::new, |at| at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
}

fn course_enrollment(pce: &InspectedProgramCourseEnrollment, urls: &CourseUrls) -> Value {
    json!({
        "created": inspector_time(pce.created),
        "modified": inspector_time(pce.modified),
        "status": pce.status,
        "course_key": pce.course_key,
        "course_enrollment": pce.course_enrollment.as_ref().map(|ce| json!({
            "course_id": ce.course_id,
            "is_active": ce.is_active,
            "mode": ce.mode,
        })),
        "course_url": urls.of(&pce.course_key),
    })
}

fn program_enrollment(pe: &InspectedProgramEnrollment, urls: &CourseUrls, titles: &ProgramTitles) -> Value {
    json!({
        "created": inspector_time(pe.created),
        "modified": inspector_time(pe.modified),
        "external_user_key": pe.external_user_key,
        "status": pe.status,
        "program_uuid": pe.program_uuid.to_string(),
        "program_course_enrollments": pe.program_course_enrollments.iter().map(|p| course_enrollment(p, urls)).collect::<Vec<_>>(),
        "program_name": titles.get(&pe.program_uuid).cloned().unwrap_or_default(),
    })
}

/// `learner_program_enrollments`: `user`, then `enrollments` when there are any. The notes
/// (records upstream would have failed on) go under `notes` when there are any; the MFE
/// ignores keys it does not know. `id_verification` is left out: the MFE does not read it.
pub fn learner_program_enrollments(
    found: &LearnerProgramEnrollments,
    urls: &CourseUrls,
    titles: &ProgramTitles,
) -> Value {
    let mut object = Map::new();
    let user = match &found.learner {
        InspectedLearner::Account { username, email, sso_uids } => {
            let mut user = Map::new();
            user.insert("username".into(), json!(username));
            user.insert("email".into(), json!(email));
            if !sso_uids.is_empty() {
                user.insert("sso_list".into(), sso_uids.iter().map(|uid| json!({ "uid": uid })).collect());
            }
            Value::Object(user)
        }
        InspectedLearner::ExternalKeyOnly { external_user_key } => json!({ "external_user_key": external_user_key }),
    };
    object.insert("user".into(), user);
    if !found.enrollments.is_empty() {
        let enrollments = found.enrollments.iter().map(|pe| program_enrollment(pe, urls, titles)).collect();
        object.insert("enrollments".into(), enrollments);
    }
    if !found.notes.is_empty() {
        object.insert("notes".into(), found.notes.iter().map(|n| json!(n.to_string())).collect());
    }
    Value::Object(object)
}

/// `GET /support/sso_records/…`: one object per record, `extraData` as a JSON string, `history`
/// newest first.
pub fn sso_records(records: &[SsoRecord]) -> Value {
    records
        .iter()
        .map(|r| {
            json!({
                "provider": r.record.provider,
                "uid": r.record.uid,
                "created": sso_time(r.record.created),
                "modified": sso_time(r.record.modified),
                "extraData": r.record.extra_data,
                "history": r.history.iter().map(|h| json!({
                    "uid": h.uid,
                    "provider": h.provider,
                    "created": sso_time(h.created),
                    "modified": sso_time(h.modified),
                    "extraData": h.extra_data,
                    "history_date": sso_time(h.history_date),
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}
