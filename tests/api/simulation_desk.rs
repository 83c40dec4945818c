//! The desk's clients in the concurrent simulation (`simulation.rs`): people signed in
//! through the sign-in form, posting the pages' forms with their session's `csrf_token`
//! (allocations, spend, refunds, purchase orders, receipts, repayments, forecasts,
//! virements, reversals, releases, project status, quarter locks, year close and reopen,
//! returns), deciding virements that wait for a second approver, and keeping imports:
//! dry run, confirmed twice at once (by the API and by the page), and reversed while their
//! entries are drawn on (reversed one by one on the page, or refunded naming them).
//!
//! What the answers promised is held after the run, beside `simulate`'s own checks (every
//! entry acknowledged, every balance the model's, `verify`, rules 2 and 4 as at every date):
//! - an import confirmed twice at once recorded its entries once: one confirm won, and the
//!   import's entries are its accepted lines, each once;
//! - an import reversal either reversed every entry of the import, or was refused naming an
//!   entry of it; after an entry of it was drawn on, it was refused; no entry anywhere has
//!   two reversals;
//! - no refund naming an entry of a reversed import was recorded before that reversal
//!   without being reversed first (the import reversal refuses while one stands);
//! - a virement raced by two deciders was decided once: at most one decision succeeded;
//! - a refused page post is a page saying why (409 or 422 with its alert), never a fault.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::http::{Method, StatusCode, header};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::forms::encode;
use crate::forms_postings::post_to;
use crate::pages::{Page, send, sign_in};
use crate::simulation::{
    AWARDS, Acked, Draws, Op, PROJECTS, Shared, acct, ack, check_answer, drawn, money, postings_of,
};
use crate::support::{Reply, Rng, TestApp};

/// What the desk's clients share beside `Shared`'s model.
#[derive(Default)]
pub(crate) struct DeskState {
    /// Kept imports confirmed: id, and (entry id, line) of each entry made.
    kept: Vec<(i64, Vec<(i64, Line)>)>,
    /// Kept imports this run saw reversed by the import reversal.
    kept_reversed: Vec<i64>,
    /// Page actions whose answer names no entry (a reversal, a release): the unique reason
    /// each carries, and the postings it implies.
    by_reason: Vec<(String, Vec<(String, i64)>)>,
    /// Virements waiting for a second approver: (id, award index, from, to, pence).
    pending: Vec<(i64, usize, &'static str, &'static str, i64)>,
    /// How the races and posts ended: reported, and the key races insisted on.
    tally: BTreeMap<String, usize>,
}

/// A line of a kept import: source_ref, award index, project, pence, date.
#[derive(Clone)]
struct Line {
    source_ref: String,
    award: usize,
    project: &'static str,
    pence: i64,
    date: String,
}

fn count(shared: &Mutex<Shared>, what: impl Into<String>) {
    *shared.lock().unwrap().desk.tally.entry(what.into()).or_default() += 1;
}

/// One person per role, signed in through the sign-in form, with the session's form token.
struct Desk {
    sessions: HashMap<Role, (String, String)>,
}

impl Desk {
    async fn open(app: &TestApp) -> Desk {
        let mut sessions = HashMap::new();
        for (role, form) in
            [(Role::Finance, "/spend/new"), (Role::Approver, "/allocations/new"), (Role::Admin, "/allocations/new")]
        {
            let secret = sign_in(app, role).await;
            let page = send(app, "GET", form, Some(&secret), None, &[]).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text);
            sessions.insert(role, (secret, page.form_token()));
        }
        Desk { sessions }
    }

    fn secret(&self, role: Role) -> &str {
        &self.sessions[&role].0
    }

    /// Posts an action's form (on a record's page) as `role`'s person, with the session's token.
    async fn act(&self, app: &TestApp, role: Role, action: &str, fields: &[(&str, &str)]) -> Page {
        let (secret, token) = &self.sessions[&role];
        let mut pairs = fields.to_vec();
        pairs.push(("csrf_token", token));
        send(app, "POST", action, Some(secret), Some(&encode(&pairs)), &[]).await
    }
}

