//! A funder's funds, the partnerships' shares of them and reallocations between shares
//! (docs/api.md, "Funds"). The home partnership's share is its award: setting the share or
//! moving money to or from it changes the award in the same `db_tx`, by an entry of kind
//! `share` or `reallocation` posted through `post_in`, so every rule of the award holds
//! (rule 8 above all: an award never goes below what is allocated from it, as at any date).
//! The shares of other partnerships are kept here alone: their ledgers are not in this
//! service yet. Every write is audited; `verify` holds the rows to their records (`held`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use super::audit::{Col, RowKey, Stored};
use super::entries::{EntryMeta, balance_in, later_by_date_in, lock_award, post_in};
use super::reference::{conflict_if_exists, create_award_in};
use super::{DbTx, RowLock, Store, StoreError, idempotency, now};
use crate::domain::fund::{self, AwardPosition, FundError, OverProgramming, Share};
use crate::domain::operations::{self as ops, Award};
use crate::domain::rules::{self, RuleViolation};
use crate::domain::{Account, AccountKind, AuditAction, AuditEntity, EntryKind, FinancialYear, Money};
use crate::model::Actor;
use crate::model::funds::{
    AwardChange, FundCmd, FundRecord, ReallocationCmd, ReallocationRecord, ShareItem, ShareRecord,
};
use crate::model::reference::NewAward;

/// Funds: declared once, never changed.
pub const FUNDS: Stored = Stored {
    table: "funds",
    entity: AuditEntity::Fund,
    key: "grant_code || '/' || financial_year",
    columns: &[("amount_pence", Col::Int), ("funder", Col::Text), ("created_by", Col::Text), ("created_at", Col::Text)],
};

/// Shares: set anew, moved by reallocations, or taken away (recorded with nothing after).
pub const FUND_SHARES: Stored = Stored {
    table: "fund_shares",
    entity: AuditEntity::FundShare,
    key: "grant_code || '/' || financial_year || '/' || cast(partnership_id as text)",
    columns: &[("amount_pence", Col::Int), ("set_by", Col::Text), ("set_at", Col::Text)],
};

/// Reallocations: never changed.
pub const REALLOCATIONS: Stored = Stored {
    table: "reallocations",
    entity: AuditEntity::Reallocation,
    key: "id",
    columns: &[
        ("grant_code", Col::Text),
        ("financial_year", Col::Text),
        ("from_partnership_id", Col::Int),
        ("to_partnership_id", Col::Int),
        ("amount_pence", Col::Int),
        ("reallocated_on", Col::Text),
        ("reason", Col::Text),
        ("entry_id", Col::Int),
        ("created_by", Col::Text),
        ("created_at", Col::Text),
    ],
};

/// A partnership as a fund's change reads it.
#[derive(Debug, Clone)]
pub struct PartnershipRef {
    pub id: i64,
    pub code: String,
    pub funder: String,
    /// The partnership whose ledger this service holds.
    pub home: bool,
}

/// A registered partnership by code.
pub async fn partnership_in(db_tx: &mut DbTx, code: &str) -> Result<Option<PartnershipRef>, StoreError> {
    let row = sqlx::query("select id, code, funder, home from partnerships where code = $1")
        .bind(code)
        .fetch_optional(&mut **db_tx)
        .await?;
    row.map(|r| {
        Ok(PartnershipRef {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            funder: r.try_get("funder")?,
            home: r.try_get::<i64, _>("home")? != 0,
        })
    })
    .transpose()
}

/// A partnership `funder` funds, or why not, as a refusal of `field`.
pub(super) async fn funded_in(
    db_tx: &mut DbTx,
    funder: &str,
    code: &str,
    field: &str,
) -> Result<PartnershipRef, StoreError> {
    match partnership_in(db_tx, code).await? {
        None => Err(StoreError::invalid(field, format!("no partnership {code} is registered"))),
        Some(p) if p.funder != funder => Err(StoreError::invalid(field, format!("{code} is not funded by {funder}"))),
        Some(p) => Ok(p),
    }
}

