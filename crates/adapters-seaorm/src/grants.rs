//! The privileges `link` needs on an Open edX database, and those the inspector needs: the
//! two lists, as data.
//!
//! [`INSPECT_GRANTS`] is `SELECT` only, on the tables `inspect` and the service's inspector
//! endpoints read (and the account tables the service's permission check reads): a user holding
//! only these can inspect and cannot write; `SeaOrmDatabase::connect_for` with
//! `Purpose::Inspect` (and `Purpose::Serve`, whose link then fails on its first write) accepts
//! such a user.
//!
//! [`LINK_GRANTS`] names, for each table the linking touches, exactly the statements it runs
//! there; nothing else is needed on the tables: no DDL, no `REFERENCES` (foreign keys are
//! checked with the owner's rights on PostgreSQL and without a privilege on MariaDB), and
//! `DELETE` on one table only: a course access role assignment is deleted once fulfilled.
//! [`grant_statements`] renders it as the `GRANT` statements the README shows (a unit test
//! compares them, so the README cannot drift from this list) and `tests/tests/least_privilege.rs`
//! gives a user exactly these and runs a link as that user on PostgreSQL and MariaDB.
//!
//! Beyond the tables:
//! - PostgreSQL: `CONNECT` on the database and `USAGE` on the schema (both granted to `PUBLIC`
//!   by default, listed for servers where that was revoked). The ids of the tables the linking
//!   inserts into are identity columns on a schema Django 4.1 or later created, which need no
//!   privilege on their sequence; a database created by an older Django has `serial` columns,
//!   whose sequences then need `USAGE` (see [`SERIAL_SEQUENCES`]).
//! - The catalog read at connection (`information_schema.columns`, `pg_index`, `pg_class`,
//!   `pg_attribute`, `pg_namespace` on PostgreSQL; `information_schema.COLUMNS` and
//!   `STATISTICS` on MariaDB) needs no grant: each catalog shows the tables the user holds any
//!   privilege on, which are the tables below.
//! - Session settings (`SET TRANSACTION ISOLATION LEVEL READ COMMITTED`, PostgreSQL's `SET LOCAL
//!   random_page_cost`) need none.

use crate::backend::Backend;
use crate::catalog::tables;

/// A privilege on a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Privilege {
    /// `SELECT`: reads, and the columns an `UPDATE`'s condition or an `INSERT … SELECT` reads.
    Select,
    /// `INSERT`.
    Insert,
    /// `UPDATE`.
    Update,
    /// `DELETE`.
    Delete,
}

impl Privilege {
    /// The keyword, as `GRANT` takes it.
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Select => "SELECT",
            Self::Insert => "INSERT",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// The privileges the linking needs on one table, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableGrant {
    /// The table, as Open edX names it.
    pub table: &'static str,
    /// The privileges, in `SELECT`, `INSERT`, `UPDATE`, `DELETE` order.
    pub privileges: &'static [Privilege],
    /// What the linking does there.
    pub purpose: &'static str,
}

