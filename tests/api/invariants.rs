//! Property test of the stored ledger against a model: random sequences of operations,
//! where the model predicts every answer (posted, pending, or refused with its status, code
//! and field) and every balance. After each sequence, entries sum to zero and balances equal
//! the sum of postings (`verify`).
//!
//! A sequence starts with an allocation to each project, so there is always budget to draw
//! on; each run counts what it posted and what was refused, and fails if it exercised too
//! little. Across all runs, every kind of operation must have posted and every refusal the
//! model knows must have been met, so a generator that drifts into testing nothing fails.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Backend, Reply, TestApp, TestDb};

/// Cases per backend. Each case is a fresh ledger (on PostgreSQL a new database, migrated),
/// which is most of its time; `PROPTEST_CASES=N` runs more for a longer search.
const CASES: u32 = 64;

/// The fewest entries a run must post after its opening allocations, and the fewest kinds
/// of operation that must post (or, a virement, wait) in it.
/// Over 604 runs of this generator, the weakest posted 9 entries and 3 kinds.
const POSTED_MIN: usize = 5;
const KINDS_MIN: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Allocate(usize, i64),
    Commit(usize, i64),
    /// A spend by a project, or (`Some(c)`) against the `c`th commitment, modulo how many there are.
    Spend(usize, i64, Option<usize>),
    /// Releases from the `c`th commitment, modulo how many there are.
    Release(usize, i64),
    Refund(usize, i64),
    Vire(usize, usize, i64),
    /// Reverses the `k`th entry the run posted after its opening allocations, modulo how many.
    Reverse(usize),
    /// The funder moves pence between Cannock Chase's share of LDF 2023-24 and Tamworth's
    /// (the home partnership's, its award): to Tamworth when true, dated late in the year
    /// when the second is true.
    Reallocate(bool, i64, bool),
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Allocate(..) => "allocate",
            Op::Commit(..) => "commit",
            Op::Spend(..) => "spend",
            Op::Release(..) => "release",
            Op::Refund(..) => "refund",
            Op::Vire(..) => "vire",
            Op::Reverse(..) => "reverse",
            Op::Reallocate(..) => "reallocate",
        }
    }
}

/// Amounts in pence: mostly small beside what a project holds, sometimes well beyond it.
fn amount() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 1i64..=100_000, 1 => 1i64..=1_500_000]
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0usize..3;
    prop_oneof![
        2 => (p.clone(), 1i64..=3_000_000).prop_map(|(p, a)| Op::Allocate(p, a)),
        3 => (p.clone(), amount()).prop_map(|(p, a)| Op::Commit(p, a)),
        4 => (p.clone(), amount(), proptest::option::of(0usize..1000)).prop_map(|(p, a, c)| Op::Spend(p, a, c)),
        2 => (0usize..1000, amount()).prop_map(|(c, a)| Op::Release(c, a)),
        2 => (p.clone(), amount()).prop_map(|(p, a)| Op::Refund(p, a)),
        2 => (p.clone(), p, amount()).prop_map(|(a, b, x)| Op::Vire(a, b, x)),
        3 => (0usize..1000).prop_map(Op::Reverse),
        2 => (any::<bool>(), 1i64..=3_000_000, any::<bool>()).prop_map(|(to, a, late)| Op::Reallocate(to, a, late)),
    ]
}

/// The opening allocation of each project (£5,000 to £20,000, within the £61,394 award),
/// then the operations.
fn sequence() -> impl Strategy<Value = ([i64; 3], Vec<Op>)> {
    let opening = 500_000i64..=2_000_000;
    ([opening.clone(), opening.clone(), opening], proptest::collection::vec(op(), 20..60))
}

