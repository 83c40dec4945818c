//! Commitments and their releases, and the list of commitments.

use super::*;
use crate::domain::CommitmentKind;
use crate::domain::agreement::check_terms;
use crate::model::agreements::{AgreementPart, AgreementTerms, PartState, PartStatus};
use crate::model::lists::CommitmentFilter;

pub async fn commit(store: &Store, c: CommitmentCmd, actor: Actor<'_>) -> Result<CommitmentRecord, StoreError> {
    if let Some(terms) = &c.agreement {
        let schedule: Vec<_> = terms.schedule.iter().map(|p| (p.financial_year, p.amount)).collect();
        check_terms(c.year, c.date, c.amount, (terms.start_date, terms.end_date), &schedule)
            .map_err(|e| StoreError::invalid(&e.field, e.message))?;
    }
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &c.grant, c.year).await?;
    // An agreement's later parts are committed now where their award exists; each award is
    // locked in year order, the one global order. A part whose award is not made yet waits.
    let mut later = Vec::new();
    for part in c.agreement.iter().flat_map(|t| t.schedule.iter().skip(1)) {
        if lock_award_row(&mut db_tx, &c.grant, part.financial_year).await? {
            let award = lock_award(&mut db_tx, &c.grant, part.financial_year).await?;
            later.push((award, part.clone()));
        }
    }
    project_for_posting(&mut db_tx, &c.project, "project", false).await?;
    let recipient = match &c.agreement {
        Some(terms) => Some(recipient_name(&mut db_tx, &terms.recipient).await?),
        None => None,
    };
    let supplier = match (&recipient, c.supplier.trim().is_empty()) {
        (Some(name), true) => name.clone(),
        _ => c.supplier.clone(),
    };
    let kind = if c.agreement.is_some() { CommitmentKind::GrantAgreement } else { CommitmentKind::PurchaseOrder };
    let terms = c.agreement.as_ref();
    let commitment_id: i64 = sqlx::query(
        "insert into commitments (grant_code, financial_year, project_code, supplier, reference, amount_pence,
                                  commitment_date, memo, created_at, kind, recipient, start_date, end_date, purpose)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning id",
    )
    .bind(&c.grant)
    .bind(c.year.to_string())
    .bind(&c.project)
    .bind(&supplier)
    .bind(&c.reference)
    .bind(c.amount.pence())
    .bind(c.date.to_string())
    .bind(&c.memo)
    .bind(now())
    .bind(kind.as_str())
    .bind(terms.map(|t| t.recipient.clone()))
    .bind(terms.map(|t| t.start_date.to_string()))
    .bind(terms.map(|t| t.end_date.to_string()))
    .bind(terms.map(|t| t.purpose.clone()).unwrap_or_default())
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    let mut details = serde_json::json!({ "project": c.project, "supplier": supplier, "reference": c.reference });
    let first_amount = match terms {
        Some(t) => {
            for part in &t.schedule {
                sqlx::query(
                    "insert into agreement_parts (commitment_id, financial_year, amount_pence) values ($1, $2, $3)",
                )
                .bind(commitment_id)
                .bind(part.financial_year.to_string())
                .bind(part.amount.pence())
                .execute(&mut *db_tx)
                .await?;
            }
            details["agreement"] = agreement_details(t, c.amount);
            details["part"] = serde_json::Value::String(c.year.to_string());
            t.schedule[0].amount
        }
        None => c.amount,
    };
    let entry = ops::commitment(award_of(&locked), c.date, &c.project, first_amount)?;
    let meta = EntryMeta {
        memo: c.memo.clone(),
        details,
        created_by: actor.name.to_owned(),
        commitment_id: Some(commitment_id),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let mut warnings = posted.flags;
    let mut schedule = Vec::new();
    if let Some(t) = terms {
        schedule.push(PartState {
            financial_year: c.year,
            amount: first_amount,
            status: PartStatus::Committed,
            entry_id: Some(posted.entry_id),
            outstanding: first_amount,
        });
        for part in t.schedule.iter().skip(1) {
            let award = later.iter().find(|(_, p)| p.financial_year == part.financial_year).map(|(a, _)| a);
            let state = match award {
                Some(award) => {
                    let date = c.date.max(part.financial_year.start());
                    let (entry_id, flags) = commit_part_in(
                        &mut db_tx,
                        award,
                        (commitment_id, &c.project, &supplier, &c.reference),
                        part,
                        date,
                        actor.name,
                    )
                    .await?;
                    warnings.extend(flags);
                    PartState {
                        status: PartStatus::Committed,
                        entry_id: Some(entry_id),
                        outstanding: part.amount,
                        ..waiting(part)
                    }
                }
                None => waiting(part),
            };
            schedule.push(state);
        }
    }
    let outstanding = schedule.iter().map(|p| p.outstanding.pence()).sum::<i64>();
    let record = CommitmentRecord {
        commitment_id,
        entry_id: posted.entry_id,
        kind,
        grant: c.grant,
        financial_year: c.year.to_string(),
        project: c.project,
        supplier,
        reference: c.reference,
        amount: c.amount,
        outstanding: if terms.is_some() { Money::from_pence(outstanding) } else { c.amount },
        date: c.date.to_string(),
        memo: c.memo,
        recipient: terms.map(|t| t.recipient.clone()),
        start_date: terms.map(|t| t.start_date),
        end_date: terms.map(|t| t.end_date),
        purpose: terms.map(|t| t.purpose.clone()),
        schedule,
        warnings,
    };
    commit_with(db_tx, actor, record).await
}

