//! The acting user (issue 13): history rows name the user a call runs for, and the accounts
//! read that finds users and their support permission.

use domain::UserId;

use crate::database::TestDatabase;
use crate::fixtures::{ANIMAL, FRUIT, World, batch};

/// H1 Every history row a call writes with an acting user carries that user's id; a call
/// without one writes none.
pub async fn h1_history_rows_carry_the_acting_user(db: &dyn TestDatabase) {
    let w = World::new(db).await;
    w.waiting_with("0001", w.p, &[FRUIT, ANIMAL]).await;
    w.waiting_with("0002", w.p, &[FRUIT]).await;
    let staff = db.add_user("support_staff", "staff@example.com").await;
    let uow = db.unit_of_work().await;

    let acting = app::LinkOptions { write_path: db.write_path(), acting_user: Some(staff), ..Default::default() };
    let errors = app::link_program_enrollments_with(&*uow, w.p, &batch(&[("0001", "user_1")]), &acting).await.unwrap();
    assert!(errors.is_empty());
    let t = db.tables().await;
    let users = |t: &crate::Tables| -> Vec<Option<UserId>> {
        let pe = t.program_enrollment_history.iter().map(|h| h.history_user_id);
        let pce = t.program_course_enrollment_history.iter().map(|h| h.history_user_id);
        let ce = t.course_enrollment_history.iter().map(|h| h.history_user_id);
        pe.chain(pce).chain(ce).collect()
    };
    // One PE, two PCEs, two new course enrollments.
    assert_eq!(users(&t), vec![Some(staff); 5]);

    let plain = app::LinkOptions { write_path: db.write_path(), ..Default::default() };
    let errors = app::link_program_enrollments_with(&*uow, w.p, &batch(&[("0002", "user_2")]), &plain).await.unwrap();
    assert!(errors.is_empty());
    let t = db.tables().await;
    let all = users(&t);
    assert_eq!(all.iter().filter(|u| **u == Some(staff)).count(), 5);
    assert_eq!(all.iter().filter(|u| u.is_none()).count(), 3);
}

/// H2 The accounts read: exact username, `is_staff`, `is_active`, and only a global `support`
/// role (empty org and course) counts.
pub async fn h2_accounts_read_finds_users_and_their_support_role(db: &dyn TestDatabase) {
    let Some(accounts) = db.accounts().await else { return };
    let staff = db.add_user("Staff", "staff@example.com").await;
    db.set_staff(staff, true).await;
    let support = db.add_user("support", "support@example.com").await;
    db.add_course_access_role(support, "", "", "support").await;
    let scoped = db.add_user("scoped", "scoped@example.com").await;
    db.add_course_access_role(scoped, "edX", "", "support").await;
    db.add_course_access_role(scoped, "", "course-v1:edX+A+B", "support").await;
    db.add_course_access_role(scoped, "", "", "staff").await;
    let inactive = db.add_user("inactive", "inactive@example.com").await;
    db.add_course_access_role(inactive, "", "", "support").await;
    db.deactivate_user(inactive).await;

    let staff_account = accounts.account("Staff").await.unwrap().unwrap();
    assert_eq!((staff_account.id, staff_account.is_staff, staff_account.is_active), (staff, true, true));
    assert!(!staff_account.global_support_role);
    assert_eq!(accounts.account("staff").await.unwrap(), None);
    assert_eq!(accounts.account("Staff ").await.unwrap(), None);
    let support_account = accounts.account("support").await.unwrap().unwrap();
    assert_eq!((support_account.id, support_account.is_staff), (support, false));
    assert!(support_account.global_support_role);
    assert!(!accounts.account("scoped").await.unwrap().unwrap().global_support_role);
    let inactive_account = accounts.account("inactive").await.unwrap().unwrap();
    assert!(inactive_account.global_support_role && !inactive_account.is_active);
    assert_eq!(accounts.account("nobody").await.unwrap(), None);
}
