//! Loads `fixtures/tamworth/` into an empty ledger. The files are compiled into the binary,
//! so `serve` works from any directory.

use anyhow::Context;
use serde::Deserialize;

use crate::domain::{FinancialYear, Money, OnOverspend, ProjectStatus, YearStatus, parse_date};
use crate::model::Actor;
use crate::model::agreements::{AgreementPart, AgreementTerms, EvidenceCmd};
use crate::model::open_data::OpenDataSettings;
use crate::model::reference::{FinancialYearRecord, Funder, Grant, NewAward, Priority, Project};
use crate::storage::Store;
use crate::storage::operations as ops;
use crate::storage::reference as refdata;

const REFERENCE: &str = include_str!("../fixtures/tamworth/reference.json");
const DEMO: &str = include_str!("../fixtures/tamworth/demo.json");

/// Who fixtures are recorded as, in `created_by`.
const LOADER: &str = "fixtures";

#[derive(Deserialize)]
struct Reference {
    partnership: String,
    /// Who publishes the open data: every setting set.
    open_data: OpenDataSettings,
    financial_years: Vec<String>,
    funders: Vec<FunderIn>,
    priorities: Vec<PriorityIn>,
    grants: Vec<GrantIn>,
    awards: Vec<AwardIn>,
}

#[derive(Debug, Deserialize)]
pub struct FunderIn {
    pub code: String,
    pub name: String,
}

#[derive(Deserialize)]
struct PriorityIn {
    code: String,
    name: String,
    description: String,
}

#[derive(Deserialize)]
struct GrantIn {
    code: String,
    name: String,
    funder: String,
    restricted_to_priority: Option<String>,
    on_overspend: String,
}

#[derive(Deserialize)]
struct AwardIn {
    grant: String,
    financial_year: String,
    amount: String,
    awarded_on: String,
    reference: String,
}

fn year(s: &str) -> anyhow::Result<FinancialYear> {
    FinancialYear::parse(s).with_context(|| format!("fixture year {s}"))
}

fn date(s: &str) -> anyhow::Result<chrono::NaiveDate> {
    parse_date(s).with_context(|| format!("fixture date {s}"))
}

fn money(s: &str) -> anyhow::Result<Money> {
    Money::parse_positive(s).with_context(|| format!("fixture amount {s}"))
}

/// Loads the partnership, who publishes its open data, years, funder, priorities, grants and awards in one `db_tx`.
pub async fn load_reference(store: &Store) -> anyhow::Result<()> {
    let r: Reference = serde_json::from_str(REFERENCE).context("reading fixtures/tamworth/reference.json")?;
    let mut db_tx = store.begin().await?;
    refdata::set_setting_in(&mut db_tx, "partnership", &r.partnership, LOADER).await?;
    crate::storage::open_data::set_settings_in(&mut db_tx, &r.open_data, LOADER).await?;
    for fy in &r.financial_years {
        let y = year(fy)?;
        let rec = FinancialYearRecord {
            code: y.to_string(),
            start_date: y.start().to_string(),
            end_date: y.end().to_string(),
            status: YearStatus::Open,
        };
        refdata::create_financial_year_in(&mut db_tx, &rec, LOADER).await?;
    }
    for f in r.funders {
        refdata::create_funder_in(&mut db_tx, &Funder::new(f.code, f.name), LOADER).await?;
    }
    for p in r.priorities {
        refdata::create_priority_in(
            &mut db_tx,
            &Priority { code: p.code, name: p.name, description: p.description },
            LOADER,
        )
        .await?;
    }
    for g in r.grants {
        let grant = Grant {
            code: g.code,
            name: g.name,
            funder: g.funder,
            restricted_to_priority: g.restricted_to_priority,
            on_overspend: OnOverspend::try_from(g.on_overspend).context("fixture grant")?,
        };
        refdata::create_grant_in(&mut db_tx, &grant, LOADER).await?;
    }
    for a in r.awards {
        let award = NewAward {
            grant: a.grant,
            year: year(&a.financial_year)?,
            amount: money(&a.amount)?,
            awarded_on: date(&a.awarded_on)?,
            reference: a.reference,
        };
        refdata::create_award_in(&mut db_tx, &award, LOADER).await?;
    }
    db_tx.commit().await?;
    Ok(())
}

#[derive(Deserialize)]
struct Demo {
    organisations: Vec<OrganisationIn>,
    projects: Vec<ProjectIn>,
    allocations: Vec<AllocationIn>,
    commitments: Vec<CommitmentIn>,
    spend: Vec<SpendIn>,
}

#[derive(Deserialize)]
struct ProjectIn {
    code: String,
    name: String,
    priority: String,
    lead_organisation: String,
}