/// A part not committed yet.
fn waiting(part: &AgreementPart) -> PartState {
    PartState {
        financial_year: part.financial_year,
        amount: part.amount,
        status: PartStatus::Waiting,
        entry_id: None,
        outstanding: Money::ZERO,
    }
}

/// The agreement's terms as its first commitment entry records them, so the hash chain
/// vouches for them and `verify` can hold the stored rows to them.
fn agreement_details(t: &AgreementTerms, amount: Money) -> serde_json::Value {
    serde_json::json!({
        "recipient": t.recipient,
        "start_date": t.start_date.to_string(),
        "end_date": t.end_date.to_string(),
        "purpose": t.purpose,
        "amount": amount.to_string(),
        "schedule": t.schedule.iter()
            .map(|p| serde_json::json!({ "financial_year": p.financial_year.to_string(), "amount": p.amount.to_string() }))
            .collect::<Vec<_>>(),
    })
}

/// The name of the organisation an agreement is made with, refused naming `recipient`.
async fn recipient_name(db_tx: &mut DbTx, code: &str) -> Result<String, StoreError> {
    let row =
        sqlx::query("select name from organisations where code = $1").bind(code).fetch_optional(&mut **db_tx).await?;
    match row {
        Some(r) => Ok(r.try_get("name")?),
        None => Err(StoreError::invalid("recipient", format!("no organisation {code}"))),
    }
}

/// Commits one later part of an agreement in its (locked) award: one commitment entry of that
/// year carrying the agreement's id. Answers the entry and any overspend flags.
pub(super) async fn commit_part_in(
    db_tx: &mut DbTx,
    award: &LockedAward,
    (commitment_id, project, supplier, reference): (i64, &str, &str, &str),
    part: &AgreementPart,
    date: NaiveDate,
    created_by: &str,
) -> Result<(i64, Vec<crate::domain::OverspendFlag>), StoreError> {
    let entry = ops::commitment(award_of(award), date, project, part.amount)?;
    let meta = EntryMeta {
        memo: format!("part {} of agreement {commitment_id}", part.financial_year),
        details: serde_json::json!({
            "project": project, "supplier": supplier, "reference": reference, "part": part.financial_year.to_string(),
        }),
        created_by: created_by.to_owned(),
        commitment_id: Some(commitment_id),
        ..Default::default()
    };
    let posted = post_in(db_tx, &entry, &meta, award.grant.rule()).await?;
    Ok((posted.entry_id, posted.flags))
}

pub(super) struct CommitmentRow {
    pub(super) kind: CommitmentKind,
    pub(super) grant: String,
    pub(super) year: FinancialYear,
    pub(super) project: String,
    pub(super) supplier: String,
    pub(super) reference: String,
    pub(super) date: String,
}

