//! Spend and refunds, alone or inside an import's `db_tx`.

use super::*;
use crate::domain::CommitmentKind;
use crate::storage::duplicates::{self, InvoiceKey};
use crate::storage::entry_columns::{EntryColumns, Vat, select_list};

pub async fn spend(store: &Store, c: SpendCmd, actor: Actor<'_>) -> Result<SpendRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = match spend_in(&mut db_tx, c, actor.name).await {
        Err(e @ StoreError::Duplicate { .. }) => return Err(idempotency::raced_or(&mut db_tx, actor.idem, e).await?),
        done => done?,
    };
    commit_with(db_tx, actor, record).await
}

/// Records a spend unless its grant's `warn` rule flags it as an overspend: then nothing is
/// recorded and the flags are answered, so the spend form asks the person first
/// (docs/api.md, "Pages: forms"). The API's route records it flagged, as `spend` does.
pub async fn spend_unless_flagged(
    store: &Store,
    c: SpendCmd,
    actor: Actor<'_>,
) -> Result<Result<SpendRecord, Vec<crate::domain::OverspendFlag>>, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = match spend_in(&mut db_tx, c, actor.name).await {
        Err(e @ StoreError::Duplicate { .. }) => return Err(idempotency::raced_or(&mut db_tx, actor.idem, e).await?),
        done => done?,
    };
    if !record.warnings.is_empty() {
        db_tx.rollback().await?;
        return Ok(Err(record.warnings));
    }
    commit_with(db_tx, actor, record).await.map(Ok)
}

/// What a spend entry records besides its postings. The bulk import builds the same.
/// `duplicate_of` is the standing spend a confirmed second invoice repeats.
pub(crate) fn spend_meta(c: &SpendCmd, created_by: &str, duplicate_of: Option<i64>) -> EntryMeta {
    let mut details = serde_json::json!({
        "project": c.project, "supplier": c.supplier, "description": c.description, "invoice_ref": c.invoice_ref,
    });
    vat_details(&mut details, c.amount, c.vat, c.vat_recoverable);
    confirmed_duplicate(&mut details, duplicate_of);
    EntryMeta {
        memo: c.description.clone(),
        details,
        created_by: created_by.to_owned(),
        commitment_id: c.commitment_id,
        source_ref: c.source_ref.clone(),
        ..Default::default()
    }
}

/// What a refund entry records besides its postings. The bulk import builds the same.
pub(crate) fn refund_meta(c: &RefundCmd, created_by: &str, duplicate_of: Option<i64>) -> EntryMeta {
    let mut details = serde_json::json!({ "project": c.project, "reference": c.reference, "reason": c.reason });
    if let Some(supplier) = &c.supplier {
        details["supplier"] = serde_json::Value::String(supplier.clone());
    }
    vat_details(&mut details, c.amount, c.vat, c.vat_recoverable);
    if let Some(id) = c.spend_entry_id {
        details["spend_entry_id"] = serde_json::Value::from(id);
    }
    confirmed_duplicate(&mut details, duplicate_of);
    EntryMeta {
        memo: c.reason.clone(),
        details,
        created_by: created_by.to_owned(),
        source_ref: c.source_ref.clone(),
        commitment_id: c.commitment_id,
        ..Default::default()
    }
}

/// A confirmed second invoice (or credit note) names the standing entry it repeats, so the
/// entry, its hash and the exports show it was posted knowingly.
fn confirmed_duplicate(details: &mut serde_json::Value, duplicate_of: Option<i64>) {
    if let Some(id) = duplicate_of {
        details["duplicate_of"] = serde_json::Value::from(id);
    }
}

/// Refuses a request repeating a standing entry, unless it is confirmed as a second one;
/// answers the entry a confirmed one repeats. Runs under the award's lock, so of two
/// identical requests at once the second sees the first. A `source_ref` recorded already
/// is the same record again rather than a second invoice: `conflict`, as always.
async fn check_duplicate(
    db_tx: &mut DbTx,
    key: InvoiceKey,
    source_ref: Option<&str>,
    confirmed: bool,
) -> Result<Option<i64>, StoreError> {
    if let Some(r) = source_ref
        && source_ref_exists_in(db_tx, r).await?
    {
        return Err(StoreError::Conflict(format!("source_ref {r} is already recorded")));
    }
    match duplicates::find_in(db_tx, &key).await? {
        Some(of) if !confirmed => Err(key.refusal(of)),
        found => Ok(found),
    }
}

/// An entry with VAT says so in its details: the VAT, whether it is recoverable, and what
/// the entry charges the budget (the net, plus irrecoverable VAT). Entries without VAT keep
/// the details they always had.
fn vat_details(details: &mut serde_json::Value, amount: Money, vat: Option<Money>, recoverable: bool) {
    if let Some(v) = vat {
        let charged = charged(amount, vat, recoverable).unwrap_or(amount);
        details["vat"] = serde_json::Value::String(v.to_string());
        details["vat_recoverable"] = serde_json::Value::Bool(recoverable);
        details["charged"] = serde_json::Value::String(charged.to_string());
    }
}

