//! Property test of the stored ledger against a model: random sequences of operations,
//! where the model predicts every acceptance and refusal and every balance. After each
//! sequence, entries sum to zero and balances equal the sum of postings (`verify`).

use std::collections::HashMap;

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Backend, TestApp, TestDb};

#[derive(Debug, Clone)]
enum Op {
    Allocate(usize, i64),
    Commit(usize, i64),
    Spend(usize, i64, Option<usize>),
    Release(usize, i64),
    Refund(usize, i64),
    Vire(usize, usize, i64),
    Reverse(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let p = 0usize..3;
    let amt = 1i64..=1_500_000;
    prop_oneof![
        (p.clone(), 1i64..=3_000_000).prop_map(|(p, a)| Op::Allocate(p, a)),
        (p.clone(), amt.clone()).prop_map(|(p, a)| Op::Commit(p, a)),
        (p.clone(), amt.clone(), proptest::option::of(0usize..6)).prop_map(|(p, a, c)| Op::Spend(p, a, c)),
        (0usize..6, amt.clone()).prop_map(|(c, a)| Op::Release(c, a)),
        (p.clone(), amt.clone()).prop_map(|(p, a)| Op::Refund(p, a)),
        (p.clone(), p, amt).prop_map(|(a, b, x)| Op::Vire(a, b, x)),
        (0usize..40).prop_map(Op::Reverse),
    ]
}

fn money(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// A posted entry in the model: id, postings, commitment index, is a reversal, reversed.
type ModelEntry = (i64, Vec<(String, i64)>, Option<usize>, bool, bool);

/// The expected ledger: signed balances, commitments' outstanding, and posted entries.
#[derive(Default)]
struct Model {
    balances: HashMap<String, i64>,
    /// Every posting as (account, date, amount), for the rules as at every date (rule 8).
    dated: Vec<(String, &'static str, i64)>,
    /// (project, outstanding) per commitment, in creation order, with its id.
    commitments: Vec<(i64, usize, i64)>,
    entries: Vec<ModelEntry>,
}

const P: [&str; 3] = ["P0", "P1", "P2"];
const VIREMENT_THRESHOLD_PENCE: i64 = grant_ledger::storage::controls::VIREMENT_THRESHOLD_PENCE_DEFAULT;

fn acct(kind: &str, p: usize) -> String {
    format!("{kind}:LDF:2023-24:{}", P[p])
}

impl Model {
    /// What an account held as at the end of `date` (dates are `YYYY-MM-DD`, so text order).
    fn held_as_at(&self, account: &str, date: &str) -> i64 {
        -self.dated.iter().filter(|(a, d, _)| a == account && *d <= date).map(|(_, _, v)| v).sum::<i64>()
    }
    /// Would postings dated `date` keep every drawn account at or above zero as at that date
    /// and every later one?
    fn fits(&self, postings: &[(String, i64)], date: &str) -> bool {
        let mut net: HashMap<&str, i64> = HashMap::new();
        for (a, v) in postings {
            *net.entry(a).or_default() += v;
        }
        net.iter().all(|(a, v)| {
            *v <= 0
                || std::iter::once(date)
                    .chain(self.dated.iter().filter(|(b, d, _)| b == a && *d > date).map(|(_, d, _)| *d))
                    .all(|t| self.held_as_at(a, t) - v >= 0)
        })
    }
    fn apply(
        &mut self,
        id: i64,
        postings: Vec<(String, i64)>,
        date: &'static str,
        commitment: Option<usize>,
        reversal: bool,
    ) {
        for (a, v) in &postings {
            *self.balances.entry(a.clone()).or_default() += v;
            self.dated.push((a.clone(), date, *v));
            if let Some(c) = commitment
                && a.starts_with("committed:")
            {
                self.commitments[c].2 -= v;
            }
        }
        self.entries.push((id, postings, commitment, reversal, false));
    }
}

async fn check(app: &TestApp, ops: Vec<Op>) {
    for p in P {
        app.project(p, "ASB").await;
    }
    let mut m = Model::default();
    m.balances.insert("awarded:LDF:2023-24".into(), 6_139_400);
    m.balances.insert("unallocated:LDF:2023-24".into(), -6_139_400);
    // The fixture's award is dated the year's first day.
    m.dated.push(("awarded:LDF:2023-24".into(), "2023-04-01", 6_139_400));
    m.dated.push(("unallocated:LDF:2023-24".into(), "2023-04-01", -6_139_400));
    for op in ops {
        let (path, role, body, postings, commitment): (String, Role, Value, Vec<(String, i64)>, Option<usize>) =
            match op.clone() {
                Op::Allocate(p, a) => (
                    "/api/v1/allocations".into(),
                    Role::Approver,
                    json!({ "grant": "LDF", "financial_year": "2023-24", "project": P[p], "amount": money(a), "approved_on": "2023-04-01", "approval_ref": "m" }),
                    vec![("unallocated:LDF:2023-24".into(), a), (acct("available", p), -a)],
                    None,
                ),
                Op::Commit(p, a) => (
                    "/api/v1/commitments".into(),
                    Role::Finance,
                    json!({ "grant": "LDF", "financial_year": "2023-24", "project": P[p], "supplier": "s", "amount": money(a), "date": "2023-05-01" }),
                    vec![(acct("available", p), a), (acct("committed", p), -a)],
                    None,
                ),
                Op::Spend(p, a, c) => {
                    let c = c.filter(|c| *c < m.commitments.len() && m.commitments[*c].1 == p);
                    let covered = c.map(|c| m.commitments[c].2.min(a)).unwrap_or(0);
                    let mut body = TestApp::spend_body("LDF", P[p], "2023-06-01", &money(a));
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
                    ("/api/v1/spend".into(), Role::Finance, body, postings, c)
                }
                Op::Release(c, a) => {
                    let Some(&(id, p, outstanding)) = m.commitments.get(c) else { continue };
                    let body = json!({ "date": "2023-07-01", "amount": money(a), "reason": "r" });
                    let postings = if a <= outstanding {
                        vec![(acct("committed", p), a), (acct("available", p), -a)]
                    } else {
                        vec![]
                    };
                    (format!("/api/v1/commitments/{id}/release"), Role::Finance, body, postings, Some(c))
                }
                Op::Refund(p, a) => (
                    "/api/v1/refunds".into(),
                    Role::Finance,
                    json!({ "grant": "LDF", "project": P[p], "date": "2023-08-01", "amount": money(a), "reason": "r" }),
                    vec![(acct("spent", p), a), (acct("available", p), -a)],
                    None,
                ),
                Op::Vire(from, to, a) => (
                    "/api/v1/virements".into(),
                    Role::Approver,
                    json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": P[from], "to_project": P[to], "amount": money(a),
                        "approved_on": "2023-09-01", "approval_ref": "m", "reason": "r" }),
                    if from == to { vec![] } else { vec![(acct("available", from), a), (acct("available", to), -a)] },
                    None,
                ),
                Op::Reverse(k) => {
                    let Some((id, original, c, is_reversal, reversed)) = m.entries.get(k).cloned() else { continue };
                    let role = if original.iter().any(|(a, _)| a.starts_with("unallocated:"))
                        || (original.iter().all(|(a, _)| a.starts_with("available:")))
                    {
                        Role::Approver
                    } else {
                        Role::Finance
                    };
                    let mirrored: Vec<(String, i64)> = original.iter().map(|(a, v)| (a.clone(), -v)).collect();
                    let commitment_ok = c.is_none_or(|c| {
                        let change: i64 =
                            mirrored.iter().filter(|(a, _)| a.starts_with("committed:")).map(|(_, v)| v).sum();
                        m.commitments[c].2 - change >= 0
                    });
                    let body = json!({ "date": "2023-10-01", "reason": "r" });
                    let postings = if is_reversal || reversed || !commitment_ok { vec![] } else { mirrored };
                    // Mark before applying so the model mirrors "reversed at most once".
                    let r = app.post(&format!("/api/v1/entries/{id}/reverse"), role, body).await;
                    let expect_ok = !postings.is_empty() && m.fits(&postings, "2023-10-01");
                    assert_eq!(r.status == StatusCode::CREATED, expect_ok, "reverse entry {id} ({op:?}): {}", r.body);
                    if expect_ok {
                        m.entries[k].4 = true;
                        m.apply(r.body["entry_id"].as_i64().unwrap(), postings, "2023-10-01", c, true);
                    }
                    continue;
                }
            };
        let date = match op {
            Op::Allocate(..) => "2023-04-01",
            Op::Commit(..) => "2023-05-01",
            Op::Spend(..) => "2023-06-01",
            Op::Release(..) => "2023-07-01",
            Op::Refund(..) => "2023-08-01",
            Op::Vire(..) => "2023-09-01",
            Op::Reverse(..) => unreachable!("reversals are handled above"),
        };
        let expect_ok = !postings.is_empty() && m.fits(&postings, date);
        let r = app.post(&path, role, body).await;
        if let Op::Vire(_, _, a) = op
            && a > VIREMENT_THRESHOLD_PENCE
        {
            // Above the approval threshold a virement waits for a second approver: nothing moves.
            assert_eq!(r.status == StatusCode::ACCEPTED, expect_ok, "{op:?}: {} {}", r.status, r.body);
            continue;
        }
        assert_eq!(r.status == StatusCode::CREATED, expect_ok, "{op:?}: {} {}", r.status, r.body);
        if expect_ok {
            let id = r.body["entry_id"].as_i64().unwrap();
            let commitment = match op {
                Op::Commit(p, a) => {
                    m.commitments.push((r.body["commitment_id"].as_i64().unwrap(), p, 0));
                    let _ = a;
                    Some(m.commitments.len() - 1)
                }
                _ => commitment,
            };
            m.apply(id, postings, date, commitment, false);
        }
    }
    for (account, expected) in &m.balances {
        let got = app.balance(account).await;
        let want = if *expected < 0 { format!("-{}", money(-expected)) } else { money(*expected) };
        assert_eq!(got, want, "balance of {account}");
    }
    app.assert_verified().await;
}

fn run_cases(backend: Backend, ops: Vec<Op>) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let Some(db) = TestDb::create(backend).await else { return };
        let app = TestApp::start(&db.url).await;
        check(&app, ops).await;
        app.store.close().await;
        db.drop().await;
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn model_agrees_sqlite(ops in proptest::collection::vec(op(), 1..40)) {
        run_cases(Backend::Sqlite, ops);
    }

    #[test]
    fn model_agrees_postgres(ops in proptest::collection::vec(op(), 1..40)) {
        run_cases(Backend::Postgres, ops);
    }
}