/// Every table `program-enrollments link` reads or writes, with exactly the privileges it needs
/// there (`migrate` is DDL run by the tables' owner on a standalone database; `demo` is SQLite).
pub const LINK_GRANTS: &[TableGrant] = {
    use Privilege::{Delete, Insert, Select, Update};
    &[
        TableGrant { table: tables::USER, privileges: &[Select], purpose: "users by username, usernames by id" },
        TableGrant {
            table: tables::COURSE_OVERVIEW,
            privileges: &[Select],
            purpose: "which courses exist; their start, pacing and highlights (schedules)",
        },
        TableGrant {
            table: tables::PE,
            privileges: &[Select, Update],
            purpose: "program enrollments by key and by user; sets `user_id` and `modified`",
        },
        TableGrant {
            table: tables::PCE,
            privileges: &[Select, Update],
            purpose: "their program course enrollments; sets `course_enrollment_id` and `modified`",
        },
        TableGrant {
            table: tables::CE,
            privileges: &[Select, Insert, Update],
            purpose: "course enrollments: read, created (`INSERT … RETURNING id` on PostgreSQL), mode and `is_active` changed",
        },
        TableGrant {
            table: tables::INVITATION,
            privileges: &[Select, Update],
            purpose: "pending invitations by email; sets `user_id`",
        },
        TableGrant {
            table: tables::COURSE_MODE,
            privileges: &[Select],
            purpose: "with --relink: whether a course offers `audit`; the verified mode's expiration (upgrade deadlines)",
        },
        TableGrant {
            table: tables::ROLE,
            privileges: &[Select, Insert],
            purpose: "course access roles: whether one exists; granted",
        },
        TableGrant {
            table: tables::ROLE_ASSIGNMENT,
            privileges: &[Select, Delete],
            purpose: "pending role assignments of the PCEs; deleted once fulfilled",
        },
        TableGrant {
            table: tables::FORUM_ROLE,
            privileges: &[Select, Insert],
            purpose: "the course's `Student` discussion role: read, created when missing",
        },
        TableGrant {
            table: tables::FORUM_ROLE_USERS,
            privileges: &[Select, Insert],
            purpose: "learners added to the `Student` role unless already there",
        },
        TableGrant {
            table: tables::SCHEDULE,
            privileges: &[Select, Insert, Update],
            purpose: "schedules: created with new enrollments; `start_date` reset on a mode change (self-paced)",
        },
        TableGrant {
            table: tables::SCHEDULE_EXPERIENCE,
            privileges: &[Insert],
            purpose: "each new schedule's experience type",
        },
        TableGrant {
            table: tables::UPGRADE_DEADLINE,
            privileges: &[Select],
            purpose: "the dynamic upgrade deadline configuration: global",
        },
        TableGrant {
            table: tables::ORG_UPGRADE_DEADLINE,
            privileges: &[Select],
            purpose: "the dynamic upgrade deadline configuration: per organisation",
        },
        TableGrant {
            table: tables::COURSE_UPGRADE_DEADLINE,
            privileges: &[Select],
            purpose: "the dynamic upgrade deadline configuration: per course run",
        },
        TableGrant {
            table: tables::PE_HISTORY,
            privileges: &[Insert],
            purpose: "history rows (`INSERT … SELECT` from the live table)",
        },
        TableGrant {
            table: tables::PCE_HISTORY,
            privileges: &[Insert],
            purpose: "history rows (`INSERT … SELECT` from the live table)",
        },
        TableGrant {
            table: tables::CE_HISTORY,
            privileges: &[Insert],
            purpose: "history rows (`INSERT … SELECT` from the live table)",
        },
        TableGrant {
            table: tables::SCHEDULE_HISTORY,
            privileges: &[Insert],
            purpose: "history rows (`INSERT … SELECT` from the live table)",
        },
    ]
};

/// Every table the Program Enrollments Inspector reads (`program-enrollments inspect`, the
/// service's inspector endpoints), `SELECT` only: nothing is written.
pub const INSPECT_GRANTS: &[TableGrant] = {
    use Privilege::Select;
    &[
        TableGrant {
            table: tables::USER,
            privileges: &[Select],
            purpose: "accounts by username or email, and by id; the service's acting user",
        },
        TableGrant {
            table: tables::ROLE,
            privileges: &[Select],
            purpose: "the service only: whether the acting user holds a global `support` role",
        },
        TableGrant {
            table: tables::PE,
            privileges: &[Select],
            purpose: "program enrollments by user, and by external key without case",
        },
        TableGrant { table: tables::PCE, privileges: &[Select], purpose: "their program course enrollments" },
        TableGrant { table: tables::CE, privileges: &[Select], purpose: "the course enrollments those hold" },
        TableGrant {
            table: tables::SOCIAL_AUTH,
            privileges: &[Select],
            purpose: "SSO records: of a user, and by uid without case",
        },
        TableGrant {
            table: tables::SOCIAL_AUTH_HISTORY,
            privileges: &[Select],
            purpose: "the SSO records' history (`/support/sso_records/…`)",
        },
        TableGrant {
            table: tables::SAML_PROVIDER,
            privileges: &[Select],
            purpose: "SAML providers: slug, enabled, backend, organisation",
        },
        TableGrant {
            table: tables::ORGANIZATION,
            privileges: &[Select],
            purpose: "the providers' organisations' short names",
        },
    ]
};

