//! A whole quarter in the browser, on a fresh ledger (the fixtures' awards, no demo data), as
//! docs/desk.md "A whole quarter" tells it: the first admin, made on the command line, signs
//! in with her password and adds the others on the users page; sets up a project and
//! allocates to it; the finance officer commits, pays with VAT, takes a refund, imports the
//! finance system's file and reverses a wrong line; the admin locks Q1 and files its return;
//! a late invoice is refused in the locked quarter beside its date and recorded in the open
//! one, leaving the filed return unchanged; a partnership member reads the dashboard, drills
//! into a figure, is refused a recording form and prints the report to a real PDF, checked
//! with poppler's tools; the funder downloads the return as filed and the monitoring return.
//! Every page reached only by the links and buttons a person uses; each passes axe.

use std::path::Path;
use std::process::Command;

use grant_ledger::domain::Money;
use grant_ledger::domain::money::{Grouping, pounds};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::axe::assert_accessible;
use super::cdp::{Browser, Page};
use super::forms_postings::set;
use super::ledger::{Ledger, chromium_or_skip, screenshot_path, temp_dir};
use super::users::{sign_in_with_password, sign_out};

const YEAR: &str = "2023-24";
const DASHBOARD: &str = "/dashboard?financial_year=2023-24";
const PROJECT: &str = "SAFE1";

/// The people of the story: (username, display name, role, password).
const ADMIN: (&str, &str, &str, &str) = ("alice", "Alice Admin", "admin", "alice's long passphrase");
const OFFICER: (&str, &str, &str, &str) = ("fran", "Fran Finance", "finance", "fran's long passphrase");
const MEMBER: (&str, &str, &str, &str) = ("pat", "Pat Partner", "viewer", "pat's long passphrase");
const FUNDER: (&str, &str, &str, &str) = ("fay", "Fay Funder", "funder", "fay's long passphrase");

/// The money of the quarter, in pence, each step's figure once; the dashboard's are sums of them.
const AWARD: i64 = 6_139_400; // the fixtures' LDF award for 2023-24
const ALLOCATED: i64 = 1_000_000;
const ORDER: i64 = 400_000;
const SPEND_NET: i64 = 150_000;
const SPEND_VAT: i64 = 30_000; // not recoverable: charged to the budget with the net
const REFUND_NET: i64 = 10_000;
const REFUND_VAT: i64 = 2_000; // not recoverable either: the refund gives back net and VAT
const IMPORTED: [i64; 2] = [25_000, 9_000];
const REVERSED: i64 = 9_000; // the second imported line, reversed
const LATE: i64 = 20_000; // the late invoice, recorded in Q2

fn money(pence: i64) -> String {
    pounds(Money::from_pence(pence), Grouping::Thousands)
}

/// Q1's spend: the invoice and its VAT, less the refund and its VAT, the import, less the
/// reversed line.
fn q1_actual() -> i64 {
    SPEND_NET + SPEND_VAT - REFUND_NET - REFUND_VAT + IMPORTED.iter().sum::<i64>() - REVERSED
}

/// The HTTP status of the page the browser shows.
fn status(page: &Page) -> u64 {
    page.eval("performance.getEntriesByType('navigation')[0].responseStatus").as_u64().unwrap_or_default()
}

fn submit(page: &Page, action: &str, what: &str) {
    page.navigating(what, |p| p.click(&format!("form[action='{action}'] button[type=submit]")));
}

fn type_fields(page: &Page, fields: &[(&str, &str)]) {
    for (field, text) in fields {
        page.type_into(field, text);
    }
}

/// Types the patrol company's invoice into the open spend form, all but its date and VAT.
fn type_invoice(page: &Page, invoice_ref: &str, description: &str, net: &str) {
    type_fields(
        page,
        &[
            ("#grant", "LDF"),
            ("#project", PROJECT),
            ("#supplier", "Patrol Services Ltd"),
            ("#invoice_ref", invoice_ref),
            ("#description", description),
            ("#amount", net),
        ],
    );
}

