//! Commitments and their releases, and the list of commitments.

use super::*;

pub async fn commit(store: &Store, c: CommitmentCmd, actor: Actor<'_>) -> Result<CommitmentRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &c.grant, c.year).await?;
    project_for_posting(&mut db_tx, &c.project, "project", false).await?;
    let entry = ops::commitment(award_of(&locked), c.date, &c.project, c.amount)?;
    let commitment_id: i64 = sqlx::query(
        "insert into commitments (grant_code, financial_year, project_code, supplier, reference, amount_pence,
                                  commitment_date, memo, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
    )
    .bind(&c.grant)
    .bind(c.year.to_string())
    .bind(&c.project)
    .bind(&c.supplier)
    .bind(&c.reference)
    .bind(c.amount.pence())
    .bind(c.date.to_string())
    .bind(&c.memo)
    .bind(now())
    .fetch_one(&mut *db_tx)
    .await?
    .try_get("id")?;
    let meta = EntryMeta {
        memo: c.memo.clone(),
        details: serde_json::json!({ "project": c.project, "supplier": c.supplier, "reference": c.reference }),
        created_by: actor.name.to_owned(),
        commitment_id: Some(commitment_id),
        ..Default::default()
    };
    let posted = post_in(&mut db_tx, &entry, &meta, locked.grant.rule()).await?;
    let record = CommitmentRecord {
        commitment_id,
        entry_id: posted.entry_id,
        grant: c.grant,
        financial_year: c.year.to_string(),
        project: c.project,
        supplier: c.supplier,
        reference: c.reference,
        amount: c.amount,
        outstanding: c.amount,
        date: c.date.to_string(),
        memo: c.memo,
        warnings: posted.flags,
    };
    commit_with(db_tx, actor, record).await
}

struct CommitmentRow {
    grant: String,
    year: FinancialYear,
    project: String,
    date: String,
}

async fn commitment_row(store: &Store, id: i64) -> Result<Option<CommitmentRow>, StoreError> {
    let row = sqlx::query(
        "select id, grant_code, financial_year, project_code, commitment_date from commitments where id = $1",
    )
    .bind(id)
    .fetch_optional(store.pool())
    .await?;
    row.map(|r| -> Result<_, StoreError> {
        Ok(CommitmentRow {
            grant: r.try_get("grant_code")?,
            year: rows::year(&r, ("commitments", &["id"]), "financial_year")?,
            project: r.try_get("project_code")?,
            date: r.try_get("commitment_date")?,
        })
    })
    .transpose()
}

pub async fn release(store: &Store, c: ReleaseCmd, actor: Actor<'_>) -> Result<ReleaseRecord, StoreError> {
    let row = commitment_row(store, c.commitment_id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("commitment {}", c.commitment_id)))?;
    not_before(c.date, &row.date, || format!("commitment {} that it releases", c.commitment_id))?;
    let mut db_tx = store.begin().await?;
    let locked = lock_award(&mut db_tx, &row.grant, row.year).await?;
    let committed = Account::project(AccountKind::Committed, &row.grant, row.year, &row.project);
    let outstanding = outstanding_in(&mut db_tx, c.commitment_id, &committed).await?;
    if c.amount > outstanding {
        return Err(StoreError::invalid(
            "amount",
            format!("is more than the {outstanding} outstanding on commitment {}", c.commitment_id),
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
    let rows = sqlx::query(
        "select c.*, (select min(e.id) from entries e where e.commitment_id = c.id and e.kind = 'commitment') as entry_id,
                (select cast(coalesce(-sum(p.amount_pence), 0) as bigint) from postings p join entries e on e.id = p.entry_id
                 where e.commitment_id = c.id and p.account like 'committed:%') as outstanding
         from commitments c
         where c.id > $1 and ($2 is null or c.project_code = $2)
           and ($3 = 0 or (select coalesce(sum(p.amount_pence), 0) from postings p join entries e on e.id = p.entry_id
                           where e.commitment_id = c.id and p.account like 'committed:%') <> 0)
         order by c.id limit $4",
    )
    .bind(after)
    .bind(project)
    .bind(i64::from(open_only))
    .bind(limit + 1)
    .fetch_all(store.pool())
    .await?;
    let items = rows
        .iter()
        .map(|r| -> Result<_, StoreError> {
            Ok(CommitmentRecord {
                commitment_id: r.try_get("id")?,
                entry_id: r.try_get::<Option<i64>, _>("entry_id")?.unwrap_or_default(),
                grant: r.try_get("grant_code")?,
                financial_year: r.try_get("financial_year")?,
                project: r.try_get("project_code")?,
                supplier: r.try_get("supplier")?,
                reference: r.try_get("reference")?,
                amount: Money::from_pence(r.try_get("amount_pence")?),
                outstanding: Money::from_pence(r.try_get("outstanding")?),
                date: r.try_get("commitment_date")?,
                memo: r.try_get("memo")?,
                warnings: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(super::super::Page::from_rows(items, limit, |c: &CommitmentRecord| c.commitment_id.to_string()))
}