/// A grant of `funder`, or a refusal naming `grant`.
pub(super) async fn funders_grant_in(db_tx: &mut DbTx, funder: &str, grant: &str) -> Result<(), StoreError> {
    let row = sqlx::query("select funder from grants where code = $1").bind(grant).fetch_optional(&mut **db_tx).await?;
    match row.map(|r| r.try_get::<String, _>("funder")).transpose()? {
        None => Err(StoreError::invalid("grant", format!("no grant {grant}"))),
        Some(f) if f != funder => Err(StoreError::invalid("grant", format!("grant {grant} is not {funder}'s"))),
        Some(_) => Ok(()),
    }
}

/// The funder's allowance over its funds.
async fn over_programming_in(db_tx: &mut DbTx, funder: &str) -> Result<OverProgramming, StoreError> {
    let pct: i64 = sqlx::query("select over_programming_percent from funders where code = $1")
        .bind(funder)
        .fetch_one(&mut **db_tx)
        .await?
        .try_get("over_programming_percent")?;
    u32::try_from(pct).ok().and_then(|p| OverProgramming::percent(p).ok()).ok_or_else(|| {
        StoreError::Corrupt(format!("funders {funder}: column over_programming_percent: {pct} is not 0 to 100"))
    })
}

/// The fund of (grant, year) of `funder`, held for update on PostgreSQL (a SQLite write
/// `db_tx` holds the database), so two changes to its shares take turns.
async fn hold_fund_in(db_tx: &mut DbTx, funder: &str, grant: &str, year: FinancialYear) -> Result<Money, StoreError> {
    let sql = format!(
        "select amount_pence from funds where grant_code = $1 and financial_year = $2 and funder = $3{}",
        RowLock::Update.clause(db_tx)
    );
    let row = sqlx::query(&sql).bind(grant).bind(year.to_string()).bind(funder).fetch_optional(&mut **db_tx).await?;
    match row {
        Some(r) => Ok(Money::from_pence(r.try_get("amount_pence")?)),
        None => Err(StoreError::NotFound(format!("fund {grant} {year} of {funder}"))),
    }
}

/// Each partnership's share of the fund, by partnership id.
async fn shares_in(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<BTreeMap<i64, Money>, StoreError> {
    let rows = sqlx::query(
        "select partnership_id, amount_pence from fund_shares where grant_code = $1 and financial_year = $2",
    )
    .bind(grant)
    .bind(year.to_string())
    .fetch_all(&mut **db_tx)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("partnership_id")?, Money::from_pence(r.try_get("amount_pence")?)))).collect()
}

/// The fund as it stands in `db_tx`, with its shares by partnership code.
async fn fund_in(db_tx: &mut DbTx, funder: &str, grant: &str, year: FinancialYear) -> Result<FundRecord, StoreError> {
    let row =
        sqlx::query("select amount_pence from funds where grant_code = $1 and financial_year = $2 and funder = $3")
            .bind(grant)
            .bind(year.to_string())
            .bind(funder)
            .fetch_optional(&mut **db_tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("fund {grant} {year} of {funder}")))?;
    let amount = Money::from_pence(row.try_get("amount_pence")?);
    let over = over_programming_in(db_tx, funder).await?;
    let rows = sqlx::query(
        "select p.code, s.amount_pence from fund_shares s join partnerships p on p.id = s.partnership_id
         where s.grant_code = $1 and s.financial_year = $2 order by p.code",
    )
    .bind(grant)
    .bind(year.to_string())
    .fetch_all(&mut **db_tx)
    .await?;
    let shares = rows
        .iter()
        .map(|r| {
            Ok(ShareRecord { partnership: r.try_get("code")?, amount: Money::from_pence(r.try_get("amount_pence")?) })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let total = Money::from_pence(shares.iter().map(|s| s.amount.pence()).sum());
    Ok(FundRecord {
        grant: grant.to_owned(),
        financial_year: year,
        funder: funder.to_owned(),
        amount,
        over_programming_percent: over.pct(),
        ceiling: over.ceiling(amount),
        over_by: Money::from_pence((total.pence() - amount.pence()).max(0)),
        shares_total: total,
        shares,
    })
}

/// Every fund of `funder` for `year`, by grant: the overview's over-programming.
pub async fn funds_of_year(store: &Store, funder: &str, year: FinancialYear) -> Result<Vec<FundRecord>, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let grants: Vec<String> =
        sqlx::query("select grant_code from funds where funder = $1 and financial_year = $2 order by grant_code")
            .bind(funder)
            .bind(year.to_string())
            .fetch_all(&mut *db_tx)
            .await?
            .iter()
            .map(|r| r.try_get("grant_code"))
            .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(grants.len());
    for grant in grants {
        out.push(fund_in(&mut db_tx, funder, &grant, year).await?);
    }
    db_tx.rollback().await?;
    Ok(out)
}

