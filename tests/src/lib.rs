//! The contract suite of the linking ports: every case of `acceptance.md`, written once.
//!
//! A backend implements [`TestDatabase`] (fixture inserts and a read-back of every table as
//! [`Tables`]); [`contract_suite!`] then generates one named `#[tokio::test]` per case for it.
//! The cases go through the real use case ([`app::link_program_enrollments`]) and check the
//! returned errors, the rows, the history rows and the log lines.
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod acting_cases;
pub mod bulk_scenario;
mod capture;
pub mod cases;
mod database;
mod fixtures;
pub mod hooked;
pub mod inspector_cases;
pub mod later_cases;
pub mod layout;
pub mod ports_contract;
pub mod restricted;
pub mod scenario;
pub mod sea;
pub mod side_rows_cases;
pub mod skip;

pub use adapters_memory::Tables;
pub use capture::{CapturedLog, capture_logs};
pub use database::{LearnerTestDatabase, MemoryTestDatabase, TestDatabase, course_start};
pub use fixtures::{ANIMAL, FRUIT, Run, World, batch, link, link_rules, link_with, link_with_rules, pe};
pub use sea::{SeaTestDatabase, Target};

/// Generates one `#[tokio::test]` per acceptance case and port contract, each on a fresh
/// database from `$make` (an async expression yielding an `impl TestDatabase`, or `None` to
/// skip with a printed reason).
#[macro_export]
macro_rules! contract_suite {
    ($make:expr) => {
        $crate::contract_suite!(@cases $make;
            a1_only_the_given_program_is_linked,
            a2_an_inactive_pce_gives_an_inactive_masters_enrollment,
            a3_a_key_without_program_enrollment_is_reported,
            a4_a_key_of_another_program_only_is_reported,
            a5_an_unknown_username_is_reported,
            a6_a_key_linked_to_the_target_is_reported,
            a7_a_key_linked_to_a_different_user_is_reported,
            a8_a_missing_course_rolls_back_one_key_only,
            a9_a_unique_violation_rolls_back_one_key_only,
            m1_active_audit_becomes_masters,
            m2_active_honor_becomes_masters,
            m3_active_audit_with_inactive_pce_becomes_inactive_masters,
            m4_active_verified_is_left_with_an_error_log,
            m5_inactive_verified_is_reused_as_active_masters,
            m6_active_masters_is_left_unchanged,
            o1_an_unknown_username_masks_an_unknown_key,
            o2_empty_input_writes_nothing,
            o3_a_program_enrollment_without_pces_links_without_enrollments,
            o4_one_username_twice_in_one_curriculum_links_the_first_only,
            o5_one_username_twice_in_two_curricula_links_both,
            o6_the_same_batch_twice_changes_nothing_the_second_time,
            o7_history_rows_follow_the_writes,
            o8_errors_follow_input_order,
            o9_pending_invitations_are_marked_used,
            x_corrupt_pce_status_aborts_the_whole_call,
            x_corrupt_status_on_an_untouched_enrollment_does_not_abort,
            x_links_without_an_invitation_table,
            x_pe_status_and_user_activity_are_not_checked,
            x_keys_and_usernames_match_exactly,
            x_course_keys_and_emails_compare_as_the_database_compares_them,
            x_an_existing_masters_enrollment_is_deactivated_for_an_inactive_pce,
            x_a_second_key_of_the_user_reuses_the_enrollment_the_first_created,
            x_a_dry_run_reports_like_a_real_run_and_writes_nothing,
            port_link_reports_the_violated_constraint_columns,
            port_link_skips_a_program_enrollment_that_is_not_waiting,
            port_creating_a_duplicate_course_enrollment_is_a_unique_violation,
            port_savepoint_rollback_undoes_only_its_writes_and_history,
            port_outer_rollback_undoes_released_savepoints,
            port_dropping_a_transaction_leaves_nothing,
            port_reads_see_writes_of_the_same_transaction,
            port_writes_record_history_rows,
            port_a_course_enrollment_changed_since_read_is_not_overwritten,
            l1_relinking_moves_the_enrollment_to_the_new_user,
            l2_relinking_moves_a_verified_enrollment_to_audit,
            l3_relinking_with_a_missing_course_overview_fails_that_key_only,
            l4_relinking_skips_a_pce_without_course_enrollment,
            l5_a_failed_relink_leaves_the_old_user_linked,
            l6_the_same_batch_with_and_without_relinking,
            l7_relinking_writes_an_old_enrollment_only_if_it_changes,
            k1_a_key_matches_up_to_case,
            k2_input_keys_equal_up_to_case_are_refused,
            k3_several_stored_keys_equal_up_to_case_are_an_error,
            k4_keys_are_matched_literally,
            k5_messages_name_the_input_key_except_already_linked,
            k6_the_rolling_back_line_names_the_input_key_on_both_paths,
            r1_staff_assignments_become_course_staff_roles,
            r2_an_existing_role_is_kept_without_duplicate,
            r3_an_inactive_user_gets_no_role_but_the_assignment_is_consumed,
            r4_an_unknown_role_is_logged_and_kept,
            r5_without_the_role_tables_one_info_line,
            r6_relinking_with_both_options_fulfils_roles_for_the_new_user,
            port_unlink_grant_and_delete_follow_their_contract,
            port_course_modes_and_stored_keys,
            h1_history_rows_carry_the_acting_user,
            h2_accounts_read_finds_users_and_their_support_role,
            i1_an_account_is_found_by_username_or_email_with_sso_and_enrollments,
            i2_an_account_without_sso_or_enrollments_and_an_unknown_account,
            i3_an_external_key_is_found_connected_unconnected_or_not_at_all,
            i4_where_upstream_crashes_the_inspector_reports,
            i5_saml_providers_and_sso_records_with_history,
            i6_missing_tables_are_named,
            s1_a_new_enrollment_brings_its_forum_role_created_when_missing,
            s2_an_existing_forum_role_is_reused_and_a_membership_not_duplicated,
            s3_a_new_enrollment_brings_its_schedule_from_the_course_start_or_the_enrollment,
            s4_a_course_without_start_gets_no_schedule_and_an_error_line,
            s5_a_reused_enrollment_brings_the_role_and_in_a_self_paced_course_the_reset_start,
            s6_relinking_resets_the_old_schedule_to_the_enrollment_start,
            s7_a_rolled_back_key_leaves_no_role_or_schedule,
            s8_without_the_tables_one_info_line_each_and_the_link_works,
            s9_the_upgrade_deadline_follows_the_configuration,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                if let Some(db) = $make.await {
                    $crate::cases::$case(&db).await;
                    $crate::TestDatabase::finish(&db).await;
                }
            }
        )*
    };
}