pub(super) async fn commitment_row(db_tx: &mut DbTx, id: i64) -> Result<Option<CommitmentRow>, StoreError> {
    let row = sqlx::query(
        "select id, kind, grant_code, financial_year, project_code, supplier, reference, commitment_date
         from commitments where id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **db_tx)
    .await?;
    let at: (&str, &[&str]) = ("commitments", &["id"]);
    row.map(|r| -> Result<_, StoreError> {
        Ok(CommitmentRow {
            kind: rows::parsed(&r, at, "kind", |t: &str| t.parse::<CommitmentKind>())?,
            grant: r.try_get("grant_code")?,
            year: rows::year(&r, at, "financial_year")?,
            project: r.try_get("project_code")?,
            supplier: r.try_get("supplier")?,
            reference: r.try_get("reference")?,
            date: r.try_get("commitment_date")?,
        })
    })
    .transpose()
}

/// The years of an agreement's parts, in order; a purchase order's one year.
pub(super) async fn part_years(
    db_tx: &mut DbTx,
    id: i64,
    row: &CommitmentRow,
) -> Result<Vec<FinancialYear>, StoreError> {
    if row.kind == CommitmentKind::PurchaseOrder {
        return Ok(vec![row.year]);
    }
    let found = sqlx::query(
        "select commitment_id, financial_year from agreement_parts where commitment_id = $1 order by financial_year",
    )
    .bind(id)
    .fetch_all(&mut **db_tx)
    .await?;
    found
        .iter()
        .map(|r| rows::year(r, ("agreement_parts", &["commitment_id", "financial_year"]), "financial_year"))
        .collect()
}

pub async fn release(store: &Store, c: ReleaseCmd, actor: Actor<'_>) -> Result<ReleaseRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let row = commitment_row(&mut db_tx, c.commitment_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("commitment {}", c.commitment_id)))?;
    not_before(c.date, &row.date, || format!("commitment {} that it releases", c.commitment_id))?;
    // An agreement releases from the part of the release's year; a purchase order from its own.
    let year = match row.kind {
        CommitmentKind::PurchaseOrder => row.year,
        CommitmentKind::GrantAgreement => {
            let year = FinancialYear::of(c.date);
            if !part_years(&mut db_tx, c.commitment_id, &row).await?.contains(&year) {
                return Err(StoreError::invalid(
                    "date",
                    format!("agreement {} has no part in {year}, the year of this date", c.commitment_id),
                ));
            }
            year
        }
    };
    let locked = lock_award(&mut db_tx, &row.grant, year).await?;
    let committed = Account::project(AccountKind::Committed, &row.grant, year, &row.project);
    let outstanding = outstanding_in(&mut db_tx, c.commitment_id, &committed).await?;
    if c.amount > outstanding {
        return Err(StoreError::invalid(
            "amount",
            format!("is more than the {outstanding} outstanding on commitment {} in {year}", c.commitment_id),
        ));
    }
    let entry = ops::release(award_of(&locked), c.date, &row.project, c.amount)?;
    let meta = EntryMeta {
        memo: c.reason.clone(),
        details: serde_json::json!({ "project": row.project, "reason": c.reason }),
        created_by: actor.name.to_owned(),
        commitment_id: Some(c.commitment_id),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let record = ReleaseRecord {
        entry_id: posted.entry_id,
        commitment_id: c.commitment_id,
        date: c.date,
        amount: c.amount,
        reason: c.reason,
        outstanding: Money::from_pence(outstanding.pence() - c.amount.pence()),
    };
    commit_with(db_tx, actor, record).await
}

pub async fn list_commitments(
    store: &Store,
    project: Option<&str>,
    open_only: bool,
    after: i64,
    limit: i64,
) -> Result<super::super::Page<CommitmentRecord>, StoreError> {
    let filter = CommitmentFilter { project: project.map(str::to_owned), open_only, ..CommitmentFilter::default() };
    search_commitments(store, &filter, after, limit).await
}

/// The commitments `f` finds, by id, a page after `after`.
pub async fn search_commitments(
    store: &Store,
    f: &CommitmentFilter,
    after: i64,
    limit: i64,
) -> Result<super::super::Page<CommitmentRecord>, StoreError> {
    let mut w = crate::storage::search::Where::default();
    let p = w.int(after);
    w.and(format!("c.id > {p}"));
    w.compare("c.project_code", "=", f.project.as_ref());
    w.compare("c.grant_code", "=", f.grant.as_ref());
    w.compare("c.financial_year", "=", f.financial_year);
    if let Some(s) = &f.supplier {
        w.contains("c.supplier", s);
    }
    w.compare("c.commitment_date", ">=", f.from);
    w.compare("c.commitment_date", "<=", f.to);
    let committed = AccountKind::Committed.sql_like();
    if f.open_only {
        w.and(format!(
            "(select coalesce(sum(p.amount_pence), 0) from postings p join entries e on e.id = p.entry_id
              where e.commitment_id = c.id and p.account like {committed}) <> 0"
        ));
    }
    let limit_p = w.int(limit + 1);
    let sql = format!(
        "select c.*, (select min(e.id) from entries e where e.commitment_id = c.id and e.kind = {commitment}) as entry_id,
                (select cast(coalesce(-sum(p.amount_pence), 0) as bigint) from postings p join entries e on e.id = p.entry_id
                 where e.commitment_id = c.id and p.account like {committed}) as outstanding
         from commitments c
         where {} order by c.id limit {limit_p}",
        w.sql(),
        commitment = EntryKind::Commitment.sql(),
    );
    let mut conn = store.pool().acquire().await?;
    let found = w.bind(sqlx::query(&sql)).fetch_all(&mut *conn).await?;
    let mut items = Vec::with_capacity(found.len());
    for r in &found {
        let mut record = record_of(r)?;
        if record.kind == CommitmentKind::GrantAgreement {
            record.schedule = part_states(&mut conn, record.commitment_id).await?;
        }
        items.push(record);
    }
    Ok(super::super::Page::from_rows(items, limit, crate::model::page::List::Commitments, |c: &CommitmentRecord| {
        c.commitment_id.to_string()
    }))
}

