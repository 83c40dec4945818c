//! What the benches share: who they record as, a deterministic generator, and a fresh
//! ledger with one large grant allocated over `PROJECTS` projects (`B0`, `B1`, …).

use grant_ledger::domain::{FinancialYear, Money, OnOverspend, ProjectStatus, parse_date};
use grant_ledger::model::Actor;
use grant_ledger::model::reference::{Grant, NewAward, Project};
use grant_ledger::storage::Store;
use grant_ledger::storage::operations as ops;
use grant_ledger::storage::reference as refdata;

pub const PROJECTS: usize = 200;
/// Who the benches record their set-up as.
pub const BENCH: Actor<'static> = Actor { name: "bench", idem: None };

/// A deterministic generator: the same data every run.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

pub fn year() -> FinancialYear {
    FinancialYear::parse("2023-24").unwrap()
}

/// A fresh ledger at `url`: grant BENCH, £900,000,000 awarded for 2023-24, and £4,000,000
/// allocated to each of `PROJECTS` projects.
pub async fn allocated_ledger(url: &str) -> Store {
    let store = grant_ledger::cli::open(url).await.unwrap();
    let grant = Grant {
        code: "BENCH".into(),
        name: "Bench grant".into(),
        funder: "SCO".into(),
        restricted_to_priority: None,
        on_overspend: OnOverspend::Stop,
    };
    refdata::create_grant(&store, grant, BENCH).await.unwrap();
    let award = NewAward {
        grant: "BENCH".into(),
        year: year(),
        amount: Money::parse("900000000").unwrap(),
        awarded_on: parse_date("2023-04-01").unwrap(),
        reference: "bench".into(),
    };
    refdata::create_award(&store, award, BENCH).await.unwrap();
    for p in 0..PROJECTS {
        let project = Project {
            code: format!("B{p}"),
            name: format!("Bench project {p}"),
            priority: "ASB".into(),
            lead_organisation: String::new(),
            description: String::new(),
            status: ProjectStatus::Active,
        };
        refdata::create_project(&store, project, BENCH).await.unwrap();
        let cmd = ops::AllocationCmd {
            grant: "BENCH".into(),
            year: year(),
            project: format!("B{p}"),
            amount: Money::parse("4000000").unwrap(),
            approved_on: parse_date("2023-04-01").unwrap(),
            approval_ref: "bench".into(),
            memo: String::new(),
        };
        ops::allocate(&store, cmd, BENCH).await.unwrap();
    }
    store
}
