//! An import in a real browser: a finance officer signs in, uploads the finance system's
//! file through the page's own file input, reads the dry run line by line, confirms it, reads
//! the import's page with the entries it made, and reverses them all with a reason.

use serde_json::json;

use super::axe::assert_accessible;
use super::cdp::Page;
use super::ledger::{screenshot_path, temp_dir};

/// Puts `path` in the file input matching `selector`, as choosing it in the file dialog does.
pub(super) fn choose_file(page: &Page, selector: &str, path: &std::path::Path) {
    let found =
        page.call("Runtime.evaluate", json!({ "expression": format!("document.querySelector({})", json!(selector)) }));
    let object = found["result"]["objectId"].as_str().unwrap_or_else(|| panic!("no {selector}: {found}")).to_owned();
    page.call("DOM.setFileInputFiles", json!({ "files": [path.to_str().unwrap()], "objectId": object }));
}

#[test]
fn a_person_uploads_an_import_confirms_it_and_reverses_it() {
    let Some((ledger, _browser, page)) = super::seeded_and_signed_in("/imports/new") else { return };
    assert_eq!(page.text("h1"), "Import spend");
    assert_accessible(&page, "the upload form");

    // Two lines to record and a third repeating the second's source_ref.
    let file = temp_dir("upload").join("spend.csv");
    std::fs::write(
        &file,
        "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n\
         2023-09-01,LDF,P1,Youth <Trust>,Sessions,INV-30,400.00,FIN-30\n\
         2023-09-02,LDF,D1,Cafe & Co,Outreach lunch,INV-31,50.00,FIN-31\n\
         2023-09-03,LDF,D1,Cafe & Co,Outreach lunch,INV-32,50.00,FIN-31\n",
    )
    .unwrap();
    choose_file(&page, "#file", &file);
    page.eval("document.querySelector('#mapping').value = 'generic'");
    page.navigating("checking the file", |p| p.click("form[action='/imports'] button[type=submit]"));
    let import = page.location();
    assert!(import.starts_with(&ledger.url("/imports/")), "to the import: {import}\n{}", page.html());
    assert!(page.text("#import-status").starts_with("dry run"), "{}", page.html());
    assert_eq!(page.text("#import-counts"), "2 accepted, 1 duplicate, 0 refused");
    assert_eq!(page.text("#lines tbody tr:nth-child(1) td:nth-child(2)"), "Accepted");
    assert_eq!(page.text("#lines tbody tr:nth-child(3) td:nth-child(2)"), "Duplicate");
    assert!(page.text("#lines tbody tr:nth-child(3)").contains("repeats line 3 by its source_ref"));
    assert_accessible(&page, "the dry run, line by line");
    page.screenshot(&screenshot_path("import-dry-run"));

    page.navigating("confirming the import", |p| p.click("#confirm-form button[type=submit]"));
    assert_eq!(page.location(), import, "back on the import's page");
    assert!(page.text("#import-status").starts_with("confirmed"), "{}", page.html());
    assert_eq!(page.eval("document.querySelectorAll('#entries tbody tr').length"), json!(2));
    assert!(page.text("#entries").contains("Youth <Trust>"), "{}", page.text("#entries"));
    assert!(page.text("#entries").contains("£400.00"));
    assert_accessible(&page, "the import's page with its entries");

    page.type_into("#reason", "The September file was sent twice");
    page.navigating("reversing the import", |p| p.click("#reverse-form button[type=submit]"));
    assert_eq!(page.location(), import);
    assert!(page.text("#import-status").starts_with("reversed"), "{}", page.html());
    assert!(page.text("#import-reversed").contains("The September file was sent twice"));
    let reversed = page.eval("[...document.querySelectorAll('#entries tbody tr td:last-child a')].length");
    assert_eq!(reversed, json!(2), "each entry names its reversal: {}", page.html());
    assert!(!page.exists("#reverse-form"), "reversed once");
    assert_accessible(&page, "the reversed import");
    page.screenshot(&screenshot_path("import-reversed"));
}
