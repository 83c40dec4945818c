//! An award's payment schedule in a real browser: found from the dashboard's cash position,
//! two instalments typed into the form's rows and sent, the schedule read back on its page;
//! then a row refused for its amount, the message beside that row's field and every value
//! kept. Each page passes axe.

use super::axe::assert_accessible;
use super::cdp::Page;
use super::forms_postings::{set, value};
use super::ledger::screenshot_path;

const PATH: &str = "/grants/LDF/awards/2023-24/payment-schedule";
const SUBMIT: &str = "form[action='/grants/LDF/awards/2023-24/payment-schedule'] button[type=submit]";

/// A row's field, e.g. `schedule[1].amount`: an id with brackets and a dot, matched whole.
fn cell(i: usize, field: &str) -> String {
    format!("[id='schedule[{i}].{field}']")
}

/// The text of each row of the schedule as set, cells joined by ` | `.
fn rows_shown(page: &Page) -> Vec<String> {
    let rows = page.eval(
        "Array.from(document.querySelectorAll('#schedule-now tbody tr'))\
           .map(r => Array.from(r.cells).map(c => c.innerText.trim()).join(' | '))",
    );
    rows.as_array().expect("a list").iter().map(|r| r.as_str().unwrap_or_default().to_owned()).collect()
}

#[test]
fn a_person_sets_the_payment_schedule_and_a_bad_row_is_refused_beside_it() {
    let Some((ledger, _browser, page)) = super::seeded_and_signed_in("/dashboard?financial_year=2023-24") else {
        return;
    };

    // From the dashboard's cash position, the award's schedule: none set yet.
    page.navigating("opening the payment schedule", |p| p.click("#schedule-LDF"));
    assert_eq!(page.location(), ledger.url(PATH));
    assert_eq!(page.text("h1"), "Set the payment schedule of LDF for 2023-24");
    assert_eq!(page.text("#award-amount"), "£61,394.00");
    assert_eq!(page.text("#no-schedule"), "No payment schedule is set for LDF 2023-24.");
    assert!(page.text("label[for='schedule[1].amount']").starts_with("Instalment 2: Amount (£)"));
    // Each row reads as the API's instalment does: due on, amount, condition.
    let order =
        page.eval("Array.from(document.querySelectorAll('fieldset#schedule input')).slice(0, 3).map(i => i.id)");
    assert_eq!(order, serde_json::json!(["schedule[0].due_on", "schedule[0].amount", "schedule[0].condition"]));
    assert_accessible(&page, "the payment schedule's page");

    // Two instalments, the later typed first; the rows below are left blank.
    for (i, due_on, amount, condition) in
        [(0, "2023-10-31", "30000", "Subject to the <Q2> return"), (1, "2023-04-30", "30000.00", "")]
    {
        page.type_into(&cell(i, "due_on"), due_on);
        page.type_into(&cell(i, "amount"), amount);
        if !condition.is_empty() {
            page.type_into(&cell(i, "condition"), condition);
        }
    }
    page.navigating("sending the schedule", |p| p.click(SUBMIT));
    assert_eq!(page.location(), ledger.url(PATH), "{}", page.html());
    assert!(!page.exists("[role=alert]"), "{}", page.html());
    assert_eq!(
        rows_shown(&page),
        ["2023-04-30 | £30,000.00 | ", "2023-10-31 | £30,000.00 | Subject to the <Q2> return"],
        "set, in due date order"
    );
    // The form holds what is set, to edit, and a blank row to add one.
    assert_eq!(value(&page, &cell(0, "due_on")), "2023-04-30");
    assert_eq!(value(&page, &cell(1, "condition")), "Subject to the <Q2> return");
    assert_eq!(value(&page, &cell(2, "amount")), "");
    assert_accessible(&page, "the payment schedule's page with a schedule");
    page.screenshot(&screenshot_path("payment-schedule"));

    // A third instalment whose amount is not money: refused beside that row's field.
    page.type_into(&cell(2, "due_on"), "2024-01-31");
    page.type_into(&cell(2, "amount"), "abc");
    page.navigating("sending a bad amount", |p| p.click(SUBMIT));
    assert_eq!(page.location(), ledger.url(PATH));
    assert!(page.text("[role=alert]").contains("Instalment 3: Amount"), "{}", page.text("[role=alert]"));
    let error = page.text("[id='schedule[2].amount-error']");
    assert!(error.len() > 10, "{error}");
    let described = page.eval("document.querySelector(\"[id='schedule[2].amount']\").getAttribute('aria-describedby')");
    assert_eq!(described.as_str(), Some("schedule[2].amount-error"), "the message is tied to its field");
    assert!(!page.exists("[id='schedule[0].amount-error']"), "the good rows have none");
    assert_eq!(value(&page, &cell(2, "amount")), "abc", "kept");
    assert_eq!(value(&page, &cell(2, "due_on")), "2024-01-31", "kept");
    assert_eq!(value(&page, &cell(0, "condition")), "", "kept");
    assert_eq!(value(&page, &cell(1, "condition")), "Subject to the <Q2> return", "kept");
    assert_eq!(rows_shown(&page).len(), 2, "nothing was set");
    assert_accessible(&page, "the payment schedule refused for a bad amount");
    page.screenshot(&screenshot_path("payment-schedule-refused"));

    // Corrected, it is set; then more than the award is refused, naming the schedule.
    set(&page, &cell(2, "amount"), "1394");
    page.navigating("sending the corrected schedule", |p| p.click(SUBMIT));
    assert!(!page.exists("[role=alert]"), "{}", page.html());
    assert_eq!(rows_shown(&page).len(), 3);
    set(&page, &cell(2, "amount"), "1394.01");
    page.navigating("sending more than the award", |p| p.click(SUBMIT));
    assert!(page.text("#schedule-error").contains("more than the award"), "{}", page.html());
    assert_eq!(value(&page, &cell(2, "amount")), "1394.01", "kept");
    assert_accessible(&page, "the payment schedule refused for more than the award");
}
