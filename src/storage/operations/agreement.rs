//! Grant agreements beyond their making (docs/agreements.md): committing a part that waited
//! for its year's award, the partner's evidence of spend and its reversal when recorded in
//! error, what has been paid and clawed back, and one commitment seen whole.

use super::commitment::{CommitmentRow, commit_part_in, commitment_row, part_states, part_years};
use super::*;
use crate::domain::words::sql_list;
use crate::domain::{AuditAction, AuditEntity};
use crate::domain::{CommitmentKind, EvidenceStatus};
use crate::model::agreements::{
    AgreementPart, CommitmentDetail, CommitmentPayment, EvidenceCmd, EvidenceRecord, EvidenceReversal,
    EvidenceReverseCmd, PartCommitCmd, PartCommitRecord, PartState,
};
use crate::storage::audit::{self, Change};

/// A grant agreement's row, or a refusal naming `field`: no such commitment is `NotFound`,
/// a purchase order is refused.
async fn agreement_row(db_tx: &mut DbTx, id: i64, what: &str) -> Result<CommitmentRow, StoreError> {
    let row = commitment_row(db_tx, id).await?.ok_or_else(|| StoreError::NotFound(format!("commitment {id}")))?;
    if row.kind != CommitmentKind::GrantAgreement {
        return Err(StoreError::invalid(
            "id",
            format!("commitment {id} is a purchase order; {what} a grant agreement"),
        ));
    }
    Ok(row)
}

/// Holds every award of an agreement's parts, in year order (the one global order), so
/// what was paid under it cannot change until this `db_tx` ends.
async fn hold_agreement_awards(db_tx: &mut DbTx, id: i64, row: &CommitmentRow) -> Result<(), StoreError> {
    for year in part_years(db_tx, id, row).await? {
        lock_award_row(db_tx, &row.grant, year).await?;
    }
    Ok(())
}