/// A page's answer to a post: where success went, or `None` for a refusal, which must be
/// the page again saying why (409 or 422, with its alert), never a fault or a bare error.
fn went(what: &str, p: &Page) -> Option<String> {
    match p.status {
        StatusCode::SEE_OTHER => Some(p.headers[header::LOCATION].to_str().unwrap().to_owned()),
        StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY => {
            assert!(
                p.is_html() && p.text.contains("role=\"alert\""),
                "{what}: a refusal without its alert: {} {}",
                p.status,
                &p.text[p.text.find("<main").unwrap_or(0)..]
            );
            None
        }
        s => panic!("{what}: the page answered {s}: {}", p.text),
    }
}

/// Records entry `entry_id` as acknowledged by a page (whose answer is a redirect, not
/// `simulate`'s 201), as `ack` does an API answer.
fn ack_entry(shared: &Mutex<Shared>, entry_id: i64, what: &str, postings: Vec<(String, i64)>, role: Role) {
    let reply =
        Reply { status: StatusCode::CREATED, body: json!({ "entry_id": entry_id }), headers: Default::default() };
    ack(shared, &reply, what, Some(postings), role);
}

fn id_after(location: &str, prefix: &str) -> i64 {
    location.strip_prefix(prefix).and_then(|i| i.parse().ok()).unwrap_or_else(|| panic!("went to {location}"))
}

/// The postings reversing `postings`.
fn mirrored(postings: &[(String, i64)]) -> Vec<(String, i64)> {
    postings.iter().map(|(a, p)| (a.clone(), -p)).collect()
}

fn line_postings(l: &Line) -> Vec<(String, i64)> {
    let aw = AWARDS[l.award];
    vec![(acct("available", aw, l.project), l.pence), (acct("spent", aw, l.project), -l.pence)]
}

