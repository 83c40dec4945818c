//! A person with an account, in a real browser: added on the command line as an approver
//! (allocations need that role, src/http/auth.rs), signs in with a
//! username and password, records an allocation under their own name, changes their
//! password, signs out, and signs in again with the new one while the old one is refused.
//! The sign-in, password and users pages pass axe.

use super::axe::assert_accessible;
use super::cdp::{Browser, Page};
use super::ledger::{ADMIN_TOKEN, Ledger, chromium_or_skip, screenshot_path, temp_dir};

const OLD: &str = "alice's first passphrase";
const NEW: &str = "alice's second passphrase";

/// On the sign-in page: types the username and password and presses Enter.
pub(super) fn sign_in_with_password(page: &Page, username: &str, password: &str) {
    assert_eq!(page.text("h1"), "Sign in");
    page.type_into("#username", username);
    page.type_into("#password", password);
    page.navigating("signing in with a password", Page::press_enter);
}

pub(super) fn sign_out(page: &Page, ledger: &Ledger) {
    page.goto(&ledger.url("/dashboard?financial_year=2023-24"));
    page.navigating("signing out", |p| p.click(".signout button"));
    assert_eq!(page.location(), ledger.url("/sign-in"));
    assert!(!super::has_session(page, ledger));
}

#[test]
fn a_user_signs_in_records_changes_their_password_and_signs_in_again() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&[]);
    ledger.seed();
    let (ok, out) = ledger.cli(
        &["user", "add", "alice", "--role", "approver", "--display-name", "Alice Example", "--password-stdin"],
        &format!("{OLD}\n"),
    );
    assert!(ok, "grant-ledger user add: {out}");
    assert!(!out.contains(OLD), "the password is not echoed: {out}");
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();

    // Sent to sign in, then back to the dashboard, which names her.
    page.goto(&ledger.url("/dashboard?financial_year=2023-24"));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "{}", page.location());
    assert_accessible(&page, "the sign-in page");
    sign_in_with_password(&page, "alice", OLD);
    assert_eq!(page.location(), ledger.url("/dashboard?financial_year=2023-24"), "{}", page.html());
    assert_eq!(page.text("h1"), "Budget report 2023-24");
    assert!(page.text(".meta").contains("Signed in as Alice Example."), "{}", page.text(".meta"));
    assert!(page.exists("a[href='/account/password']"));
    assert!(!page.exists("a[href='/admin/users']"), "an approver is not shown the users page");

    // An allocation, recorded under her username.
    super::open_from_record_menu(&page, &ledger, "allocations", "Record an allocation");
    for (field, text) in [
        ("#grant", "LDF"),
        ("#financial_year", "2023-24"),
        ("#project", "P1"),
        ("#amount", "400.00"),
        ("#approval_ref", "CSP minute 12"),
    ] {
        page.type_into(field, text);
    }
    page.eval("document.querySelector('#approved_on').value = '2023-07-01'");
    page.navigating("sending the allocation", |p| p.click("form[action='/allocations'] button[type=submit]"));
    assert!(page.location().starts_with(&ledger.url("/entries/")), "{}\n{}", page.location(), page.html());
    assert_eq!(page.text("#entry-kind"), "allocation");
    assert_eq!(page.text("#entry-created-by"), "alice");
    page.screenshot(&screenshot_path("user-entry"));

    // Her password: a wrong current one is refused, then the change is made.
    page.goto(&ledger.url("/account/password"));
    assert_eq!(page.text("h1"), "Change password");
    assert_accessible(&page, "the change-password page");
    page.type_into("#current_password", "not her passphrase at all");
    page.type_into("#new_password", NEW);
    page.type_into("#confirm_password", NEW);
    page.navigating("changing the password with a wrong current one", |p| p.click("#change-password"));
    assert!(page.text("[role=alert]").contains("current_password"), "{}", page.text("[role=alert]"));
    assert!(!page.html().contains(NEW), "no password in the page");
    assert_accessible(&page, "the change-password page with a refusal");
    page.type_into("#current_password", OLD);
    page.type_into("#new_password", NEW);
    page.type_into("#confirm_password", NEW);
    page.navigating("changing the password", |p| p.click("#change-password"));
    assert_eq!(page.location(), ledger.url("/account/password?changed=1"));
    assert_eq!(page.text("[role=status]"), "Your password has been changed.");
    page.screenshot(&screenshot_path("password-changed"));

    // Signed out, the old password is refused and the new one signs her in.
    sign_out(&page, &ledger);
    sign_in_with_password(&page, "alice", OLD);
    assert_eq!(page.location(), ledger.url("/sign-in"));
    assert_eq!(page.text("[role=alert]"), "That username and password do not match an account.");
    assert_eq!(page.text("#password-error"), "That username and password do not match an account.");
    assert_eq!(page.eval("document.querySelector('#username').value").as_str(), Some("alice"), "the username is kept");
    assert!(!super::has_session(&page, &ledger));
    assert_accessible(&page, "the sign-in page with a refusal");
    page.eval("document.querySelector('#username').value = ''");
    sign_in_with_password(&page, "alice", NEW);
    assert_eq!(page.location(), ledger.url("/dashboard"), "{}", page.text("h1"));
    assert!(super::has_session(&page, &ledger));
    page.goto(&ledger.url("/dashboard?financial_year=2023-24"));
    assert!(page.text(".meta").contains("Signed in as Alice Example."), "{}", page.text(".meta"));

    // An admin's users page lists her, and passes axe.
    sign_out(&page, &ledger);
    page.type_into("#token", ADMIN_TOKEN);
    page.navigating("signing in with the admin token", |p| p.click("#sign-in-token"));
    page.goto(&ledger.url("/admin/users"));
    assert_eq!(page.text("h1"), "Users");
    let row = page.text("#users tbody tr");
    assert!(row.contains("alice") && row.contains("Alice Example") && row.contains("approver"), "{row}");
    assert_accessible(&page, "the users page");
    page.screenshot(&screenshot_path("admin-users"));
}
