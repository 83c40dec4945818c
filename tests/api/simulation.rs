//! The concurrent simulation: many clients send random operations at once, across several
//! awards (a `stop` grant over two years, a restricted grant, a `warn` grant), mixed with
//! reference changes (priority and status), imports, year ends, attempts to close a year,
//! quarters locked and unlocked, returns filed, the funder's cash (receipts before the year,
//! repayments after it, racing the locks of the quarters they fall in), officers' forecasts
//! recorded and withdrawn, invoices sent twice (with and without `duplicate_of_entry_ok`)
//! and partners' evidence reversed, and the funder reallocating LDF 2022-23 between Tamworth
//! (the home partnership) and Cannock Chase; beside them, the desk's clients (`simulation_desk.rs`)
//! work through the pages' forms with signed-in sessions, decide virements and keep imports.
//! The order is the scheduler's, so no model can predict which request wins; instead every
//! answer is held to what it promised:
//! - no answer is a 5xx, and every refusal carries one of docs/api.md's codes;
//! - every acknowledged entry is in the ledger with the postings its request implies, and the
//!   ledger holds no entry that no one was told of;
//! - every balance equals its opening balance plus the acknowledged postings (the model);
//! - `verify` is clean, and every return filed during the race equals the ledger regenerated
//!   at its position;
//! - no two standing spends (or refunds) are one invoice unless the later was confirmed
//!   (`duplicate_of`), and every `duplicate` refusal named a spend of the same invoice;
//! - every agreement's `evidenced` is the sum of its evidence not reversed, and every
//!   acknowledged reversal is shown;
//! - the variance report as at every date of each year keeps rules 2 and 4;
//! - every project's forecast in each quarter is the latest standing one the clients were
//!   told was recorded and not withdrawn (a forecast stands until superseded);
//! - the fund's total is unchanged, and Tamworth's and Cannock Chase's shares are their
//!   published shares moved by the reallocations acknowledged; Tamworth's share is its
//!   award (rule 8 in its ledger is the `unallocated` check as at every date).
//!
//! `cargo test` runs it briefly on each backend. The long run is ignored by default:
//! `SIM_CLIENTS=8 SIM_OPS=400 cargo test --test api simulation_long -- --ignored`.
//!
//! Only the PostgreSQL run of these races can catch a row lock that is removed or taken too
//! late: SQLite's writer holds the whole database (`begin immediate` on the one writer
//! connection), so its run passes with no row lock at all. The PostgreSQL run must never be
//! skipped: it needs `TEST_DATABASE_URL`, and with `CI` set the harness (`support::run`)
//! fails rather than skips without it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::support::{Reply, Rng, TestApp};

/// What a client draws at random besides `support::Rng`'s numbers. One generator per
/// client, so a failing seed can be replayed (the interleaving still varies).
pub(crate) trait Draws {
    fn date_in(&mut self, start_year: i32) -> String;
    fn pence(&mut self) -> i64;
    fn forecast_made(&mut self) -> (u8, String);
}

impl Draws for Rng {
    /// A date in the financial year starting in April of `start_year`.
    fn date_in(&mut self, start_year: i32) -> String {
        let start = chrono::NaiveDate::from_ymd_opt(start_year, 4, 1).unwrap();
        (start + chrono::Duration::days(self.below(365) as i64)).to_string()
    }
    /// Pence, mostly small beside the budgets so that both acceptance and refusal happen.
    fn pence(&mut self) -> i64 {
        match self.below(10) {
            0 => 1 + self.below(2_000_000) as i64,
            _ => 1 + self.below(200_000) as i64,
        }
    }
    /// A quarter of 2023-24 a forecast is made in, and the day it is made (in the quarter).
    fn forecast_made(&mut self) -> (u8, String) {
        let quarter = 1 + self.below(4) as u8;
        let first =
            chrono::NaiveDate::from_ymd_opt(2023, 4, 1).unwrap() + chrono::Months::new(3 * u32::from(quarter - 1));
        (quarter, (first + chrono::Duration::days(self.below(90) as i64)).to_string())
    }
}

/// What every operation of a client draws first: an award (and its index), a project, an
/// amount and a date in the award's year; and what the operation is called in a failure.
pub(crate) struct Op {
    pub(crate) a_index: usize,
    pub(crate) a: AwardKey,
    pub(crate) p: &'static str,
    pub(crate) amount: i64,
    pub(crate) date: String,
    pub(crate) what: String,
}

impl Op {
    /// Operation `n` of `who`'s client of `seed`.
    pub(crate) fn draw(rng: &mut Rng, who: &str, seed: u64, n: usize) -> Op {
        let a_index = rng.below(AWARDS.len() as u64) as usize;
        let a = AWARDS[a_index];
        let p = *rng.pick(&PROJECTS);
        let amount = rng.pence();
        let date = rng.date_in(a.start);
        Op { a_index, a, p, amount, date, what: format!("{who} {seed} op {n}") }
    }
}

/// One of the things the clients share in `list`, drawn at random; None while there is none.
pub(crate) fn drawn<T: Clone>(shared: &Mutex<Shared>, rng: &mut Rng, list: impl Fn(&Shared) -> &Vec<T>) -> Option<T> {
    let s = shared.lock().unwrap();
    let items = list(&s);
    (!items.is_empty()).then(|| rng.pick(items).clone())
}