/// The sequences that need `USAGE` on PostgreSQL when the ids are `serial` columns (a schema
/// an older Django created) rather than identity columns: those of the tables the linking
/// inserts into with a generated id.
pub const SERIAL_SEQUENCES: &[&str] = &[
    "student_courseenrollment_id_seq",
    "student_courseaccessrole_id_seq",
    "program_enrollments_historicalprogramenrollment_history_id_seq",
    "program_enrollments_historicalprogramcourseenrol_history_id_seq",
    "django_comment_client_role_id_seq",
    "django_comment_client_role_users_id_seq",
    "schedules_schedule_id_seq",
    "schedules_scheduleexperience_id_seq",
    "schedules_historicalschedule_history_id_seq",
];

/// The `GRANT` statements that give `grantee` exactly what `link` needs on `database`, one per
/// line: on PostgreSQL `CONNECT` on the database, `USAGE` on the schema `public` and
/// [`LINK_GRANTS`] (run them connected to `database`, as the tables' owner); on MariaDB
/// [`LINK_GRANTS`] on `database`.`table` (`grantee` is then a quoted account such as
/// `'program_enrollments'@'%'`). `database` and `grantee` are written as given: they are the
/// operator's identifiers, not input. SQLite has no privileges: empty.
pub fn grant_statements(backend: Backend, database: &str, grantee: &str) -> Vec<String> {
    grant_statements_of(LINK_GRANTS, backend, database, grantee)
}

