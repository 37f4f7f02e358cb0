//! A database user holding exactly [`adapters_seaorm::LINK_GRANTS`] on a throw-away database
//! (PostgreSQL or MariaDB), and the fixture a least-privilege link runs on: every kind of read
//! and write the linking makes, so that each listed privilege is needed.
//!
//! The admin of `TEST_POSTGRES_URL` must be able to create roles (`CREATEROLE`) and the admin of
//! `TEST_MYSQL_URL` to create users and grant (`ALL PRIVILEGES ON *.* … WITH GRANT OPTION`).

use adapters_memory::{HistoryRow, HistoryType, Tables};
use adapters_seaorm::{Backend, INSPECT_GRANTS, LINK_GRANTS, Privilege, grant_statements_of};
use domain::{InvitationId, ProgramEnrollmentId, ProgramUuid, UserId};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

use crate::database::TestDatabase;
use crate::fixtures::{ANIMAL, FRUIT, World, ce, pces, pe};
use crate::sea::SeaTestDatabase;

/// Which of the README's lists a [`RestrictedUser`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grants {
    /// `LINK_GRANTS`.
    Link,
    /// `INSPECT_GRANTS`.
    Inspect,
}

const LINK_SECTION: &str = "## Grants needed on an Open edX database";
const INSPECT_SECTION: &str = "## Grants the inspector needs";

/// A login holding exactly the linking's (or the inspector's) grants on one test database.
pub struct RestrictedUser {
    /// The role (PostgreSQL) or user (MariaDB) name, random.
    pub name: String,
    /// Its password: distinctive, to look for in output.
    pub password: String,
    /// A URL that logs in as this user on the test database.
    pub url: String,
    backend: Backend,
    database: String,
}

impl RestrictedUser {
    /// Creates the user on `db`'s server and grants it exactly what `link` needs on `db`. On
    /// PostgreSQL, `PUBLIC`'s default rights on the database and on the schema `public` are
    /// revoked first, so that the user holds nothing but the README's grants.
    pub async fn create(db: &SeaTestDatabase) -> Self {
        Self::create_with(db, Grants::Link).await
    }

    /// Creates a user holding exactly the README's inspector grants
    /// ([`adapters_seaorm::INSPECT_GRANTS`]), `PUBLIC`'s defaults revoked as by [`Self::create`].
    pub async fn create_inspector(db: &SeaTestDatabase) -> Self {
        Self::create_with(db, Grants::Inspect).await
    }

    async fn create_with(db: &SeaTestDatabase, which: Grants) -> Self {
        let backend = db.backend();
        let id = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("lp_{}", &id[..12]);
        let password = format!("Lp-Secret-{}-pw", &id[12..]);
        let (scheme, rest) = db.url().split_once("://").unwrap();
        let (_admin, host_and_path) = rest.rsplit_once('@').unwrap();
        let path = host_and_path.split(['?', '#']).next().unwrap();
        let database = path.rsplit('/').next().unwrap().to_owned();
        let url = format!("{scheme}://{name}:{password}@{host_and_path}");
        let user = Self { name, password, url, backend, database };
        let mut statements = match backend {
            Backend::Postgres => vec![
                format!("CREATE ROLE {} LOGIN PASSWORD '{}'", user.name, user.password),
                format!("REVOKE ALL ON DATABASE {} FROM PUBLIC", user.database),
                "REVOKE ALL ON SCHEMA public FROM PUBLIC".to_owned(),
            ],
            Backend::MySql => vec![format!("CREATE USER {} IDENTIFIED BY '{}'", user.grantee(), user.password)],
            Backend::Sqlite => panic!("SQLite has no users"),
        };
        let grants = match which {
            Grants::Link => readme_grant_statements(backend, &user.database, &user.grantee()),
            Grants::Inspect => readme_inspector_grant_statements(backend, &user.database, &user.grantee()),
        };
        let listed = match which {
            Grants::Link => LINK_GRANTS,
            Grants::Inspect => INSPECT_GRANTS,
        };
        // The unit test of `adapters_seaorm::grants` compares the README with the lists; here
        // the README's own statements are what the user gets.
        assert_eq!(
            grants.iter().map(|sql| sql.trim_end_matches(';')).collect::<Vec<_>>(),
            grant_statements_of(listed, backend, &user.database, &user.grantee())
                .iter()
                .map(|sql| sql.trim_end_matches(';'))
                .collect::<Vec<_>>(),
            "the README's grants differ from the list"
        );
        statements.extend(grants);
        if which == Grants::Link && backend == Backend::Postgres && db.is_django() {
            // The README's grants on the sequences of `serial` ids, on a schema Django made:
            // they must name sequences that exist there (their names are cut at 63 bytes).
            statements.extend(readme_statements_after(LINK_SECTION, "`serial`", &user.database, &user.grantee()));
        }
        for sql in statements {
            admin(db, &sql).await;
        }
        user
    }