/// A commitment as listed, from its row with `entry_id` and `outstanding` beside it.
fn record_of(r: &sqlx::any::AnyRow) -> Result<CommitmentRecord, StoreError> {
    let at: (&str, &[&str]) = ("commitments", &["id"]);
    let kind = rows::parsed(r, at, "kind", |t: &str| t.parse::<CommitmentKind>())?;
    let agreement = kind == CommitmentKind::GrantAgreement;
    Ok(CommitmentRecord {
        commitment_id: r.try_get("id")?,
        entry_id: r.try_get::<Option<i64>, _>("entry_id")?.unwrap_or_default(),
        kind,
        grant: r.try_get("grant_code")?,
        financial_year: r.try_get("financial_year")?,
        project: r.try_get("project_code")?,
        supplier: r.try_get("supplier")?,
        reference: r.try_get("reference")?,
        amount: Money::from_pence(r.try_get("amount_pence")?),
        outstanding: Money::from_pence(r.try_get("outstanding")?),
        date: r.try_get("commitment_date")?,
        memo: r.try_get("memo")?,
        recipient: r.try_get("recipient")?,
        start_date: rows::opt_date(r, at, "start_date")?,
        end_date: rows::opt_date(r, at, "end_date")?,
        purpose: if agreement { Some(r.try_get("purpose")?) } else { None },
        schedule: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Each part of an agreement as it stands: committed by a commitment entry of its year that
/// has not been reversed, or waiting; and what that year still holds committed.
pub(super) async fn part_states(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<PartState>, StoreError> {
    let found = sqlx::query(&format!(
        "select p.commitment_id, p.financial_year, p.amount_pence,
                (select min(e.id) from entries e
                 where e.commitment_id = p.commitment_id and e.kind = {commitment} and e.financial_year = p.financial_year
                   and not exists (select 1 from entries r where r.reverses = e.id)) as entry_id,
                (select cast(coalesce(-sum(q.amount_pence), 0) as bigint) from postings q join entries e on e.id = q.entry_id
                 where e.commitment_id = p.commitment_id and e.financial_year = p.financial_year
                   and q.account like {committed}) as outstanding
         from agreement_parts p where p.commitment_id = $1 order by p.financial_year",
        commitment = EntryKind::Commitment.sql(),
        committed = AccountKind::Committed.sql_like(),
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let at: (&str, &[&str]) = ("agreement_parts", &["commitment_id", "financial_year"]);
    found
        .iter()
        .map(|r| -> Result<PartState, StoreError> {
            let entry_id: Option<i64> = r.try_get("entry_id")?;
            Ok(PartState {
                financial_year: rows::year(r, at, "financial_year")?,
                amount: Money::from_pence(r.try_get("amount_pence")?),
                status: if entry_id.is_some() { PartStatus::Committed } else { PartStatus::Waiting },
                entry_id,
                outstanding: Money::from_pence(r.try_get("outstanding")?),
            })
        })
        .collect()
}
