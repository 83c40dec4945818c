//! Reversals: an entry undone by its mirror, checked under its original's rule.

use super::*;

/// The kind of an entry, so the caller can check the role that may reverse it.
pub async fn entry_kind(store: &Store, id: i64) -> Result<EntryKind, StoreError> {
    let row = sqlx::query("select id, kind from entries where id = $1")
        .bind(id)
        .fetch_optional(store.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("entry {id}")))?;
    entry_kind_of(&row)
}

fn entry_kind_of(row: &sqlx::any::AnyRow) -> Result<EntryKind, StoreError> {
    rows::parsed(row, ("entries", &["id"]), "kind", |t| EntryKind::parse(t).ok_or("is not an entry kind"))
}

/// Posts the mirror of an entry. An entry is reversed at most once (rule 6); a reversal is
/// not itself reversed: record the operation again instead.
pub async fn reverse(store: &Store, c: ReverseCmd, actor: Actor<'_>) -> Result<ReversalRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = reverse_in(&mut db_tx, c, actor.name).await?;
    commit_with(db_tx, actor, record).await
}

/// `reverse` inside the caller's `db_tx`, which commits: an import's reversal reverses each
/// of its entries here, all in one.
pub(crate) async fn reverse_in(
    db_tx: &mut DbTx,
    c: ReverseCmd,
    created_by: &str,
) -> Result<ReversalRecord, StoreError> {
    let row = sqlx::query(
        "select id, grant_code, financial_year, kind, commitment_id, entry_date from entries where id = $1",
    )
    .bind(c.entry_id)
    .fetch_optional(&mut **db_tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("entry {}", c.entry_id)))?;
    let grant: String = row.try_get("grant_code")?;
    let year = rows::year(&row, ("entries", &["id"]), "financial_year")?;
    let kind = entry_kind_of(&row)?;
    if kind == EntryKind::Reversal {
        return Err(StoreError::Conflict(format!(
            "entry {} is a reversal; record the operation again instead",
            c.entry_id
        )));
    }
    if !kind.is_reversible() {
        return Err(StoreError::Conflict(match kind {
            EntryKind::Share | EntryKind::Reallocation => format!(
                "entry {} is a funder's {kind}: the fund's shares follow it, so the funder corrects it with another",
                c.entry_id
            ),
            _ => format!("entry {} is a year-end entry; year-end entries are not reversed one by one", c.entry_id),
        }));
    }
    not_before(c.date, &row.try_get::<String, _>("entry_date")?, || format!("entry {} that it reverses", c.entry_id))?;
    let commitment_id: Option<i64> = row.try_get("commitment_id")?;
    // Reversing a payment under a grant agreement must leave what was paid covering what
    // the partner evidenced and what was clawed back: every award of the agreement is held,
    // in year order, as evidence and clawbacks hold them.
    let agreement_payment = match commitment_id {
        Some(id) if kind == EntryKind::Spend => super::agreement::hold_if_agreement(db_tx, id).await?,
        _ => false,
    };
    // A reversal of cash dated after its closed award year is taken (rule 9); the builder
    // keeps every other reversal inside its year.
    let locked = lock_award_dated(db_tx, &grant, year, c.date).await?;
    if agreement_payment && let Some(id) = commitment_id {
        let paid_here: i64 = -postings_in(db_tx, c.entry_id)
            .await?
            .iter()
            .filter(|p| p.account.kind == AccountKind::Spent)
            .map(|p| p.amount.pence())
            .sum::<i64>();
        let open = super::agreement::unevidenced_in(db_tx, id).await?;
        if paid_here > open.pence() {
            return Err(StoreError::Conflict(format!(
                "payment {} under agreement {id} is {}, more than the {open} neither evidenced nor clawed back",
                c.entry_id,
                Money::from_pence(paid_here)
            )));
        }
    }
    let already =
        sqlx::query("select id from entries where reverses = $1").bind(c.entry_id).fetch_optional(&mut **db_tx).await?;
    if already.is_some() {
        return Err(StoreError::AlreadyReversed(c.entry_id));
    }
    let original = postings_in(db_tx, c.entry_id).await?;
    let entry = ops::reversal(award_of(&locked), c.date, &original)?;
    if let Some(id) = commitment_id {
        // The project's committed account may hold enough, yet this commitment's own share
        // must not go below nothing: later spend or releases against it come back first.
        let committed_change: i64 = entry
            .postings()
            .iter()
            .filter(|p| p.account.kind == AccountKind::Committed)
            .map(|p| p.amount.pence())
            .sum();
        if let Some(account) = entry.postings().iter().map(|p| &p.account).find(|a| a.kind == AccountKind::Committed) {
            let outstanding = outstanding_in(db_tx, id, account).await?;
            if outstanding.pence() - committed_change < 0 {
                return Err(StoreError::Conflict(format!(
                    "commitment {id} has {outstanding} outstanding; reverse the spend or releases against it first"
                )));
            }
        }
    }
    let meta = EntryMeta {
        memo: c.reason.clone(),
        details: serde_json::json!({ "reason": c.reason }),
        created_by: created_by.to_owned(),
        reverses: Some(c.entry_id),
        commitment_id,
        ..Default::default()
    };
    // Checked under the rule its original was: a virement under `stop` whatever the grant's
    // rule (see `vire_in`), so undoing one cannot move budget a project no longer has.
    let rule = {
        use EntryKind::*;
        match kind {
            Virement => OnOverspend::Stop,
            Award | Allocation | Commitment | Spend | Release | Refund | Reversal | YearEnd | CarryForward
            | Receipt | Repayment | Share | Reallocation => locked.grant.rule(),
        }
    };
    let posted = post_in(db_tx, &entry, &meta, rule).await?;
    let postings =
        entry.postings().iter().map(|p| PostingView { account: p.account.to_string(), amount: p.amount }).collect();
    let record = ReversalRecord {
        entry_id: posted.entry_id,
        reverses: c.entry_id,
        date: c.date,
        reason: c.reason,
        postings,
        warnings: posted.flags,
    };
    Ok(record)
}