#[derive(Deserialize)]
struct AllocationIn {
    grant: String,
    financial_year: String,
    project: String,
    amount: String,
    approved_on: String,
    approval_ref: String,
}

#[derive(Deserialize)]
struct CommitmentIn {
    grant: String,
    financial_year: String,
    project: String,
    supplier: String,
    reference: String,
    amount: String,
    date: String,
    /// Set for a grant agreement: recipient, period, purpose; one part, the whole amount.
    agreement: Option<AgreementIn>,
    /// The partner's evidence, for an agreement.
    #[serde(default)]
    evidence: Vec<EvidenceIn>,
}

#[derive(Deserialize)]
struct OrganisationIn {
    code: String,
    name: String,
    kind: String,
}

#[derive(Deserialize)]
struct AgreementIn {
    recipient: String,
    start_date: String,
    end_date: String,
    purpose: String,
}

#[derive(Deserialize)]
struct EvidenceIn {
    date: String,
    amount: String,
    status: String,
    note: String,
}

#[derive(Deserialize)]
struct SpendIn {
    grant: String,
    project: String,
    date: String,
    supplier: String,
    description: String,
    invoice_ref: String,
    amount: String,
    /// Index into `commitments`, when the spend is against one.
    commitment: Option<usize>,
    source_ref: String,
}

/// Loads the illustrative demo: every name and memo in it is marked "[Illustrative]".
pub async fn load_demo(store: &Store) -> anyhow::Result<()> {
    let d: Demo = serde_json::from_str(DEMO).context("reading fixtures/tamworth/demo.json")?;
    let actor = Actor { name: LOADER, idem: None };
    for o in d.organisations {
        let org = crate::model::reference::Organisation {
            code: o.code,
            name: o.name,
            kind: o.kind.parse().map_err(|e| anyhow::anyhow!("demo organisation: {e}"))?,
            charity_number: String::new(),
            company_number: String::new(),
            org_id: String::new(),
            postcode: String::new(),
        };
        refdata::create_organisation(store, org, actor).await?;
    }
    for p in d.projects {
        let project = Project {
            code: p.code,
            name: p.name,
            priority: p.priority,
            lead_organisation: p.lead_organisation,
            description: "Illustrative demo project: not real Tamworth data.".into(),
            status: ProjectStatus::Active,
        };
        refdata::create_project(store, project, actor).await?;
    }
    for a in d.allocations {
        let cmd = ops::AllocationCmd {
            grant: a.grant,
            year: year(&a.financial_year)?,
            project: a.project,
            amount: money(&a.amount)?,
            approved_on: date(&a.approved_on)?,
            approval_ref: a.approval_ref,
            memo: "[Illustrative] demo allocation".into(),
        };
        ops::allocate(store, cmd, actor).await?;
    }
    let mut commitment_ids = Vec::new();
    let mut evidence = Vec::new();
    for c in d.commitments {
        let fy = year(&c.financial_year)?;
        let agreement = match c.agreement {
            Some(a) => Some(AgreementTerms {
                recipient: a.recipient,
                start_date: date(&a.start_date)?,
                end_date: date(&a.end_date)?,
                purpose: a.purpose,
                schedule: vec![AgreementPart { financial_year: fy, amount: money(&c.amount)? }],
            }),
            None => None,
        };
        evidence.push(c.evidence);
        let cmd = ops::CommitmentCmd {
            agreement,
            grant: c.grant,
            year: fy,
            project: c.project,
            supplier: c.supplier,
            reference: c.reference,
            amount: money(&c.amount)?,
            date: date(&c.date)?,
            memo: "[Illustrative] demo commitment".into(),
        };
        commitment_ids.push(ops::commit(store, cmd, actor).await?.commitment_id);
    }
    for s in d.spend {
        let cmd = ops::SpendCmd {
            grant: s.grant,
            project: s.project,
            date: date(&s.date)?,
            supplier: s.supplier,
            description: s.description,
            invoice_ref: s.invoice_ref,
            amount: money(&s.amount)?,
            commitment_id: s.commitment.and_then(|i| commitment_ids.get(i).copied()),
            source_ref: Some(s.source_ref),
            vat: None,
            vat_recoverable: true,
            duplicate_ok: false,
        };
        ops::spend(store, cmd, actor).await?;
    }
    for (id, records) in commitment_ids.iter().zip(evidence) {
        for e in records {
            let cmd = EvidenceCmd {
                commitment_id: *id,
                date: date(&e.date)?,
                amount_evidenced: money(&e.amount)?,
                status: e.status.parse().map_err(|e| anyhow::anyhow!("demo evidence: {e}"))?,
                note: e.note,
            };
            ops::record_evidence(store, cmd, actor).await?;
        }
    }
    load_county(store).await
}

