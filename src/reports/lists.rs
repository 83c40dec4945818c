//! The CSV download of each searched list (docs/desk.md, "Finding things"): its columns
//! declared once (`columns::Column`), every row the filters find, text defused by
//! `csv_out`. The page shows the same rows a page at a time.

use super::columns::{Column, Kind, cells, money, text_cell};
use super::csv_out::{self, Cell};
use crate::model::audit::{AuditFilter, AuditRecord};
use crate::model::entries::{EntryFilter, ListedEntry};
use crate::model::lists::{CommitmentFilter, ReturnFilter, VirementFilter};
use crate::model::page::{PAGE_LIMIT_MAX, Page};
use crate::model::postings::{CommitmentRecord, VirementRecord};
use crate::model::returns::FiledReturn;
use crate::storage::{Store, StoreError, audit, controls, entries, operations, returns};

fn opt(t: &Option<String>) -> Cell {
    text_cell(t.as_deref().unwrap_or_default())
}

fn whole(n: impl ToString) -> Cell {
    Cell::Number(n.to_string())
}

fn opt_whole(n: Option<i64>) -> Cell {
    n.map_or_else(|| text_cell(""), whole)
}

pub const ENTRY_COLUMNS: [Column<ListedEntry>; 13] = [
    Column::new("id", Kind::Whole, |l| whole(l.entry.id)),
    Column::new("date", Kind::Text, |l| text_cell(&l.entry.date)),
    Column::new("kind", Kind::Text, |l| text_cell(&l.entry.kind)),
    Column::new("financial_year", Kind::Text, |l| text_cell(&l.entry.financial_year)),
    Column::new("grant", Kind::Text, |l| text_cell(&l.entry.grant)),
    Column::new("project", Kind::Text, |l| opt(&l.project)),
    Column::new("supplier", Kind::Text, |l| opt(&l.supplier)),
    Column::new("invoice_ref", Kind::Text, |l| opt(&l.invoice_ref)),
    Column::new("memo", Kind::Text, |l| text_cell(&l.entry.memo)),
    Column::new("amount", Kind::Money, |l| money(l.amount)),
    Column::new("created_by", Kind::Text, |l| text_cell(&l.entry.created_by)),
    Column::new("reverses", Kind::Whole, |l| opt_whole(l.entry.reverses)),
    Column::new("reversed_by", Kind::Whole, |l| opt_whole(l.entry.reversed_by)),
];

pub const COMMITMENT_COLUMNS: [Column<CommitmentRecord>; 13] = [
    Column::new("commitment_id", Kind::Whole, |c| whole(c.commitment_id)),
    Column::new("entry_id", Kind::Whole, |c| whole(c.entry_id)),
    Column::new("kind", Kind::Text, |c| text_cell(c.kind.as_str())),
    Column::new("date", Kind::Text, |c| text_cell(&c.date)),
    Column::new("grant", Kind::Text, |c| text_cell(&c.grant)),
    Column::new("financial_year", Kind::Text, |c| text_cell(&c.financial_year)),
    Column::new("project", Kind::Text, |c| text_cell(&c.project)),
    Column::new("supplier", Kind::Text, |c| text_cell(&c.supplier)),
    Column::new("reference", Kind::Text, |c| text_cell(&c.reference)),
    Column::new("amount", Kind::Money, |c| money(c.amount)),
    Column::new("outstanding", Kind::Money, |c| money(c.outstanding)),
    Column::new("memo", Kind::Text, |c| text_cell(&c.memo)),
    Column::new("recipient", Kind::Text, |c| opt(&c.recipient)),
];

pub const VIREMENT_COLUMNS: [Column<VirementRecord>; 14] = [
    Column::new("virement_id", Kind::Whole, |v| whole(v.virement_id)),
    Column::new("status", Kind::Text, |v| text_cell(v.status.as_str())),
    Column::new("entry_id", Kind::Whole, |v| opt_whole(v.entry_id)),
    Column::new("grant", Kind::Text, |v| text_cell(&v.grant)),
    Column::new("financial_year", Kind::Text, |v| text_cell(&v.financial_year.to_string())),
    Column::new("from_project", Kind::Text, |v| text_cell(&v.from_project)),
    Column::new("to_project", Kind::Text, |v| text_cell(&v.to_project)),
    Column::new("amount", Kind::Money, |v| money(v.amount)),
    Column::new("date", Kind::Text, |v| text_cell(&v.date.map(|d| d.to_string()).unwrap_or_default())),
    Column::new("approved_on", Kind::Text, |v| text_cell(&v.approved_on.to_string())),
    Column::new("approval_ref", Kind::Text, |v| text_cell(&v.approval_ref)),
    Column::new("reason", Kind::Text, |v| text_cell(&v.reason)),
    Column::new("proposed_by", Kind::Text, |v| text_cell(&v.proposed_by)),
    Column::new("decided_by", Kind::Text, |v| opt(&v.decided_by)),
];

pub const RETURN_COLUMNS: [Column<FiledReturn>; 8] = [
    Column::new("id", Kind::Whole, |r| whole(r.id)),
    Column::new("kind", Kind::Text, |r| text_cell(r.kind.as_str())),
    Column::new("financial_year", Kind::Text, |r| text_cell(&r.financial_year.to_string())),
    Column::new("quarter", Kind::Whole, |r| whole(r.quarter)),
    Column::new("filed_at", Kind::Text, |r| text_cell(&r.filed_at)),
    Column::new("filed_by", Kind::Text, |r| text_cell(&r.filed_by)),
    Column::new("file_name", Kind::Text, |r| text_cell(&r.file_name)),
    Column::new("sha256", Kind::Text, |r| text_cell(&r.sha256)),
];

