//! Spend and refunds, alone or inside an import's `db_tx`.

use super::*;

pub async fn spend(store: &Store, c: SpendCmd, actor: Actor<'_>) -> Result<SpendRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = spend_in(&mut db_tx, c, actor.name).await?;
    commit_with(db_tx, actor, record).await
}

/// What a spend entry records besides its postings. The bulk import builds the same.
pub(crate) fn spend_meta(c: &SpendCmd, created_by: &str) -> EntryMeta {
    EntryMeta {
        memo: c.description.clone(),
        details: serde_json::json!({
            "project": c.project, "supplier": c.supplier, "description": c.description, "invoice_ref": c.invoice_ref,
        }),
        created_by: created_by.to_owned(),
        commitment_id: c.commitment_id,
        source_ref: c.source_ref.clone(),
        ..Default::default()
    }
}

/// What a refund entry records besides its postings. The bulk import builds the same.
pub(crate) fn refund_meta(c: &RefundCmd, created_by: &str) -> EntryMeta {
    let mut details = serde_json::json!({ "project": c.project, "reference": c.reference, "reason": c.reason });
    if let Some(supplier) = &c.supplier {
        details["supplier"] = serde_json::Value::String(supplier.clone());
    }
    EntryMeta {
        memo: c.reason.clone(),
        details,
        created_by: created_by.to_owned(),
        source_ref: c.source_ref.clone(),
        ..Default::default()
    }
}

/// Locks the award of the year `date` falls in. A grant with no award that year makes the
/// date the field in error: the year is not given separately on spend and refunds.
async fn lock_award_of_date(
    db_tx: &mut DbTx,
    grant: &str,
    date: NaiveDate,
) -> Result<(LockedAward, FinancialYear), StoreError> {
    let year = FinancialYear::of(date);
    let locked = lock_award(db_tx, grant, year).await.map_err(|e| match e {
        StoreError::Invalid { field, .. } if field == "financial_year" => {
            StoreError::invalid("date", format!("grant {grant} has no award for {year}, the year of this date"))
        }
        other => other,
    })?;
    Ok((locked, year))
}

/// Records one spend inside `db_tx`: the import posts many lines in one `db_tx` this way.
pub async fn spend_in(db_tx: &mut DbTx, c: SpendCmd, created_by: &str) -> Result<SpendRecord, StoreError> {
    let (locked, year) = lock_award_of_date(db_tx, &c.grant, c.date).await?;
    project_for_posting(db_tx, &c.project, "project", false).await?;
    let mut covered = Money::ZERO;
    if let Some(id) = c.commitment_id {
        let row = sqlx::query(
            "select grant_code, financial_year, project_code, commitment_date from commitments where id = $1",
        )
        .bind(id)
        .fetch_optional(&mut **db_tx)
        .await?
        .ok_or_else(|| StoreError::invalid("commitment_id", format!("no commitment {id}")))?;
        let (g, y, p): (String, String, String) =
            (row.try_get("grant_code")?, row.try_get("financial_year")?, row.try_get("project_code")?);
        if g != c.grant || y != year.to_string() || p != c.project {
            return Err(StoreError::invalid(
                "commitment_id",
                format!("commitment {id} is for {g} {y} project {p}, not this spend's"),
            ));
        }
        not_before(c.date, &row.try_get::<String, _>("commitment_date")?, || {
            format!("commitment {id} that it draws on")
        })?;
        let committed = Account::project(AccountKind::Committed, &c.grant, year, &c.project);
        covered = outstanding_in(db_tx, id, &committed).await?.min(c.amount);
    }
    let entry = ops::spend(award_of(&locked), c.date, &c.project, c.amount, covered)?;
    let meta = spend_meta(&c, created_by);
    let posted = post_in(db_tx, &entry, &meta, locked.grant.rule()).await?;
    Ok(SpendRecord {
        entry_id: posted.entry_id,
        grant: c.grant,
        financial_year: year,
        project: c.project,
        date: c.date,
        supplier: c.supplier,
        description: c.description,
        invoice_ref: c.invoice_ref,
        amount: c.amount,
        commitment_id: c.commitment_id,
        covered_by_commitment: covered,
        source_ref: c.source_ref,
        warnings: posted.flags,
    })
}

pub async fn refund(store: &Store, c: RefundCmd, actor: Actor<'_>) -> Result<RefundRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = refund_in(&mut db_tx, c, actor.name).await?;
    commit_with(db_tx, actor, record).await
}

/// Records one refund inside `db_tx`: the import posts a negative line this way.
pub async fn refund_in(db_tx: &mut DbTx, c: RefundCmd, created_by: &str) -> Result<RefundRecord, StoreError> {
    let (locked, year) = lock_award_of_date(db_tx, &c.grant, c.date).await?;
    project_for_posting(db_tx, &c.project, "project", true).await?;
    let entry = ops::refund(award_of(&locked), c.date, &c.project, c.amount)?;
    let meta = refund_meta(&c, created_by);
    let posted = post_in(db_tx, &entry, &meta, locked.grant.rule()).await?;
    let RefundCmd { grant, project, date, amount, reference, reason, source_ref, .. } = c;
    Ok(RefundRecord {
        entry_id: posted.entry_id,
        grant,
        financial_year: year,
        project,
        date,
        amount,
        reference,
        reason,
        source_ref,
    })
}

/// True when an entry already carries this `source_ref`: an imported line posts once.
pub async fn source_ref_exists_in(db_tx: &mut DbTx, source_ref: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("select 1 as one from entries where source_ref = $1")
        .bind(source_ref)
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(row.is_some())
}