/// The id at the end of the page's address (`/entries/12` → `12`).
fn id_in_location(page: &Page, prefix: &str, ledger: &Ledger) -> String {
    let location = page.location();
    assert!(location.starts_with(&ledger.url(prefix)), "on {prefix}…: {location}\n{}", page.html());
    location.rsplit('/').next().unwrap().to_owned()
}

/// Signs in on the sign-in page the ledger sent the person to, and checks the dashboard
/// greets them by name.
fn sign_in(page: &Page, ledger: &Ledger, who: (&str, &str, &str, &str)) {
    page.goto(&ledger.url(DASHBOARD));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "{}", page.location());
    sign_in_with_password(page, who.0, who.3);
    assert_eq!(page.location(), ledger.url(DASHBOARD), "{} signed in: {}", who.0, page.html());
    assert!(page.text(".meta").contains(&format!("Signed in as {}.", who.1)), "{}", page.text(".meta"));
}

/// On the users page, the admin adds a person.
fn add_user(page: &Page, ledger: &Ledger, who: (&str, &str, &str, &str)) {
    type_fields(page, &[("#username", who.0), ("#display_name", who.1), ("#password", who.3)]);
    set(page, "#role", who.2);
    page.navigating("adding a user", |p| p.click("#add-user"));
    assert_eq!(page.location(), ledger.url("/admin/users"), "{}", page.html());
    assert!(page.text("#users tbody").contains(who.1), "{}", page.text("#users tbody"));
}

/// A tool of poppler-utils, or `None` when it is missing and the PDF checks are skipped
/// (never under `CI`).
fn poppler(tool: &str) -> Option<()> {
    let found = Command::new(tool).arg("-v").output().is_ok();
    if !found {
        let msg = format!("{tool} is not installed (apt-get install -y poppler-utils): the printed PDF is not checked");
        if std::env::var_os("CI").is_some() {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
    }
    found.then_some(())
}

fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("poppler writes UTF-8")
}

/// An attribute's number in one tag of `pdftotext -bbox`'s XHTML.
fn attr(tag: &str, name: &str) -> f64 {
    let from = tag.find(&format!("{name}=\"")).unwrap_or_else(|| panic!("no {name} in {tag}")) + name.len() + 2;
    tag[from..].split('"').next().unwrap().parse().unwrap_or_else(|e| panic!("{name} in {tag}: {e}"))
}

/// Each page's height and the bottom (in points from the page's top) of its lowest word
/// above the bottom margin, where the page's own footer (its number) is.
fn lowest_text_per_page(bbox: &str, bottom_margin: f64) -> Vec<(f64, f64)> {
    bbox.split("<page ")
        .skip(1)
        .map(|page| {
            let height = attr(page, "height");
            let lowest = page
                .split("<word ")
                .skip(1)
                .map(|word| attr(word, "yMax"))
                .filter(|y| *y < height - bottom_margin)
                .fold(0.0, f64::max);
            (height, lowest)
        })
        .collect()
}

