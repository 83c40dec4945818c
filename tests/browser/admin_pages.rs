//! A filed return in a real browser: an admin opens the year's page, is refused locking Q2
//! while Q1 is open, locks Q1, files Q1's return from the page, follows the redirect to the
//! filed return's page, reads its SHA-256 and downloads the file, whose bytes have that hash.

use std::time::{Duration, Instant};

use serde_json::json;
use sha2::{Digest, Sha256};

use super::axe::assert_accessible;
use super::cdp::Page;
use super::ledger::{screenshot_path, temp_dir};

const YEAR: &str = "/financial-years/2023-24";

fn submit(page: &Page, what: &str) {
    page.navigating(what, |p| p.click("main form button[type=submit]"));
}

/// Waits for a finished download named `name` in `dir` and returns its bytes.
fn downloaded(dir: &std::path::Path, name: &str) -> Vec<u8> {
    let path = dir.join(name);
    let start = Instant::now();
    loop {
        // Chromium writes `NAME.crdownload` and renames it when done.
        if let Ok(bytes) = std::fs::read(&path) {
            return bytes;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no download {name} in {}", dir.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_admin_locks_the_quarter_files_its_return_and_downloads_what_was_filed() {
    let Some((ledger, _browser, page)) = super::seeded_and_signed_in(YEAR) else { return };
    assert_eq!(page.text("h1"), "Financial year 2023-24");
    assert_eq!(page.text("#quarter-1 .state"), "Open");
    assert_accessible(&page, "the year's page");

    // Q2 before Q1: refused, naming Q1, the reason kept.
    page.navigating("opening Q2's lock form", |p| p.click("#lock-2"));
    assert_eq!(page.location(), ledger.url(&format!("{YEAR}/quarters/2/lock")));
    assert_eq!(page.text("h1"), "Lock Q2 of 2023-24");
    page.type_into("#reason", "Q2 return sent");
    submit(&page, "locking Q2 first");
    assert!(page.text("[role=alert]").contains("Q1"), "{}", page.text("[role=alert]"));
    assert_eq!(page.eval("document.querySelector('#reason').value"), json!("Q2 return sent"));
    assert_accessible(&page, "the lock form, refused");

    // Q1 locks, back to the year's page.
    page.navigating("back to the year", |p| p.click("#to-year"));
    page.navigating("opening Q1's lock form", |p| p.click("#lock-1"));
    assert_accessible(&page, "the lock form");
    page.type_into("#reason", "Q1 return ready to file");
    submit(&page, "locking Q1");
    assert_eq!(page.location(), ledger.url(YEAR), "{}", page.html());
    assert_eq!(page.text("#quarter-1 .state"), "Locked");
    assert!(page.text("#quarter-1").contains("Q1 return ready to file"), "{}", page.text("#quarter-1"));

    // File Q1's return from the year's page: the form comes filled in with the year and quarter.
    page.navigating("opening the filing form", |p| p.click("#file-1"));
    assert_eq!(page.text("h1"), "File a return");
    assert_eq!(page.eval("document.querySelector('#financial_year').value"), json!("2023-24"));
    assert_eq!(page.eval("document.querySelector('#quarter').value"), json!("1"));
    // A list: chosen as a person chooses, by its value.
    page.eval("document.querySelector('#kind').value = 'commissioner-return'");
    assert_accessible(&page, "the filing form");
    submit(&page, "filing the return");
    let location = page.location();
    assert!(location.starts_with(&ledger.url("/returns/")), "to the filed return: {location}\n{}", page.html());
    let id = location.rsplit('/').next().unwrap().to_owned();
    assert_eq!(page.text("h1"), format!("Filed return {id}"));
    assert_eq!(page.text("#return-kind"), "commissioner-return");
    assert_eq!(page.text("#return-quarter"), "Q1");
    assert_eq!(page.text("#return-filed-by"), "admin (GRANT_LEDGER_ADMIN_TOKEN)");
    let sha = page.text("#return-sha256");
    assert_eq!(sha.len(), 64, "{sha}");
    assert_accessible(&page, "the filed return's page");
    page.screenshot(&screenshot_path("filed-return"));
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/filed-return.png");
        std::fs::copy(screenshot_path("filed-return"), &docs).unwrap();
    }
    // The API holds the same record.
    let (status, body) = ledger.request("GET", &format!("/api/v1/returns/{id}"), None);
    assert_eq!(status, 200, "{body}");
    let record: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(record["sha256"], json!(sha));

    // The download: the file as filed, whose bytes hash to what the page shows.
    let downloads = temp_dir("downloads");
    page.call("Page.setDownloadBehavior", json!({ "behavior": "allow", "downloadPath": downloads.to_str().unwrap() }));
    let name = record["file_name"].as_str().unwrap().to_owned();
    page.click("#return-download");
    let bytes = downloaded(&downloads, &name);
    assert_eq!(bytes.len() as i64, record["bytes"].as_i64().unwrap());
    assert_eq!(hex::encode(Sha256::digest(&bytes)), sha, "the downloaded bytes are those filed");

    // The year's page lists it.
    page.goto(&ledger.url(YEAR));
    assert!(page.exists(&format!("#filed a[href='/returns/{id}']")), "{}", page.html());
}