pub(crate) fn money(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// An award the clients post to: grant, year, and the year's first calendar year.
#[derive(Clone, Copy)]
pub(crate) struct AwardKey {
    pub(crate) grant: &'static str,
    pub(crate) year: &'static str,
    pub(crate) start: i32,
}

pub(crate) const AWARDS: [AwardKey; 4] = [
    AwardKey { grant: "LDF", year: "2022-23", start: 2022 },
    AwardKey { grant: "LDF", year: "2023-24", start: 2023 },
    AwardKey { grant: "ASB-EI", year: "2022-23", start: 2022 },
    AwardKey { grant: "WARN", year: "2023-24", start: 2023 },
];
pub(crate) const PROJECTS: [&str; 4] = ["SA", "SB", "SC", "SD"];
const PRIORITIES: [&str; 2] = ["ASB", "COHESION"];

/// What one acknowledged answer promised: the entry and the postings its request implies
/// (None where the ledger decides them, as for a year end's sweep).
pub(crate) struct Acked {
    pub(crate) entry_id: i64,
    pub(crate) what: String,
    pub(crate) postings: Option<Vec<(String, i64)>>,
}

/// Shared between clients: what was acknowledged, and the commitments and entries they
/// may act on next.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) acked: Vec<Acked>,
    /// (commitment id, award index, project)
    pub(crate) commitments: Vec<(i64, usize, &'static str)>,
    pub(crate) reversible: Vec<(i64, Role)>,
    /// (agreement id, project): grant agreements across LDF 2022-23 and 2023-24
    pub(crate) agreements: Vec<(i64, &'static str)>,
    pub(crate) import_refs: Vec<(String, usize, &'static str, i64)>,
    /// Forecasts acknowledged: (id, project, quarter, made_on, pence), LDF 2023-24.
    pub(crate) forecasts: Vec<(i64, &'static str, u8, String, i64)>,
    /// Forecasts acknowledged as withdrawn.
    pub(crate) withdrawn: Vec<i64>,
    /// Spend bodies acknowledged, to send again as a second invoice (award index, project).
    pub(crate) spends: Vec<(Value, usize, &'static str)>,
    /// (agreement id, evidence id) of evidence recorded, and of evidence reversed.
    pub(crate) evidence: Vec<(i64, i64)>,
    pub(crate) reversed_evidence: Vec<(i64, i64)>,
    /// Reallocations acknowledged: the pence each moved to Tamworth (negative: away from it).
    pub(crate) reallocated: Vec<i64>,
    /// What the desk's clients (`simulation_desk`) share.
    pub(crate) desk: crate::simulation_desk::DeskState,
}

pub(crate) fn acct(kind: &str, a: AwardKey, project: &str) -> String {
    format!("{kind}:{}:{}:{project}", a.grant, a.year)
}

/// The codes a refusal may carry, by status. Anything else fails the run.
pub(crate) fn check_answer(what: &str, r: &Reply) {
    let allowed: &[&str] = match r.status.as_u16() {
        200..=299 => return,
        409 => &["overspend", "over_allocation", "conflict", "period_closed", "already_reversed", "duplicate"],
        422 => &["validation_failed", "restricted_fund"],
        _ => &[],
    };
    assert!(allowed.contains(&r.code()), "{what} answered {} {}", r.status, r.body);
}

async fn setup(app: &TestApp) {
    let grant = json!({ "code": "WARN", "name": "A warn grant", "funder": "SCO", "on_overspend": "warn" });
    app.ok("/api/v1/grants", Role::Approver, grant).await;
    let award = json!({ "financial_year": "2023-24", "amount": "20000", "awarded_on": "2023-04-01", "reference": "r" });
    app.ok("/api/v1/grants/WARN/awards", Role::Approver, award).await;
    for p in PROJECTS {
        app.project(p, "ASB").await;
    }
    // A little of every award for every project from its year's first day, so a grant
    // agreement's later part, committed on that day, can find budget.
    for a in AWARDS {
        for p in PROJECTS {
            let body = json!({ "grant": a.grant, "financial_year": a.year, "project": p, "amount": "1000.00",
                               "approved_on": format!("{}-03-16", a.start), "approval_ref": "setup" });
            app.ok("/api/v1/allocations", Role::Approver, body).await;
        }
    }
    let partner = json!({ "code": "SIMORG", "name": "Simulated Partner", "kind": "vcse" });
    app.ok("/api/v1/organisations", Role::Approver, partner).await;
    // Staffordshire's nine partnerships and its LDF 2022-23 fund, shares as published.
    crate::county_funds::declared(app).await;
}

/// The fund the funder reallocates, and the shares (pence) it was declared with.
const FUND: &str = "/api/v1/funder/funds/LDF/2022-23";
const FUND_PENCE: i64 = 72_475_000;
const TAM_SHARE: i64 = 6_139_400;
const CAN_SHARE: i64 = 8_500_000;

/// One client's run: `ops` random operations, each recorded if acknowledged.
async fn client(
    app: Arc<TestApp>,
    shared: Arc<Mutex<Shared>>,
    quarters: Arc<tokio::sync::Mutex<()>>,
    seed: u64,
    ops: usize,
) {
    let mut rng = Rng(seed | 1);
    for n in 0..ops {
        let Op { a_index, a, p, amount, date, what } = Op::draw(&mut rng, "client", seed, n);
        match rng.below(24) {
            0 | 1 => {
                let body = json!({ "grant": a.grant, "financial_year": a.year, "project": p, "amount": money(amount),
                                   "approved_on": date, "approval_ref": "m" });
                let r = app.post("/api/v1/allocations", Role::Approver, body).await;
                check_answer(&what, &r);
                let postings =
                    vec![(format!("unallocated:{}:{}", a.grant, a.year), amount), (acct("available", a, p), -amount)];
                ack(&shared, &r, &format!("{what} allocation"), Some(postings), Role::Approver);
            }
            2 => {
                let body = json!({ "grant": a.grant, "financial_year": a.year, "project": p, "supplier": "s",
                                   "amount": money(amount), "date": date });
                let r = app.post("/api/v1/commitments", Role::Finance, body).await;
                check_answer(&what, &r);
                let postings = vec![(acct("available", a, p), amount), (acct("committed", a, p), -amount)];
                if ack(&shared, &r, &format!("{what} commitment"), Some(postings), Role::Finance) {
                    let id = r.body["commitment_id"].as_i64().unwrap();
                    shared.lock().unwrap().commitments.push((id, a_index, p));
                }
            }
            3 | 4 => {
                let commitment = {
                    let s = shared.lock().unwrap();
                    let mine: Vec<_> = s.commitments.iter().filter(|c| c.1 == a_index && c.2 == p).collect();
                    (!mine.is_empty() && rng.below(2) == 0).then(|| mine[rng.below(mine.len() as u64) as usize].0)
                };
                let mut body = TestApp::spend_body(a.grant, p, &date, &money(amount));
                if let Some(id) = commitment {
                    body["commitment_id"] = json!(id);
                }
                let r = app.post("/api/v1/spend", Role::Finance, body.clone()).await;
                check_answer(&what, &r);
                if r.status == StatusCode::CREATED {
                    shared.lock().unwrap().spends.push((body, a_index, p));
                }
                let postings = (r.status == StatusCode::CREATED).then(|| {
                    let covered = pence_of(&r.body["covered_by_commitment"]);
                    let mut v = Vec::new();
                    if covered > 0 {
                        v.push((acct("committed", a, p), covered));
                    }
                    if amount > covered {
                        v.push((acct("available", a, p), amount - covered));
                    }
                    v.push((acct("spent", a, p), -amount));
                    v
                });
                ack(&shared, &r, &format!("{what} spend"), postings, Role::Finance);
            }
            5 => {
                let Some((id, ai, project)) = drawn(&shared, &mut rng, |s| &s.commitments) else {
                    continue;
                };
                let aw = AWARDS[ai];
                let body = json!({ "date": rng.date_in(aw.start), "amount": money(amount / 4 + 1), "reason": "r" });
                let r = app.post(&format!("/api/v1/commitments/{id}/release"), Role::Finance, body).await;
                check_answer(&what, &r);
                let released = amount / 4 + 1;
                let postings =
                    vec![(acct("committed", aw, project), released), (acct("available", aw, project), -released)];
                ack(&shared, &r, &format!("{what} release"), Some(postings), Role::Finance);
            }
            6 => {
                let body = json!({ "grant": a.grant, "project": p, "date": date, "amount": money(amount / 10 + 1), "reason": "r" });
                let r = app.post("/api/v1/refunds", Role::Finance, body).await;
                check_answer(&what, &r);
                let back = amount / 10 + 1;
                let postings = vec![(acct("spent", a, p), back), (acct("available", a, p), -back)];
                ack(&shared, &r, &format!("{what} refund"), Some(postings), Role::Finance);
            }
            7 => {
                let to = *rng.pick(&PROJECTS);
                let moved = amount % 400_000 + 1;
                let body = json!({ "grant": a.grant, "financial_year": a.year, "from_project": p, "to_project": to,
                                   "amount": money(moved), "approved_on": date, "approval_ref": "m", "reason": "r" });
                let r = app.post("/api/v1/virements", Role::Approver, body).await;
                check_answer(&what, &r);
                let postings = vec![(acct("available", a, p), moved), (acct("available", a, to), -moved)];
                ack(&shared, &r, &format!("{what} virement"), Some(postings), Role::Approver);
            }
            8 => {
                let Some((id, role)) = drawn(&shared, &mut rng, |s| &s.reversible) else {
                    continue;
                };
                let original = app.get(&format!("/api/v1/entries/{id}"), Role::Viewer).await;
                let year_start: i32 = original.body["financial_year"].as_str().unwrap()[..4].parse().unwrap();
                // Cash is reversed from its own date on, which may lie outside its award's year.
                let date = match original.body["kind"].as_str() {
                    Some("receipt" | "repayment") => {
                        let own: chrono::NaiveDate = original.body["date"].as_str().unwrap().parse().unwrap();
                        (own + chrono::Duration::days(rng.below(90) as i64)).to_string()
                    }
                    _ => rng.date_in(year_start),
                };
                let body = json!({ "date": date, "reason": "r" });
                let r = app.post(&format!("/api/v1/entries/{id}/reverse"), role, body).await;
                check_answer(&what, &r);
                let mirrored = original.body["postings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p["account"].as_str().unwrap().to_owned(), -pence_of(&p["amount"])))
                    .collect();
                ack(&shared, &r, &format!("{what} reversal of {id}"), Some(mirrored), Role::Admin);
            }
            9 => {
                let body = if rng.below(3) == 0 {
                    json!({ "status": *rng.pick(&["active", "closed"]) })
                } else {
                    json!({ "priority": *rng.pick(&PRIORITIES) })
                };
                let r = app.patch(&format!("/api/v1/projects/{p}"), Role::Approver, body).await;
                check_answer(&what, &r);
            }
            10 => {
                let mut csv = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
                let mut lines = Vec::new();
                for k in 0..(1 + rng.below(3)) {
                    let ai = rng.below(AWARDS.len() as u64) as usize;
                    let (aw, project, pence) = (AWARDS[ai], *rng.pick(&PROJECTS), 1 + rng.below(50_000) as i64);
                    let source_ref = format!("sim-{seed}-{n}-{k}");
                    let line_date = rng.date_in(aw.start);
                    csv.push_str(&format!("{line_date},{},{project},S,d,I,{},{source_ref}\n", aw.grant, money(pence)));
                    lines.push((source_ref, ai, project, pence));
                }
                let r = app.import_spend(csv).await;
                check_answer(&what, &r);
                if r.status == StatusCode::OK && r.body["rejected"] == 0 {
                    // A line repeating a standing invoice (or an earlier line) was skipped.
                    let skipped: Vec<u64> = r.body["duplicate_lines"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|d| d["line"].as_u64().unwrap())
                        .collect();
                    let posted = lines.into_iter().enumerate().filter(|(k, _)| !skipped.contains(&(*k as u64 + 2)));
                    shared.lock().unwrap().import_refs.extend(posted.map(|(_, l)| l));
                }
            }
            11 => {
                // A year end of the ASB-EI award, returning what its books say is unspent
                // now; another client may move money first, and then it is refused.
                let accounts =
                    app.get("/api/v1/accounts?grant=ASB-EI&financial_year=2022-23&limit=500", Role::Viewer).await;
                let unspent: i64 = accounts.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|x| {
                        let name = x["account"].as_str().unwrap();
                        name.starts_with("unallocated:") || name.starts_with("available:")
                    })
                    .map(|x| -pence_of(&x["balance"]))
                    .sum();
                if unspent <= 0 {
                    continue;
                }
                let body = json!({ "carry_forward": "0", "return_to_funder": money(unspent), "reason": "sim" });
                let r = app.post("/api/v1/grants/ASB-EI/awards/2022-23/year-end", Role::Admin, body).await;
                check_answer(&what, &r);
                if r.status == StatusCode::CREATED {
                    let id = r.body["entry_id"].as_i64().unwrap();
                    shared.lock().unwrap().acked.push(Acked {
                        entry_id: id,
                        what: format!("{what} year end"),
                        postings: None,
                    });
                }
            }
            12 => {
                // A return filed mid-race: verify at the end regenerates it at its position.
                let body = json!({ "kind": "commissioner-return", "financial_year": a.year,
                                   "quarter": 1 + rng.below(4) });
                let r = app.post("/api/v1/returns", Role::Finance, body).await;
                check_answer(&what, &r);
            }
            13 => {
                // The quarters up to one locked for a moment, in order, and unlocked in
                // reverse: entries dated in them meanwhile are refused. One client at a time
                // does this, so no client's unlocking is held up by another's later lock.
                let _turn = quarters.lock().await;
                let path = |q: u64| format!("/api/v1/financial-years/{}/quarters/{q}", a.year);
                let mut locked = 0;
                for q in 1..=1 + rng.below(4) {
                    let r = app.post(&format!("{}/lock", path(q)), Role::Admin, json!({ "reason": "sim" })).await;
                    assert_eq!(r.status, StatusCode::OK, "{what}: locking Q{q} in order: {}", r.body);
                    locked = q;
                }
                for q in (1..=locked).rev() {
                    let r = app.post(&format!("{}/unlock", path(q)), Role::Admin, json!({ "reason": "sim" })).await;
                    assert_eq!(r.status, StatusCode::OK, "{what}: unlocking Q{q} in reverse: {}", r.body);
                }
            }
            14 => {
                // A grant agreement from October 2022 to September 2023: a part in each LDF
                // award, both committed at once. Spend, releases and reversals then act on
                // either part as on any commitment of its year.
                let (first, second) = (amount / 2 + 1, amount / 3 + 1);
                let body = json!({ "kind": "grant_agreement", "grant": "LDF", "financial_year": "2022-23", "project": p,
                    "amount": money(first + second), "date": rng.date_in(2022), "recipient": "SIMORG",
                    "start_date": "2022-10-01", "end_date": "2023-09-30", "purpose": "sim",
                    "schedule": [ { "financial_year": "2022-23", "amount": money(first) },
                                  { "financial_year": "2023-24", "amount": money(second) } ] });
                let r = app.post("/api/v1/commitments", Role::Finance, body).await;
                check_answer(&what, &r);
                let postings =
                    vec![(acct("available", AWARDS[0], p), first), (acct("committed", AWARDS[0], p), -first)];
                if ack(&shared, &r, &format!("{what} agreement"), Some(postings), Role::Finance) {
                    let id = r.body["commitment_id"].as_i64().unwrap();
                    let later = r.body["schedule"][1]["entry_id"].as_i64().unwrap_or_else(|| panic!("{}", r.body));
                    let mut s = shared.lock().unwrap();
                    s.acked.push(Acked {
                        entry_id: later,
                        what: format!("{what} agreement's 2023-24 part"),
                        postings: Some(vec![
                            (acct("available", AWARDS[1], p), second),
                            (acct("committed", AWARDS[1], p), -second),
                        ]),
                    });
                    s.reversible.push((later, Role::Finance));
                    s.commitments.push((id, 0, p));
                    s.commitments.push((id, 1, p));
                    s.agreements.push((id, p));
                }
            }
            20 => {
                // An invoice sent again: refused as a duplicate of a standing spend of it, or
                // (confirmed, or once every twin is reversed) posted as a second invoice.
                let Some((mut body, ai, project)) = drawn(&shared, &mut rng, |s| &s.spends) else {
                    continue;
                };
                let confirmed = rng.below(2) == 0;
                if confirmed {
                    body["duplicate_of_entry_ok"] = json!(true);
                }
                let r = app.post("/api/v1/spend", Role::Finance, body.clone()).await;
                check_answer(&what, &r);
                if r.code() == "duplicate" {
                    assert!(!confirmed, "{what}: a confirmed second invoice was refused: {}", r.body);
                    let twin = app.get(&format!("/api/v1/entries/{}", r.body["duplicate_of"]), Role::Viewer).await;
                    assert_same_invoice(&what, &body, &twin.body);
                }
                if r.status == StatusCode::CREATED
                    && let Some(of) = r.body.get("duplicate_of")
                {
                    let twin = app.get(&format!("/api/v1/entries/{of}"), Role::Viewer).await;
                    assert_same_invoice(&what, &body, &twin.body);
                }
                let aw = AWARDS[ai];
                let spent = pence_of(&body["amount"]);
                let postings = (r.status == StatusCode::CREATED).then(|| {
                    let covered = pence_of(&r.body["covered_by_commitment"]);
                    let mut v = vec![(acct("spent", aw, project), -spent)];
                    if covered > 0 {
                        v.push((acct("committed", aw, project), covered));
                    }
                    if spent > covered {
                        v.push((acct("available", aw, project), spent - covered));
                    }
                    v
                });
                ack(&shared, &r, &format!("{what} second invoice"), postings, Role::Finance);
            }
            21 => {
                // Evidence recorded in error, reversed: at most once each.
                let Some((agreement, evidence)) = drawn(&shared, &mut rng, |s| &s.evidence) else {
                    continue;
                };
                let body = json!({ "date": "2023-06-02", "reason": format!("{what}: recorded in error") });
                let path = format!("/api/v1/commitments/{agreement}/evidence/{evidence}/reverse");
                let r = app.post(&path, Role::Finance, body).await;
                check_answer(&what, &r);
                if r.status == StatusCode::CREATED {
                    let mut s = shared.lock().unwrap();
                    assert!(!s.reversed_evidence.contains(&(agreement, evidence)), "{what}: reversed twice");
                    s.reversed_evidence.push((agreement, evidence));
                }
            }
            15 => {
                let Some((id, project)) = drawn(&shared, &mut rng, |s| &s.agreements) else {
                    continue;
                };
                let small = amount / 20 + 1;
                if rng.below(2) == 0 {
                    let body = json!({ "date": "2023-06-01", "amount_evidenced": money(small), "status": "partial" });
                    let r = app.post(&format!("/api/v1/commitments/{id}/evidence"), Role::Finance, body).await;
                    check_answer(&what, &r);
                    if r.status == StatusCode::CREATED {
                        shared.lock().unwrap().evidence.push((id, r.body["id"].as_i64().unwrap()));
                    }
                } else {
                    let body = json!({ "grant": "LDF", "project": project, "date": rng.date_in(2023),
                        "amount": money(small), "reason": "clawback", "commitment_id": id });
                    let r = app.post("/api/v1/refunds", Role::Finance, body).await;
                    check_answer(&what, &r);
                    let postings = vec![
                        (acct("spent", AWARDS[1], project), small),
                        (acct("available", AWARDS[1], project), -small),
                    ];
                    ack(&shared, &r, &format!("{what} clawback"), Some(postings), Role::Finance);
                }
            }
            16 => {
                // A receipt for ASB-EI 2022-23, from a year before its year to its end.
                let start = 2021 + rng.below(2) as i32;
                let date = rng.date_in(start);
                let body = json!({ "grant": "ASB-EI", "financial_year": "2022-23", "date": date,
                                   "amount": money(amount), "reference": "sim remittance" });
                let r = app.post("/api/v1/receipts", Role::Finance, body).await;
                check_answer(&what, &r);
                let postings =
                    vec![("cash:ASB-EI:2022-23".to_owned(), amount), ("received:ASB-EI:2022-23".to_owned(), -amount)];
                ack(&shared, &r, &format!("{what} receipt"), Some(postings), Role::Finance);
            }
            17 => {
                // A repayment of what the year end returned, after the year (in 2023-24,
                // whose quarters other clients lock, or 2024-25).
                let start = 2023 + rng.below(2) as i32;
                let date = rng.date_in(start);
                let repaid = amount / 10 + 1;
                let body = json!({ "grant": "ASB-EI", "financial_year": "2022-23", "date": date,
                                   "amount": money(repaid), "reference": "sim BACS" });
                let r = app.post("/api/v1/repayments", Role::Finance, body).await;
                check_answer(&what, &r);
                let postings =
                    vec![("owed:ASB-EI:2022-23".to_owned(), repaid), ("cash:ASB-EI:2022-23".to_owned(), -repaid)];
                ack(&shared, &r, &format!("{what} repayment"), Some(postings), Role::Finance);
            }
            18 => {
                // An officer's forecast of LDF 2023-24 for a project, made in a quarter.
                let (quarter, made_on) = rng.forecast_made();
                let body = json!({ "grant": "LDF", "financial_year": "2023-24", "quarter": quarter, "project": p,
                                   "forecast_outturn": money(amount), "progress_rag": "green", "made_on": made_on });
                let r = app.post("/api/v1/forecasts", Role::Finance, body).await;
                check_answer(&what, &r);
                assert_eq!(r.status, StatusCode::CREATED, "{what}: a forecast of an open year: {}", r.body);
                let id = r.body["id"].as_i64().unwrap();
                shared.lock().unwrap().forecasts.push((id, p, quarter, made_on, amount));
            }
            19 => {
                // A forecast withdrawn as recorded in error; two clients may race to do it.
                let Some(id) = drawn(&shared, &mut rng, |s| &s.forecasts).map(|f| f.0) else {
                    continue;
                };
                let r = app
                    .post(&format!("/api/v1/forecasts/{id}/withdraw"), Role::Approver, json!({ "reason": "sim" }))
                    .await;
                check_answer(&what, &r);
                if r.status == StatusCode::CREATED {
                    shared.lock().unwrap().withdrawn.push(id);
                }
            }
            22 => {
                // The funder moves money between Tamworth's share and Cannock Chase's while
                // Tamworth's clients allocate, lock quarters and close the year: refused when
                // it would leave Tamworth's award below what is allocated as at any date from
                // its own (rule 8), in a closed year or locked quarter, or beyond Cannock's share.
                let (from, to) = if rng.below(2) == 0 { ("TAM", "CAN") } else { ("CAN", "TAM") };
                let moved = amount % 1_500_000 + 1;
                let body = json!({ "grant": "LDF", "financial_year": "2022-23", "from_partnership": from,
                                   "to_partnership": to, "amount": money(moved), "date": rng.date_in(2022),
                                   "reason": format!("{what}: sim") });
                let r = app.post("/api/v1/funder/reallocations", Role::FunderAdmin, body).await;
                check_answer(&what, &r);
                if r.status == StatusCode::CREATED {
                    let (side, change) = if to == "TAM" { ("to", moved) } else { ("from", -moved) };
                    let entry_id = r.body[side]["entry_id"].as_i64().unwrap_or_else(|| panic!("{what}: {}", r.body));
                    let mut s = shared.lock().unwrap();
                    s.acked.push(Acked {
                        entry_id,
                        what: format!("{what} reallocation"),
                        postings: Some(vec![
                            ("awarded:LDF:2022-23".to_owned(), change),
                            ("unallocated:LDF:2022-23".to_owned(), -change),
                        ]),
                    });
                    s.reallocated.push(change);
                }
            }
            _ => {
                let r =
                    app.post("/api/v1/financial-years/2022-23/close", Role::Admin, json!({ "reason": "sim" })).await;
                check_answer(&what, &r);
                if r.status == StatusCode::OK {
                    let r = app
                        .post("/api/v1/financial-years/2022-23/reopen", Role::Admin, json!({ "reason": "sim" }))
                        .await;
                    check_answer(&what, &r);
                }
            }
        }
    }
}

/// Records an acknowledged posting. Says whether it was acknowledged.
pub(crate) fn ack(
    shared: &Mutex<Shared>,
    r: &Reply,
    what: &str,
    postings: Option<Vec<(String, i64)>>,
    role: Role,
) -> bool {
    if r.status != StatusCode::CREATED {
        return false;
    }
    let entry_id = r.body["entry_id"].as_i64().unwrap_or_else(|| panic!("{what}: no entry_id in {}", r.body));
    let mut s = shared.lock().unwrap();
    s.acked.push(Acked { entry_id, what: what.to_owned(), postings });
    if role != Role::Admin {
        s.reversible.push((entry_id, role));
    }
    true
}

pub(crate) fn pence_of(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or("0");
    let d: rust_decimal::Decimal = text.parse().unwrap();
    (d * rust_decimal::Decimal::from(100)).try_into().unwrap()
}

/// Text as the ledger compares a supplier or reference: case and runs of spaces aside.
fn folded(v: &Value) -> String {
    v.as_str().unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// What a spend or refund entry charged its project's `spent` account, net of any
/// irrecoverable VAT: its amount as requested.
fn net_of(entry: &Value) -> i64 {
    let spent = entry["postings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["account"].as_str().unwrap().starts_with("spent:"))
        .map(|p| pence_of(&p["amount"]).abs())
        .unwrap_or_else(|| panic!("no spent posting: {entry}"));
    let d = &entry["details"];
    if d["vat_recoverable"] == false { spent - pence_of(&d["vat"]) } else { spent }
}

/// An invoice as the ledger tells duplicates apart: kind, grant, project, date, supplier,
/// reference and net amount.
type InvoiceKey = (String, String, String, String, String, String, i64);

fn invoice_key(entry: &Value) -> InvoiceKey {
    let (kind, d) = (entry["kind"].as_str().unwrap(), &entry["details"]);
    let reference = if kind == "spend" { &d["invoice_ref"] } else { &d["reference"] };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        text(&entry["kind"]),
        text(&entry["grant"]),
        text(&d["project"]),
        text(&entry["date"]),
        folded(&d["supplier"]),
        folded(reference),
        net_of(entry),
    )
}

/// `entry` is a spend of the invoice `body` sent.
fn assert_same_invoice(what: &str, body: &Value, entry: &Value) {
    let sent = (
        "spend".to_owned(),
        body["grant"].as_str().unwrap().to_owned(),
        body["project"].as_str().unwrap().to_owned(),
        body["date"].as_str().unwrap().to_owned(),
        folded(&body["supplier"]),
        folded(&body["invoice_ref"]),
        pence_of(&body["amount"]),
    );
    assert_eq!(invoice_key(entry), sent, "{what}: the entry named is another invoice: {entry}");
}

/// Every entry of the ledger, by id, with its postings.
async fn all_entries(app: &TestApp) -> BTreeMap<i64, Value> {
    let mut out = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let path = format!(
            "/api/v1/entries?limit=500{}",
            if cursor.is_empty() { String::new() } else { format!("&cursor={cursor}") }
        );
        let r = app.get(&path, Role::Viewer).await;
        for e in r.body["items"].as_array().unwrap() {
            out.insert(e["id"].as_i64().unwrap(), e.clone());
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return out,
        }
    }
}

async fn balances(app: &TestApp) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    let mut cursor = String::new();
    loop {
        let path = format!(
            "/api/v1/accounts?limit=500{}",
            if cursor.is_empty() { String::new() } else { format!("&cursor={cursor}") }
        );
        let r = app.get(&path, Role::Viewer).await;
        for a in r.body["items"].as_array().unwrap() {
            out.insert(a["account"].as_str().unwrap().to_owned(), pence_of(&a["balance"]));
        }
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return out,
        }
    }
}

pub(crate) fn postings_of(entry: &Value) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = entry["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["account"].as_str().unwrap().to_owned(), pence_of(&p["amount"])))
        .collect();
    v.sort();
    v
}

/// The variance report as at every date of both years keeps rules 2 and 4: no award's
/// unallocated below zero, no project's committed or actual below zero, and available
/// below zero only on the `warn` grant.
async fn check_every_date(app: &TestApp) {
    for (year, start) in [("2022-23", 2022), ("2023-24", 2023)] {
        let first = chrono::NaiveDate::from_ymd_opt(start, 4, 1).unwrap();
        for day in 0..365 {
            let as_at = first + chrono::Duration::days(day);
            let r =
                app.get(&format!("/api/v1/reports/variance?financial_year={year}&as_at={as_at}"), Role::Viewer).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            for g in r.body["grants"].as_array().unwrap() {
                assert!(
                    pence_of(&g["unallocated"]) >= 0,
                    "as at {as_at}: {} unallocated {}",
                    g["grant"],
                    g["unallocated"]
                );
            }
            for row in r.body["rows"].as_array().unwrap() {
                let (grant, project) = (row["grant"].as_str().unwrap(), row["project"].as_str().unwrap());
                assert!(
                    pence_of(&row["committed"]) >= 0,
                    "as at {as_at}: {grant} {project} committed {}",
                    row["committed"]
                );
                assert!(pence_of(&row["actual"]) >= 0, "as at {as_at}: {grant} {project} actual {}", row["actual"]);
                assert!(
                    grant == "WARN" || pence_of(&row["available"]) >= 0,
                    "as at {as_at}: {grant} {project} available {} on a stop grant",
                    row["available"]
                );
            }
        }
    }
}

/// Each project's forecast in each quarter of LDF 2023-24 is the one the model says stands:
/// the latest acknowledged for that quarter or an earlier one (by quarter, date, id) that
/// was not acknowledged withdrawn; else the commitment position.
async fn check_forecasts(app: &TestApp, shared: &Shared) {
    for quarter in 1..=4u8 {
        let r =
            app.get(&format!("/api/v1/reports/variance?financial_year=2023-24&quarter={quarter}"), Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for p in PROJECTS {
            let standing = shared
                .forecasts
                .iter()
                .filter(|f| f.1 == p && f.2 <= quarter && !shared.withdrawn.contains(&f.0))
                .max_by(|a, b| (a.2, &a.3, a.0).cmp(&(b.2, &b.3, b.0)));
            let row = r.body["rows"].as_array().unwrap().iter().find(|x| x["grant"] == "LDF" && x["project"] == p);
            let row = row.unwrap_or_else(|| panic!("no LDF {p} row: {}", r.body));
            match standing {
                Some(f) => {
                    assert_eq!(
                        (pence_of(&row["officer_forecast"]), &row["forecast_quarter"], &row["forecast_basis"]),
                        (f.4, &json!(f.2), &json!("officer")),
                        "Q{quarter} {p}: forecast {} should stand",
                        f.0
                    );
                }
                None => assert_eq!(row["forecast_basis"], "commitments", "Q{quarter} {p}: {row}"),
            }
        }
    }
}

/// The desk's clients beside `clients` API clients: people at the pages, and imports kept.
const DESK_CLIENTS: u64 = 2;

async fn simulate(app: TestApp, clients: u64, ops: usize) {
    setup(&app).await;
    let before_entries = all_entries(&app).await;
    let before = balances(&app).await;
    let app = Arc::new(app);
    let shared = Arc::new(Mutex::new(Shared::default()));
    let quarters = Arc::new(tokio::sync::Mutex::new(()));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let seed = 0x9e37_79b9_7f4a_7c15 ^ ((c + 1) * 7919);
            tokio::spawn(client(app.clone(), shared.clone(), quarters.clone(), seed, ops))
        })
        .chain((0..DESK_CLIENTS).map(|c| {
            let seed = 0x51_7cc1_b727_220a ^ ((c + 1) * 104_729);
            let desk =
                crate::simulation_desk::desk_client(app.clone(), shared.clone(), quarters.clone(), seed, ops / 2);
            tokio::spawn(desk)
        }))
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let shared = Arc::try_unwrap(shared).ok().unwrap().into_inner().unwrap();
    let after_entries = all_entries(&app).await;

    // Every acknowledged entry is there, as its request implied; no other entry appeared.
    let mut expected: HashMap<String, i64> = before.clone();
    let mut accounted: Vec<i64> = before_entries.keys().copied().collect();
    for a in &shared.acked {
        let entry =
            after_entries.get(&a.entry_id).unwrap_or_else(|| panic!("{}: entry {} is missing", a.what, a.entry_id));
        let stored = postings_of(entry);
        if let Some(p) = &a.postings {
            let mut p = p.clone();
            p.sort();
            assert_eq!(stored, p, "{}: entry {} does not hold what was acknowledged", a.what, a.entry_id);
        }
        for (account, pence) in stored {
            *expected.entry(account).or_default() += pence;
        }
        accounted.push(a.entry_id);
        if a.what.ends_with("year end")
            && let Some(next) = after_entries.values().find(|e| e["details"]["year_end_entry_id"] == a.entry_id)
        {
            accounted.push(next["id"].as_i64().unwrap());
        }
    }
    for (source_ref, ai, project, pence) in &shared.import_refs {
        let entry = after_entries
            .values()
            .find(|e| e["source_ref"] == source_ref.as_str())
            .unwrap_or_else(|| panic!("imported line {source_ref} is missing"));
        let aw = AWARDS[*ai];
        let mut want = vec![(acct("available", aw, project), *pence), (acct("spent", aw, project), -pence)];
        want.sort();
        assert_eq!(postings_of(entry), want, "imported line {source_ref}");
        for (account, pence) in want {
            *expected.entry(account).or_default() += pence;
        }
        accounted.push(entry["id"].as_i64().unwrap());
    }
    crate::simulation_desk::account(&shared, &after_entries, &mut expected, &mut accounted);
    accounted.sort_unstable();
    let stored_ids: Vec<i64> = after_entries.keys().copied().collect();
    let unacknowledged: Vec<&Value> =
        after_entries.values().filter(|e| !accounted.contains(&e["id"].as_i64().unwrap())).collect();
    assert!(unacknowledged.is_empty(), "the ledger holds entries no answer acknowledged: {unacknowledged:#?}");
    assert_eq!(stored_ids, accounted, "the ledger lost entries acknowledged, or one was acknowledged twice");

    // The model agrees with every balance.
    let after = balances(&app).await;
    for (account, pence) in &after {
        assert_eq!(expected.get(account).copied().unwrap_or(0), *pence, "balance of {account}");
    }
    for (account, pence) in &expected {
        assert_eq!(after.get(account).copied().unwrap_or(0), *pence, "balance of {account}");
    }
    // No two standing spends (or refunds) are one invoice, unless the later was confirmed.
    let reversed: HashSet<i64> = after_entries.values().filter_map(|e| e["reverses"].as_i64()).collect();
    let mut invoices: HashMap<InvoiceKey, i64> = HashMap::new();
    let mut confirmed = 0;
    for (id, e) in &after_entries {
        if !matches!(e["kind"].as_str(), Some("spend" | "refund")) || reversed.contains(id) {
            continue;
        }
        if e["details"].get("duplicate_of").is_some() {
            confirmed += 1;
            continue;
        }
        if let Some(first) = invoices.insert(invoice_key(e), *id) {
            panic!("entries {first} and {id} are one invoice, both standing, neither confirmed: {e}");
        }
    }
    // Every agreement's evidenced figure is its evidence not reversed; every reversal shows.
    for (id, _) in &shared.agreements {
        let d = app.get(&format!("/api/v1/commitments/{id}"), Role::Viewer).await.body;
        let evidence = d["evidence"].as_array().unwrap();
        let standing: i64 =
            evidence.iter().filter(|e| e.get("reversal").is_none()).map(|e| pence_of(&e["amount_evidenced"])).sum();
        assert_eq!(pence_of(&d["evidenced"]), standing, "agreement {id}: {d}");
        assert!(pence_of(&d["unevidenced"]) >= 0, "agreement {id}: {d}");
        let shown: Vec<(i64, i64)> =
            evidence.iter().filter(|e| e.get("reversal").is_some()).map(|e| (*id, e["id"].as_i64().unwrap())).collect();
        let acked: Vec<(i64, i64)> = shared.reversed_evidence.iter().copied().filter(|(a, _)| a == id).collect();
        let (mut shown, mut acked) = (shown, acked);
        shown.sort_unstable();
        acked.sort_unstable();
        assert_eq!(shown, acked, "agreement {id}: the reversals acknowledged are those shown");
    }
    // The fund's total never moved; the two shares moved by what was acknowledged, and
    // Tamworth's share is its award.
    let to_tam: i64 = shared.reallocated.iter().sum();
    let fund = app.get(FUND, Role::Funder).await;
    assert_eq!(fund.status, StatusCode::OK, "{}", fund.body);
    assert_eq!(pence_of(&fund.body["shares_total"]), FUND_PENCE, "the fund's total: {}", fund.body);
    let share = |code: &str| {
        let s = fund.body["shares"].as_array().unwrap().iter().find(|s| s["partnership"] == code);
        pence_of(&s.unwrap_or_else(|| panic!("no {code} share: {}", fund.body))["amount"])
    };
    assert_eq!((share("TAM"), share("CAN")), (TAM_SHARE + to_tam, CAN_SHARE - to_tam), "{}", fund.body);
    assert!(share("CAN") >= 0, "{}", fund.body);
    let awards = app.get("/api/v1/grants/LDF/awards", Role::Viewer).await;
    let award = awards.body["items"].as_array().unwrap().iter().find(|a| a["financial_year"] == "2022-23").cloned();
    assert_eq!(pence_of(&award.unwrap()["amount"]), share("TAM"), "Tamworth's award is its share");
    app.assert_verified().await;
    crate::simulation_desk::check(&app, &shared, &after_entries).await;
    check_every_date(&app).await;
    check_forecasts(&app, &shared).await;
    eprintln!(
        "simulation: {clients} clients x {ops} ops: {} entries acknowledged ({} late repayments), {} imported lines, \
         {} grant agreements, {} forecasts ({} withdrawn), {confirmed} confirmed second invoices, {} evidence reversed, \
         {} reallocations",
        shared.acked.len(),
        shared.acked.iter().filter(|a| a.what.ends_with("repayment")).count(),
        shared.import_refs.len(),
        shared.agreements.len(),
        shared.forecasts.len(),
        shared.withdrawn.len(),
        shared.reversed_evidence.len(),
        shared.reallocated.len()
    );
}

backend_test!(concurrent_clients_keep_every_promise, |app: TestApp| async move {
    simulate(app, 4, 40).await;
});

/// The long run: `SIM_CLIENTS` clients of `SIM_OPS` operations each, on SQLite and on
/// PostgreSQL when `TEST_DATABASE_URL` is set.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long: run with --ignored"]
async fn simulation_long() {
    let clients = std::env::var("SIM_CLIENTS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let ops = std::env::var("SIM_OPS").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    for backend in [crate::support::Backend::Sqlite, crate::support::Backend::Postgres] {
        crate::support::run(backend, move |app| simulate(app, clients, ops)).await;
    }
}