/// When commitment `id` is a grant agreement, holds its awards (as above) and answers true.
pub(super) async fn hold_if_agreement(db_tx: &mut DbTx, id: i64) -> Result<bool, StoreError> {
    match commitment_row(db_tx, id).await? {
        Some(row) if row.kind == CommitmentKind::GrantAgreement => {
            hold_agreement_awards(db_tx, id, &row).await?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Commits an agreement's part that waited for its year's award.
pub async fn commit_part(store: &Store, c: PartCommitCmd, actor: Actor<'_>) -> Result<PartCommitRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let row = agreement_row(&mut db_tx, c.commitment_id, "parts belong to").await?;
    if FinancialYear::of(c.date) != c.year {
        return Err(StoreError::invalid("date", format!("is not in {}, the part's year", c.year)));
    }
    not_before(c.date, &row.date, || format!("agreement {} that it commits", c.commitment_id))?;
    let amount =
        sqlx::query("select amount_pence from agreement_parts where commitment_id = $1 and financial_year = $2")
            .bind(c.commitment_id)
            .bind(c.year.to_string())
            .fetch_optional(&mut *db_tx)
            .await?
            .map(|r| r.try_get::<i64, _>("amount_pence"))
            .transpose()?
            .ok_or_else(|| {
                StoreError::invalid(
                    "financial_year",
                    format!("agreement {} has no part in {}", c.commitment_id, c.year),
                )
            })?;
    let locked = lock_award(&mut db_tx, &row.grant, c.year).await?;
    // Under the award's lock, so two requests cannot both commit it.
    let standing = part_states(&mut db_tx, c.commitment_id).await?;
    if let Some(entry) = standing.iter().find(|p| p.financial_year == c.year).and_then(|p| p.entry_id) {
        return Err(StoreError::Conflict(format!(
            "agreement {}'s {} part is already committed by entry {entry}",
            c.commitment_id, c.year
        )));
    }
    project_for_posting(&mut db_tx, &row.project, "project", false).await?;
    let part = AgreementPart { financial_year: c.year, amount: Money::from_pence(amount) };
    let (entry_id, warnings) = commit_part_in(
        &mut db_tx,
        &locked,
        (c.commitment_id, &row.project, &row.supplier, &row.reference),
        &part,
        c.date,
        actor.name,
    )
    .await?;
    let record = PartCommitRecord {
        commitment_id: c.commitment_id,
        entry_id,
        financial_year: c.year,
        date: c.date,
        amount: part.amount,
        warnings,
    };
    commit_with(db_tx, actor, record).await
}

/// What has been paid under a commitment and what clawed back, neither counting a reversed
/// entry: the `spent` postings of its spends and of its refunds (spent is credited, so a
/// spend's posting there is negative).
pub(super) async fn paid_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<(Money, Money), StoreError> {
    let row = sqlx::query(&format!(
        "select cast(coalesce(sum(case when e.kind = {spend} then -p.amount_pence else 0 end), 0) as bigint) as paid,
                cast(coalesce(sum(case when e.kind = {refund} then p.amount_pence else 0 end), 0) as bigint) as clawed
         from entries e join postings p on p.entry_id = e.id
         where e.commitment_id = $1 and p.account like {spent}
           and not exists (select 1 from entries r where r.reverses = e.id)",
        spend = EntryKind::Spend.sql(),
        refund = EntryKind::Refund.sql(),
        spent = AccountKind::Spent.sql_like(),
    ))
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((Money::from_pence(row.try_get("paid")?), Money::from_pence(row.try_get("clawed")?)))
}

/// Paid under an agreement, less what was clawed back and what the partner has evidenced:
/// what is still to be accounted for. Evidence and clawbacks are both held within it, so
/// together they never pass what was paid.
pub(super) async fn unevidenced_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Money, StoreError> {
    let (paid, clawed_back) = paid_in(&mut *conn, id).await?;
    let evidenced = evidenced_in(&mut *conn, id).await?;
    Ok(Money::from_pence(paid.pence() - clawed_back.pence() - evidenced.pence()))
}

/// What the partner has evidenced: its evidence, less any reversed as recorded in error.
async fn evidenced_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Money, StoreError> {
    let row = sqlx::query(
        "select cast(coalesce(sum(e.amount_pence), 0) as bigint) as s from agreement_evidence e
         where e.commitment_id = $1 and not exists (select 1 from evidence_reversals r where r.evidence_id = e.id)",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Money::from_pence(row.try_get("s")?))
}

/// Records the partner's evidence of spend. `none` evidences nothing; `satisfactory` and
/// `partial` evidence an amount, never more than is still unevidenced.
pub async fn record_evidence(store: &Store, c: EvidenceCmd, actor: Actor<'_>) -> Result<EvidenceRecord, StoreError> {
    match c.status {
        EvidenceStatus::None if c.amount_evidenced != Money::ZERO => {
            return Err(StoreError::invalid("amount_evidenced", "must be 0.00 when the status is none"));
        }
        EvidenceStatus::Satisfactory | EvidenceStatus::Partial if !c.amount_evidenced.is_positive() => {
            return Err(StoreError::invalid(
                "amount_evidenced",
                format!("must be more than zero when the status is {}", c.status),
            ));
        }
        _ => {}
    }
    let mut db_tx = store.begin().await?;
    let row = agreement_row(&mut db_tx, c.commitment_id, "evidence is recorded against").await?;
    not_before(c.date, &row.date, || format!("agreement {} that it evidences", c.commitment_id))?;
    hold_agreement_awards(&mut db_tx, c.commitment_id, &row).await?;
    let open = unevidenced_in(&mut db_tx, c.commitment_id).await?;
    if c.amount_evidenced > open {
        return Err(StoreError::invalid(
            "amount_evidenced",
            format!(
                "{} is more than the {open} paid under agreement {} and neither evidenced nor clawed back",
                c.amount_evidenced, c.commitment_id
            ),
        ));
    }
    let created_at = now();
    let id: i64 = sqlx::query(
        "insert into agreement_evidence (commitment_id, evidence_date, amount_pence, status, note, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6, $7) returning id",
    )
    .bind(c.commitment_id)
    .bind(c.date.to_string())
    .bind(c.amount_evidenced.pence())
    .bind(c.status.as_str())
    .bind(&c.note)
    .bind(actor.name)
    .bind(&created_at)
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    let record = EvidenceRecord {
        id,
        commitment_id: c.commitment_id,
        date: c.date,
        amount_evidenced: c.amount_evidenced,
        status: c.status,
        note: c.note,
        created_by: actor.name.to_owned(),
        created_at,
        reversal: None,
    };
    let key = format!("{}/{id}", c.commitment_id);
    let change = Change::created(actor.name, AuditEntity::AgreementEvidence, &key, &record);
    audit::record_in(&mut db_tx, change).await?;
    commit_with(db_tx, actor, record).await
}

/// Reverses a partner's evidence recorded in error (docs/design.md rule 10): a row naming it,
/// with the reason, in the audit trail too. The evidence stays as recorded and stops
/// counting, so the agreement's figures are corrected. Evidence of another agreement is not
/// found; evidence reversed before is `already_reversed`. The agreement's awards are held,
/// as evidence recording holds them, so the figures any request reads are whole.
pub async fn reverse_evidence(
    store: &Store,
    c: EvidenceReverseCmd,
    actor: Actor<'_>,
) -> Result<EvidenceReversal, StoreError> {
    // The API's parser refuses these already; the command line reaches here directly.
    if c.reason.trim().is_empty() {
        return Err(StoreError::invalid("reason", "is required: say why the evidence was recorded in error"));
    }
    if let Some(message) = crate::domain::control_character(&c.reason, true) {
        return Err(StoreError::invalid("reason", message));
    }
    let mut db_tx = store.begin().await?;
    let row = agreement_row(&mut db_tx, c.commitment_id, "evidence is recorded against").await?;
    hold_agreement_awards(&mut db_tx, c.commitment_id, &row).await?;
    let not_found = || StoreError::NotFound(format!("evidence {} of commitment {}", c.evidence_id, c.commitment_id));
    let evidence = sqlx::query("select id, evidence_date from agreement_evidence where id = $1 and commitment_id = $2")
        .bind(c.evidence_id)
        .bind(c.commitment_id)
        .fetch_optional(&mut *db_tx)
        .await?
        .ok_or_else(not_found)?;
    let reversed = sqlx::query("select evidence_id from evidence_reversals where evidence_id = $1")
        .bind(c.evidence_id)
        .fetch_optional(&mut *db_tx)
        .await?;
    if reversed.is_some() {
        return Err(StoreError::EvidenceReversed(c.evidence_id));
    }
    let dated = rows::date(&evidence, ("agreement_evidence", &["id"]), "evidence_date")?;
    not_before(c.date, &dated.to_string(), || format!("evidence {} that it reverses", c.evidence_id))?;
    let record = EvidenceReversal {
        evidence_id: c.evidence_id,
        commitment_id: c.commitment_id,
        date: c.date,
        reason: c.reason,
        created_by: actor.name.to_owned(),
        created_at: now(),
    };
    sqlx::query(
        "insert into evidence_reversals (evidence_id, commitment_id, reversal_date, reason, created_by, created_at)
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(record.evidence_id)
    .bind(record.commitment_id)
    .bind(record.date.to_string())
    .bind(&record.reason)
    .bind(&record.created_by)
    .bind(&record.created_at)
    .execute(&mut *db_tx)
    .await
    .map_err(|e| match e {
        // The key keeps a second reversal out even were the lock above ever missed.
        e if crate::storage::is_unique_violation(&e) => StoreError::EvidenceReversed(c.evidence_id),
        e => e.into(),
    })?;
    let key = format!("{}/{}", c.commitment_id, c.evidence_id);
    let change = Change {
        actor: actor.name,
        action: AuditAction::Reverse,
        entity: AuditEntity::EvidenceReversal,
        key: &key,
        before: None,
        after: audit::json(&record),
        reason: &record.reason,
    };
    audit::record_in(&mut db_tx, change).await?;
    commit_with(db_tx, actor, record).await
}

#[derive(sqlx::FromRow)]
struct ReversalRow {
    evidence_id: i64,
    commitment_id: i64,
    reason: String,
    created_by: String,
    created_at: String,
}

/// The reversals of an agreement's evidence, by the evidence they reverse.
async fn reversals_in(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> Result<std::collections::HashMap<i64, EvidenceReversal>, StoreError> {
    let found = sqlx::query(
        "select evidence_id, commitment_id, reversal_date, reason, created_by, created_at
         from evidence_reversals where commitment_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = std::collections::HashMap::new();
    for r in &found {
        let row: ReversalRow = rows::read(r, "evidence_reversals", &["evidence_id"])?;
        let date = rows::date(r, ("evidence_reversals", &["evidence_id"]), "reversal_date")?;
        let reversal = EvidenceReversal {
            evidence_id: row.evidence_id,
            commitment_id: row.commitment_id,
            date,
            reason: row.reason,
            created_by: row.created_by,
            created_at: row.created_at,
        };
        out.insert(row.evidence_id, reversal);
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct EvidenceRow {
    id: i64,
    commitment_id: i64,
    amount_pence: i64,
    #[sqlx(try_from = "String")]
    status: EvidenceStatus,
    note: String,
    created_by: String,
    created_at: String,
}

#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: i64,
    kind: String,
    invoice_ref: Option<String>,
    reference: Option<String>,
    memo: String,
    pence: i64,
    reversed_by: Option<i64>,
}

/// One commitment seen whole: its terms, its parts, what was paid and clawed back, the
/// partner's evidence, and what is outstanding. Read in one `db_tx`, so the figures agree.
pub async fn commitment_detail(store: &Store, id: i64) -> Result<CommitmentDetail, StoreError> {
    let mut db_tx = store.begin_read().await?;
    let found = sqlx::query(
        "select c.id, c.kind, c.grant_code, c.financial_year, c.project_code, c.supplier, c.reference, c.amount_pence,
                c.commitment_date, c.memo, c.recipient, c.start_date, c.end_date, c.purpose, o.name as recipient_name
         from commitments c left join organisations o on o.code = c.recipient where c.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *db_tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("commitment {id}")))?;
    let at: (&str, &[&str]) = ("commitments", &["id"]);
    let kind = rows::parsed(&found, at, "kind", |t: &str| t.parse::<CommitmentKind>())?;
    let year = rows::year(&found, at, "financial_year")?;
    let amount = Money::from_pence(found.try_get("amount_pence")?);
    let agreement = kind == CommitmentKind::GrantAgreement;
    let schedule = if agreement {
        part_states(&mut db_tx, id).await?
    } else {
        let committed = sqlx::query(&format!(
            "select cast(coalesce(-sum(p.amount_pence), 0) as bigint) as s from postings p join entries e on e.id = p.entry_id
             where e.commitment_id = $1 and p.account like {}",
            AccountKind::Committed.sql_like()
        ))
        .bind(id)
        .fetch_one(&mut *db_tx)
        .await?;
        let entry_sql = format!(
            "select min(id) as id from entries where commitment_id = $1 and kind = {}",
            EntryKind::Commitment.sql()
        );
        let entry = sqlx::query(&entry_sql).bind(id).fetch_one(&mut *db_tx).await?;
        vec![PartState {
            financial_year: year,
            amount,
            status: crate::model::agreements::PartStatus::Committed,
            entry_id: entry.try_get("id")?,
            outstanding: Money::from_pence(committed.try_get("s")?),
        }]
    };
    let (paid, clawed_back) = paid_in(&mut db_tx, id).await?;
    let evidenced = evidenced_in(&mut db_tx, id).await?;
    let payments = payments_in(&mut db_tx, id).await?;
    let evidence_rows = sqlx::query(
        "select id, commitment_id, evidence_date, amount_pence, status, note, created_by, created_at
         from agreement_evidence where commitment_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(&mut *db_tx)
    .await?;
    let mut reversals = reversals_in(&mut db_tx, id).await?;
    let mut evidence = Vec::with_capacity(evidence_rows.len());
    for r in &evidence_rows {
        let e: EvidenceRow = rows::read(r, "agreement_evidence", &["id"])?;
        evidence.push(EvidenceRecord {
            id: e.id,
            commitment_id: e.commitment_id,
            date: rows::date(r, ("agreement_evidence", &["id"]), "evidence_date")?,
            amount_evidenced: Money::from_pence(e.amount_pence),
            status: e.status,
            note: e.note,
            created_by: e.created_by,
            created_at: e.created_at,
            reversal: reversals.remove(&e.id),
        });
    }
    db_tx.commit().await?;
    let outstanding = Money::from_pence(schedule.iter().map(|p| p.outstanding.pence()).sum());
    Ok(CommitmentDetail {
        commitment_id: id,
        kind,
        grant: found.try_get("grant_code")?,
        financial_year: year,
        project: found.try_get("project_code")?,
        supplier: found.try_get("supplier")?,
        reference: found.try_get("reference")?,
        amount,
        date: rows::date(&found, at, "commitment_date")?,
        memo: found.try_get("memo")?,
        recipient: found.try_get("recipient")?,
        recipient_name: found.try_get("recipient_name")?,
        start_date: rows::opt_date(&found, at, "start_date")?,
        end_date: rows::opt_date(&found, at, "end_date")?,
        purpose: if agreement { Some(found.try_get("purpose")?) } else { None },
        schedule,
        paid,
        clawed_back,
        outstanding,
        evidenced,
        unevidenced: Money::from_pence(paid.pence() - clawed_back.pence() - evidenced.pence()),
        evidence_status: evidence.iter().rev().find(|e| e.reversal.is_none()).map(|e| e.status),
        payments,
        evidence,
    })
}

/// Every spend and refund against a commitment, reversed or not, in entry order.
async fn payments_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<CommitmentPayment>, StoreError> {
    let found = sqlx::query(&format!(
        "select e.id, e.kind, e.entry_date, e.financial_year, e.invoice_ref, e.reference, e.memo,
                cast(coalesce(sum(p.amount_pence), 0) as bigint) as pence,
                (select r.id from entries r where r.reverses = e.id) as reversed_by
         from entries e join postings p on p.entry_id = e.id
         where e.commitment_id = $1 and e.kind in ({}) and p.account like {}
         group by e.id, e.kind, e.entry_date, e.financial_year, e.invoice_ref, e.reference, e.memo
         order by e.id",
        sql_list(&[EntryKind::Spend, EntryKind::Refund]),
        AccountKind::Spent.sql_like()
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let at: (&str, &[&str]) = ("entries", &["id"]);
    found
        .iter()
        .map(|r| -> Result<CommitmentPayment, StoreError> {
            let p: PaymentRow = rows::read(r, "entries", &["id"])?;
            // A spend's invoice reference, a refund's own.
            let (reference, column) = if p.kind == EntryKind::Spend.as_str() {
                (p.invoice_ref, "invoice_ref")
            } else {
                (p.reference, "reference")
            };
            let reference = reference
                .ok_or_else(|| rows::named(r, "entries", &["id"], column, &format!("is null on a {}", p.kind)))?;
            Ok(CommitmentPayment {
                entry_id: p.id,
                date: rows::date(r, at, "entry_date")?,
                financial_year: rows::year(r, at, "financial_year")?,
                amount: Money::from_pence(p.pence.abs()),
                reference,
                memo: p.memo,
                reversed_by: p.reversed_by,
                kind: p.kind,
            })
        })
        .collect()
}

/// Every grant agreement with a part in `year`, each seen whole, in id order: the
/// partners' view of the year.
pub async fn agreements_of_year(store: &Store, year: FinancialYear) -> Result<Vec<CommitmentDetail>, StoreError> {
    let ids: Vec<i64> = sqlx::query(&format!(
        "select c.id from commitments c
         where c.kind = {}
           and exists (select 1 from agreement_parts p where p.commitment_id = c.id and p.financial_year = $1)
         order by c.id",
        CommitmentKind::GrantAgreement.sql()
    ))
    .bind(year.to_string())
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| r.try_get("id"))
    .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(commitment_detail(store, id).await?);
    }
    Ok(out)
}