/// One desk client: `ops` random operations through the pages and the kept-import routes.
pub(crate) async fn desk_client(
    app: Arc<TestApp>,
    shared: Arc<Mutex<Shared>>,
    quarters: Arc<tokio::sync::Mutex<()>>,
    seed: u64,
    ops: usize,
) {
    let desk = Desk::open(&app).await;
    let mut rng = Rng(seed | 1);
    for n in 0..ops {
        let Op { a_index, a, p, amount, date, what } = Op::draw(&mut rng, "desk", seed, n);
        // The first operations keep and race an import, so every run has those races.
        let choice = if n < 2 { 4 + n as u64 } else { rng.below(12) };
        match choice {
            0 | 1 => posting_form(&app, &desk, &shared, &mut rng, &what, a_index, p, amount, &date).await,
            2 => {
                // A virement proposed on the page: above £5,000 it waits for a second approver.
                let to = PROJECTS[(PROJECTS.iter().position(|x| *x == p).unwrap() + 1 + rng.below(3) as usize) % 4];
                let big = rng.below(2) == 0;
                let moved = if big { 500_001 + amount % 1_000_000 } else { amount % 400_000 + 1 };
                let (a_index, p, date) = if big { (1, p, "2023-03-16".to_owned()) } else { (a_index, p, date) };
                let a = AWARDS[a_index];
                if big {
                    // Budget to move first, allocated on the page from the year's first day.
                    let pounds = money(moved);
                    let fields = [
                        ("grant", a.grant),
                        ("financial_year", a.year),
                        ("project", p),
                        ("amount", &pounds),
                        ("approved_on", &date),
                        ("approval_ref", "desk"),
                        ("memo", ""),
                    ];
                    let page =
                        post_to(&app, desk.secret(Role::Approver), "/allocations/new", "/allocations", &fields).await;
                    let Some(to_page) = went(&what, &page) else { continue };
                    let entry_id = id_after(&to_page, "/entries/");
                    let postings =
                        vec![(format!("unallocated:{}:{}", a.grant, a.year), moved), (acct("available", a, p), -moved)];
                    ack_entry(&shared, entry_id, &format!("{what} page allocation to move"), postings, Role::Approver);
                }
                let fields = [
                    ("grant", a.grant),
                    ("financial_year", a.year),
                    ("from_project", p),
                    ("to_project", to),
                    ("amount", &money(moved)),
                    ("approved_on", &date),
                    ("approval_ref", "desk"),
                    ("reason", "desk"),
                ];
                let page = post_to(&app, desk.secret(Role::Approver), "/virements/new", "/virements", &fields).await;
                let Some(to_page) = went(&what, &page) else {
                    count(&shared, "page virement refused");
                    continue;
                };
                let id = id_after(&to_page, "/virements/");
                let v = app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await;
                match v.body["status"].as_str() {
                    Some("posted") => {
                        let postings = vec![(acct("available", a, p), moved), (acct("available", a, to), -moved)];
                        let entry_id = v.body["entry_id"].as_i64().unwrap();
                        ack_entry(&shared, entry_id, &format!("{what} page virement"), postings, Role::Approver);
                        count(&shared, "page virement posted");
                    }
                    Some("pending") => {
                        shared.lock().unwrap().desk.pending.push((id, a_index, p, to, moved));
                        count(&shared, "page virement pending");
                    }
                    other => panic!("{what}: a new virement is {other:?}: {}", v.body),
                }
            }
            3 => decide_virement(&app, &desk, &shared, &mut rng, &what).await,
            4 => keep_import(&app, &desk, &shared, &mut rng, &what, seed, n).await,
            5 => reverse_import(&app, &desk, &shared, &mut rng, &what).await,
            6 => {
                // An entry reversed from its page, by the role that records its kind.
                let Some((id, role)) = drawn(&shared, &mut rng, |s| &s.reversible) else {
                    continue;
                };
                page_reversal(&app, &desk, &shared, &mut rng, &what, id, role).await;
            }
            7 => {
                // What a commitment will not spend, released from its page.
                let Some((id, ai, project)) = drawn(&shared, &mut rng, |s| &s.commitments) else {
                    continue;
                };
                let aw = AWARDS[ai];
                let released = amount / 4 + 1;
                let reason = format!("{what} page release");
                let fields = [("date", rng.date_in(aw.start)), ("amount", money(released)), ("reason", reason.clone())];
                let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let page = desk.act(&app, Role::Finance, &format!("/commitments/{id}/release"), &fields).await;
                if went(&what, &page).is_some() {
                    let postings =
                        vec![(acct("committed", aw, project), released), (acct("available", aw, project), -released)];
                    shared.lock().unwrap().desk.by_reason.push((reason, postings));
                    count(&shared, "page release");
                }
            }
            8 => {
                let status = *rng.pick(&["active", "active", "active", "closed"]);
                let page =
                    desk.act(&app, Role::Approver, &format!("/projects/{p}/status"), &[("status", status)]).await;
                assert_eq!(went(&what, &page).as_deref(), Some(format!("/projects/{p}").as_str()), "{what}");
            }
            9 => {
                // The quarters up to one locked and unlocked in reverse on the year's page (one
                // client at a time, as `simulation.rs`'s locks), or 2022-23 closed and reopened.
                if rng.below(2) == 0 {
                    let _turn = quarters.lock().await;
                    let path = |q: u64, word: &str| format!("/financial-years/{}/quarters/{q}/{word}", a.year);
                    let last = 1 + rng.below(4);
                    for q in 1..=last {
                        let page = desk.act(&app, Role::Admin, &path(q, "lock"), &[("reason", "desk")]).await;
                        assert!(went(&what, &page).is_some(), "{what}: locking Q{q} in order: {}", page.text);
                    }
                    for q in (1..=last).rev() {
                        let page = desk.act(&app, Role::Admin, &path(q, "unlock"), &[("reason", "desk")]).await;
                        assert!(went(&what, &page).is_some(), "{what}: unlocking Q{q} in reverse: {}", page.text);
                    }
                    count(&shared, "page quarter locks");
                } else {
                    let page =
                        desk.act(&app, Role::Admin, "/financial-years/2022-23/close", &[("reason", "desk")]).await;
                    if went(&what, &page).is_some() {
                        let page =
                            desk.act(&app, Role::Admin, "/financial-years/2022-23/reopen", &[("reason", "desk")]).await;
                        went(&what, &page);
                        count(&shared, "page year closed");
                    }
                }
            }
            10 => {
                // A return filed from its form: `verify` regenerates it at its position.
                let quarter = (1 + rng.below(4)).to_string();
                let fields = [("kind", "commissioner-return"), ("financial_year", a.year), ("quarter", &quarter)];
                let page = post_to(&app, desk.secret(Role::Finance), "/returns/new", "/returns", &fields).await;
                if went(&what, &page).is_some() {
                    count(&shared, "page return filed");
                }
            }
            _ => {
                // An officer's forecast from its form; its id from the list, by its explanation.
                let (quarter, made_on) = rng.forecast_made();
                let explanation = format!("{what} page forecast");
                let fields = [
                    ("grant", "LDF"),
                    ("financial_year", "2023-24"),
                    ("quarter", &quarter.to_string()),
                    ("project", p),
                    ("forecast_outturn", &money(amount)),
                    ("explanation", &explanation),
                    ("progress_rag", "green"),
                    ("made_on", &made_on),
                ];
                let page = post_to(&app, desk.secret(Role::Finance), "/forecasts/new", "/forecasts", &fields).await;
                assert!(went(&what, &page).is_some(), "{what}: a forecast of an open year: {}", page.text);
                let list =
                    app.get(&format!("/api/v1/forecasts?financial_year=2023-24&project={p}"), Role::Viewer).await;
                let id = list.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["explanation"] == explanation.as_str())
                    .and_then(|f| f["id"].as_i64())
                    .unwrap_or_else(|| panic!("{what}: the forecast recorded is not listed: {}", list.body));
                shared.lock().unwrap().forecasts.push((id, p, quarter, made_on, amount));
                count(&shared, "page forecast");
            }
        }
    }
}