/// A request the model predicts: path, role, body, the postings it would make, the
/// commitment it draws on or releases, and its date.
type Request = (String, Role, Value, Vec<(String, i64)>, Option<usize>, &'static str);

fn money(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// What the model expects of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Expect {
    Posted,
    /// A virement above the approval threshold that passes every check: it waits, nothing moves.
    Pending,
    /// Refused: status, problem code, and the field named for a 422.
    Refused(StatusCode, &'static str, Option<&'static str>),
}

/// A posted entry in the model.
#[derive(Debug, Clone)]
struct ModelEntry {
    id: i64,
    postings: Vec<(String, i64)>,
    commitment: Option<usize>,
    /// Allocations and virements are reversed by an approver, the rest by finance.
    budget_decision: bool,
    is_reversal: bool,
    reversed: bool,
}

/// The expected ledger: signed balances, commitments' outstanding, and posted entries.
#[derive(Default)]
struct Model {
    balances: HashMap<String, i64>,
    /// Every posting as (account, date, amount), for the rules as at every date (rule 8).
    dated: Vec<(String, &'static str, i64)>,
    /// (id, project, outstanding) per commitment, in creation order.
    commitments: Vec<(i64, usize, i64)>,
    entries: Vec<ModelEntry>,
}

const P: [&str; 3] = ["P0", "P1", "P2"];
const VIREMENT_THRESHOLD_PENCE: i64 = grant_ledger::storage::controls::VIREMENT_THRESHOLD_PENCE_DEFAULT;

fn acct(kind: &str, p: usize) -> String {
    format!("{kind}:LDF:2023-24:{}", P[p])
}

/// The order the ledger checks accounts in (kind, then project): the first short one names
/// the refusal.
fn check_order(account: &str) -> (u8, String) {
    let rank = match account.split(':').next().unwrap() {
        "unallocated" => 1,
        "available" => 2,
        "committed" => 3,
        _ => 4,
    };
    (rank, account.to_owned())
}

impl Model {
    /// What an account held as at the end of `date` (dates are `YYYY-MM-DD`, so text order).
    fn held_as_at(&self, account: &str, date: &str) -> i64 {
        -self.dated.iter().filter(|(a, d, _)| a == account && *d <= date).map(|(_, _, v)| v).sum::<i64>()
    }

    /// The first account (in the ledger's order) that postings dated `date` would leave below
    /// zero as at that date or any later one, and the refusal that names it; `Posted` if none.
    fn expect(&self, postings: &[(String, i64)], date: &str) -> Expect {
        let mut net: BTreeMap<(u8, String), i64> = BTreeMap::new();
        for (a, v) in postings {
            *net.entry(check_order(a)).or_default() += v;
        }
        let short = net.iter().find(|((_, a), v)| {
            **v > 0
                && !std::iter::once(date)
                    .chain(self.dated.iter().filter(|(b, d, _)| b == a && *d > date).map(|(_, d, _)| *d))
                    .all(|t| self.held_as_at(a, t) - **v >= 0)
        });
        match short {
            None => Expect::Posted,
            Some(((1, _), _)) => Expect::Refused(StatusCode::CONFLICT, "over_allocation", None),
            Some(((2, _), _)) => Expect::Refused(StatusCode::CONFLICT, "overspend", None),
            Some(_) => Expect::Refused(StatusCode::CONFLICT, "conflict", None),
        }
    }

    fn apply(&mut self, entry: ModelEntry, date: &'static str) {
        for (a, v) in &entry.postings {
            *self.balances.entry(a.clone()).or_default() += v;
            self.dated.push((a.clone(), date, *v));
            if let Some(c) = entry.commitment
                && a.starts_with("committed:")
            {
                self.commitments[c].2 -= v;
            }
        }
        self.entries.push(entry);
    }
}

/// What one run did: per operation, how often it posted (or waited) and how it was refused.
#[derive(Debug, Default)]
struct Tally {
    /// Answered 201 or (a virement waiting) 202, per operation.
    posted: BTreeMap<&'static str, usize>,
    /// Of those, the virements that wait.
    pending: usize,
    refused: BTreeMap<String, usize>,
}

impl Tally {
    fn add(&mut self, other: &Tally) {
        for (k, n) in &other.posted {
            *self.posted.entry(k).or_default() += n;
        }
        for (k, n) in &other.refused {
            *self.refused.entry(k.clone()).or_default() += n;
        }
        self.pending += other.pending;
    }
}

fn assert_answer(r: &Reply, expect: &Expect, what: &str) {
    match expect {
        Expect::Posted => assert_eq!(r.status, StatusCode::CREATED, "{what}: {}", r.body),
        Expect::Pending => assert_eq!(r.status, StatusCode::ACCEPTED, "{what}: {}", r.body),
        Expect::Refused(status, code, field) => {
            assert_eq!((r.status, r.code()), (*status, *code), "{what}: {}", r.body);
            if let Some(field) = field {
                assert_eq!(r.fields(), [*field], "{what}: {}", r.body);
            }
        }
    }
}

/// Cannock Chase's share of the LDF 2023-24 fund the funder declares beside Tamworth's.
const CAN_SHARE: i64 = 2_000_000;

/// The fund of LDF 2023-24: Tamworth's share (its award, £61,394) and Cannock Chase's.
async fn declare_fund(app: &TestApp) {
    let can = json!({ "code": "CAN", "name": "Cannock Chase", "funder": "SCO", "area_code": "E07000192" });
    assert_eq!(app.post("/api/v1/partnerships", Role::Operator, can).await.status, StatusCode::CREATED);
    let fund = json!({ "grant": "LDF", "financial_year": "2023-24", "amount": money(6_139_400 + CAN_SHARE) });
    app.ok("/api/v1/funder/funds", Role::FunderAdmin, fund).await;
    let shares =
        json!([{ "partnership": "TAM", "amount": "61394" }, { "partnership": "CAN", "amount": money(CAN_SHARE) }]);
    let r = app
        .call(
            axum::http::Method::PUT,
            "/api/v1/funder/funds/LDF/2023-24/shares",
            Some(app.token(Role::FunderAdmin)),
            Some(shares),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn check(app: &TestApp, opening: [i64; 3], ops: Vec<Op>) -> Tally {
    for p in P {
        app.project(p, "ASB").await;
    }
    declare_fund(app).await;
    let mut can_share = CAN_SHARE;
    let mut m = Model::default();
    m.balances.insert("awarded:LDF:2023-24".into(), 6_139_400);
    m.balances.insert("unallocated:LDF:2023-24".into(), -6_139_400);
    // The fixture's award is dated the year's first day.
    m.dated.push(("awarded:LDF:2023-24".into(), "2023-04-01", 6_139_400));
    m.dated.push(("unallocated:LDF:2023-24".into(), "2023-04-01", -6_139_400));
    let mut tally = Tally::default();
    let opening = opening.iter().enumerate().map(|(p, a)| (true, Op::Allocate(p, *a)));
    for (is_opening, op) in opening.chain(ops.into_iter().map(|op| (false, op))) {
        let (path, role, body, postings, commitment, date): Request = match op.clone() {
            Op::Allocate(p, a) => (
                "/api/v1/allocations".into(),
                Role::Approver,
                json!({ "grant": "LDF", "financial_year": "2023-24", "project": P[p], "amount": money(a), "approved_on": "2023-04-01", "approval_ref": "m" }),
                vec![("unallocated:LDF:2023-24".into(), a), (acct("available", p), -a)],
                None,
                "2023-04-01",
            ),
            Op::Commit(p, a) => (
                "/api/v1/commitments".into(),
                Role::Finance,
                json!({ "grant": "LDF", "financial_year": "2023-24", "project": P[p], "supplier": "s", "amount": money(a), "date": "2023-05-01" }),
                vec![(acct("available", p), a), (acct("committed", p), -a)],
                None,
                "2023-05-01",
            ),
            Op::Spend(p, a, c) => {
                let c = c.filter(|_| !m.commitments.is_empty()).map(|c| c % m.commitments.len());
                // A spend against a commitment is by the commitment's project.
                let p = c.map_or(p, |c| m.commitments[c].1);
                let covered = c.map(|c| m.commitments[c].2.min(a)).unwrap_or(0);
                // Spend on an order is dated in the first quarter, spend without one in the
                // second's first month, so a figure as at a date in a later month of a
                // quarter reads a whole month of spend kept in `month_balances`.
                let date = if c.is_some() { "2023-06-01" } else { "2023-07-10" };
                let mut body = TestApp::spend_body("LDF", P[p], date, &money(a));
                if let Some(c) = c {
                    body["commitment_id"] = json!(m.commitments[c].0);
                }
                let mut postings = Vec::new();
                if covered > 0 {
                    postings.push((acct("committed", p), covered));
                }
                if a - covered > 0 {
                    postings.push((acct("available", p), a - covered));
                }
                postings.push((acct("spent", p), -a));
                ("/api/v1/spend".into(), Role::Finance, body, postings, c, date)
            }
            Op::Release(c, a) => {
                if m.commitments.is_empty() {
                    continue;
                }
                let c = c % m.commitments.len();
                let (id, p, _) = m.commitments[c];
                let body = json!({ "date": "2023-07-01", "amount": money(a), "reason": "r" });
                let postings = vec![(acct("committed", p), a), (acct("available", p), -a)];
                (format!("/api/v1/commitments/{id}/release"), Role::Finance, body, postings, Some(c), "2023-07-01")
            }
            Op::Refund(p, a) => (
                "/api/v1/refunds".into(),
                Role::Finance,
                json!({ "grant": "LDF", "project": P[p], "date": "2023-08-20", "amount": money(a), "reason": "r" }),
                vec![(acct("spent", p), a), (acct("available", p), -a)],
                None,
                "2023-08-20",
            ),
            Op::Vire(from, to, a) => (
                "/api/v1/virements".into(),
                Role::Approver,
                json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": P[from], "to_project": P[to], "amount": money(a),
                        "approved_on": "2023-09-01", "approval_ref": "m", "reason": "r" }),
                vec![(acct("available", from), a), (acct("available", to), -a)],
                None,
                "2023-09-01",
            ),
            Op::Reallocate(to_tam, a, late) => {
                let date = if late { "2023-11-20" } else { "2023-05-15" };
                let (from, to) = if to_tam { ("CAN", "TAM") } else { ("TAM", "CAN") };
                let body = json!({ "grant": "LDF", "financial_year": "2023-24", "from_partnership": from,
                                   "to_partnership": to, "amount": money(a), "date": date, "reason": "r" });
                // Tamworth's award moves by `a`: awarded and unallocated. Taking from it is held
                // to what is unallocated as at its date and every later one (rule 8); taking
                // from Cannock Chase, whose ledger is not here, to its share.
                let change = if to_tam { a } else { -a };
                let postings =
                    vec![("awarded:LDF:2023-24".to_owned(), change), ("unallocated:LDF:2023-24".to_owned(), -change)];
                let expect = if !to_tam {
                    m.expect(&postings[1..], date)
                } else if a > can_share {
                    Expect::Refused(StatusCode::CONFLICT, "over_allocation", None)
                } else {
                    Expect::Posted
                };
                let r = app.post("/api/v1/funder/reallocations", Role::FunderAdmin, body).await;
                assert_answer(&r, &expect, &format!("{op:?}"));
                record(&mut tally, &op, &expect);
                if expect == Expect::Posted {
                    can_share -= change;
                    let side = if to_tam { "to" } else { "from" };
                    let id = r.body[side]["entry_id"].as_i64().unwrap_or_else(|| panic!("{op:?}: {}", r.body));
                    // Not reversible (the funder corrects a reallocation by another): an
                    // approver asking is refused `conflict`, as for a reversal.
                    let entry = ModelEntry {
                        id,
                        postings,
                        commitment: None,
                        budget_decision: true,
                        is_reversal: true,
                        reversed: false,
                    };
                    m.apply(entry, date);
                }
                continue;
            }
            Op::Reverse(k) => {
                // The opening allocations stand: reversing them would leave the run nothing
                // to draw on (allocations made later are reversed like any entry).
                let opened = P.len();
                if m.entries.len() <= opened {
                    continue;
                }
                let k = opened + k % (m.entries.len() - opened);
                let e = m.entries[k].clone();
                let role = if e.budget_decision { Role::Approver } else { Role::Finance };
                let mirrored: Vec<(String, i64)> = e.postings.iter().map(|(a, v)| (a.clone(), -v)).collect();
                let outstanding_after = e.commitment.map(|c| {
                    let change: i64 =
                        mirrored.iter().filter(|(a, _)| a.starts_with("committed:")).map(|(_, v)| v).sum();
                    m.commitments[c].2 - change
                });
                // The ledger's own order: a reversal is not reversed, nor an entry twice,
                // nor a commitment's spend or release beyond what it would leave; then the rules.
                let expect = if e.is_reversal {
                    Expect::Refused(StatusCode::CONFLICT, "conflict", None)
                } else if e.reversed {
                    Expect::Refused(StatusCode::CONFLICT, "already_reversed", None)
                } else if outstanding_after.is_some_and(|o| o < 0) {
                    Expect::Refused(StatusCode::CONFLICT, "conflict", None)
                } else {
                    m.expect(&mirrored, "2023-10-01")
                };
                let body = json!({ "date": "2023-10-01", "reason": "r" });
                let r = app.post(&format!("/api/v1/entries/{}/reverse", e.id), role, body).await;
                assert_answer(&r, &expect, &format!("reverse entry {} ({op:?})", e.id));
                record(&mut tally, &op, &expect);
                if expect == Expect::Posted {
                    m.entries[k].reversed = true;
                    let entry = ModelEntry {
                        id: r.body["entry_id"].as_i64().unwrap(),
                        postings: mirrored,
                        commitment: e.commitment,
                        budget_decision: false,
                        is_reversal: true,
                        reversed: false,
                    };
                    m.apply(entry, "2023-10-01");
                }
                continue;
            }
        };
        let expect = match &op {
            Op::Vire(from, to, _) if from == to => {
                Expect::Refused(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", Some("to_project"))
            }
            Op::Release(c, a) if *a > m.commitments[c % m.commitments.len()].2 => {
                Expect::Refused(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", Some("amount"))
            }
            // Above the approval threshold a virement that would post waits for a second approver.
            Op::Vire(_, _, a) if *a > VIREMENT_THRESHOLD_PENCE => match m.expect(&postings, date) {
                Expect::Posted => Expect::Pending,
                refused => refused,
            },
            _ => m.expect(&postings, date),
        };
        let r = app.post(&path, role, body).await;
        assert_answer(&r, &expect, &format!("{op:?}"));
        if !is_opening {
            record(&mut tally, &op, &expect);
        }
        if expect == Expect::Posted {
            let id = r.body["entry_id"].as_i64().unwrap();
            let commitment = match op {
                Op::Commit(p, _) => {
                    m.commitments.push((r.body["commitment_id"].as_i64().unwrap(), p, 0));
                    Some(m.commitments.len() - 1)
                }
                _ => commitment,
            };
            let budget_decision = matches!(op, Op::Allocate(..) | Op::Vire(..));
            let entry = ModelEntry { id, postings, commitment, budget_decision, is_reversal: false, reversed: false };
            m.apply(entry, date);
        }
    }
    for (account, expected) in &m.balances {
        let got = app.balance(account).await;
        let want = if *expected < 0 { format!("-{}", money(-expected)) } else { money(*expected) };
        assert_eq!(got, want, "balance of {account}");
    }
    // The fund's total is unchanged; Tamworth's share is its award.
    let fund = app.get("/api/v1/funder/funds/LDF/2023-24", Role::Funder).await;
    let share = |code: &str| {
        fund.body["shares"].as_array().unwrap().iter().find(|s| s["partnership"] == code).unwrap()["amount"].clone()
    };
    assert_eq!(fund.body["shares_total"], money(6_139_400 + CAN_SHARE), "{}", fund.body);
    assert_eq!(share("CAN"), money(can_share), "{}", fund.body);
    assert_eq!(share("TAM"), money(m.balances["awarded:LDF:2023-24"]), "{}", fund.body);
    as_at_figures_agree(app, &m).await;
    app.assert_verified().await;
    tally
}

/// Figures as at a date, and spend by quarter up to it, read through `quarter_balances` and
/// `month_balances`, equal the model's postings summed to that date. The dates reach every
/// way the ledger reads them: a quarter's last day, a month's last day inside a quarter,
/// early in a month (forward from its start), late in one (back from its end), in a
/// quarter's first month and in a later one, and before the year.
async fn as_at_figures_agree(app: &TestApp, m: &Model) {
    use grant_ledger::domain::FinancialYear;
    use grant_ledger::model::known::Known;
    use grant_ledger::storage::reports::{account_figures, spend_by_quarter};
    let year = FinancialYear::parse("2023-24").unwrap();
    for date in [
        "2023-03-31",
        "2023-04-01",
        "2023-05-01",
        "2023-05-20",
        "2023-05-31",
        "2023-06-15",
        "2023-06-30",
        "2023-08-01",
        "2023-08-15",
        "2023-08-20",
        "2023-09-01",
        "2023-09-30",
        "2023-10-15",
        "2023-11-30",
        "2024-03-31",
    ] {
        let at = grant_ledger::domain::parse_date(date).unwrap();
        let got: HashMap<String, i64> = account_figures(&app.store, year, None, Some(at), &Known::Now)
            .await
            .unwrap()
            .into_iter()
            .map(|f| {
                let project = f.project.map(|p| format!(":{p}")).unwrap_or_default();
                (format!("{}:{}:2023-24{project}", f.kind.as_str(), f.grant), f.pence)
            })
            .collect();
        for account in m.balances.keys() {
            let want = -m.held_as_at(account, date);
            let touched = m.dated.iter().any(|(a, d, _)| a == account && *d <= date);
            assert_eq!(got.get(account).copied(), touched.then_some(want), "{account} as at {date}");
        }
        let mut by_quarter: BTreeMap<(String, u8), i64> = BTreeMap::new();
        for q in spend_by_quarter(&app.store, year, None, Some(at), &Known::Now).await.unwrap() {
            *by_quarter.entry((q.project, q.quarter)).or_default() += q.pence;
        }
        let mut want: BTreeMap<(String, u8), i64> = BTreeMap::new();
        for (a, d, v) in m.dated.iter().filter(|(a, d, _)| a.starts_with("spent:") && *d <= date) {
            let quarter = year.quarter_of(grant_ledger::domain::parse_date(d).unwrap()).unwrap();
            *want.entry((a.rsplit(':').next().unwrap().to_owned(), quarter)).or_default() += v;
        }
        by_quarter.retain(|_, v| *v != 0);
        want.retain(|_, v| *v != 0);
        assert_eq!(by_quarter, want, "spend by quarter as at {date}");
    }
}

fn record(tally: &mut Tally, op: &Op, expect: &Expect) {
    match expect {
        Expect::Posted => *tally.posted.entry(op.name()).or_default() += 1,
        Expect::Pending => {
            *tally.posted.entry(op.name()).or_default() += 1;
            tally.pending += 1;
        }
        Expect::Refused(_, code, field) => {
            let key = format!("{} {code}{}", op.name(), field.map(|f| format!(" {f}")).unwrap_or_default());
            *tally.refused.entry(key).or_default() += 1;
        }
    }
}

fn run_case(backend: Backend, opening: [i64; 3], ops: Vec<Op>) -> Tally {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let db = TestDb::create(backend).await.expect("the backend was checked before the run");
        let app = TestApp::start(&db.url).await;
        let tally = check(&app, opening, ops).await;
        app.store.close().await;
        db.drop().await;
        tally
    })
}

/// The refusals some run must meet: each met at least 12 times in 64 runs on average (over
/// 604 runs). The model predicts rarer ones too (a release or spend refused as at a later
/// date, a reversal that would overspend), checked whenever they happen.
const REFUSALS: [&str; 9] = [
    "allocate over_allocation",
    "commit overspend",
    "spend overspend",
    "release validation_failed amount",
    "refund conflict",
    "vire validation_failed to_project",
    "vire overspend",
    "reverse already_reversed",
    "reverse conflict",
];

fn property(backend: Backend) {
    if backend == Backend::Postgres && !crate::support::postgres_configured() {
        eprintln!("TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    }
    let all = Mutex::new(Tally::default());
    let runs = Mutex::new(Vec::new());
    let config = ProptestConfig { cases: CASES, ..ProptestConfig::default() };
    proptest!(config, |((opening, ops) in sequence())| {
        let tally = run_case(backend, opening, ops);
        // Entries posted after the opening allocations, and how many kinds of operation posted.
        let posted = tally.posted.values().sum::<usize>() - tally.pending;
        let kinds = tally.posted.len();
        prop_assert!(posted >= POSTED_MIN && kinds >= KINDS_MIN, "the run exercised too little: {tally:?}");
        runs.lock().unwrap().push((posted, kinds));
        all.lock().unwrap().add(&tally);
    });
    let all = all.into_inner().unwrap();
    let runs = runs.into_inner().unwrap();
    eprintln!("{backend:?}: {} runs, entries posted per run {:?}; in all {all:?}", runs.len(), runs);
    for name in ["allocate", "commit", "spend", "release", "refund", "vire", "reverse"] {
        assert!(all.posted.get(name).copied().unwrap_or(0) >= 5, "{name} posted too rarely across the runs: {all:?}");
    }
    for refusal in REFUSALS {
        assert!(all.refused.contains_key(refusal), "no run met the refusal {refusal:?}: {all:?}");
    }
}

#[test]
fn model_agrees_sqlite() {
    property(Backend::Sqlite);
}

#[test]
fn model_agrees_postgres() {
    property(Backend::Postgres);
}
