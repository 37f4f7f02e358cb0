//! `GET /support/program_enrollments_inspector`: upstream's `ProgramEnrollmentsInspectorView`
//! as a server-rendered page (no JavaScript), in the link page's manner ([`crate::page`]): a
//! search form (username or email; or institution, a choice of the SAML providers'
//! organisations, and external key), then the learner as tables: the account, its SSO uids,
//! and each program enrollment with its course enrollments (course key linked, mode, active).
//! Every value goes through maud, which escapes it.
//!
//! As upstream's page, a first visit (no value at all) shows the form without an error; an
//! institution without a key (or a key without an institution) shows the "To perform a
//! search" message. A table the database lacks is shown as an error.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use domain::{
    InspectedLearner, InspectedProgramEnrollment, InspectorQuery, InspectorSearch, LearnerProgramEnrollments,
    inspector_org_keys,
};
use maud::{DOCTYPE, Markup, html};
use ports::{LearnerRecords, StoreError};

use crate::inspector::{InspectorFailure, page_caller, query_of};
use crate::inspector_json::{CourseUrls, ProgramTitles, inspector_time};
use crate::state::{AppState, LOG_TARGET};

/// The page's title and heading.
pub const TITLE: &str = "Program Enrollments Inspector";

/// What the page shows.
#[derive(Debug, Default)]
pub struct View<'a> {
    /// The query, to refill the form.
    pub query: InspectorQuery,
    /// The organisations to choose from (sorted).
    pub org_keys: Vec<String>,
    /// Errors to show (the search's message, a missing table).
    pub errors: Vec<String>,
    /// The learner found.
    pub found: Option<LearnerProgramEnrollments>,
    /// Where course links point.
    pub urls: Option<&'a CourseUrls>,
    /// Program titles.
    pub titles: Option<&'a ProgramTitles>,
}

