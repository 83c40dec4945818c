//! A virement by two people, in a real browser (the four-eyes rule, docs/desk.md): Alice, an
//! approver, signs in with her password, proposes a virement above the threshold from the
//! dashboard's Record menu and signs out; Bob, another approver, signs in with his, finds it
//! on the Virements page waiting for his decision, approves it on its page, and reads the
//! budgets moved on the dashboard. Alice is offered no decision on her own proposal, and the
//! ledger refuses one she sends anyway. Each page passes axe.

use serde_json::json;

use super::axe::assert_accessible;
use super::between;
use super::cdp::{Browser, Page};
use super::forms_postings::set;
use super::ledger::{Ledger, chromium_or_skip, screenshot_path, temp_dir};
use super::users::{sign_in_with_password, sign_out};

const DASHBOARD: &str = "/dashboard?financial_year=2023-24";

/// Adds an approver with a password on the command line, as an admin does.
fn add_approver(ledger: &Ledger, username: &str, password: &str) {
    let (ok, out) =
        ledger.cli(&["user", "add", username, "--role", "approver", "--password-stdin"], &format!("{password}\n"));
    assert!(ok, "grant-ledger user add {username}: {out}");
}

/// Opens the dashboard, is sent to sign in, and signs in as `username`.
fn sign_in_as(page: &Page, ledger: &Ledger, username: &str, password: &str) {
    page.goto(&ledger.url(DASHBOARD));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "{}", page.location());
    sign_in_with_password(page, username, password);
    assert_eq!(page.location(), ledger.url(DASHBOARD), "{}", page.html());
    assert!(page.text(".meta").contains(&format!("Signed in as {username}.")), "{}", page.text(".meta"));
}

/// The variance table's row of `project` on the dashboard.
fn variance_row(page: &Page, project: &str) -> String {
    let dom = page.html();
    let table = between(&dom, "<table id=\"variance\"", "</table>");
    between(table, &format!("data-project=\"{project}\""), "</tr>").to_owned()
}

#[test]
fn a_virement_proposed_by_one_approver_is_approved_by_another() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&[]);
    ledger.seed();
    add_approver(&ledger, "alice", "alice's own passphrase");
    add_approver(&ledger, "bob", "bob's own passphrase");
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();

    // Alice proposes £6,000 from P1 to D1: above the £5,000 threshold, so it waits.
    sign_in_as(&page, &ledger, "alice", "alice's own passphrase");
    assert!(variance_row(&page, "P1").contains("£12,000.00"), "P1's budget before");
    super::open_from_record_menu(&page, &ledger, "virements", "Propose a virement");
    assert_accessible(&page, "the virement form");
    for (field, text) in [
        ("#grant", "LDF"),
        ("#financial_year", "2023-24"),
        ("#from_project", "P1"),
        ("#to_project", "D1"),
        ("#amount", "6000"),
        ("#approval_ref", "CSP minute 14"),
        ("#reason", "Outreach demand above plan"),
    ] {
        page.type_into(field, text);
    }
    set(&page, "#approved_on", "2023-09-20");
    page.navigating("proposing the virement", |p| p.click("form[action='/virements'] button[type=submit]"));
    let at = page.location();
    let id = at.strip_prefix(&ledger.url("/virements/")).unwrap_or_else(|| panic!("{at}\n{}", page.html())).to_owned();
    let path = format!("/virements/{id}");
    assert_eq!(page.text("#virement-status"), "waiting for a second approver");
    assert_eq!(page.text("#virement-proposed-by"), "alice");
    assert_eq!(page.text("#virement-amount"), "£6,000.00");
    // Her own proposal: no decision is offered her, nor is it waiting for her.
    assert!(!page.exists("#approve-form") && !page.exists("#reject-form"), "{}", page.html());
    assert!(page.text("#no-decision").contains("another approver must decide it"), "told why: {}", page.html());
    assert_accessible(&page, "the proposer's view of her virement");
    page.goto(&ledger.url("/virements"));
    assert!(!page.exists("#waiting"), "nothing waits for its proposer: {}", page.html());

    // Sent anyway (the approve form of another approver's page, added to hers with her own
    // session's form token), the ledger refuses it and the virement's page says why.
    page.goto(&ledger.url(DASHBOARD));
    let token = page.eval("document.querySelector('.signout input[name=csrf_token]').value");
    page.goto(&ledger.url(&path));
    page.eval(&format!(
        "(() => {{ const f = document.createElement('form'); f.method = 'post'; f.action = {}; f.id = 'approve-form'; \
           const t = document.createElement('input'); t.type = 'hidden'; t.name = 'csrf_token'; t.value = {token}; \
           const b = document.createElement('button'); b.type = 'submit'; b.textContent = 'Approve and post'; \
           f.append(t, b); document.querySelector('main').append(f); }})()",
        json!(format!("{path}/approve"))
    ));
    page.navigating("approving her own virement", |p| p.click("#approve-form button"));
    assert_eq!(page.location(), ledger.url(&format!("{path}/approve")));
    assert!(page.text("[role=alert]").contains("There is a problem"), "{}", page.html());
    let why = page.text("[role=alert]");
    assert!(why.contains("was proposed by alice: a second approver must approve it"), "{why}");
    assert_eq!(page.text("#virement-status"), "waiting for a second approver", "nothing changed");
    assert_accessible(&page, "the proposer's approval refused");
    sign_out(&page, &ledger);

    // Bob finds it waiting for him on the Virements page, and approves it on its page.
    sign_in_as(&page, &ledger, "bob", "bob's own passphrase");
    page.navigating("opening the virements", |p| p.click("nav.lists a[href='/virements']"));
    assert_eq!(page.location(), ledger.url("/virements"));
    let waiting = page.text("#waiting");
    assert!(waiting.contains("£6,000.00 of LDF 2023-24 from P1 to D1, proposed by alice"), "{waiting}");
    assert_accessible(&page, "the virements page with one waiting");
    page.navigating("opening the waiting virement", |p| p.click(&format!("#waiting a[href='{path}']")));
    assert_eq!(page.location(), ledger.url(&path));
    assert!(page.exists("#approve-form") && page.exists("#reject-form"));
    assert_accessible(&page, "the virement's page with its decision forms");
    page.navigating("approving the virement", |p| p.click("#approve-form button[type=submit]"));
    assert_eq!(page.location(), ledger.url(&path), "{}", page.html());
    assert_eq!(page.text("#virement-status"), "approved");
    assert_eq!(page.text("#virement-proposed-by"), "alice");
    assert_eq!(page.text("#virement-decided-by"), "bob");
    assert!(page.exists("#virement-entry a"), "it posted an entry");
    assert!(!page.exists("#approve-form"), "decided once");
    assert_accessible(&page, "the approved virement");
    page.screenshot(&screenshot_path("virement-approved"));

    // The budgets moved: P1 down by £6,000, D1 up by it; it waits for nobody now.
    page.goto(&ledger.url(DASHBOARD));
    let p1 = variance_row(&page, "P1");
    assert!(p1.contains("£6,000.00") && !p1.contains("£12,000.00"), "{p1}");
    assert!(variance_row(&page, "D1").contains("£14,000.00"), "{}", variance_row(&page, "D1"));
    page.goto(&ledger.url("/virements"));
    assert!(!page.exists("#waiting"), "{}", page.html());
}