/// The funder of the home partnership, the one whose ledger this service holds.
pub async fn home_funder(store: &Store) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query("select funder from partnerships where home = 1")
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.try_get("funder"))
        .transpose()?)
}

/// One fund of `funder`, or 404.
pub async fn get_fund(store: &Store, funder: &str, grant: &str, year: FinancialYear) -> Result<FundRecord, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let fund = fund_in(&mut db_tx, funder, grant, year).await?;
    db_tx.rollback().await?;
    Ok(fund)
}

/// Declares `funder`'s fund of one of its grants for a year; a second of the same is a
/// `conflict`.
pub async fn create_fund(
    store: &Store,
    funder: &str,
    cmd: FundCmd,
    actor: Actor<'_>,
) -> Result<FundRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    funders_grant_in(&mut db_tx, funder, &cmd.grant).await?;
    sqlx::query(
        "insert into funds (grant_code, financial_year, amount_pence, funder, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&cmd.grant)
    .bind(cmd.year.to_string())
    .bind(cmd.amount.pence())
    .bind(funder)
    .bind(actor.name)
    .bind(now())
    .execute(&mut *db_tx)
    .await
    .map_err(|e| conflict_if_exists(e, format!("a fund of {} for {}", cmd.grant, cmd.year)))?;
    let key = format!("{}/{}", cmd.grant, cmd.year);
    FUNDS.record_in(&mut db_tx, RowKey::Text(&key), (actor.name, AuditAction::Create, ""), None).await?;
    let record = fund_in(&mut db_tx, funder, &cmd.grant, cmd.year).await?;
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}

/// The date a share set today takes effect in the home ledger: today, within the fund's year.
pub fn share_date(year: FinancialYear, today: NaiveDate) -> NaiveDate {
    today.clamp(year.start(), year.end())
}

/// What the funder has awarded: the award less money carried in from the year before
/// (`carry_forward` entries, never reversed), which is the partnership's, not the fund's.
async fn funders_award_in(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<Money, StoreError> {
    let awarded = Account::award(AccountKind::Awarded, grant, year);
    let carried_in: i64 = sqlx::query(&format!(
        "select cast(coalesce(sum(p.amount_pence), 0) as bigint) as pence from postings p
         join entries e on e.id = p.entry_id where p.account = $1 and e.kind = {}",
        EntryKind::CarryForward.sql()
    ))
    .bind(awarded.to_string())
    .fetch_one(&mut **db_tx)
    .await?
    .try_get("pence")?;
    Ok(Money::from_pence(balance_in(db_tx, &awarded).await?.pence() - carried_in))
}

async fn award_exists_in(db_tx: &mut DbTx, grant: &str, year: FinancialYear) -> Result<bool, StoreError> {
    let row = sqlx::query("select 1 as one from awards where grant_code = $1 and financial_year = $2")
        .bind(grant)
        .bind(year.to_string())
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(row.is_some())
}

/// How the home ledger's award changes: the entry's kind, date, memo and details.
struct HomeChange<'a> {
    kind: EntryKind,
    date: NaiveDate,
    memo: String,
    details: serde_json::Value,
    created_by: &'a str,
}

/// Changes the home ledger's award of (grant, year) by `change`: an entry of the change's
/// kind through `post_in`, or the award itself where there is none yet. Answers the entry.
async fn change_home_award_in(
    db_tx: &mut DbTx,
    grant: &str,
    year: FinancialYear,
    change: Money,
    how: HomeChange<'_>,
) -> Result<Option<i64>, StoreError> {
    if change == Money::ZERO {
        return Ok(None);
    }
    if !award_exists_in(db_tx, grant, year).await? {
        if !change.is_positive() {
            return Err(StoreError::Rule(RuleViolation::OverAllocation {
                account: Account::award(AccountKind::Unallocated, grant, year).to_string(),
                unallocated: Money::ZERO,
                requested: change.negated(),
                as_at: None,
            }));
        }
        let award = NewAward {
            grant: grant.to_owned(),
            year,
            amount: change,
            awarded_on: how.date,
            reference: how.memo.clone(),
        };
        return Ok(create_award_in(db_tx, &award, how.created_by).await?.entry_id);
    }
    let locked = lock_award(db_tx, grant, year).await?;
    let entry = ops::award_change(Award { grant, year }, how.kind, how.date, change)?;
    let meta =
        EntryMeta { memo: how.memo, details: how.details, created_by: how.created_by.to_owned(), ..Default::default() };
    Ok(Some(post_in(db_tx, &entry, &meta, locked.grant.rule()).await?.entry_id))
}