/// A recording form posted as a browser does, one of the posting kinds at random; what it
/// recorded is held to what the API's request would post.
#[allow(clippy::too_many_arguments)]
async fn posting_form(
    app: &TestApp,
    desk: &Desk,
    shared: &Mutex<Shared>,
    rng: &mut Rng,
    what: &str,
    a_index: usize,
    p: &'static str,
    amount: i64,
    date: &str,
) {
    let a = AWARDS[a_index];
    // As the API's clients draw them: a refund a tenth, cash dated where its kind may be.
    let kind = rng.below(6);
    let amount = if kind == 2 || kind == 5 { amount / 10 + 1 } else { amount };
    let cash_year = if kind == 4 { 2021 } else { 2023 } + rng.below(2) as i32;
    let cash_date = rng.date_in(cash_year);
    let pounds = money(amount);
    let (kind, role, form, fields): (&str, Role, &str, Vec<(&str, &str)>) = match kind {
        0 => (
            "allocation",
            Role::Approver,
            "/allocations",
            vec![
                ("grant", a.grant),
                ("financial_year", a.year),
                ("project", p),
                ("amount", &pounds),
                ("approved_on", date),
                ("approval_ref", "desk"),
                ("memo", ""),
            ],
        ),
        1 => (
            "spend",
            Role::Finance,
            "/spend",
            vec![
                ("grant", a.grant),
                ("project", p),
                ("date", date),
                ("supplier", "Desk Supplier"),
                ("invoice_ref", "DESK-1"),
                ("description", "desk"),
                ("amount", &pounds),
                ("vat", ""),
                ("vat_recoverable", "on"),
                ("shown_checkbox", "vat_recoverable"),
            ],
        ),
        2 => (
            "refund",
            Role::Finance,
            "/refunds",
            vec![
                ("grant", a.grant),
                ("project", p),
                ("date", date),
                ("reference", "desk credit"),
                ("amount", &pounds),
                ("reason", "desk"),
                ("vat_recoverable", "on"),
                ("shown_checkbox", "vat_recoverable"),
            ],
        ),
        3 => (
            "purchase order",
            Role::Finance,
            "/commitments",
            vec![
                ("grant", a.grant),
                ("financial_year", a.year),
                ("project", p),
                ("supplier", "Desk Supplier"),
                ("reference", "desk PO"),
                ("amount", &pounds),
                ("date", date),
                ("kind", "purchase_order"),
            ],
        ),
        k => (
            if k == 4 { "receipt" } else { "repayment" },
            Role::Finance,
            if k == 4 { "/receipts" } else { "/repayments" },
            vec![
                ("grant", "ASB-EI"),
                ("financial_year", "2022-23"),
                ("date", &cash_date),
                ("amount", &pounds),
                ("reference", "desk"),
            ],
        ),
    };
    let page = post_to(app, desk.secret(role), &format!("{form}/new"), form, &fields).await;
    let what = format!("{what} page {kind}");
    let Some(to) = went(&what, &page) else {
        count(shared, format!("page {kind} refused"));
        return;
    };
    count(shared, format!("page {kind} posted"));
    let (entry_id, commitment) = if kind == "purchase order" {
        let id = id_after(&to, "/commitments/");
        let c = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await;
        let entry = c.body["schedule"][0]["entry_id"].as_i64();
        (entry.unwrap_or_else(|| panic!("{what}: {}", c.body)), Some(id))
    } else {
        (id_after(&to, "/entries/"), None)
    };
    let entry = app.get(&format!("/api/v1/entries/{entry_id}"), Role::Viewer).await;
    assert_eq!(entry.body["created_by"], if role == Role::Finance { "test finance" } else { "test approver" });
    let postings = match kind {
        "allocation" => {
            vec![(format!("unallocated:{}:{}", a.grant, a.year), amount), (acct("available", a, p), -amount)]
        }
        "refund" => vec![(acct("spent", a, p), amount), (acct("available", a, p), -amount)],
        "purchase order" => vec![(acct("available", a, p), amount), (acct("committed", a, p), -amount)],
        "receipt" => vec![("cash:ASB-EI:2022-23".to_owned(), amount), ("received:ASB-EI:2022-23".to_owned(), -amount)],
        "repayment" => vec![("owed:ASB-EI:2022-23".to_owned(), amount), ("cash:ASB-EI:2022-23".to_owned(), -amount)],
        _ => {
            // A spend draws on the project's open commitments as the API's does: its budget
            // side is the project's committed and available, together its amount.
            let stored = postings_of(&entry.body);
            let budget: i64 = stored
                .iter()
                .filter(|(acc, _)| *acc == acct("committed", a, p) || *acc == acct("available", a, p))
                .map(|(_, x)| x)
                .sum();
            assert_eq!(budget, amount, "{what}: {}", entry.body);
            assert!(stored.contains(&(acct("spent", a, p), -amount)) && stored.len() <= 3, "{what}: {}", entry.body);
            stored
        }
    };
    ack_entry(shared, entry_id, &what, postings, role);
    if let Some(id) = commitment {
        shared.lock().unwrap().commitments.push((id, a_index, p));
    }
}