fn enrollment_table(pe: &InspectedProgramEnrollment, urls: &CourseUrls, titles: Option<&ProgramTitles>) -> Markup {
    let title = titles.and_then(|t| t.get(&pe.program_uuid)).map_or("", String::as_str);
    html! {
        section class="enrollment" {
            h3 {
                "Program: "
                @if !title.is_empty() { (title) " " }
                "(" (pe.program_uuid.to_string()) ")"
            }
            table {
                thead { tr { th { "Status" } th { "Created At" } th { "Last Update" } th { "External User Key" } } }
                tbody {
                    tr {
                        td { (pe.status) }
                        td { (inspector_time(pe.created)) }
                        td { (inspector_time(pe.modified)) }
                        td { (pe.external_user_key.as_deref().unwrap_or("")) }
                    }
                }
            }
            h4 { "Program Course Enrollments" }
            @if pe.program_course_enrollments.is_empty() {
                p { "No program course enrollments." }
            } @else {
                table class="courses" {
                    thead {
                        tr {
                            th { "Course Key" } th { "Status" } th { "Created At" } th { "Last Update" }
                            th { "Course ID" } th { "Is Active" } th { "Mode/Track" }
                        }
                    }
                    tbody {
                        @for pce in &pe.program_course_enrollments {
                            tr {
                                td { a href=(urls.of(&pce.course_key)) { (pce.course_key) } }
                                td { (pce.status) }
                                td { (inspector_time(pce.created)) }
                                td { (inspector_time(pce.modified)) }
                                @match &pce.course_enrollment {
                                    Some(ce) => {
                                        td { (ce.course_id) }
                                        td { (if ce.is_active { "True" } else { "False" }) }
                                        td { (ce.mode) }
                                    },
                                    None => { td { "N/A" } td { "N/A" } td { "N/A" } },
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn learner(found: &LearnerProgramEnrollments, urls: &CourseUrls, titles: Option<&ProgramTitles>) -> Markup {
    html! {
        section aria-labelledby="learner-heading" {
            h2 id="learner-heading" { "Learner" }
            table class="account" {
                tbody {
                    @match &found.learner {
                        InspectedLearner::Account { username, email, .. } => {
                            tr { th scope="row" { "Username" } td { (username) } }
                            tr { th scope="row" { "Email" } td { (email) } }
                        },
                        InspectedLearner::ExternalKeyOnly { external_user_key } => {
                            tr { th scope="row" { "External User Key" } td { (external_user_key) } }
                            tr { th scope="row" { "Account" } td { "No edX account holds this key" } }
                        },
                    }
                }
            }
            @if let InspectedLearner::Account { sso_uids, .. } = &found.learner {
                h3 { "SSO records" }
                @if sso_uids.is_empty() {
                    p { "No SSO records." }
                } @else {
                    table class="sso" {
                        thead { tr { th { "SSO uid" } } }
                        tbody { @for uid in sso_uids { tr { td { (uid) } } } }
                    }
                }
            }
            @for note in &found.notes {
                div class="note" role="note" { (note.to_string()) }
            }
        }
        section aria-labelledby="enrollments-heading" {
            h2 id="enrollments-heading" { "Program Enrollments" }
            @if found.enrollments.is_empty() {
                p { "No program enrollments." }
            }
            @for pe in &found.enrollments {
                (enrollment_table(pe, urls, titles))
            }
        }
    }
}

/// The page's HTML.
pub fn render(view: &View<'_>) -> Markup {
    let default_urls = CourseUrls::default();
    let urls = view.urls.unwrap_or(&default_urls);
    let mut orgs: Vec<&str> = view.org_keys.iter().map(String::as_str).collect();
    if !view.query.org_key.is_empty() && !orgs.contains(&view.query.org_key.as_str()) {
        orgs.push(&view.query.org_key);
    }
    html! {
        (DOCTYPE)
        html lang="en" {
            (crate::page::head(
                TITLE,
                "64rem",
                "input,select{width:100%;box-sizing:border-box;font:inherit}\
                 fieldset{margin-top:1rem}\
                 table{border-collapse:collapse;margin:.5rem 0;width:100%}\
                 th,td{border:1px solid #999;padding:.25rem .5rem;text-align:left;vertical-align:top}\
                 .note{border:1px solid #a80;background:#ffe;padding:.5rem;margin:.3rem 0}"
            ))
            body {
                main id="program-enrollments-inspector-page" {
                    h1 { (TITLE) }
                    @for error in &view.errors {
                        div class="alert" role="alert" { (error) }
                    }
                    form method="get" {
                        label for="edx_user" { "Username or email" }
                        input id="edx_user" name="edx_user" type="text" value=(view.query.edx_user);
                        fieldset {
                            legend { "Or: institution and external key" }
                            label for="org_key" { "Identity-providing institution" }
                            select id="org_key" name="org_key" {
                                option value="" selected[view.query.org_key.is_empty()] { "(none)" }
                                @for org in &orgs {
                                    option value=(org) selected[*org == view.query.org_key] { (org) }
                                }
                            }
                            label for="external_user_key" { "External user key" }
                            input id="external_user_key" name="external_user_key" type="text"
                                value=(view.query.external_user_key);
                        }
                        button type="submit" { "Search Program Records" }
                    }
                    @if let Some(found) = &view.found {
                        (learner(found, urls, view.titles))
                    }
                }
            }
        }
    }
}

/// The organisations the form offers, or the error that hides them.
async fn org_keys(records: &dyn LearnerRecords) -> Result<Result<Vec<String>, String>, StoreError> {
    match records.saml_providers().await {
        Ok(rows) => Ok(Ok(inspector_org_keys(&rows))),
        Err(missing @ StoreError::MissingTable { .. }) => Ok(Err(missing.to_string())),
        Err(error) => Err(error),
    }
}

/// `GET`: the form, and the result of the search its query asks for.
pub async fn show(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let (account, turn) = match page_caller(&state, &headers, &uri).await {
        Ok(found) => found,
        Err(failure) => return failure.into_response(),
    };
    let query = query_of(uri.query());
    let mut view =
        View { urls: Some(&state.config.course_urls), titles: Some(&state.config.program_titles), ..View::default() };
    let read = async {
        match org_keys(&*state.store).await? {
            Ok(keys) => view.org_keys = keys,
            Err(missing) => view.errors.push(missing),
        }
        if !matches!(query.search(), InspectorSearch::Nothing { all_empty: true }) {
            match crate::inspector::search_found(&state, &query).await? {
                Ok(found) => view.found = Some(found),
                Err(error) => {
                    if !view.errors.contains(&error) {
                        view.errors.push(error);
                    }
                }
            }
        }
        Ok::<(), StoreError>(())
    };
    let result = read.await;
    drop(turn);
    if let Err(error) = result {
        return InspectorFailure::Store(error).into_response();
    }
    tracing::info!(target: LOG_TARGET, "user {} opened the inspector page", account.username);
    view.query = query;
    (StatusCode::OK, Html(render(&view).into_string())).into_response()
}