/// [`grant_statements`] for another list of grants ([`INSPECT_GRANTS`]).
pub fn grant_statements_of(grants: &[TableGrant], backend: Backend, database: &str, grantee: &str) -> Vec<String> {
    // Hand-written: sea-query has no `GRANT`; these are shown to the operator, never run here.
    let privileges = |grant: &TableGrant| grant.privileges.iter().map(|p| p.as_sql()).collect::<Vec<_>>().join(", ");
    match backend {
        Backend::Sqlite => Vec::new(),
        Backend::Postgres => [
            format!("GRANT CONNECT ON DATABASE {database} TO {grantee};"),
            format!("GRANT USAGE ON SCHEMA public TO {grantee};"),
        ]
        .into_iter()
        .chain(grants.iter().map(|g| format!("GRANT {} ON {} TO {grantee};", privileges(g), g.table)))
        .collect(),
        Backend::MySql => {
            grants.iter().map(|g| format!("GRANT {} ON {database}.{} TO {grantee};", privileges(g), g.table)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = include_str!("../../../README.md");
    const SECTION: &str = "## Grants needed on an Open edX database";
    const INSPECT_SECTION: &str = "## Grants the inspector needs";

    /// The README's section `heading`, up to the next section.
    fn section_of(heading: &str) -> &'static str {
        let start = README.find(heading).unwrap_or_else(|| panic!("the README has no section '{heading}'"));
        let rest = &README[start + heading.len()..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        &rest[..end]
    }

    /// The lines of the section's code block that follows the line `marker`.
    fn block_after_in(heading: &str, marker: &str) -> Vec<&'static str> {
        let section = section_of(heading);
        let at = section.find(marker).unwrap_or_else(|| panic!("no '{marker}' in the README's section {heading}"));
        let mut lines = section[at..].lines().skip_while(|l| !l.starts_with("```")).skip(1);
        lines.by_ref().take_while(|l| !l.starts_with("```")).collect()
    }

    fn block_after(marker: &str) -> Vec<&'static str> {
        block_after_in(SECTION, marker)
    }

    /// The section's table: one row per table, `| \`table\` | PRIVILEGES | purpose |`.
    fn table_rows(heading: &str) -> Vec<(String, String)> {
        section_of(heading)
            .lines()
            .filter_map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                let table = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
                Some((table.to_owned(), (*cells.get(2)?).to_owned()))
            })
            .collect()
    }

    fn expected_rows(grants: &[TableGrant]) -> Vec<(String, String)> {
        grants
            .iter()
            .map(|g| (g.table.to_owned(), g.privileges.iter().map(|p| p.as_sql()).collect::<Vec<_>>().join(", ")))
            .collect()
    }

    #[test]
    fn the_readme_lists_exactly_these_grants() {
        assert_eq!(
            table_rows(SECTION),
            expected_rows(LINK_GRANTS),
            "the README's table of grants differs from LINK_GRANTS"
        );

        let postgres = block_after("PostgreSQL, connected");
        assert_eq!(postgres, grant_statements(Backend::Postgres, "edxapp", "program_enrollments"));
        let mariadb = block_after("MariaDB / MySQL");
        assert_eq!(mariadb, grant_statements(Backend::MySql, "edxapp", "'program_enrollments'@'%'"));
        let sequences = block_after("`serial`");
        let expected: Vec<String> =
            SERIAL_SEQUENCES.iter().map(|s| format!("GRANT USAGE ON SEQUENCE {s} TO program_enrollments;")).collect();
        assert_eq!(sequences, expected);
    }

    #[test]
    fn the_readme_lists_exactly_the_inspectors_grants() {
        let rows = table_rows(INSPECT_SECTION);
        assert_eq!(rows, expected_rows(INSPECT_GRANTS), "the README's table differs from INSPECT_GRANTS");
        let postgres = block_after_in(INSPECT_SECTION, "PostgreSQL, connected");
        assert_eq!(postgres, grant_statements_of(INSPECT_GRANTS, Backend::Postgres, "edxapp", "program_inspector"));
        let mariadb = block_after_in(INSPECT_SECTION, "MariaDB / MySQL");
        assert_eq!(mariadb, grant_statements_of(INSPECT_GRANTS, Backend::MySql, "edxapp", "'program_inspector'@'%'"));
    }

    #[test]
    fn the_inspector_only_selects_and_every_table_it_reads_is_granted() {
        assert!(INSPECT_GRANTS.iter().all(|g| g.privileges == [Privilege::Select]));
        let mut granted: Vec<&str> = INSPECT_GRANTS.iter().map(|g| g.table).collect();
        let mut read: Vec<&str> = crate::catalog::INSPECTOR_READS.to_vec();
        granted.sort_unstable();
        read.sort_unstable();
        assert_eq!(granted, read);
    }

    #[test]
    fn sequence_names_fit_postgres_identifiers() {
        // PostgreSQL's identifiers are at most 63 bytes: it names a long table's sequence by
        // shortening the table's part; the DDL of a Django-made schema holds the real names.
        let ddl = include_str!("../../../tests/django/ddl/postgres.sql");
        for sequence in SERIAL_SEQUENCES {
            assert!(sequence.len() <= 63, "{sequence} is longer than 63 bytes");
            assert!(
                ddl.contains(&format!("SEQUENCE NAME public.{sequence}\n")),
                "no sequence {sequence} in Django's DDL"
            );
        }
    }

    #[test]
    fn every_table_the_linking_uses_is_granted() {
        let mut used: Vec<&str> = crate::catalog::REQUIRED.into_iter().chain(crate::catalog::OPTIONAL).collect();
        let mut granted: Vec<&str> = LINK_GRANTS.iter().map(|g| g.table).collect();
        used.sort_unstable();
        granted.sort_unstable();
        assert_eq!(used, granted);
    }

    #[test]
    fn no_ddl_and_delete_only_of_fulfilled_role_assignments() {
        let deleted: Vec<&str> =
            LINK_GRANTS.iter().filter(|g| g.privileges.contains(&Privilege::Delete)).map(|g| g.table).collect();
        assert_eq!(deleted, [tables::ROLE_ASSIGNMENT]);
        assert!(LINK_GRANTS.iter().all(|g| g.privileges.windows(2).all(|w| w[0] < w[1])), "ordered, no repeats");
        let mut tables: Vec<&str> = LINK_GRANTS.iter().map(|g| g.table).collect();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), LINK_GRANTS.len());
    }
}