/// An entry reversed from its page with a reason no other request carries, so the run's
/// end finds its reversal by it.
async fn page_reversal(
    app: &TestApp,
    desk: &Desk,
    shared: &Mutex<Shared>,
    rng: &mut Rng,
    what: &str,
    id: i64,
    role: Role,
) {
    let original = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
    let year_start: i32 = original.body["financial_year"].as_str().unwrap()[..4].parse().unwrap();
    // On its own date, or later in its year (cash: its own date, which may lie outside it).
    let own = original.body["date"].as_str().unwrap().to_owned();
    let date = match original.body["kind"].as_str() {
        Some("receipt" | "repayment") => own,
        _ => own.max(rng.date_in(year_start)),
    };
    let reason = format!("{what} page reversal of {id}");
    let page = desk.act(app, role, &format!("/entries/{id}/reverse"), &[("date", &date), ("reason", &reason)]).await;
    if went(what, &page).is_some() {
        let postings = mirrored(&postings_of(&original.body));
        shared.lock().unwrap().desk.by_reason.push((reason, postings));
        count(shared, "page reversal");
    } else {
        count(shared, "page reversal refused");
    }
}

/// A virement waiting for a second approver, decided by two at once: the API approving it,
/// the page approving or rejecting it. At most one decision succeeds.
async fn decide_virement(app: &TestApp, desk: &Desk, shared: &Mutex<Shared>, rng: &mut Rng, what: &str) {
    let Some((id, ai, from, to, moved)) = drawn(shared, rng, |s| &s.desk.pending) else {
        return;
    };
    let reject = rng.below(3) == 0;
    let approve = format!("/api/v1/virements/{id}/approve");
    let (api, page) = tokio::join!(app.post(&approve, Role::Admin, json!({})), async {
        if reject {
            desk.act(app, Role::Admin, &format!("/virements/{id}/reject"), &[("reason", "desk: not now")]).await
        } else {
            desk.act(app, Role::Admin, &format!("/virements/{id}/approve"), &[]).await
        }
    });
    check_answer(what, &api);
    let page_won = went(what, &page).is_some();
    let api_won = api.status == StatusCode::CREATED;
    assert!(!(api_won && page_won), "{what}: virement {id} decided twice: {} / page {}", api.body, page.status);
    let v = app.get(&format!("/api/v1/virements/{id}"), Role::Viewer).await;
    let aw = AWARDS[ai];
    let postings = vec![(acct("available", aw, from), moved), (acct("available", aw, to), -moved)];
    match v.body["status"].as_str() {
        Some("approved") if api_won => {
            ack(shared, &api, &format!("{what} approval"), Some(postings), Role::Approver);
        }
        Some("approved") if page_won => {
            assert!(!reject, "{what}: rejected on the page, yet approved: {}", v.body);
            let entry_id = v.body["entry_id"].as_i64().unwrap();
            ack_entry(shared, entry_id, &format!("{what} page approval"), postings, Role::Approver);
        }
        Some("rejected") if page_won => assert!(reject, "{what}: {}", v.body),
        // Another client's decision, or a refusal by a rule: it may wait still.
        _ => {}
    }
    if v.body["status"] != "pending" {
        shared.lock().unwrap().desk.pending.retain(|x| x.0 != id);
    }
    count(shared, format!("virement decision race: {}", if api_won || page_won { "decided once" } else { "neither" }));
}