/// Writes one share (or takes it away, `None`), audited with `reason`, where it changes.
async fn write_share_in(
    db_tx: &mut DbTx,
    (grant, year, partnership_id): (&str, FinancialYear, i64),
    amount: Option<Money>,
    reason: &str,
    actor: &str,
) -> Result<(), StoreError> {
    let key = format!("{grant}/{year}/{partnership_id}");
    let before = FUND_SHARES.row_in(db_tx, RowKey::Text(&key)).await?;
    let was = before.as_ref().and_then(|b| b["amount_pence"].as_i64());
    if was == amount.map(Money::pence) {
        return Ok(());
    }
    let action = if before.is_none() { AuditAction::Create } else { AuditAction::Update };
    match amount {
        None => {
            sqlx::query(
                "delete from fund_shares where grant_code = $1 and financial_year = $2 and partnership_id = $3",
            )
            .bind(grant)
            .bind(year.to_string())
            .bind(partnership_id)
            .execute(&mut **db_tx)
            .await?;
        }
        Some(amount) => {
            sqlx::query(
                "insert into fund_shares (grant_code, financial_year, partnership_id, amount_pence, set_by, set_at)
                 values ($1, $2, $3, $4, $5, $6)
                 on conflict (grant_code, financial_year, partnership_id)
                 do update set amount_pence = excluded.amount_pence, set_by = excluded.set_by, set_at = excluded.set_at",
            )
            .bind(grant)
            .bind(year.to_string())
            .bind(partnership_id)
            .bind(amount.pence())
            .bind(actor)
            .bind(now())
            .execute(&mut **db_tx)
            .await?;
        }
    }
    FUND_SHARES.record_in(db_tx, RowKey::Text(&key), (actor, action, reason), before).await
}

/// A refusal of `check_shares` naming the item it is about.
fn share_refusal(e: FundError, items: &[ShareItem]) -> StoreError {
    let second = |code: &str| items.iter().enumerate().filter(|(_, s)| s.partnership == code).nth(1).map(|(i, _)| i);
    let first = |code: &str| items.iter().position(|s| s.partnership == code);
    match e {
        FundError::RepeatedShare(code) => StoreError::invalid(
            &format!("shares[{}].partnership", second(&code).unwrap_or_default()),
            format!("{code} is given a share twice"),
        ),
        FundError::NegativeShare(code) => StoreError::invalid(
            &format!("shares[{}].amount", first(&code).unwrap_or_default()),
            format!("{code}'s share must not be negative"),
        ),
        e => StoreError::invalid("shares", e.to_string()),
    }
}

