//! The Commissioner's grants officer in a real browser: on a ledger started with `serve
//! --demo` (Tamworth, and the county around it), Fiona, a `funder` user, signs in with her
//! password, chooses 2022-23 on the dashboard and follows its link to the partnerships
//! funded. The page shows Staffordshire's fund of £724,750 with the nine shares, the two
//! published as published, drawn as bars and given in a table; Tamworth's row of award and
//! spend; and passes axe at a desktop width and at 400 px. A viewer is shown the 403 page.

use super::axe::{assert_accessible, viewport};
use super::cdp::{Browser, Page};
use super::ledger::{Ledger, chromium_or_skip, screenshot_path, temp_dir};
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