/// The charged figure of a spend or refund, refused naming `vat` where it cannot be formed.
fn charged_or_refuse(amount: Money, vat: Option<Money>, recoverable: bool) -> Result<Money, StoreError> {
    charged(amount, vat, recoverable).map_err(|e| StoreError::invalid("vat", e.to_string()))
}

/// A refund's VAT, checked before anything else: never more than the refund itself. Both
/// import engines and the single refund call it first, so a line is refused alike.
pub(crate) fn check_refund_vat(c: &RefundCmd) -> Result<Money, StoreError> {
    if let Some(v) = c.vat
        && v > c.amount
    {
        return Err(StoreError::invalid(
            "vat",
            format!("{v} of VAT is more than the refund's net amount {}", c.amount),
        ));
    }
    charged_or_refuse(c.amount, c.vat, c.vat_recoverable)
}

/// A spend's charged figure, checked before anything else by both import engines too.
pub(crate) fn check_spend_vat(c: &SpendCmd) -> Result<Money, StoreError> {
    charged_or_refuse(c.amount, c.vat, c.vat_recoverable)
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

/// What a spend checks of the commitment it draws on: read by `spend_in` for one spend and
/// by the bulk import once for a file.
pub(crate) struct Drawn {
    kind: CommitmentKind,
    grant: String,
    project: String,
    /// The commitment's date: a spend drawing on it is never dated before it.
    date: String,
    /// A purchase order's year, or the years of an agreement's parts.
    years: Vec<FinancialYear>,
}

/// The commitment `id` as a spend draws on it; none where there is no such commitment.
pub(crate) async fn drawn_commitment_in(db_tx: &mut DbTx, id: i64) -> Result<Option<Drawn>, StoreError> {
    let Some(row) = super::commitment::commitment_row(db_tx, id).await? else { return Ok(None) };
    let years = super::commitment::part_years(db_tx, id, &row).await?;
    Ok(Some(Drawn { kind: row.kind, grant: row.grant, project: row.project, date: row.date, years }))
}

/// A spend may draw on commitment `id` only when it is of the spend's grant and project and
/// has a part in the spend's year (a purchase order is drawn on in its own year; an
/// agreement in the year of its part that the payment falls in), and only from its date on.
/// Both import engines check a line this way too.
pub(crate) fn check_drawn(c: &SpendCmd, year: FinancialYear, id: i64, drawn: Option<&Drawn>) -> Result<(), StoreError> {
    let row = drawn.ok_or_else(|| StoreError::invalid("commitment_id", format!("no commitment {id}")))?;
    if row.grant != c.grant || row.project != c.project || !row.years.contains(&year) {
        let held = match row.kind {
            CommitmentKind::PurchaseOrder => format!("commitment {id} is for {} {}", row.grant, row.years[0]),
            CommitmentKind::GrantAgreement => format!("agreement {id} is with {} and has no part in {year}", row.grant),
        };
        return Err(StoreError::invalid(
            "commitment_id",
            format!("{held} project {}, not this spend's ({} {year} project {})", row.project, c.grant, c.project),
        ));
    }
    not_before(c.date, &row.date, || format!("commitment {id} that it draws on"))
}

/// Records one spend inside `db_tx`: the import posts many lines in one `db_tx` this way.
pub async fn spend_in(db_tx: &mut DbTx, c: SpendCmd, created_by: &str) -> Result<SpendRecord, StoreError> {
    let charged = check_spend_vat(&c)?;
    let (locked, year) = lock_award_of_date(db_tx, &c.grant, c.date).await?;
    project_for_posting(db_tx, &c.project, "project", false).await?;
    let duplicate_of =
        check_duplicate(db_tx, InvoiceKey::of_spend(&c), c.source_ref.as_deref(), c.duplicate_ok).await?;
    let mut covered = Money::ZERO;
    if let Some(id) = c.commitment_id {
        let drawn = drawn_commitment_in(db_tx, id).await?;
        check_drawn(&c, year, id, drawn.as_ref())?;
        let committed = Account::project(AccountKind::Committed, &c.grant, year, &c.project);
        covered = outstanding_in(db_tx, id, &committed).await?.min(charged);
    }
    let entry = ops::spend(award_of(&locked), c.date, &c.project, charged, covered)?;
    let meta = spend_meta(&c, created_by, duplicate_of);
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
        vat: c.vat,
        vat_recoverable: c.vat_recoverable,
        charged,
        commitment_id: c.commitment_id,
        covered_by_commitment: covered,
        source_ref: c.source_ref,
        duplicate_of,
        warnings: posted.flags,
    })
}

