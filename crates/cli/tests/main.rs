//! The one integration-test binary of the package: each file of this folder, and `common/`,
//! is a module.
mod cli;
mod common;
mod concurrency;
mod faults;
mod hostile_input;
mod input_properties;
mod inspect;
mod jobs;
mod later_upstream;
mod layout;
mod least_privilege;
mod operator;
mod readme_session;
mod serve;
mod tracking_log;
mod url_secrets;