/// A spend file kept under an id (its dry run), then confirmed twice at once: once through
/// the API, once from the import's page. One may win; the entries are made once.
async fn keep_import(
    app: &TestApp,
    desk: &Desk,
    shared: &Mutex<Shared>,
    rng: &mut Rng,
    what: &str,
    seed: u64,
    n: usize,
) {
    let mut csv = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
    let mut lines = Vec::new();
    for k in 0..(1 + rng.below(3)) {
        // Half on the `warn` grant, where an overspend is flagged and not refused.
        let award = if rng.below(2) == 0 { 3 } else { rng.below(AWARDS.len() as u64) as usize };
        let (aw, project, pence) = (AWARDS[award], *rng.pick(&PROJECTS), 1 + rng.below(5_000) as i64);
        let source_ref = format!("kept-{seed}-{n}-{k}");
        let date = rng.date_in(aw.start);
        csv.push_str(&format!("{date},{},{project},K,d,{source_ref},{},{source_ref}\n", aw.grant, money(pence)));
        lines.push(Line { source_ref, award, project, pence, date });
    }
    let kept = app.send_bytes(Method::POST, "/api/v1/imports", Role::Finance, "text/csv", csv.into_bytes()).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{what}: keeping an import: {}", kept.body);
    let id = kept.body["id"].as_i64().unwrap();
    let (api_path, page_path) = (format!("/api/v1/imports/{id}/confirm"), format!("/imports/{id}/confirm"));
    let (api, page) =
        tokio::join!(app.post(&api_path, Role::Finance, json!({})), desk.act(app, Role::Finance, &page_path, &[]));
    let api_won = api.status == StatusCode::OK;
    if !api_won {
        assert!(
            matches!((api.status.as_u16(), api.code()), (409, "conflict") | (422, "validation_failed")),
            "{what}: confirming {id}: {} {}",
            api.status,
            api.body
        );
    }
    let page_won = went(what, &page).is_some();
    assert!(!(api_won && page_won), "{what}: import {id} confirmed twice: {} / {}", api.body, page.status);
    let record = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
    let entries = record.body["entries"].as_array().unwrap();
    if !(api_won || page_won) {
        assert!(
            entries.is_empty() && record.body["confirmed_at"].is_null(),
            "{what}: nothing recorded: {}",
            record.body
        );
        count(shared, "import confirm race: both refused");
        return;
    }
    count(shared, "import confirm race: one won");
    // The confirming run's accepted lines, each once, are the import's entries, in order.
    let accepted: Vec<&Line> = record.body["outcome"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["outcome"] == "accepted")
        .map(|l| &lines[l["line"].as_u64().unwrap() as usize - 2])
        .collect();
    assert_eq!(entries.len(), accepted.len(), "{what}: import {id}'s entries are its accepted lines: {}", record.body);
    let made: Vec<(i64, Line)> =
        entries.iter().zip(&accepted).map(|(e, l)| (e["entry_id"].as_i64().unwrap(), (*l).clone())).collect();
    let mut s = shared.lock().unwrap();
    for (entry_id, l) in &made {
        s.import_refs.push((l.source_ref.clone(), l.award, l.project, l.pence));
        s.reversible.push((*entry_id, Role::Finance));
    }
    s.desk.kept.push((id, made));
}

