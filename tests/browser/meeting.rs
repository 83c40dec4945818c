//! The dashboard at a meeting, in the browser: at 1,280 px the variance table fits without
//! sideways scrolling, the meeting's columns or all of them; at 400 px its lines are cards;
//! "since last quarter" shows each line's RAG then; the skip link comes first and shows when
//! focused; the printed page repeats its running line; and axe finds no serious or critical
//! violation on any page, colour contrast included.

use serde_json::json;

use crate::axe::{assert_accessible, scroll_width, viewport};
use crate::cdp::{Browser, Page};
use crate::ledger::{Ledger, chromium_or_skip, screenshot_path, temp_dir};

/// Presses Tab in the page.
fn press_tab(page: &Page) {
    let key = json!({ "key": "Tab", "code": "Tab", "windowsVirtualKeyCode": 9, "nativeVirtualKeyCode": 9 });
    for kind in ["keyDown", "keyUp"] {
        let mut k = key.clone();
        k["type"] = json!(kind);
        page.call("Input.dispatchKeyEvent", k);
    }
}

/// How many column headings the variance table's last heading row has.
fn variance_columns(page: &Page) -> u64 {
    page.eval("document.querySelectorAll('#variance thead tr:last-child th').length").as_u64().unwrap()
}

fn fits(page: &Page, width: u64, what: &str) {
    let w = scroll_width(page);
    let wide = page.eval(&format!(
        "Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > {width})          .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"
    ));
    assert!(w <= width, "{what}: the page is {w} px wide at {width} px, so it scrolls sideways: {wide}");
}

#[test]
fn the_dashboard_fits_a_meeting_a_phone_and_paper_and_every_page_passes_axe() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&["--demo"]);
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();
    viewport(&page, 1280);

    page.goto(&ledger.url("/sign-in"));
    assert_accessible(&page, "sign-in");
    let default = "/dashboard?financial_year=2023-24&as_at=2024-02-15";
    crate::sign_in_to(&page, &ledger, default);

    // At 1,280 px, the meeting's columns: grouped, fitting, with the RAG at the end of Q3.
    fits(&page, 1280, "the meeting's columns");
    assert_eq!(variance_columns(&page), 11, "9 of the page's columns and 2 since last quarter");
    let groups = page.text("#variance thead tr.groups");
    for g in ["Project", "Budget and spend", "Rating", "Forecast", "Since 2023-12-31"] {
        assert!(groups.contains(g), "no group {g}: {groups}");
    }
    assert!(page.exists("#variance tbody tr td.move"), "each line shows its movement");
    assert_accessible(&page, "the dashboard, the meeting's columns, 1,280 px");
    page.screenshot(&screenshot_path("dashboard-1280"));
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/dashboard.png");
        std::fs::create_dir_all(docs.parent().unwrap()).unwrap();
        std::fs::copy(screenshot_path("dashboard-1280"), &docs).unwrap();
    }

    // The skip link is the first thing Tab reaches, on screen when focused, and leads to main.
    page.goto(&ledger.url(default));
    press_tab(&page);
    let focused = page.eval(
        "(() => { const e = document.activeElement; const r = e.getBoundingClientRect(); \
         return [e.className, e.getAttribute('href'), r.left >= 0 && r.top >= 0 && r.width > 0, \
                 getComputedStyle(e).outlineStyle]; })()",
    );
    assert_eq!(focused, json!(["skip", "#content", true, "solid"]), "the skip link comes first and shows");
    page.press_enter();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(page.eval("document.activeElement.id"), json!("content"), "Enter on it moves the focus to main");

    // Every column, by the page's own link: 17, still fitting 1,280 px.
    page.navigating("every column", |p| p.click("#columns-all"));
    assert!(page.location().ends_with("&columns=all"), "{}", page.location());
    assert_eq!(variance_columns(&page), 17);
    fits(&page, 1280, "every column");
    assert_accessible(&page, "the dashboard, every column, 1,280 px");
    page.screenshot(&screenshot_path("dashboard-1280-all"));

    // At 400 px: cards, no sideways scrolling, for both sets.
    viewport(&page, 400);
    for path in [default.to_owned(), format!("{default}&columns=all")] {
        page.goto(&ledger.url(&path));
        fits(&page, 400, &path);
        assert_eq!(page.eval("getComputedStyle(document.querySelector('#variance')).display"), json!("none"));
        let cards = page.eval("document.querySelectorAll('.cards .card').length").as_u64().unwrap();
        let lines = page.eval("document.querySelectorAll('#variance tbody tr, #variance tfoot tr').length");
        assert_eq!(json!(cards), lines, "a card for each line of the table");
        assert!(cards > 3, "the lines as cards: {cards}");
        assert!(page.text(".cards .card").contains("RAG at 2023-12-31"), "{}", page.text(".cards .card"));
        assert_accessible(&page, &format!("{path} at 400 px"));
    }
    page.screenshot(&screenshot_path("dashboard-400"));
    viewport(&page, 1280);

    // Paper: the running line heads each long table (so each page), the controls go.
    page.goto(&ledger.url(default));
    page.call("Emulation.setEmulatedMedia", json!({ "media": "print" }));
    let running = page.text("#variance .running td");
    assert!(running.contains("As at 2024-02-15") && running.contains("figures as known at"), "{running}");
    assert_eq!(page.eval("getComputedStyle(document.querySelector('.controls')).display"), json!("none"));
    assert_eq!(page.eval("getComputedStyle(document.querySelector('#printed')).display"), json!("block"));
    page.call("Emulation.setEmulatedMedia", json!({ "media": "" }));

    // The as-at dashboard, a year's first quarter (nothing to compare with), and an error page.
    page.goto(&ledger.url("/dashboard?financial_year=2023-24&as_at=2023-12-31"));
    assert!(page.text("#variance thead tr.groups").contains("Since 2023-09-30"));
    assert_accessible(&page, "the dashboard as at 2023-12-31");
    page.goto(&ledger.url("/dashboard?financial_year=2023-24&as_at=2023-05-31"));
    assert!(page.text("#since-note").contains("no previous quarter"), "{}", page.text("#since-note"));
    assert_eq!(variance_columns(&page), 9, "no quarter to compare with");
    assert_accessible(&page, "the dashboard in its year's first quarter");
    page.goto(&ledger.url("/dashboard?financial_year=2023-24&as_at=nonsense"));
    assert_eq!(page.text("h1"), "Something asked for is not right");
    assert_accessible(&page, "an error page");
    page.goto(&ledger.url("/dashboard?financial_year=2023-24&columns=some"));
    assert!(page.text("main").contains("columns: must be all"), "{}", page.text("main"));

    // The check sees what it is for: grey on amber, as the RAG cells were, is a violation.
    page.eval(
        "(() => { const p = document.createElement('p'); p.id = 'grey-on-amber'; p.textContent = 'Amber'; \
         p.style.color = '#505a5f'; p.style.background = '#b35900'; document.querySelector('main').append(p); })()",
    );
    let found = crate::axe::serious_violations(&page);
    assert!(
        found.iter().any(|v| v.starts_with("color-contrast (serious)") && v.contains("#grey-on-amber")),
        "{found:?}"
    );
}