    /// The grantee as `GRANT` takes it.
    pub fn grantee(&self) -> String {
        match self.backend {
            Backend::MySql => format!("'{}'@'%'", self.name),
            _ => self.name.clone(),
        }
    }

    fn on(&self, table: &str) -> String {
        match self.backend {
            Backend::MySql => format!("{}.{table}", self.database),
            _ => table.to_owned(),
        }
    }

    /// Takes `privilege` on `table` away.
    pub async fn revoke(&self, db: &SeaTestDatabase, privilege: Privilege, table: &str) {
        admin(db, &format!("REVOKE {} ON {} FROM {}", privilege.as_sql(), self.on(table), self.grantee())).await;
    }

    /// Gives `privilege` on `table` back.
    pub async fn grant(&self, db: &SeaTestDatabase, privilege: Privilege, table: &str) {
        admin(db, &format!("GRANT {} ON {} TO {}", privilege.as_sql(), self.on(table), self.grantee())).await;
    }

    /// Runs `sql` as this user on its own connection; the driver's error if it fails.
    pub async fn try_execute(&self, sql: &str) -> Result<(), DbErr> {
        let conn: DatabaseConnection = adapters_seaorm::open(&self.url).await.unwrap_or_else(|e| panic!("{e}"));
        let result = conn.execute_unprepared(sql).await.map(|_| ());
        conn.close().await.ok();
        result
    }

    /// Removes the user and every privilege it holds (call before the database is dropped,
    /// with no connection of the user left open).
    pub async fn drop(self, db: &SeaTestDatabase) {
        let statements = match self.backend {
            // `DROP OWNED BY` needs membership in the role, which `CREATEROLE` does not give
            // before PostgreSQL 16: the owner of the objects revokes instead.
            Backend::Postgres => vec![
                format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {}", self.name),
                format!("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {}", self.name),
                format!("REVOKE ALL ON SCHEMA public FROM {}", self.name),
                format!("REVOKE ALL ON DATABASE {} FROM {}", self.database, self.name),
                format!("DROP ROLE {}", self.name),
            ],
            _ => vec![format!("DROP USER {}", self.grantee())],
        };
        for sql in statements {
            admin(db, &sql).await;
        }
    }
}