/// A kept import reversed (by the API or its page) while one of its entries is drawn on at
/// the same moment: reversed alone from the entry's page, or refunded naming it. The
/// import's reversal reverses every entry, or is refused naming one; never both reversals.
async fn reverse_import(app: &TestApp, desk: &Desk, shared: &Mutex<Shared>, rng: &mut Rng, what: &str) {
    let Some((id, made)) = ({
        let s = shared.lock().unwrap();
        let open: Vec<_> =
            s.desk.kept.iter().filter(|k| !s.desk.kept_reversed.contains(&k.0) && !k.1.is_empty()).collect();
        (!open.is_empty()).then(|| open[rng.below(open.len() as u64) as usize].clone())
    }) else {
        return;
    };
    let (entry_id, line) = made[rng.below(made.len() as u64) as usize].clone();
    let by_page = rng.below(2) == 0;
    let refund = rng.below(2) == 0;
    let reason = format!("{what} page reversal of {entry_id}");
    let back = 1 + line.pence / 3;
    // Mostly at once; now and then the draw first, so a refusal naming it is met every run.
    let draw_first = rng.below(3) == 0;
    let gate = tokio::sync::Notify::new();
    let (whole, draw) = tokio::join!(
        async {
            if draw_first {
                gate.notified().await;
            }
            if by_page {
                let page = desk
                    .act(app, Role::Finance, &format!("/imports/{id}/reverse"), &[("reason", "desk: wrong file")])
                    .await;
                (went(what, &page).is_some(), page.status, page.text)
            } else {
                let r = app
                    .post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({ "reason": "desk" }))
                    .await;
                check_answer(what, &r);
                (r.status == StatusCode::OK, r.status, r.body.to_string())
            }
        },
        async {
            if refund {
                let body = json!({ "grant": AWARDS[line.award].grant, "project": line.project, "date": line.date,
                                   "amount": money(back), "reason": "desk", "spend_entry_id": entry_id });
                let r = app.post("/api/v1/refunds", Role::Finance, body).await;
                check_answer(what, &r);
                gate.notify_one();
                Err(r)
            } else {
                let fields = [("date", line.date.as_str()), ("reason", reason.as_str())];
                let page = desk.act(app, Role::Finance, &format!("/entries/{entry_id}/reverse"), &fields).await;
                gate.notify_one();
                Ok(page)
            }
        }
    );
    let (reversed, status, text) = whole;
    let how = format!(
        "import reverse {} ({})",
        if draw_first { "after a draw" } else { "racing a draw" },
        if refund { "a refund naming an entry" } else { "an entry reversed alone" }
    );
    let drew = match draw {
        Err(r) => {
            let aw = AWARDS[line.award];
            let postings = vec![(acct("spent", aw, line.project), back), (acct("available", aw, line.project), -back)];
            ack(shared, &r, &format!("{what} refund of imported {entry_id}"), Some(postings), Role::Finance)
        }
        Ok(page) => {
            let done = went(what, &page).is_some();
            if done {
                shared.lock().unwrap().desk.by_reason.push((reason, mirrored(&line_postings(&line))));
            }
            assert!(!(done && reversed), "{what}: entry {entry_id} reversed alone and with import {id}");
            done
        }
    };
    assert!(
        !(draw_first && drew && reversed),
        "{what}: {how}: entry {entry_id} was drawn on first, yet import {id} was reversed whole"
    );
    let record = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
    let entries = record.body["entries"].as_array().unwrap();
    if reversed {
        // Every entry reversed, by the import's reversal: each reversal acknowledged.
        let mut s = shared.lock().unwrap();
        for ((e, l), shown) in made.iter().zip(entries) {
            assert_eq!(shown["entry_id"], *e, "{what}");
            let by =
                shown["reversed_by"].as_i64().unwrap_or_else(|| panic!("{what}: {e} not reversed: {}", record.body));
            s.acked.push(Acked {
                entry_id: by,
                what: format!("{what} import {id}'s reversal of {e}"),
                postings: Some(mirrored(&line_postings(l))),
            });
        }
        s.desk.kept_reversed.push(id);
        drop(s);
        count(shared, format!("{how}: reversed whole, the draw {}", if drew { "also recorded" } else { "refused" }));
    } else {
        // Refused naming an entry of it, or the import itself reversed already by another.
        assert_eq!(status, StatusCode::CONFLICT, "{what}: reversing import {id}: {text}");
        let names_entry = made.iter().any(|(e, _)| text.contains(&format!("entry {e} of import {id}")));
        assert!(
            names_entry || text.contains("already reversed"),
            "{what}: reversing import {id} was refused naming none of its entries: {text}"
        );
        if text.contains("already reversed") {
            shared.lock().unwrap().desk.kept_reversed.push(id);
        }
        count(shared, format!("{how}: refused, the draw {}", if drew { "recorded" } else { "refused too" }));
    }
}