/// Sets the fund's shares whole (a partnership left out has none), each partnership once,
/// registered and funded by `funder`, together within the fund and the funder's allowance.
/// The home partnership's share becomes its award, dated `share_date(today)`: a share below
/// what its ledger has allocated is refused `over_allocation`, naming it.
pub async fn set_shares(
    store: &Store,
    funder: &str,
    (grant, year): (&str, FinancialYear),
    items: Vec<ShareItem>,
    today: NaiveDate,
    actor: Actor<'_>,
) -> Result<FundRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let fund = hold_fund_in(&mut db_tx, funder, grant, year).await?;
    let over = over_programming_in(&mut db_tx, funder).await?;
    let mut partnerships = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        partnerships.push(funded_in(&mut db_tx, funder, &item.partnership, &format!("shares[{i}].partnership")).await?);
    }
    let shares: Vec<Share> =
        items.iter().map(|s| Share { partnership: s.partnership.clone(), amount: s.amount }).collect();
    fund::check_shares(fund, &shares, over).map_err(|e| share_refusal(e, &items))?;

    let before = shares_in(&mut db_tx, grant, year).await?;
    let after: BTreeMap<i64, Money> = partnerships.iter().zip(&items).map(|(p, s)| (p.id, s.amount)).collect();
    // The home partnership's award follows its share where it has or had one.
    let home = match partnerships.iter().find(|p| p.home) {
        Some(p) => Some(p.clone()),
        None => home_of_in(&mut db_tx, funder).await?.filter(|p| before.contains_key(&p.id)),
    };
    if let Some(home) = home {
        let target = after.get(&home.id).copied().unwrap_or(Money::ZERO);
        let current = if award_exists_in(&mut db_tx, grant, year).await? {
            // Held first, so the award read is the one changed.
            lock_award(&mut db_tx, grant, year).await.map_err(|e| e.of_partnership(&home.code))?;
            funders_award_in(&mut db_tx, grant, year).await?
        } else {
            Money::ZERO
        };
        let change = Money::from_pence(target.pence() - current.pence());
        let how = HomeChange {
            kind: EntryKind::Share,
            date: share_date(year, today),
            memo: format!("{funder}'s share of {grant} {year} set to {target}"),
            details: serde_json::json!({ "funder": funder, "share": target.to_string(), "was": current.to_string() }),
            created_by: actor.name,
        };
        change_home_award_in(&mut db_tx, grant, year, change, how).await.map_err(|e| e.of_partnership(&home.code))?;
    }
    for id in before.keys().filter(|id| !after.contains_key(id)) {
        write_share_in(&mut db_tx, (grant, year, *id), None, "", actor.name).await?;
    }
    for (id, amount) in &after {
        write_share_in(&mut db_tx, (grant, year, *id), Some(*amount), "", actor.name).await?;
    }
    let record = fund_in(&mut db_tx, funder, grant, year).await?;
    idempotency::commit_answer(db_tx, actor.idem, 200, record).await
}

/// The home partnership, where `funder` funds it.
async fn home_of_in(db_tx: &mut DbTx, funder: &str) -> Result<Option<PartnershipRef>, StoreError> {
    let code: Option<String> = sqlx::query("select code from partnerships where home = 1 and funder = $1")
        .bind(funder)
        .fetch_optional(&mut **db_tx)
        .await?
        .map(|r| r.try_get("code"))
        .transpose()?;
    match code {
        Some(code) => partnership_in(db_tx, &code).await,
        None => Ok(None),
    }
}

/// Where a reallocation finds the side it takes from: its share, and for the home
/// partnership the least its award holds unallocated as at any date from `date` on.
async fn position_in(
    db_tx: &mut DbTx,
    p: &PartnershipRef,
    (grant, year, date): (&str, FinancialYear, NaiveDate),
    share: Money,
) -> Result<(AwardPosition, Option<NaiveDate>), StoreError> {
    let mut least = share;
    let mut as_at = None;
    if p.home {
        let unallocated = Account::award(AccountKind::Unallocated, grant, year);
        let now = balance_in(db_tx, &unallocated).await?;
        let later = later_by_date_in(db_tx, &unallocated, date).await?;
        let low = rules::lowest_from(AccountKind::Unallocated, date, now, later.into_iter());
        let held = rules::held(AccountKind::Unallocated, low.balance);
        if held < least {
            (least, as_at) = (held, low.as_at);
        }
    }
    Ok((AwardPosition { partnership: p.code.clone(), award: share, least_unallocated_from_then: least }, as_at))
}

/// A reallocation's refusal in the ledger's words, naming the partnership.
fn reallocation_refusal(e: FundError, grant: &str, year: FinancialYear, as_at: Option<NaiveDate>) -> StoreError {
    match e {
        FundError::BelowAllocated { partnership, available, amount } => StoreError::OfPartnership {
            refusal: Box::new(StoreError::Rule(RuleViolation::OverAllocation {
                account: Account::award(AccountKind::Unallocated, grant, year).to_string(),
                unallocated: available,
                requested: amount,
                as_at,
            })),
            partnership,
        },
        FundError::SamePartnership(_) => StoreError::invalid("to_partnership", e.to_string()),
        e => StoreError::invalid("amount", e.to_string()),
    }
}