async fn admin(db: &SeaTestDatabase, sql: &str) {
    let conn = db.connection();
    let statement = Statement::from_string(conn.get_database_backend(), sql.to_owned());
    conn.execute_raw(statement).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Whether `error` is the server refusing a statement for lack of a privilege.
pub fn is_denied(error: &DbErr) -> bool {
    let text = error.to_string();
    text.contains("permission denied") || text.contains("must be owner") || text.contains("command denied")
}

/// What the least-privilege fixture holds.
pub struct Fixture {
    /// The program.
    pub program: ProgramUuid,
    /// `user_1`: an active `audit` CE in FRUIT (changed to `masters`), none in ANIMAL
    /// (created), a pending invitation to ANIMAL (marked used), a `staff` role assignment on
    /// its FRUIT PCE (fulfilled: role granted, assignment deleted).
    pub user_1: UserId,
    /// `user_2`: no CE (one created).
    pub user_2: UserId,
    /// `user_3`: holds key `0004` with an active `masters` CE in FRUIT (relinked away: the CE
    /// deactivated and moved to `audit`, which FRUIT offers).
    pub user_3: UserId,
    /// `user_4`: gets key `0004` (a CE created).
    pub user_4: UserId,
    /// Key `0001`, waiting with PCEs in FRUIT and ANIMAL, for `user_1`.
    pub pe_1: ProgramEnrollmentId,
    /// Key `0002`, waiting with a PCE in FRUIT, for `user_2`.
    pub pe_2: ProgramEnrollmentId,
    /// Key `0004`, linked to `user_3`, for `user_4`.
    pub pe_4: ProgramEnrollmentId,
    /// `user_1`'s invitation to ANIMAL.
    pub invitation: InvitationId,
}

/// The pairs to link (with relinking on): `0001 → user_1`, `0002 → user_2`, `0003 → nobody`
/// (an unknown user) and `0004 → user_4` (relinked from `user_3`).
pub const PAIRS: &[(&str, &str)] = &[("0001", "user_1"), ("0002", "user_2"), ("0003", "nobody"), ("0004", "user_4")];

/// The rules of the least-privilege runs: relinking on, so that every table is used.
pub const RULES: domain::RuleOptions = domain::RuleOptions { relink: true, case_insensitive_keys: false };

/// Inserts the fixture (as the admin): a link of [`PAIRS`] with [`RULES`] reads every table and
/// makes every kind of write: PEs and PCEs updated, a CE created and one changed, an invitation
/// marked used, a PE relinked (its old user's CE deactivated, its PCE detached), a course access
/// role granted and its assignment deleted, discussion roles created and joined, schedules
/// created (with their experiences) and one reset, and the four kinds of history rows.
pub async fn fixture(db: &dyn TestDatabase) -> Fixture {
    let w = World::new(db).await;
    let pe_1 = w.waiting("0001", w.p).await;
    let fruit_1 = db.add_program_course_enrollment(pe_1, FRUIT, "active", None).await;
    db.add_program_course_enrollment(pe_1, ANIMAL, "active", None).await;
    db.add_role_assignment(fruit_1, "staff").await;
    let pe_2 = w.waiting_with("0002", w.p, &[FRUIT]).await;
    w.waiting_with("0003", w.p, &[FRUIT]).await;
    db.add_course_enrollment(w.user_1, FRUIT, "audit", true).await;
    let invitation = db.add_invitation("user_1@example.com", ANIMAL, None).await;
    let user_3 = db.add_user("user_3", "user_3@example.com").await;
    let user_4 = db.add_user("user_4", "user_4@example.com").await;
    let pe_4 = w.linked("0004", w.p, user_3).await;
    let ce_3 = db.add_course_enrollment(user_3, FRUIT, "masters", true).await;
    db.add_program_course_enrollment(pe_4, FRUIT, "active", Some(ce_3)).await;
    db.add_course_mode(FRUIT, "audit", false).await;
    // FRUIT self-paced, user_3's CE with a schedule: relinking resets it (UPDATE).
    db.set_course_overview_fields(FRUIT, Some(crate::database::course_start()), true, None).await;
    db.add_schedule(ce_3, Some(crate::database::course_start())).await;
    Fixture { program: w.p, user_1: w.user_1, user_2: w.user_2, user_3, user_4, pe_1, pe_2, pe_4, invitation }
}

/// The inspector's least-privilege fixture: organisation `testX` with SAML provider `test`;
/// `user_1` linked by SSO (`test:Key-1`) and holding the PE of key `Key-1` in the returned
/// program, with a `masters` CE in FRUIT.
pub async fn inspector_fixture(db: &SeaTestDatabase) -> ProgramUuid {
    let learners = db.learners().unwrap_or_else(|| panic!("no inspector tables"));
    let w = World::new(db).await;
    let org = learners.add_organization("testX").await;
    learners.add_saml_provider("test", Some(org), true).await;
    learners.add_social_auth(w.user_1, "tpa-saml", "test:Key-1").await;
    let pe = w.linked("Key-1", w.p, w.user_1).await;
    let ce = db.add_course_enrollment(w.user_1, FRUIT, "masters", true).await;
    db.add_program_course_enrollment(pe, FRUIT, "active", Some(ce)).await;
    w.p
}

/// Checks the rows a link of [`PAIRS`] with [`RULES`] wrote on [`fixture`].
pub fn assert_linked(t: &Tables, f: &Fixture) {
    assert_eq!(pe(t, "0001", f.program).user_id, Some(f.user_1));
    assert_eq!(pe(t, "0002", f.program).user_id, Some(f.user_2));
    assert_eq!(pe(t, "0003", f.program).user_id, None);
    assert_eq!(pe(t, "0004", f.program).user_id, Some(f.user_4));
    for (user, course) in [(f.user_1, FRUIT), (f.user_1, ANIMAL), (f.user_2, FRUIT), (f.user_4, FRUIT)] {
        let ce = ce(t, user, course).unwrap_or_else(|| panic!("no CE of {user} in {course}"));
        assert_eq!((ce.mode.as_str(), ce.is_active), ("masters", true), "{user} {course}");
    }
    let old = ce(t, f.user_3, FRUIT).unwrap_or_else(|| panic!("no CE of user_3"));
    assert_eq!((old.mode.as_str(), old.is_active), ("audit", false), "the old user's CE, relinked away");
    assert_eq!(t.course_enrollments.len(), 5);
    for pe in [f.pe_1, f.pe_2, f.pe_4] {
        for pce in pces(t, pe) {
            let ce = pce.course_enrollment_id.unwrap_or_else(|| panic!("PCE {} has no CE", pce.id));
            assert_eq!(t.course_enrollments[&ce].course_id, pce.course_key);
        }
    }
    assert_eq!(t.invitations.as_ref().unwrap()[&f.invitation].user_id, Some(f.user_1));
    let roles: Vec<_> =
        t.course_access_roles.as_ref().unwrap().values().map(|r| (r.user_id, r.role.as_str())).collect();
    assert_eq!(roles, [(f.user_1, "staff")]);
    assert!(t.role_assignments.as_ref().unwrap().is_empty(), "the fulfilled assignment is deleted");
    // PE history: `~` for each link, and for the relinked PE the unlink too.
    assert_eq!(kinds(&t.program_enrollment_history, HistoryType::Update), 4, "a `~` row per PE write");
    // PCE history: 3 attached, and for the relinked PE's PCE a detach and an attach.
    assert_eq!(kinds(&t.program_course_enrollment_history, HistoryType::Update), 5, "a `~` row per PCE write");
    assert_eq!(kinds(&t.course_enrollment_history, HistoryType::Insert), 3, "three CEs created");
    assert_eq!(kinds(&t.course_enrollment_history, HistoryType::Update), 2, "one CE changed, one deactivated");
    // Every CE written brings the `Student` role: user_1 (FRUIT, ANIMAL), user_2, user_3, user_4.
    let members = t.forum_role_users.as_ref().map_or(0, |m| m.len());
    assert_eq!((t.forum_roles.as_ref().map_or(0, |m| m.len()), members), (2, 5), "discussion roles and members");
    assert_eq!(kinds(&t.schedule_history, HistoryType::Insert), 3, "three schedules created");
    assert_eq!(kinds(&t.schedule_history, HistoryType::Update), 1, "user_3's schedule reset");
}

fn kinds<T>(rows: &[HistoryRow<T>], kind: HistoryType) -> usize {
    rows.iter().filter(|h| h.history_type == kind).count()
}

/// The README's `GRANT` statements for `backend` (section "Grants needed on an Open edX
/// database"), verbatim but for the names: the database `edxapp` becomes `database` and the
/// grantee (`program_enrollments`, `'program_enrollments'@'%'`) becomes `grantee`.
pub fn readme_grant_statements(backend: Backend, database: &str, grantee: &str) -> Vec<String> {
    let marker = match backend {
        Backend::Postgres => "PostgreSQL, connected",
        Backend::MySql => "MariaDB / MySQL",
        Backend::Sqlite => return Vec::new(),
    };
    readme_statements_after(LINK_SECTION, marker, database, grantee)
}

/// The README's inspector `GRANT` statements for `backend` (section "Grants the inspector
/// needs"), names replaced as [`readme_grant_statements`] says (the grantee there is
/// `program_inspector`).
pub fn readme_inspector_grant_statements(backend: Backend, database: &str, grantee: &str) -> Vec<String> {
    let marker = match backend {
        Backend::Postgres => "PostgreSQL, connected",
        Backend::MySql => "MariaDB / MySQL",
        Backend::Sqlite => return Vec::new(),
    };
    readme_statements_after(INSPECT_SECTION, marker, database, grantee)
}

/// The statements of the README's first SQL block after `marker` in its section `heading`,
/// names replaced as [`readme_grant_statements`] says.
fn readme_statements_after(heading: &str, marker: &str, database: &str, grantee: &str) -> Vec<String> {
    const README: &str = include_str!("../../README.md");
    let section = README.split_once(heading).map(|(_, rest)| rest).unwrap();
    let section = section.split_once("\n## ").map_or(section, |(within, _)| within);
    let after = section.split_once(marker).map(|(_, rest)| rest).unwrap();
    let block =
        after.split_once("```sql\n").and_then(|(_, rest)| rest.split_once("```")).map(|(block, _)| block).unwrap();
    block
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            line.replace("'program_enrollments'@'%'", grantee)
                .replace("'program_inspector'@'%'", grantee)
                .replace(" TO program_enrollments;", &format!(" TO {grantee};"))
                .replace(" TO program_inspector;", &format!(" TO {grantee};"))
                .replace("DATABASE edxapp ", &format!("DATABASE {database} "))
                .replace(" edxapp.", &format!(" {database}."))
        })
        .collect()
}

/// Every `(table, privilege)` of [`LINK_GRANTS`].
pub fn every_grant() -> Vec<(&'static str, Privilege)> {
    LINK_GRANTS.iter().flat_map(|g| g.privileges.iter().map(move |p| (g.table, *p))).collect()
}