/// Accounts, as `simulate` does each acknowledged entry, the page actions whose answer named
/// no entry: each is the one entry carrying its reason, with the postings it implied.
pub(crate) fn account(
    shared: &Shared,
    entries: &BTreeMap<i64, Value>,
    expected: &mut HashMap<String, i64>,
    accounted: &mut Vec<i64>,
) {
    for (reason, postings) in &shared.desk.by_reason {
        let found: Vec<&Value> = entries.values().filter(|e| e["details"]["reason"] == reason.as_str()).collect();
        assert_eq!(found.len(), 1, "{reason}: one entry carries it, not {}", found.len());
        let mut want = postings.clone();
        want.sort();
        assert_eq!(postings_of(found[0]), want, "{reason}: {}", found[0]);
        for (account, pence) in want {
            *expected.entry(account).or_default() += pence;
        }
        accounted.push(found[0]["id"].as_i64().unwrap());
    }
}

/// The desk's promises, held after the run (see the module's comment).
pub(crate) async fn check(app: &TestApp, shared: &Shared, entries: &BTreeMap<i64, Value>) {
    // No entry has two reversals.
    let mut reversals: HashMap<i64, Vec<i64>> = HashMap::new();
    for (id, e) in entries {
        if let Some(of) = e["reverses"].as_i64() {
            reversals.entry(of).or_default().push(*id);
        }
    }
    for (of, by) in &reversals {
        assert_eq!(by.len(), 1, "entry {of} is reversed by {by:?}");
    }
    let desk = &shared.desk;
    for (id, made) in &desk.kept {
        let record = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
        let shown = record.body["entries"].as_array().unwrap();
        let ids: Vec<i64> = shown.iter().map(|e| e["entry_id"].as_i64().unwrap()).collect();
        let made_ids: Vec<i64> = made.iter().map(|m| m.0).collect();
        assert_eq!(ids, made_ids, "import {id}: its entries are those its confirm made, once: {}", record.body);
        for e in &ids {
            assert_eq!(
                entries[e]["source_ref"].as_str(),
                made.iter().find(|m| m.0 == *e).map(|m| m.1.source_ref.as_str())
            );
        }
        if record.body["reversed_at"].is_string() {
            // Reversed whole: each entry by the one reversal, and no refund naming one of them
            // stood when it was reversed (ids follow the award's lock order).
            for s in shown {
                let (e, by) = (s["entry_id"].as_i64().unwrap(), s["reversed_by"].as_i64());
                let by = by.unwrap_or_else(|| panic!("import {id} is reversed but not its entry {e}: {}", record.body));
                assert_eq!(reversals[&e], vec![by], "import {id}: entry {e}");
                for (rid, r) in entries.range(..by) {
                    if r["details"]["spend_entry_id"] == e {
                        let undone = reversals.get(rid).is_some_and(|x| x[0] < by);
                        assert!(undone, "import {id} reversed entry {e} while refund {rid} naming it stood");
                    }
                }
            }
        }
    }
    let races = |prefix: &str| desk.tally.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(_, v)| v).sum::<usize>();
    assert!(races("import confirm race") > 0, "no import was confirmed twice at once: {:?}", desk.tally);
    assert!(races("import reverse") > 0, "no import was reversed while drawn on: {:?}", desk.tally);
    eprintln!("simulation desk: {:?}", desk.tally);
}

// Found by the simulation: two people reversing one entry at once. The second's post came
// back 409 with the entry's page, which no longer has the reversal form, and so said
// nothing of why nothing was done.
backend_test!(a_reversal_refused_after_another_says_why_on_the_entry_page, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    let entry = app.allocate("LDF", "2023-24", "P1", "100").await["entry_id"].as_i64().unwrap();
    let desk = Desk::open(&app).await;
    let form = [("date", "2023-06-01"), ("reason", "minuted twice")];
    let first = desk.act(&app, Role::Approver, &format!("/entries/{entry}/reverse"), &form).await;
    assert_eq!(went("first", &first).as_deref(), Some(format!("/entries/{entry}").as_str()));
    let second = desk.act(&app, Role::Approver, &format!("/entries/{entry}/reverse"), &form).await;
    assert_eq!(second.status, StatusCode::CONFLICT, "{}", second.text);
    let alert = &second.text[second.text.find("role=\"alert\"").expect("the page says why")..];
    assert!(alert.contains("already") && alert.contains("Nothing was changed."), "{alert}");
    assert_eq!(app.balance("available:LDF:2023-24:P1").await, "0.00", "reversed once");
});