pub const AUDIT_COLUMNS: [Column<AuditRecord>; 7] = [
    Column::new("id", Kind::Whole, |a| whole(a.id)),
    Column::new("at", Kind::Text, |a| text_cell(&a.at)),
    Column::new("actor", Kind::Text, |a| text_cell(&a.actor)),
    Column::new("action", Kind::Text, |a| text_cell(&a.action)),
    Column::new("entity", Kind::Text, |a| text_cell(&a.entity)),
    Column::new("key", Kind::Text, |a| text_cell(&a.key)),
    Column::new("reason", Kind::Text, |a| text_cell(&a.reason)),
];

/// `rows` under `columns` as a CSV file.
pub fn csv<T>(columns: &[Column<T>], rows: &[T], bom: bool) -> Vec<u8> {
    let header: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let lines: Vec<Vec<Cell>> = rows.iter().map(|r| cells(columns, r)).collect();
    csv_out::write(&header, &lines, bom)
}

/// Every row of a list, read a page at a time from the first: `next` reads the page after
/// a cursor's key (empty for the first) and answers it with the key of its last row.
async fn every_row<T, F, Fut>(mut next: F) -> Result<Vec<T>, StoreError>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(Page<T>, Option<String>), StoreError>>,
{
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let (page, last) = next(after).await?;
        let more = page.next_cursor.is_some();
        out.extend(page.items);
        match last {
            Some(key) if more => after = key,
            _ => return Ok(out),
        }
    }
}

/// The key of a page's last row, as the list's `after` reads it.
fn last_key<T>(page: &Page<T>, key: impl Fn(&T) -> String) -> Option<String> {
    page.items.last().map(key)
}

pub async fn entries(store: &Store, f: &EntryFilter) -> Result<Vec<ListedEntry>, StoreError> {
    every_row(|after| async move {
        let page = entries::search_entries(store, f, &after, PAGE_LIMIT_MAX).await?;
        let last = last_key(&page, |l| match f.sort {
            crate::model::lists::EntrySort::Id => l.entry.id.to_string(),
            crate::model::lists::EntrySort::Date => crate::model::page::date_key(&l.entry.date, l.entry.id),
        });
        Ok((page, last))
    })
    .await
}

pub async fn commitments(store: &Store, f: &CommitmentFilter) -> Result<Vec<CommitmentRecord>, StoreError> {
    every_row(|after| async move {
        let page = operations::search_commitments(store, f, after.parse().unwrap_or(0), PAGE_LIMIT_MAX).await?;
        let last = last_key(&page, |c| c.commitment_id.to_string());
        Ok((page, last))
    })
    .await
}

pub async fn virements(store: &Store, f: &VirementFilter) -> Result<Vec<VirementRecord>, StoreError> {
    every_row(|after| async move {
        let page = controls::search_virements(store, f, after.parse().unwrap_or(0), PAGE_LIMIT_MAX).await?;
        let last = last_key(&page, |v| v.virement_id.to_string());
        Ok((page, last))
    })
    .await
}

pub async fn returns(store: &Store, f: &ReturnFilter) -> Result<Vec<FiledReturn>, StoreError> {
    every_row(|after| async move {
        let page = returns::search(store, f, after.parse().unwrap_or(0), PAGE_LIMIT_MAX).await?;
        let last = last_key(&page, |r| r.id.to_string());
        Ok((page, last))
    })
    .await
}

pub async fn audit(store: &Store, f: &AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
    every_row(|after| async move {
        let page = audit::list(store, f, after.parse().unwrap_or(0), PAGE_LIMIT_MAX).await?;
        let last = last_key(&page, |a| a.id.to_string());
        Ok((page, last))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entries::EntryView;

    #[test]
    fn an_entry_row_is_defused_and_its_amount_a_number() {
        let entry = EntryView {
            id: 7,
            kind: "spend".into(),
            date: "2023-05-01".into(),
            financial_year: "2023-24".into(),
            grant: "LDF".into(),
            memo: "=HYPERLINK(\"x\")".into(),
            details: serde_json::json!({}),
            created_by: "finance".into(),
            created_at: "2023-05-01T09:00:00Z".into(),
            reverses: None,
            reversed_by: Some(9),
            commitment_id: None,
            source_ref: None,
            postings: Vec::new(),
        };
        let row = ListedEntry {
            entry,
            project: Some("P1".into()),
            supplier: Some("-Acme".into()),
            invoice_ref: None,
            amount: crate::domain::Money::from_pence(-1250),
        };
        let text = String::from_utf8(csv(&ENTRY_COLUMNS, &[row], false)).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some(
                "id,date,kind,financial_year,grant,project,supplier,invoice_ref,memo,amount,created_by,reverses,reversed_by"
            )
        );
        assert_eq!(
            lines.next(),
            Some("7,2023-05-01,spend,2023-24,LDF,P1,'-Acme,,\"'=HYPERLINK(\"\"x\"\")\",-12.50,finance,,9")
        );
    }
}
