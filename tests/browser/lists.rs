//! The finance officer's desk in a real browser: a search of the entries list by supplier
//! and dates, whose rows are what was recorded and no others, and whose own CSV link gives
//! the same rows; and a drill-down from the dashboard's variance table, whose "actual"
//! figure opens the entries that make it up, adding up to it. Each page passes axe.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::axe::assert_accessible;
use super::cdp::{Browser, Page};
use super::ledger::{Ledger, chromium_or_skip, screenshot_path, temp_dir};

/// An entry as a list shows it: id, date, supplier, amount (as `0.00`).
type Row = (i64, String, String, String);

/// Records through the API and returns the new entry's id.
fn record(ledger: &Ledger, path: &str, body: Value) -> i64 {
    let (status, text) = ledger.request("POST", path, Some(&body));
    assert_eq!(status, 201, "POST {path}: {text}");
    let record: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} answered no JSON ({e}): {text}"));
    record["entry_id"].as_i64().unwrap_or_else(|| panic!("{path}: no entry_id in {record}"))
}

fn spend(ledger: &Ledger, project: &str, date: &str, supplier: &str, amount: &str) -> i64 {
    record(
        ledger,
        "/api/v1/spend",
        json!({ "grant": "LDF", "project": project, "date": date, "supplier": supplier,
                "description": "Desk test", "invoice_ref": format!("INV-{date}"), "amount": amount }),
    )
}

/// The rows of the entries table as the page shows them.
fn shown_rows(page: &Page) -> BTreeSet<Row> {
    let rows = page.eval(
        "[...document.querySelectorAll('#entries tbody tr')].map(tr => [Number(tr.dataset.id), \
           tr.cells[0].innerText, tr.querySelector('td.supplier').innerText, \
           tr.querySelector('td.amount').dataset.amount])",
    );
    rows.as_array()
        .expect("the rows")
        .iter()
        .map(|r| {
            let text = |i: usize| r[i].as_str().unwrap_or_default().trim().to_owned();
            (r[0].as_i64().expect("an id"), text(1), text(2), text(3))
        })
        .collect()
}

/// One CSV record's fields (RFC 4180: quoted fields, doubled quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// Downloads the page's own CSV link as a person does (the browser sends its session
/// cookie) and reads the rows of the file it saves.
fn csv_rows(page: &Page) -> BTreeSet<Row> {
    let (name, bytes) = page.download("#csv-link", &temp_dir("downloads"));
    assert_eq!(name, "entries.csv");
    let text = String::from_utf8(bytes).expect("the CSV is UTF-8");
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header = csv_fields(lines.next().expect("a header"));
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    let (id, date, supplier, amount) = (col("id"), col("date"), col("supplier"), col("amount"));
    lines
        .map(|line| {
            let f = csv_fields(line);
            (f[id].parse().expect("an id"), f[date].clone(), f[supplier].clone(), f[amount].clone())
        })
        .collect()
}

/// `3100.50` (or `-25.00`) in pence: money is never a float.
fn pence(amount: &str) -> i64 {
    let (sign, digits) = amount.strip_prefix('-').map(|d| (-1, d)).unwrap_or((1, amount));
    let (pounds, pennies) = digits.split_once('.').unwrap_or_else(|| panic!("{amount} is not 0.00"));
    sign * (pounds.parse::<i64>().unwrap() * 100 + pennies.parse::<i64>().unwrap())
}

/// `£3,100.50` as `3100.50`.
fn plain(figure: &str) -> String {
    figure.trim().trim_start_matches('£').replace(',', "")
}