pub async fn refund(store: &Store, c: RefundCmd, actor: Actor<'_>) -> Result<RefundRecord, StoreError> {
    let mut db_tx = store.begin().await?;
    let record = match refund_in(&mut db_tx, c, actor.name).await {
        Err(e @ StoreError::Duplicate { .. }) => return Err(idempotency::raced_or(&mut db_tx, actor.idem, e).await?),
        done => done?,
    };
    commit_with(db_tx, actor, record).await
}

/// Records one refund inside `db_tx`: the import posts a negative line this way.
pub async fn refund_in(db_tx: &mut DbTx, c: RefundCmd, created_by: &str) -> Result<RefundRecord, StoreError> {
    let charged = check_refund_vat(&c)?;
    // What a refund weighs beyond its own award is held first, every award in year order: a
    // clawback weighs what was paid in each year of its agreement; a refund naming a spend,
    // what earlier refunds returned of it.
    let mut years = vec![FinancialYear::of(c.date)];
    if let Some(id) = c.commitment_id {
        let row = clawback_agreement(db_tx, &c, id).await?;
        years.extend(super::commitment::part_years(db_tx, id, &row).await?);
    }
    if let Some(id) = c.spend_entry_id {
        let spend = sqlx::query("select grant_code, financial_year from entries where id = $1")
            .bind(id)
            .fetch_optional(&mut **db_tx)
            .await?;
        if let Some(r) = spend
            && r.try_get::<String, _>("grant_code")? == c.grant
        {
            years.push(rows::year(&r, ("entries", &["id"]), "financial_year")?);
        }
    }
    years.sort();
    years.dedup();
    for y in years {
        lock_award_row(db_tx, &c.grant, y).await?;
    }
    if let Some(id) = c.commitment_id {
        // Money the partner has evidenced spending is not clawed back: what is clawed back
        // and what is evidenced together never pass what was paid.
        let open = super::agreement::unevidenced_in(db_tx, id).await?;
        if charged > open {
            return Err(StoreError::invalid(
                "amount",
                format!(
                    "{charged} is more than the {open} paid under agreement {id} and neither evidenced nor clawed back"
                ),
            ));
        }
    }
    let (locked, year) = lock_award_of_date(db_tx, &c.grant, c.date).await?;
    project_for_posting(db_tx, &c.project, "project", true).await?;
    let duplicate_of =
        check_duplicate(db_tx, InvoiceKey::of_refund(&c), c.source_ref.as_deref(), c.duplicate_ok).await?;
    if let Some(id) = c.spend_entry_id {
        check_against_spend(db_tx, &c, id).await?;
    }
    let entry = ops::refund(award_of(&locked), c.date, &c.project, charged)?;
    let meta = refund_meta(&c, created_by, duplicate_of);
    let posted = post_in(db_tx, &entry, &meta, locked.grant.rule()).await?;
    let RefundCmd {
        grant,
        project,
        date,
        amount,
        reference,
        reason,
        source_ref,
        vat,
        vat_recoverable,
        spend_entry_id,
        commitment_id,
        ..
    } = c;
    Ok(RefundRecord {
        entry_id: posted.entry_id,
        grant,
        financial_year: year,
        project,
        date,
        amount,
        vat,
        vat_recoverable,
        charged,
        spend_entry_id,
        commitment_id,
        reference,
        reason,
        source_ref,
        duplicate_of,
    })
}

/// The grant agreement a clawback names: it must be one, of the refund's grant and project,
/// made no later than the refund.
async fn clawback_agreement(
    db_tx: &mut DbTx,
    c: &RefundCmd,
    id: i64,
) -> Result<super::commitment::CommitmentRow, StoreError> {
    let row = super::commitment::commitment_row(db_tx, id)
        .await?
        .ok_or_else(|| StoreError::invalid("commitment_id", format!("no commitment {id}")))?;
    if row.kind != CommitmentKind::GrantAgreement {
        return Err(StoreError::invalid(
            "commitment_id",
            format!("commitment {id} is a purchase order; a clawback is tied to a grant agreement"),
        ));
    }
    if row.grant != c.grant || row.project != c.project {
        return Err(StoreError::invalid(
            "commitment_id",
            format!("agreement {id} is for {} project {}, not this refund's", row.grant, row.project),
        ));
    }
    not_before(c.date, &row.date, || format!("agreement {id} that it claws back under"))?;
    Ok(row)
}