/// The demo's county: Staffordshire's other eight partnerships registered beside Tamworth
/// (the home partnership), and its Locality Deal Fund 2022-23 declared with the nine shares
/// (`staffordshire()`), so the funder's overview, fund and reconciliation have a county to
/// show. What the service already holds (a partnership, the fund) is kept, not repeated.
/// The other partnerships' ledgers are not in this service: their rows show their shares
/// alone.
pub async fn load_county(store: &Store) -> anyhow::Result<()> {
    use crate::model::funds::{FundCmd, ShareItem};
    use crate::model::partnerships::NewPartnership;
    use crate::storage::{funds, partnerships};
    let county = staffordshire()?;
    let actor = Actor { name: LOADER, idem: None };
    let held: Vec<String> = partnerships::list(store).await?.into_iter().map(|p| p.code).collect();
    for p in county.partnerships.iter().filter(|p| !held.contains(&p.code)) {
        let new = NewPartnership {
            code: p.code.clone(),
            name: p.name.clone(),
            funder: county.funder.code.clone(),
            area_code: p.area_code.clone(),
        };
        partnerships::create(store, &new, actor).await.with_context(|| format!("registering {}", p.code))?;
    }
    let (funder, grant, year) = (&county.funder.code, &county.fund.grant, year(&county.fund.financial_year)?);
    if funds::funds_of_year(store, funder, year).await?.iter().any(|f| &f.grant == grant) {
        return Ok(());
    }
    let cmd = FundCmd { grant: grant.clone(), year, amount: money(&county.fund.amount)? };
    funds::create_fund(store, funder, cmd, actor).await.context("declaring the county's fund")?;
    let shares = county
        .partnerships
        .iter()
        .map(|p| Ok(ShareItem { partnership: p.code.clone(), amount: money(&p.share)? }))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let today = chrono::Utc::now().date_naive();
    funds::set_shares(store, funder, (grant, year), shares, today, actor)
        .await
        .context("setting the county's shares")?;
    Ok(())
}

const STAFFORDSHIRE: &str = include_str!("../fixtures/staffordshire/county.json");

/// Staffordshire's Locality Deal Fund for 2022-23 and its nine partnerships' shares, as
/// `serve --demo` will fill a county with (fixtures/staffordshire/county.json says which
/// figures are published and which illustrative).
#[derive(Debug, Deserialize)]
pub struct County {
    pub funder: FunderIn,
    pub fund: CountyFund,
    /// Each partnership's ASB Early Intervention grant, beside its share of the fund.
    pub asb_each: String,
    pub partnerships: Vec<CountyPartnership>,
}

#[derive(Debug, Deserialize)]
pub struct CountyFund {
    pub grant: String,
    pub financial_year: String,
    pub amount: String,
}

#[derive(Debug, Deserialize)]
pub struct CountyPartnership {
    pub code: String,
    pub name: String,
    /// The ONS code of the partnership's local authority district.
    pub area_code: String,
    pub share: String,
    /// A share the Commissioner's Office published, rather than one made up to add up.
    pub published: bool,
}

/// The Staffordshire county, its figures checked: the shares fit the fund exactly (no
/// over-programming), and every share not published says so in its name.
pub fn staffordshire() -> anyhow::Result<County> {
    use crate::domain::fund::{OverProgramming, Share, check_shares};
    let county: County = serde_json::from_str(STAFFORDSHIRE).context("reading the Staffordshire county")?;
    let fund = Money::parse(&county.fund.amount).context("the fund's amount")?;
    let shares = county
        .partnerships
        .iter()
        .map(|p| {
            anyhow::ensure!(p.published || p.name.ends_with("[Illustrative]"), "{} is not marked illustrative", p.code);
            Ok(Share { partnership: p.code.clone(), amount: Money::parse(&p.share).context("a share")? })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let total = check_shares(fund, &shares, OverProgramming::default())?;
    anyhow::ensure!(total == fund, "the shares add up to {total}, not the fund's {fund}");
    Ok(county)
}

#[cfg(test)]
mod county_tests {
    #[test]
    fn staffordshire_shares_add_up_to_the_published_fund() {
        let county = super::staffordshire().unwrap();
        assert_eq!(county.fund.amount, "724750.00");
        assert_eq!(county.partnerships.len(), 9);
        let published: Vec<_> =
            county.partnerships.iter().filter(|p| p.published).map(|p| (p.code.as_str(), p.share.as_str())).collect();
        assert_eq!(published, [("LIC", "49914.00"), ("TAM", "61394.00")]);
        let tamworth = county.partnerships.iter().find(|p| p.code == "TAM").unwrap();
        assert_eq!(tamworth.area_code, "E07000199");
    }
}
