//! The Commissioner's grants officer in a real browser: on a ledger started with `serve
//! --demo` (Tamworth, and the county around it), Fiona, a `funder` user, signs in with her
//! password, chooses 2022-23 on the dashboard and follows its link to the partnerships
//! funded. The page shows Staffordshire's fund of £724,750 with the nine shares, the two
//! published as published, drawn as bars and given in a table; Tamworth's row of award and
//! spend; and passes axe at a desktop width and at 400 px. A viewer is shown the 403 page.
//! Then the grants officer, a funder_admin the operator made, signs in with her token,
//! reallocates £5,000 from Cannock Chase to Tamworth and records a payment from the page's
//! Record menu, and is refused a reallocation that would take Tamworth's award below what it
//! has allocated, with the refusal beside the form's fields; the payment then stands on the
//! page against Tamworth's receipts.

use super::axe::{assert_accessible, viewport};
use super::cdp::{Browser, Page};
use super::forms_postings::set;
use super::ledger::{Ledger, OPERATOR_TOKEN, chromium_or_skip, screenshot_path, temp_dir};
use super::users::{sign_in_with_password, sign_out};

fn add_user(ledger: &Ledger, username: &str, role: &str, password: &str) {
    let (ok, out) =
        ledger.cli(&["user", "add", username, "--role", role, "--password-stdin"], &format!("{password}\n"));
    assert!(ok, "grant-ledger user add {username}: {out}");
}

/// The shares table's rows as (partnership, share).
fn shares(page: &Page) -> Vec<(String, String)> {
    let rows = page.eval(
        "[...document.querySelectorAll('#fund-LDF-shares tbody tr')].map(tr => [tr.cells[0].innerText, tr.cells[1].innerText])",
    );
    rows.as_array()
        .expect("the shares")
        .iter()
        .map(|r| (r[0].as_str().unwrap().trim().to_owned(), r[1].as_str().unwrap().trim().to_owned()))
        .collect()
}

#[test]
fn the_funder_compares_the_partnerships_it_funds() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&["--demo"]);
    add_user(&ledger, "fiona", "funder", "fiona's own passphrase");
    add_user(&ledger, "victor", "viewer", "victor's own passphrase");
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();

    page.goto(&ledger.url("/dashboard"));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "{}", page.location());
    sign_in_with_password(&page, "fiona", "fiona's own passphrase");
    // The year chosen on the dashboard, then its link to the funder's page.
    page.eval("document.querySelector('#financial_year').value = '2022-23'");
    page.navigating("choosing 2022-23", |p| p.click("form.controls button[type=submit]"));
    assert!(page.location().contains("financial_year=2022-23"), "{}", page.location());
    page.navigating("opening the partnerships funded", |p| p.click("#to-funder"));
    assert_eq!(page.location(), ledger.url("/funder/2022-23"));
    assert_eq!(page.text("h1"), "The partnerships funded, 2022-23");
    assert!(page.text(".meta").contains("Signed in as fiona."), "{}", page.text(".meta"));

    assert_eq!(page.text("#h-fund-LDF"), "Fund: LDF 2022-23, £724,750.00");
    assert!(
        page.text("#fund-LDF-totals").starts_with("Shares total £724,750.00;"),
        "{}",
        page.text("#fund-LDF-totals")
    );
    let shown = shares(&page);
    assert_eq!(shown.len(), 9, "{shown:?}");
    for (name, share) in [
        ("Tamworth Community Safety Partnership", "£61,394.00"),
        ("Lichfield District Community Safety Partnership", "£49,914.00"),
    ] {
        assert!(shown.contains(&(name.to_owned(), share.to_owned())), "{name} {share} in {shown:?}");
    }
    let illustrative = shown.iter().filter(|(n, _)| n.ends_with("[Illustrative]")).count();
    assert_eq!(illustrative, 7, "the seven unpublished shares say so: {shown:?}");
    // The chart's bars, one a partnership, described for a screen reader.
    assert_eq!(
        page.eval("document.querySelectorAll('#fund-LDF-chart rect.actual[data-value]').length"),
        serde_json::json!(9)
    );
    let desc = page.eval("document.querySelector('#fund-LDF-chart-desc').textContent");
    assert!(desc.as_str().is_some_and(|d| d.contains("Tamworth: Share £61394.00")), "{desc}");
    // Tamworth's row: its award of LDF 2022-23 as its ledger holds it.
    let row = page.eval(
        "[...document.querySelectorAll('#overview tbody tr')].map(tr => tr.innerText).find(t => t.includes('LDF'))",
    );
    let row = row.as_str().expect("Tamworth's LDF row").to_owned();
    assert!(row.starts_with("Tamworth Community Safety Partnership") && row.contains("£61,394.00"), "{row}");
    assert_accessible(&page, "the funder's page");
    page.screenshot(&screenshot_path("funder-county"));
    // The overview's own download, as the browser saves it.
    let (name, bytes) = page.download("#overview-csv", &temp_dir("downloads"));
    assert_eq!(name, "funder-overview-2022-23.csv");
    let csv = String::from_utf8(bytes).expect("UTF-8");
    assert!(
        csv.starts_with('\u{feff}') && csv.contains("TAM,Tamworth Community Safety Partnership,LDF,61394.00"),
        "{csv}"
    );
    viewport(&page, 400);
    assert_accessible(&page, "the funder's page at 400 px");
    viewport(&page, 1280);
    sign_out(&page, &ledger);

    // A viewer of the partnership is not the funder.
    sign_in_with_password(&page, "victor", "victor's own passphrase");
    page.goto(&ledger.url("/funder/2022-23"));
    assert_eq!(page.text("h1"), "Not allowed", "{}", page.html());
    assert!(page.eval("document.querySelector('#to-funder')").is_null());
}