/// The printed dashboard as a real PDF, read back with poppler: A4 landscape, "Page i of
/// N" on every page, the report's as-at date, when the figures were known (today's date),
/// and no page but the last left half empty.
fn check_printed(pdf: &Path, as_at: &str) {
    let (Some(()), Some(())) = (poppler("pdfinfo"), poppler("pdftotext")) else { return };
    let file = pdf.to_str().unwrap();
    let info = run("pdfinfo", &[file]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {info}"));
    let size = info.lines().find_map(|l| l.strip_prefix("Page size:")).unwrap_or_default();
    let sides: Vec<f64> = size.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert!(size.ends_with("(A4)") && sides.len() == 2 && sides[0] > sides[1], "A4 landscape: {info}");
    assert!(pages >= 2, "the report runs to more than one page: {pages}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let all = run("pdftotext", &["-layout", file, "-"]);
    assert!(all.contains(&format!("As at {as_at}")), "the as-at date is printed:\n{all}");
    assert!(all.contains(&format!("Figures as known at {today}")), "when the figures were known, today:\n{all}");
    // A long table's pages each begin with the report's running line.
    let running = format!("Budget report {YEAR} · As at {as_at} · figures as known at {today}");
    assert!(all.contains(&running), "the running line {running}:\n{all}");
    for i in 1..=pages {
        let n = i.to_string();
        let text = run("pdftotext", &["-layout", "-f", &n, "-l", &n, file, "-"]);
        assert!(text.contains(&format!("Page {i} of {pages}")), "page {i} carries its number:\n{text}");
        if text.contains("Variance per project and grant.") {
            assert!(text.contains(PROJECT), "the variance table's caption is printed with its first row:\n{text}");
        }
    }
    // No half-empty page: on every page but the last, the lowest line of the report (not
    // the footer in the 14 mm bottom margin) ends in the bottom third of the page. A block
    // pushed whole onto the next page would leave its page's bottom half blank.
    let bbox = run("pdftotext", &["-bbox", file, "-"]);
    let margin = 14.0 / 25.4 * 72.0;
    let lowest = lowest_text_per_page(&bbox, margin);
    assert_eq!(lowest.len(), pages);
    for (i, (height, bottom)) in lowest.iter().enumerate().take(pages - 1) {
        assert!(
            *bottom > height * 2.0 / 3.0,
            "page {} of {pages} ends its text {bottom:.0} pt down a {height:.0} pt page: half empty",
            i + 1
        );
    }
}

#[test]
fn a_whole_quarter_in_the_browser_from_setting_up_to_the_funders_download() {
    let Some(chromium) = chromium_or_skip() else { return };
    let ledger = Ledger::start(&[]);
    let browser = Browser::launch(&chromium, temp_dir("profile"));
    let page = browser.new_page();
    let quarter_end = "2023-06-30";

    // 1. The first person, on the command line as README "The desk" says; she signs in
    // with her password and adds the others on the users page.
    let (ok, out) = ledger.cli(
        &["user", "add", ADMIN.0, "--role", ADMIN.2, "--display-name", ADMIN.1, "--password-stdin"],
        &format!("{}\n", ADMIN.3),
    );
    assert!(ok, "grant-ledger user add: {out}");
    sign_in(&page, &ledger, ADMIN);
    assert_accessible(&page, "the dashboard of a fresh ledger");
    page.navigating("opening the users page", |p| p.click("a[href='/admin/users']"));
    assert_eq!(page.text("h1"), "Users");
    for who in [OFFICER, MEMBER, FUNDER] {
        add_user(&page, &ledger, who);
    }
    let users = page.text("#users tbody");
    for (name, display, role, _) in [ADMIN, OFFICER, MEMBER, FUNDER] {
        assert!(users.lines().any(|l| l.contains(name) && l.contains(display) && l.contains(role)), "{name}: {users}");
    }
    page.navigating("back to the dashboard", |p| p.click("main .back a[href='/dashboard']"));

    // 2. Set up: a project, then an allocation to it, each from the Record menu.
    super::open_from_record_menu(&page, &ledger, "projects", "Record a project");
    type_fields(
        &page,
        &[
            ("#code", PROJECT),
            ("#name", "Safer streets patrols"),
            ("#priority", "ASB"),
            ("#lead_organisation", "Tamworth BC"),
        ],
    );
    submit(&page, "/projects", "recording the project");
    assert_eq!(page.location(), ledger.url(&format!("/projects/{PROJECT}")), "{}", page.html());
    assert_eq!(page.text("#project-name"), "Safer streets patrols");
    assert_accessible(&page, "the project's page");
    page.navigating("back to the dashboard", |p| p.click("#to-dashboard"));
    super::open_from_record_menu(&page, &ledger, "allocations", "Record an allocation");
    assert_accessible(&page, "the allocation form");
    type_fields(
        &page,
        &[
            ("#grant", "LDF"),
            ("#financial_year", YEAR),
            ("#project", PROJECT),
            ("#amount", "10000"),
            ("#approval_ref", "CSP minute 4/23"),
        ],
    );
    set(&page, "#approved_on", "2023-04-05");
    submit(&page, "/allocations", "allocating");
    id_in_location(&page, "/entries/", &ledger);
    assert_eq!(page.text("#entry-kind"), "allocation");
    assert_eq!(page.text("#entry-created-by"), ADMIN.0);
    sign_out(&page, &ledger);

    // 3. The finance officer signs in and commits: a purchase order.
    sign_in(&page, &ledger, OFFICER);
    assert!(!page.exists("a[href='/admin/users']"), "the users page is the admin's");
    super::open_from_record_menu(&page, &ledger, "commitments", "Record a purchase order");
    assert_accessible(&page, "the purchase order form");
    type_fields(
        &page,
        &[
            ("#grant", "LDF"),
            ("#financial_year", YEAR),
            ("#project", PROJECT),
            ("#supplier", "Patrol Services Ltd"),
            ("#reference", "PO-101"),
            ("#amount", "4000"),
        ],
    );
    set(&page, "#date", "2023-04-10");
    submit(&page, "/commitments", "placing the order");
    let order = id_in_location(&page, "/commitments/", &ledger);
    assert_eq!(page.text("#commitment-outstanding"), money(ORDER));
    assert_accessible(&page, "the commitment's page");

    // 4. Pay: the invoice against the order, with VAT the partnership cannot recover.
    page.goto(&ledger.url(DASHBOARD));
    super::open_from_record_menu(&page, &ledger, "spend", "Record spend");
    type_invoice(&page, "INV-501", "April and May patrols", "1500.00");
    type_fields(&page, &[("#vat", "300.00"), ("#commitment_id", &order)]);
    set(&page, "#date", "2023-05-15");
    page.click("#vat_recoverable");
    assert_eq!(page.eval("document.querySelector('#vat_recoverable').checked"), json!(false));
    page.screenshot(&screenshot_path("quarter-spend-form"));
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/img/spend-form.png");
        std::fs::copy(screenshot_path("quarter-spend-form"), &docs).unwrap();
    }
    submit(&page, "/spend", "paying the invoice");
    let spend = id_in_location(&page, "/entries/", &ledger);
    assert_eq!(page.text("#entry-kind"), "spend");
    assert_eq!(page.text("#entry-charged"), Money::from_pence(SPEND_NET + SPEND_VAT).to_string());
    assert_eq!(page.text("#entry-created-by"), OFFICER.0);
    page.navigating("to the order", |p| p.click("#entry-commitment-link"));
    assert_eq!(page.text("#commitment-paid"), money(SPEND_NET + SPEND_VAT));
    assert_eq!(page.text("#commitment-outstanding"), money(ORDER - SPEND_NET - SPEND_VAT));

    // 5. A refund: the supplier's credit note for a cancelled shift, against that spend.
    page.goto(&ledger.url(DASHBOARD));
    super::open_from_record_menu(&page, &ledger, "refunds", "Record a refund");
    assert_accessible(&page, "the refund form");
    type_fields(
        &page,
        &[
            ("#grant", "LDF"),
            ("#project", PROJECT),
            ("#reference", "CN-12"),
            ("#amount", "100.00"),
            ("#vat", "20.00"),
            ("#reason", "A cancelled shift"),
            ("#spend_entry_id", &spend),
        ],
    );
    set(&page, "#date", "2023-06-01");
    page.click("#vat_recoverable");
    submit(&page, "/refunds", "recording the refund");
    id_in_location(&page, "/entries/", &ledger);
    assert_eq!(page.text("#entry-kind"), "refund");

    // 6. Import: June's lines from the finance system, checked dry, then confirmed.
    page.goto(&ledger.url(DASHBOARD));
    super::open_from_record_menu(&page, &ledger, "imports", "Import spend");
    let file = temp_dir("upload").join("june.csv");
    std::fs::write(
        &file,
        "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n\
         2023-06-10,LDF,SAFE1,Hall Hire Co,Community hall hire,INV-77,250.00,FIN-77\n\
         2023-06-12,LDF,SAFE1,Print & Co,Leaflets,INV-78,90.00,FIN-78\n",
    )
    .unwrap();
    super::imports::choose_file(&page, "#file", &file);
    set(&page, "#mapping", "generic");
    submit(&page, "/imports", "checking the file");
    assert_eq!(page.text("#import-counts"), "2 accepted, 0 duplicate, 0 refused", "{}", page.html());
    assert_accessible(&page, "the import's dry run");
    page.navigating("confirming the import", |p| p.click("#confirm-form button[type=submit]"));
    assert!(page.text("#import-status").starts_with("confirmed"), "{}", page.html());

    // 7. Correct: the leaflets were another project's; reversed from the entry's own page.
    let leaflets = page.eval(
        "[...document.querySelectorAll('#entries tbody tr')].find(tr => tr.innerText.includes('Print & Co'))\
         .querySelector('a[href^=\"/entries/\"]').getAttribute('href')",
    );
    let leaflets = leaflets.as_str().expect("the leaflets' entry").to_owned();
    page.navigating("opening the wrong entry", |p| p.click(&format!("#entries a[href='{leaflets}']")));
    assert_eq!(page.text("#entry-supplier"), "Print & Co");
    page.type_into("#reason", "Leaflets were for the youth project, not patrols");
    set(&page, "#date", "2023-06-20");
    page.navigating("reversing it", |p| p.click("form[action$='/reverse'] button[type=submit]"));
    assert_eq!(page.location(), ledger.url(&leaflets), "{}", page.html());
    assert!(page.exists("#entry-reversed-by a"), "{}", page.html());
    sign_out(&page, &ledger);

    // 8. The admin locks Q1 from the year's page, found from the dashboard, and files its return.
    sign_in(&page, &ledger, ADMIN);
    page.navigating("opening the year's page", |p| p.click("#year-page"));
    assert_eq!(page.text("h1"), format!("Financial year {YEAR}"));
    page.navigating("opening Q1's lock form", |p| p.click("#lock-1"));
    page.type_into("#reason", "Q1 agreed at the CSP meeting");
    page.navigating("locking Q1", |p| p.click("main form button[type=submit]"));
    assert_eq!(page.text("#quarter-1 .state"), "Locked", "{}", page.html());
    page.navigating("opening the filing form", |p| p.click("#file-1"));
    set(&page, "#kind", "commissioner-return");
    page.navigating("filing Q1's return", |p| p.click("main form button[type=submit]"));
    let filed = id_in_location(&page, "/returns/", &ledger);
    assert_eq!(page.text("#return-quarter"), "Q1");
    assert_eq!(page.text("#return-filed-by"), ADMIN.0);
    assert_eq!(page.text("#return-changed"), "Unchanged");
    let sha = page.text("#return-sha256");
    sign_out(&page, &ledger);

    // 9. A late invoice for June: refused in the locked quarter, beside its date; recorded
    // in the open quarter, saying which period it belongs to (docs/desk.md "A late invoice").
    sign_in(&page, &ledger, OFFICER);
    super::open_from_record_menu(&page, &ledger, "spend", "Record spend");
    type_invoice(&page, "INV-530", "June patrols", "200.00");
    set(&page, "#date", "2023-06-28");
    submit(&page, "/spend", "sending the late invoice dated in Q1");
    assert_eq!(status(&page), 409, "{}", page.html());
    let beside = page.text("#date-error");
    assert!(beside.contains("2023-24 Q1 is locked") && beside.contains("open quarter"), "{beside}");
    assert!(page.exists("[role=alert] a[href='#date']"), "the summary links to the date: {}", page.html());
    assert_accessible(&page, "the spend form refused for a locked quarter");
    set(&page, "#date", "2023-07-05");
    set(&page, "#description", "June patrols (late invoice for Q1 2023-24)");
    submit(&page, "/spend", "recording the late invoice in Q2");
    id_in_location(&page, "/entries/", &ledger);
    assert_eq!(page.text("#entry-date"), "2023-07-05");
    // The filed return, found in the list of filed returns, is as it was filed.
    page.navigating("back to the dashboard", |p| p.click("#to-dashboard"));
    page.navigating("opening the filed returns", |p| p.click("a[href='/returns']"));
    page.navigating("opening the filed return", |p| p.click(&format!("#returns a[href='/returns/{filed}']")));
    assert_eq!(page.text("#return-changed"), "Unchanged", "a Q2 entry leaves Q1's return as filed");
    assert_eq!(page.text("#return-sha256"), sha);
    sign_out(&page, &ledger);

    // 10. A partnership member reads the year: the figures are what was recorded.
    sign_in(&page, &ledger, MEMBER);
    let year_actual = q1_actual() + LATE;
    assert_eq!(page.text("#headline-awarded"), money(AWARD));
    assert_eq!(page.text("#headline-allocated"), money(ALLOCATED));
    assert_eq!(page.text("#headline-actual"), money(year_actual));
    assert_eq!(page.text("#headline-unallocated"), money(AWARD - ALLOCATED));
    assert_eq!(page.text("#headline-committed"), money(ORDER - SPEND_NET - SPEND_VAT));
    assert_accessible(&page, "the dashboard of the quarter");
    // The Actual figure, drilled into: the entries that make it up, adding up to it.
    let link = format!("#variance tr[data-project='{PROJECT}'] a.drill[href*='account=spent']");
    assert_eq!(page.text(&link), money(year_actual));
    page.navigating("drilling into the actual", |p| p.click(&link));
    assert!(page.location().starts_with(&ledger.url("/entries?")), "{}", page.location());
    assert_eq!(
        page.eval("document.querySelector('#list-total').dataset.total"),
        json!(Money::from_pence(year_actual).to_string())
    );
    assert_eq!(
        page.eval("document.querySelectorAll('#entries tbody tr').length"),
        json!(6),
        "spend, refund, two imported, reversal, late"
    );
    assert_accessible(&page, "the entries behind the actual");
    // A viewer records nothing: the Record menu's form is the 403 page.
    page.goto(&ledger.url(DASHBOARD));
    page.navigating("opening a recording form", |p| p.click("#record-spend"));
    assert_eq!(status(&page), 403);
    assert_eq!(page.text("h1"), "Not allowed");
    assert_accessible(&page, "the 403 page");

    // 11. The report as at the quarter's end, from the page's own date control, printed.
    page.goto(&ledger.url(DASHBOARD));
    set(&page, "#as_at", quarter_end);
    page.navigating("showing the quarter's end", |p| p.click(".controls button[type=submit]"));
    assert_eq!(page.location(), ledger.url(&format!("{DASHBOARD}&as_at={quarter_end}")));
    assert_eq!(page.text("#headline-actual"), money(q1_actual()), "the late invoice is Q2's");
    let pdf = page.print_to_pdf(&screenshot_path("quarter-dashboard").with_extension("pdf"));
    assert!(pdf.len() > 10_000, "a printed report: {} bytes", pdf.len());
    check_printed(&screenshot_path("quarter-dashboard").with_extension("pdf"), quarter_end);
    sign_out(&page, &ledger);

    // 12. The funder downloads the return as filed, and the quarter's monitoring return.
    sign_in(&page, &ledger, FUNDER);
    page.navigating("opening the filed returns", |p| p.click("a[href='/returns']"));
    assert_accessible(&page, "the filed returns, as the funder reads them");
    page.navigating("opening the filed return", |p| p.click(&format!("#returns a[href='/returns/{filed}']")));
    assert_eq!(page.text("#return-sha256"), sha);
    let downloads = temp_dir("downloads");
    let (name, bytes) = page.download("#return-download", &downloads);
    assert_eq!(page.text("#return-file-name"), format!("{name} ({} bytes)", bytes.len()));
    assert_eq!(hex::encode(Sha256::digest(&bytes)), sha, "the file as filed");
    page.goto(&ledger.url(DASHBOARD));
    let monitoring = format!("/dashboard/monitoring-return?financial_year={YEAR}&quarter=1");
    let (_, bytes) = page.download(&format!("a[href='{monitoring}']"), &downloads);
    let text = String::from_utf8(bytes).expect("the monitoring return is UTF-8");
    assert!(text.contains(PROJECT), "{text}");
    let (name, bytes) = page.download(&format!("a[href='/dashboard/variance.csv?financial_year={YEAR}']"), &downloads);
    assert!(name.ends_with(".csv"), "{name}");
    let text = String::from_utf8(bytes).expect("the variance CSV is UTF-8");
    let line = text.lines().find(|l| l.contains(PROJECT)).unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(&Money::from_pence(year_actual).to_string()), "{line}");

    // 13. Signed out.
    sign_out(&page, &ledger);
    page.goto(&ledger.url(DASHBOARD));
    assert!(page.location().starts_with(&ledger.url("/sign-in?next=")), "signed out");
}