/// Moves money from one partnership's share to another's, dated `date` in the fund's year;
/// the fund's total is unchanged. Where a side is the home partnership its award changes
/// too, by a `reallocation` entry carrying the reason (or, for an award not yet made, the
/// award itself): refused `period_closed` in a closed year or locked quarter, and
/// `over_allocation` where it would take the award below what is allocated from it as at
/// any date from `date` on, each naming the partnership. Audited on both sides.
pub async fn reallocate(
    store: &Store,
    funder: &str,
    cmd: ReallocationCmd,
    actor: Actor<'_>,
) -> Result<ReallocationRecord, StoreError> {
    let (grant, year, date) = (cmd.grant.as_str(), cmd.year, cmd.date);
    if cmd.from_partnership == cmd.to_partnership {
        return Err(reallocation_refusal(FundError::SamePartnership(cmd.from_partnership), grant, year, None));
    }
    if date < year.start() || date > year.end() {
        return Err(StoreError::invalid("date", format!("date {date} is not in financial year {year}")));
    }
    let mut db_tx = store.begin().await?;
    hold_fund_in(&mut db_tx, funder, grant, year).await.map_err(|e| match e {
        StoreError::NotFound(what) => StoreError::invalid("grant", format!("no {what} is declared")),
        e => e,
    })?;
    let from = funded_in(&mut db_tx, funder, &cmd.from_partnership, "from_partnership").await?;
    let to = funded_in(&mut db_tx, funder, &cmd.to_partnership, "to_partnership").await?;
    // The home award held before its figures are read, so the check is of what changes.
    for p in [&from, &to].into_iter().filter(|p| p.home) {
        if award_exists_in(&mut db_tx, grant, year).await? {
            lock_award(&mut db_tx, grant, year).await.map_err(|e| e.of_partnership(&p.code))?;
        }
    }
    let shares = shares_in(&mut db_tx, grant, year).await?;
    let share = |p: &PartnershipRef| shares.get(&p.id).copied().unwrap_or(Money::ZERO);
    let (from_at, as_at) = position_in(&mut db_tx, &from, (grant, year, date), share(&from)).await?;
    let (to_at, _) = position_in(&mut db_tx, &to, (grant, year, date), share(&to)).await?;
    let (from_after, to_after) =
        fund::reallocate(&from_at, &to_at, cmd.amount).map_err(|e| reallocation_refusal(e, grant, year, as_at))?;

    let mut entries = [None, None];
    for (i, (p, change)) in [(&from, cmd.amount.negated()), (&to, cmd.amount)].into_iter().enumerate() {
        if !p.home {
            continue;
        }
        let how = HomeChange {
            kind: EntryKind::Reallocation,
            date,
            memo: format!("reallocation from {} to {}: {}", from.code, to.code, cmd.reason),
            details: serde_json::json!({
                "funder": funder, "from_partnership": from.code, "to_partnership": to.code, "reason": cmd.reason,
            }),
            created_by: actor.name,
        };
        entries[i] =
            change_home_award_in(&mut db_tx, grant, year, change, how).await.map_err(|e| e.of_partnership(&p.code))?;
    }
    for (p, after) in [(&from, from_after), (&to, to_after)] {
        write_share_in(&mut db_tx, (grant, year, p.id), Some(after), &cmd.reason, actor.name).await?;
    }
    let created_at = now();
    let id: i64 = sqlx::query(
        "insert into reallocations (grant_code, financial_year, from_partnership_id, to_partnership_id, amount_pence,
                                    reallocated_on, reason, entry_id, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
    )
    .bind(grant)
    .bind(year.to_string())
    .bind(from.id)
    .bind(to.id)
    .bind(cmd.amount.pence())
    .bind(date.to_string())
    .bind(&cmd.reason)
    .bind(entries[0].or(entries[1]))
    .bind(actor.name)
    .bind(&created_at)
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    REALLOCATIONS.record_in(&mut db_tx, RowKey::Id(id), (actor.name, AuditAction::Create, &cmd.reason), None).await?;
    let record = ReallocationRecord {
        id,
        grant: cmd.grant.clone(),
        financial_year: year,
        amount: cmd.amount,
        date,
        from: AwardChange { partnership: from.code, before: from_at.award, after: from_after, entry_id: entries[0] },
        to: AwardChange { partnership: to.code, before: to_at.award, after: to_after, entry_id: entries[1] },
        reason: cmd.reason,
        created_by: actor.name.to_owned(),
    };
    idempotency::commit_answer(db_tx, actor.idem, 201, record).await
}
