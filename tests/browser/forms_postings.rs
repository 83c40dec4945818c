//! The spend form and the entry page's reversal in a real browser: spend with VAT recorded
//! and read on its entry's page; an overspend refused with what is available and bad fields
//! each beside its field; a duplicate invoice confirmed with the box; a reversal from the
//! entry's page.

use serde_json::json;

use super::axe::assert_accessible;
use super::cdp::Page;
use super::ledger::screenshot_path;

pub(super) fn value(page: &Page, selector: &str) -> String {
    page.eval(&format!("document.querySelector({}).value", json!(selector))).as_str().unwrap_or_default().to_owned()
}

pub(super) fn set(page: &Page, selector: &str, text: &str) {
    page.eval(&format!("document.querySelector({}).value = {}", json!(selector), json!(text)));
}

/// Types a spend into the open form: £100 net, £20 VAT, the VAT not recoverable.
fn type_spend(page: &Page, project: &str, amount: &str) {
    for (field, text) in [
        ("#grant", "LDF"),
        ("#project", project),
        ("#supplier", "Print & Co"),
        ("#invoice_ref", "INV-20"),
        ("#description", "Leaflets for the <summer> scheme"),
        ("#amount", amount),
        ("#vat", "20.00"),
    ] {
        page.type_into(field, text);
    }
    set(page, "#date", "2023-09-01");
    assert_eq!(page.eval("document.querySelector('#vat_recoverable').checked"), json!(true), "ticked at first");
    page.click("#vat_recoverable");
}

const SUBMIT: &str = "form[action='/spend'] button[type=submit]";

#[test]
fn a_person_records_spend_confirms_a_duplicate_and_reverses_it() {
    let Some((ledger, _browser, page)) = super::seeded_and_signed_in("/dashboard?financial_year=2023-24") else {
        return;
    };

    // Spend with VAT, from the dashboard's Record menu, read on its entry's page.
    super::open_from_record_menu(&page, &ledger, "spend", "Record spend");
    assert_accessible(&page, "the spend form");
    type_spend(&page, "P1", "100.00");
    page.navigating("sending the spend", |p| p.click(SUBMIT));
    let first = page.location();
    assert!(first.starts_with(&ledger.url("/entries/")), "to the entry: {first}\n{}", page.html());
    let first_id = first.rsplit('/').next().unwrap().to_owned();
    assert_eq!(page.text("#entry-kind"), "spend");
    assert_eq!(page.text("#entry-supplier"), "Print & Co");
    assert_eq!(page.text("#entry-vat"), "20.00");
    assert_eq!(page.text("#entry-vat_recoverable"), "false");
    assert_eq!(page.text("#entry-charged"), "120.00");
    assert!(page.text("#postings").contains("£120.00"), "{}", page.text("#postings"));
    assert_accessible(&page, "the spend's entry page, with its reversal form");

    // More than D1 has available (8,000 allocated, 6,000 spent): refused with the figures.
    page.goto(&ledger.url("/spend/new"));
    type_spend(&page, "D1", "5000");
    page.navigating("sending an overspend", |p| p.click(SUBMIT));
    assert_eq!(page.location(), ledger.url("/spend"));
    assert!(page.text("[role=alert]").contains("There is a problem"), "{}", page.html());
    assert_eq!(page.text("#figure-available"), "£2,000.00");
    assert_eq!(page.text("#figure-requested"), "£5,020.00");
    assert_eq!(value(&page, "#amount"), "5000", "kept");
    assert_eq!(page.eval("document.querySelector('#vat_recoverable').checked"), json!(false), "kept unticked");
    assert_accessible(&page, "the spend form refused for an overspend");
    page.screenshot(&screenshot_path("spend-overspend"));

    // Bad fields: each message beside its field, tied to it, and linked from the summary.
    set(&page, "#amount", "12.345");
    set(&page, "#supplier", "");
    page.navigating("sending bad fields", |p| p.click(SUBMIT));
    assert!(!page.text("#amount-error").is_empty(), "{}", page.html());
    assert_eq!(page.text("#supplier-error"), "is required");
    let described = page.eval("document.querySelector('#amount').getAttribute('aria-describedby')");
    assert!(described.as_str().unwrap_or_default().split(' ').any(|i| i == "amount-error"), "{described}");
    assert!(page.exists("[role=alert] a[href='#amount']") && page.exists("[role=alert] a[href='#supplier']"));
    assert_accessible(&page, "the spend form with bad fields");

    // The same invoice again: refused as a duplicate naming the first; confirmed with the box.
    page.goto(&ledger.url("/spend/new"));
    type_spend(&page, "P1", "100.00");
    page.navigating("sending the same invoice", |p| p.click(SUBMIT));
    assert_eq!(page.location(), ledger.url("/spend"));
    assert_eq!(
        page.eval("document.querySelector('#duplicate-of').getAttribute('href')"),
        json!(format!("/entries/{first_id}"))
    );
    assert_eq!(page.text("#duplicate-supplier"), "Print & Co");
    assert_eq!(page.text("#duplicate-amount"), "£120.00");
    assert_accessible(&page, "the spend form refused as a duplicate");
    page.screenshot(&screenshot_path("spend-duplicate"));
    page.click("#duplicate_of_entry_ok");
    page.navigating("confirming a second invoice", |p| p.click(SUBMIT));
    let second = page.location();
    assert!(second.starts_with(&ledger.url("/entries/")) && second != first, "{second}\n{}", page.html());
    assert_eq!(page.text("#entry-duplicate_of"), first_id);

    // Reversed from its page: back to it, showing the reversal.
    page.type_into("#reason", "Keyed in error");
    set(&page, "#date", "2023-09-02");
    page.navigating("reversing the entry", |p| p.click("form[action$='/reverse'] button[type=submit]"));
    assert_eq!(page.location(), second, "{}", page.html());
    assert!(page.exists("#entry-reversed-by a"), "{}", page.html());
    assert!(!page.exists("form[action$='/reverse']"), "no second reversal offered");
    page.navigating("opening the reversal", |p| p.click("#entry-reversed-by a"));
    assert_eq!(page.text("#entry-kind"), "reversal");
    assert_accessible(&page, "a reversal's entry page");
}
