//! `program-enrollments serve`, tested from outside: the real binary started with
//! `--listen 127.0.0.1:0` (its address read from `listening on http://ADDR` on standard error),
//! requests built as the support micro-frontend builds them (multipart `FormData`,
//! `USE-JWT-COOKIE: true`, the two LMS JWT cookies, `csrftoken` plus `X-CSRFToken`, `Origin`),
//! tokens minted as the LMS mints them (RS512 against a JWKS made for the run with `openssl`),
//! and the rows read back from the database.
//!
//! - [`api`]: every validation case, a real link with each kind of per-key error, a key given
//!   twice, Python's tuple repr, on SQLite, PostgreSQL and MariaDB.
//! - [`security`]: tokens, permissions, CSRF, CORS, oversized and malformed requests, secrets
//!   in the logs.
//! - [`page`]: the server-rendered page over HTTP and in headless Chromium over WebDriver.
//! - [`inspector`]: the Program Enrollments Inspector's endpoints and page, on SQLite,
//!   PostgreSQL and MariaDB, with the MFE's unencoded queries.
//! - [`load`]: 50 concurrent clients on PostgreSQL and MariaDB.
//! - [`lifecycle`]: refusing to start, SIGTERM, SQLite's single writer, a database fault.
//! - [`timing`]: the closing note's figures (`#[ignore]`d; run by hand in release mode).
//!
//! Environment: `TEST_POSTGRES_URL`, `TEST_MYSQL_URL` (admin URLs; a missing one skips its
//! tests, or fails them with `REQUIRE_DB_TESTS=1`), `/usr/bin/chromium` and
//! `/usr/bin/chromedriver` (missing: skipped, or failed with `REQUIRE_DB_TESTS=1`), `openssl`
//! and `python3` on the `PATH`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

mod api;
mod harness;
mod inspector;
mod lifecycle;
mod load;
mod page;
mod security;
mod timing;