/// The share of `name` as the shares table shows it.
fn share_of(page: &Page, name: &str) -> String {
    let shown = shares(page);
    shown.into_iter().find(|(n, _)| n == name).map(|(_, s)| s).unwrap_or_else(|| panic!("no share of {name}"))
}

/// Types a reallocation of LDF 2022-23 into the open form.
fn type_reallocation(page: &Page, from: &str, to: &str, amount: &str, reason: &str) {
    for (field, text) in [
        ("#grant", "LDF"),
        ("#financial_year", "2022-23"),
        ("#from_partnership", from),
        ("#to_partnership", to),
        ("#amount", amount),
        ("#reason", reason),
    ] {
        set(page, field, "");
        page.type_into(field, text);
    }
    set(page, "#date", "2023-01-16");
}

const REALLOCATE: &str = "form[action='/funder/reallocations'] button[type=submit]";

#[test]
fn the_grants_officer_reallocates_and_records_a_payment_from_the_forms() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&["--demo"]);
    // The operator makes the Commissioner's Office its first funder_admin.
    let body = serde_json::json!({ "name": "Grants officer" });
    let (status, text) = ledger.request_as(OPERATOR_TOKEN, "POST", "/api/v1/funders/SCO/admins", Some(&body));
    assert_eq!(status, 201, "{text}");
    let made: serde_json::Value = serde_json::from_str(&text).unwrap();
    let token = made["token"].as_str().expect("the token's secret").to_owned();
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();

    page.goto(&ledger.url("/funder/2022-23"));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "{}", page.location());
    page.type_into("#token", &token);
    page.navigating("signing in with the token", Page::press_enter);
    assert_eq!(page.location(), ledger.url("/funder/2022-23"), "{}", page.html());
    assert_eq!(share_of(&page, "Tamworth Community Safety Partnership"), "£61,394.00");

    // £5,000 of Cannock Chase's share to Tamworth, from the Record menu.
    page.navigating("opening the reallocation form", |p| p.click("#record-reallocation"));
    assert_eq!(page.location(), ledger.url("/funder/reallocations/new"));
    assert_eq!(page.text("h1"), "Reallocate between partnerships");
    assert_accessible(&page, "the reallocation form");
    type_reallocation(&page, "CAN", "TAM", "5000", "Cannock's underspend to Tamworth's town centre work");
    page.navigating("reallocating", |p| p.click(REALLOCATE));
    assert_eq!(page.location(), ledger.url("/funder/2022-23"), "{}", page.html());
    assert_eq!(share_of(&page, "Cannock Chase Community Safety Partnership [Illustrative]"), "£80,000.00");
    assert_eq!(share_of(&page, "Tamworth Community Safety Partnership"), "£66,394.00");
    assert!(page.text("#fund-LDF-totals").starts_with("Shares total £724,750.00;"), "the fund's total is unchanged");

    // More than Tamworth has unallocated, back to Cannock Chase: refused, the values kept.
    page.navigating("opening the reallocation form again", |p| p.click("#record-reallocation"));
    type_reallocation(&page, "TAM", "CAN", "70000", "too much");
    page.navigating("reallocating too much", |p| p.click(REALLOCATE));
    assert_eq!(page.location(), ledger.url("/funder/reallocations"));
    assert!(page.text(".error-summary").contains("There is a problem"), "{}", page.html());
    assert!(page.html().contains("TAM"), "the partnership named");
    assert_eq!(page.eval("document.querySelector('#amount').value"), serde_json::json!("70000"), "the amount kept");
    assert_accessible(&page, "the refused reallocation");
    page.screenshot(&screenshot_path("funder-reallocation-refused"));

    // A payment to Tamworth, from the funder's page.
    page.goto(&ledger.url("/funder/2022-23"));
    page.navigating("opening the payment form", |p| p.click("#record-payment"));
    assert_eq!(page.text("h1"), "Record a payment to a partnership");
    assert_accessible(&page, "the payment form");
    for (field, text) in [
        ("#partnership", "TAM"),
        ("#grant", "LDF"),
        ("#financial_year", "2022-23"),
        ("#amount", "30000"),
        ("#reference", "SCO LDF 1"),
    ] {
        page.type_into(field, text);
    }
    set(&page, "#date", "2022-05-03");
    page.navigating("recording the payment", |p| p.click("form[action='/funder/payments'] button[type=submit]"));
    assert_eq!(page.location(), ledger.url("/funder/2022-23"), "{}", page.html());
    // Back on the funder's page, set beside Tamworth's receipts: none of it received yet.
    let row = page.text("#reconciliation tbody tr");
    assert!(row.starts_with("Tamworth Community Safety Partnership"), "{row}");
    assert!(row.contains("£30,000.00") && row.contains("Paid, not yet received"), "{row}");
    assert!(page.text("#unmatched-payments").contains("SCO LDF 1"), "{}", page.text("#unmatched-payments"));
    assert_accessible(&page, "the funder's page with a payment");
}