/// A refund that names the spend it returns: that entry must be a spend of the same grant
/// and project, not reversed, dated no later than the refund, and the refund's VAT no more
/// than the spend's, with the same recoverability.
async fn check_against_spend(db_tx: &mut DbTx, c: &RefundCmd, id: i64) -> Result<(), StoreError> {
    let sql =
        format!("select e.id, e.kind, e.grant_code, e.entry_date, {} from entries e where e.id = $1", select_list("e"));
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut **db_tx)
        .await?
        .ok_or_else(|| StoreError::invalid("spend_entry_id", format!("no entry {id}")))?;
    let (kind, grant): (String, String) = (row.try_get("kind")?, row.try_get("grant_code")?);
    let spend = EntryColumns::read(&row, &["id"])?;
    if kind != EntryKind::Spend.as_str() || grant != c.grant || spend.project.as_deref() != Some(c.project.as_str()) {
        return Err(StoreError::invalid(
            "spend_entry_id",
            format!("entry {id} is not a spend of grant {} project {}", c.grant, c.project),
        ));
    }
    not_before(c.date, &row.try_get::<String, _>("entry_date")?, || format!("spend {id} that it refunds"))?;
    // A reversed spend no longer stands: the reversal took all of it back, so a refund of it
    // would take the same money back twice.
    let reversal: Option<i64> =
        sqlx::query_scalar("select id from entries where reverses = $1").bind(id).fetch_optional(&mut **db_tx).await?;
    if let Some(r) = reversal {
        return Err(StoreError::invalid(
            "spend_entry_id",
            format!("spend {id} was reversed by entry {r}: none of it is left to refund"),
        ));
    }
    // What earlier refunds naming this spend returned counts against it: net and VAT alike.
    let (spend_net, _) = net_and_vat(db_tx, id, &spend).await?;
    let (mut earlier_net, mut earlier_vat) = (Money::ZERO, Money::ZERO);
    let sql = format!(
        "select e.id, {} from entries e
         where e.kind = {} and e.grant_code = $1 and e.refund_of = $2
           and not exists (select 1 from entries r where r.reverses = e.id)
         order by e.id",
        select_list("e"),
        EntryKind::Refund.sql()
    );
    let earlier = sqlx::query(&sql).bind(&c.grant).bind(id).fetch_all(&mut **db_tx).await?;
    for r in earlier {
        let refund = EntryColumns::read(&r, &["id"])?;
        let (net, vat) = net_and_vat(db_tx, r.try_get("id")?, &refund).await?;
        earlier_net = Money::from_pence(earlier_net.pence() + net.pence());
        earlier_vat = Money::from_pence(earlier_vat.pence() + vat.pence());
    }
    let left_net = Money::from_pence(spend_net.pence() - earlier_net.pence());
    if c.amount > left_net {
        return Err(StoreError::invalid(
            "amount",
            format!("{} is more than the {left_net} of spend {id} not yet refunded (net of VAT)", c.amount),
        ));
    }
    if let Some(v) = c.vat.filter(|v| v.is_positive()) {
        let spend_vat = spend.vat.map_or(Money::ZERO, |v| v.amount);
        let most = Money::from_pence(spend_vat.pence() - earlier_vat.pence());
        if v > most {
            return Err(StoreError::invalid(
                "vat",
                format!("{v} of VAT is more than the {most} of spend {id}'s VAT not yet refunded"),
            ));
        }
        // A spend without VAT has none left to refund, so `most` refused above.
        if let Some(Vat { recoverable, .. }) = spend.vat
            && c.vat_recoverable != recoverable
        {
            return Err(StoreError::invalid(
                "vat_recoverable",
                format!("spend {id} recorded its VAT as {}recoverable", if recoverable { "" } else { "ir" }),
            ));
        }
    }
    Ok(())
}

/// A spend's or refund's net amount and VAT: what it charged the budget (its `spent`
/// posting), less its VAT where that was irrecoverable; and that VAT.
async fn net_and_vat(db_tx: &mut DbTx, id: i64, columns: &EntryColumns) -> Result<(Money, Money), StoreError> {
    let charged: i64 = sqlx::query(&format!(
        "select cast(coalesce(sum(amount_pence), 0) as bigint) as s from postings
         where entry_id = $1 and account like {}",
        AccountKind::Spent.sql_like()
    ))
    .bind(id)
    .fetch_one(&mut **db_tx)
    .await?
    .try_get("s")?;
    let charged = Money::from_pence(charged.abs());
    let net = Money::from_pence(charged.pence() - columns.irrecoverable_vat().pence());
    Ok((net, columns.vat.map_or(Money::ZERO, |v| v.amount)))
}

/// True when an entry already carries this `source_ref`: an imported line posts once.
pub async fn source_ref_exists_in(db_tx: &mut DbTx, source_ref: &str) -> Result<bool, StoreError> {
    let row = sqlx::query("select 1 as one from entries where source_ref = $1")
        .bind(source_ref)
        .fetch_optional(&mut **db_tx)
        .await?;
    Ok(row.is_some())
}