#[test]
fn a_finance_officer_searches_entries_downloads_them_and_drills_into_a_figure() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&[]);
    ledger.seed();
    // Beside the seed's two spends by "Supplier Ltd": the supplier searched for, inside the
    // dates and outside them, and another supplier inside them.
    let found = [
        (spend(&ledger, "P1", "2023-09-01", "Print & Co", "100.00"), "2023-09-01", "100.00"),
        (spend(&ledger, "D1", "2023-10-05", "Print & Co", "40.00"), "2023-10-05", "40.00"),
    ];
    let before = spend(&ledger, "P1", "2023-06-30", "Print & Co", "25.00");
    let after = spend(&ledger, "P1", "2024-01-10", "Print & Co", "250.00");
    let other = spend(&ledger, "P1", "2023-09-15", "Acme Hire", "75.00");
    let want: BTreeSet<Row> = found
        .iter()
        .map(|(id, date, amount)| (*id, date.to_string(), "Print & Co".into(), amount.to_string()))
        .collect();

    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();
    super::sign_in_to(&page, &ledger, "/entries");
    assert_eq!(page.text("h1"), "Entries");
    assert_accessible(&page, "the entries list");

    // The search, typed into the filter form and sent with its button.
    page.type_into("#supplier", "Print & Co");
    for (field, date) in [("#from", "2023-07-01"), ("#to", "2023-12-31")] {
        // A date field takes its value as the date picker sets it.
        page.eval(&format!("document.querySelector({}).value = {}", json!(field), json!(date)));
    }
    page.navigating("searching", |p| p.click("form[role=search] button[type=submit]"));
    let location = page.location();
    assert!(location.starts_with(&ledger.url("/entries?")), "{location}");
    for filter in ["supplier=Print+%26+Co", "from=2023-07-01", "to=2023-12-31"] {
        assert!(location.contains(filter), "{filter} not in {location}");
    }
    assert_accessible(&page, "the entries found");
    page.screenshot(&screenshot_path("entries-search"));
    let rows = shown_rows(&page);
    assert_eq!(rows, want, "the rows found");
    for id in [before, after, other] {
        assert!(rows.iter().all(|r| r.0 != id), "entry {id} is not in the search");
    }
    let total = page.eval("document.querySelector('#list-total').dataset.total");
    assert_eq!(total, json!("140.00"), "{}", page.text("#list-total"));
    assert!(page.text("#list-total").starts_with("2 entries"), "{}", page.text("#list-total"));
    // The form keeps what was searched.
    assert_eq!(page.eval("document.querySelector('#supplier').value"), json!("Print & Co"));

    // The page's own download: the same filters, the same rows.
    let href = page.eval("document.querySelector('#csv-link').getAttribute('href')");
    let href = href.as_str().expect("a CSV link");
    assert!(href.contains("format=csv") && href.contains("supplier=Print%20%26%20Co"), "{href}");
    assert_eq!(csv_rows(&page), want, "the CSV of {href}");

    // The dashboard's "actual" of P1, drilled into: the spend that makes it up, and no other.
    page.goto(&ledger.url("/dashboard?financial_year=2023-24"));
    assert_accessible(&page, "the dashboard");
    let link = "#variance tr[data-project='P1'] a.drill[href*='account=spent']";
    let figure = page.text(link);
    page.navigating("drilling into P1's actual", |p| p.click(link));
    assert!(page.location().starts_with(&ledger.url("/entries?")), "{}", page.location());
    assert_accessible(&page, "the entries behind a figure");
    page.screenshot(&screenshot_path("entries-drill"));
    let rows = shown_rows(&page);
    let p1: BTreeSet<i64> = [found[0].0, before, after, other].into_iter().collect();
    let seed_p1 = rows.iter().find(|r| r.1 == "2023-08-01").map(|r| r.0).expect("the seed's P1 spend");
    let ids: BTreeSet<i64> = rows.iter().map(|r| r.0).collect();
    assert_eq!(ids, p1.iter().copied().chain([seed_p1]).collect(), "P1's spend of 2023-24, and only it");
    let pence: i64 = rows.iter().map(|r| pence(&r.3)).sum();
    let sum = format!("{}.{:02}", pence / 100, pence % 100);
    assert_eq!(sum, plain(&figure), "the rows add up to the figure {figure}");
    assert_eq!(sum, "3450.50", "3000.50 + 100 + 25 + 250 + 75");
    assert_eq!(page.eval("document.querySelector('#list-total').dataset.total"), json!(sum));
    // And its download agrees.
    assert_eq!(csv_rows(&page), rows, "the CSV of the drill-down");
}
