//! The raw bound: the same writes as a link of every key (PEs, PCEs, new CEs and all their
//! history rows, the courses' `Student` forum role memberships, the new CEs' schedules with
//! their experiences and history rows), by the fewest set-based statements we can write, in one
//! transaction. Every statement touches only the rows of the linked program, whatever the
//! background rows of the fixture.

use adapters_seaorm::Backend;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::BenchError;
use crate::fixture::{PROGRAM, booleans, random_uuid};

/// Loads the pairs (keys `order`, in that order) into a temporary table and makes every write
/// set-based.
pub async fn run(conn: &DatabaseConnection, backend: Backend, order: &[usize]) -> Result<usize, BenchError> {
    let txn = conn.begin().await?;
    let mut statements = 0;
    let program = match backend {
        Backend::Postgres => format!("'{PROGRAM}'::uuid"),
        _ => format!("'{PROGRAM}'"),
    };
    let now = match backend {
        Backend::Sqlite => "strftime('%Y-%m-%d %H:%M:%f000', 'now')",
        Backend::Postgres => "CURRENT_TIMESTAMP",
        Backend::MySql => "CURRENT_TIMESTAMP(6)",
    };
    let history_uuid = random_uuid(backend);
    let (truth, _) = booleans(backend);
    txn.execute_unprepared("CREATE TEMPORARY TABLE pairs (k varchar(255) PRIMARY KEY, u varchar(150) NOT NULL)")
        .await?;
    statements += 1;
    // The input, as the library receives it, loaded in multi-row inserts.
    for chunk in order.chunks(5_000) {
        let rows: Vec<String> = chunk.iter().map(|i| format!("('KEY-{i:06}', 'learner_{i:06}')")).collect();
        txn.execute_unprepared(&format!("INSERT INTO pairs (k, u) VALUES {}", rows.join(", "))).await?;
        statements += 1;
    }
    // Statistics for the planner, as for the fixture's tables.
    match backend {
        Backend::Postgres | Backend::Sqlite => {
            txn.execute_unprepared("ANALYZE pairs").await?;
            statements += 1;
        }
        Backend::MySql => {}
    }
    let pe_cols = "id, created, modified, user_id, external_user_key, program_uuid, curriculum_uuid, status";
    let pce_cols = "id, created, modified, program_enrollment_id, course_enrollment_id, course_key, status";
    let ce_cols = "id, user_id, course_id, created, is_active, mode";
    let hist = "history_date, history_change_reason, history_type, history_user_id";
    let link = match backend {
        Backend::MySql => format!(
            "UPDATE program_enrollments_programenrollment pe JOIN pairs p ON pe.external_user_key = p.k \
             JOIN auth_user u ON u.username = p.u SET pe.user_id = u.id, pe.modified = {now} \
             WHERE pe.program_uuid = {program} AND pe.user_id IS NULL"
        ),
        _ => format!(
            "UPDATE program_enrollments_programenrollment SET user_id = u.id, modified = {now} FROM pairs p \
             JOIN auth_user u ON u.username = p.u WHERE program_enrollments_programenrollment.external_user_key = p.k \
             AND program_enrollments_programenrollment.program_uuid = {program} \
             AND program_enrollments_programenrollment.user_id IS NULL"
        ),
    };
    let attach = match backend {
        Backend::MySql => format!(
            "UPDATE program_enrollments_programcourseenrollment pce JOIN program_enrollments_programenrollment pe \
             ON pe.id = pce.program_enrollment_id JOIN student_courseenrollment ce ON ce.user_id = pe.user_id \
             AND ce.course_id = pce.course_key SET pce.course_enrollment_id = ce.id, pce.modified = {now} \
             WHERE pe.program_uuid = {program}"
        ),
        _ => format!(
            "UPDATE program_enrollments_programcourseenrollment SET course_enrollment_id = ce.id, modified = {now} \
             FROM program_enrollments_programenrollment pe JOIN student_courseenrollment ce ON ce.user_id = pe.user_id \
             WHERE pe.id = program_enrollments_programcourseenrollment.program_enrollment_id \
             AND ce.course_id = program_enrollments_programcourseenrollment.course_key AND pe.program_uuid = {program}"
        ),
    };
    let linked = format!(
        "SELECT pe.id FROM program_enrollments_programenrollment pe WHERE pe.program_uuid = {program} AND pe.user_id IS NOT NULL"
    );
    // The CEs the link made: those the program's PCEs now name.
    let new_ces = format!(
        "SELECT pce.course_enrollment_id FROM program_enrollments_programcourseenrollment pce \
         JOIN program_enrollments_programenrollment pe ON pe.id = pce.program_enrollment_id \
         WHERE pe.program_uuid = {program} AND pce.course_enrollment_id IS NOT NULL"
    );
    let schedule_cols = "id, created, modified, active, start_date, upgrade_deadline, enrollment_id";
    let later = match backend {
        Backend::Sqlite => "max(ce.created, co.start)",
        _ => "GREATEST(ce.created, co.start)",
    };
    let write = [
        link,
        format!(
            "INSERT INTO program_enrollments_historicalprogramenrollment ({pe_cols}, {hist}) \
             SELECT {pe_cols}, {now}, NULL, '~', NULL FROM program_enrollments_programenrollment WHERE id IN ({linked})"
        ),
        format!(
            "INSERT INTO student_courseenrollment (user_id, course_id, created, is_active, mode) \
             SELECT pe.user_id, pce.course_key, {now}, {}, 'masters' FROM program_enrollments_programcourseenrollment pce \
             JOIN program_enrollments_programenrollment pe ON pe.id = pce.program_enrollment_id \
             WHERE pe.program_uuid = {program} AND pe.user_id IS NOT NULL",
            if backend == Backend::Postgres {
                "pce.status = 'active'"
            } else {
                "CASE WHEN pce.status = 'active' THEN 1 ELSE 0 END"
            }
        ),
        match backend {
            // The new rows need statistics before the join that reads them.
            Backend::Postgres | Backend::Sqlite => "ANALYZE student_courseenrollment".to_owned(),
            Backend::MySql => "ANALYZE TABLE student_courseenrollment".to_owned(),
        },
        attach,
        format!(
            "INSERT INTO student_courseenrollment_history ({ce_cols}, history_id, {hist}) \
             SELECT {ce_cols}, {history_uuid}, {now}, NULL, '+', NULL FROM student_courseenrollment \
             WHERE id IN ({new_ces})"
        ),
        format!(
            "INSERT INTO program_enrollments_historicalprogramcourseenrollment ({pce_cols}, {hist}) \
             SELECT {pce_cols}, {now}, NULL, '~', NULL FROM program_enrollments_programcourseenrollment \
             WHERE course_enrollment_id IS NOT NULL AND program_enrollment_id IN ({linked})"
        ),
        // The `Student` role of each course that has none yet, then the new CEs' memberships.
        format!(
            "INSERT INTO django_comment_client_role (name, course_id) SELECT DISTINCT 'Student', ce.course_id \
             FROM student_courseenrollment ce WHERE ce.id IN ({new_ces}) AND NOT EXISTS \
             (SELECT 1 FROM django_comment_client_role r WHERE r.course_id = ce.course_id AND r.name = 'Student')"
        ),
        format!(
            "INSERT INTO django_comment_client_role_users (role_id, user_id) SELECT r.id, ce.user_id \
             FROM student_courseenrollment ce JOIN django_comment_client_role r \
             ON r.course_id = ce.course_id AND r.name = 'Student' WHERE ce.id IN ({new_ces}) AND NOT EXISTS \
             (SELECT 1 FROM django_comment_client_role_users m WHERE m.role_id = r.id AND m.user_id = ce.user_id)"
        ),
        format!(
            "INSERT INTO schedules_schedule (created, modified, active, start_date, upgrade_deadline, enrollment_id) \
             SELECT {now}, {now}, {truth}, {later}, NULL, ce.id FROM student_courseenrollment ce \
             JOIN course_overviews_courseoverview co ON co.id = ce.course_id WHERE ce.id IN ({new_ces})"
        ),
        format!(
            "INSERT INTO schedules_scheduleexperience (experience_type, schedule_id) SELECT 0, s.id \
             FROM schedules_schedule s WHERE s.enrollment_id IN ({new_ces})"
        ),
        format!(
            "INSERT INTO schedules_historicalschedule ({schedule_cols}, {hist}) \
             SELECT {schedule_cols}, {now}, NULL, '+', NULL FROM schedules_schedule WHERE enrollment_id IN ({new_ces})"
        ),
    ];
    let profile = std::env::var_os("BENCH_PROFILE").is_some();
    for sql in write {
        let started = std::time::Instant::now();
        txn.execute_unprepared(&sql).await?;
        if profile {
            eprintln!("raw {:8.3} s {}", started.elapsed().as_secs_f64(), sql.chars().take(60).collect::<String>());
        }
        statements += 1;
    }
    let started = std::time::Instant::now();
    txn.commit().await?;
    if profile {
        eprintln!("raw {:8.3} s COMMIT", started.elapsed().as_secs_f64());
    }
    Ok(statements)
}
