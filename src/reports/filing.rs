//! Filing returns and holding the ledger to them: generate a return at a ledger position,
//! file it (stored byte for byte by `storage::returns`), say what changed since, and check
//! every filed return for `verify`.

use std::collections::BTreeMap;

use super::columns::figures;
use super::csv_out;
use super::{commissioner, monitoring, run};
use crate::domain::FinancialYear;
use crate::domain::status::ReturnKind;
use crate::model::Actor;
use crate::model::known::Known;
use crate::model::returns::{FigureChange, FiledReturn, LineChange, NewReturn, ReturnChanges};
use crate::storage::returns::{self, Stored};
use crate::storage::{Store, StoreError, anchors};

/// The columns that name a line of a return, and the columns that are its figures (its
/// money and quantities, as its column table declares them).
fn layout(kind: ReturnKind) -> (&'static [&'static str], Vec<&'static str>) {
    match kind {
        ReturnKind::CommissionerReturn => (&["grant", "project"], figures(&commissioner::columns())),
        ReturnKind::MonitoringReturn => (&["grant", "project_code", "indicator_code"], figures(&monitoring::columns())),
    }
}

/// Generates a return's file as the ledger stood at `known`.
pub async fn generate(
    store: &Store,
    kind: ReturnKind,
    year: FinancialYear,
    quarter: u8,
    known: &Known,
) -> Result<NewReturn, StoreError> {
    let body = match kind {
        ReturnKind::CommissionerReturn => {
            let rows = run::commissioner_return(store, year, quarter, known).await?;
            csv_out::write(&commissioner::CSV_HEADER, &rows, false)
        }
        ReturnKind::MonitoringReturn => {
            let r = run::monitoring_return(store, year, quarter, known).await?;
            super::monitoring::csv(&r, false)
        }
    };
    Ok(NewReturn {
        kind,
        year,
        quarter,
        file_name: format!("{kind}-{year}-q{quarter}.csv"),
        content_type: "text/csv; charset=utf-8".into(),
        body,
    })
}

/// Files a return: takes the ledger position, generates the return at it, and stores it.
pub async fn file(
    store: &Store,
    kind: ReturnKind,
    year: FinancialYear,
    quarter: u8,
    actor: Actor<'_>,
) -> Result<FiledReturn, StoreError> {
    if !(1..=4).contains(&quarter) {
        return Err(StoreError::invalid("quarter", "must be 1, 2, 3 or 4"));
    }
    let filing = returns::begin_filing(store, year).await?;
    let known = Known::Position(filing.position.clone());
    // A failure drops the filing's db_tx, which rolls it back: nothing is stored.
    let new = generate(store, kind, year, quarter, &known).await?;
    returns::finish_filing(filing, new, actor).await
}

/// What changed since a return was filed: the entries recorded after it within its period,
/// and each line whose figures differ between the file and the return generated now.
pub async fn changes(store: &Store, id: i64) -> Result<ReturnChanges, StoreError> {
    let (record, _, body) = returns::file(store, id).await?;
    let position = returns::position_of(&record)?;
    let last = record.financial_year.quarter_end(record.quarter).ok_or_else(|| {
        StoreError::Corrupt(format!("filed_returns (id {}) column quarter: is not 1 to 4", record.id))
    })?;
    let entries = returns::entries_since(store, &position, record.financial_year, last).await?;
    let now = generate(store, record.kind, record.financial_year, record.quarter, &Known::Now).await?;
    let lines = compare(record.kind, &body, &now.body).map_err(StoreError::Corrupt)?;
    Ok(ReturnChanges { changed: !lines.is_empty(), filed: record, entries, lines })
}

/// Whether the ledger has changed a figure of a filed return since it was filed.
pub async fn changed(store: &Store, record: &FiledReturn) -> Result<bool, StoreError> {
    let (_, _, body) = returns::file(store, record.id).await?;
    let now = generate(store, record.kind, record.financial_year, record.quarter, &Known::Now).await?;
    Ok(!compare(record.kind, &body, &now.body).map_err(StoreError::Corrupt)?.is_empty())
}

type Lines = BTreeMap<Vec<String>, Vec<String>>;

/// A return's lines by the columns that name them, each with its figures.
fn lines_of(kind: ReturnKind, body: &[u8]) -> Result<Lines, String> {
    let (keys, figures) = layout(kind);
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new().from_reader(body);
    let header: Vec<String> = reader.headers().map_err(|e| e.to_string())?.iter().map(str::to_owned).collect();
    let at = |name: &str| header.iter().position(|h| h == name).ok_or_else(|| format!("the file has no {name} column"));
    let key_at = keys.iter().map(|k| at(k)).collect::<Result<Vec<_>, _>>()?;
    let figure_at = figures.iter().map(|f| at(f)).collect::<Result<Vec<_>, _>>()?;
    let mut out = Lines::new();
    for record in reader.records() {
        let record = record.map_err(|e| e.to_string())?;
        let cell = |i: usize| record.get(i).unwrap_or("").to_owned();
        out.insert(key_at.iter().map(|i| cell(*i)).collect(), figure_at.iter().map(|i| cell(*i)).collect());
    }
    Ok(out)
}

/// Every line whose figures differ between two files of the same return.
pub fn compare(kind: ReturnKind, filed: &[u8], now: &[u8]) -> Result<Vec<LineChange>, String> {
    let (keys, figures) = layout(kind);
    let (filed, now) = (lines_of(kind, filed)?, lines_of(kind, now)?);
    let empty = vec![String::new(); figures.len()];
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&Vec<String>> = filed.keys().chain(now.keys()).collect();
    for name in names {
        let (was, is) = (filed.get(name), now.get(name));
        let status = match (was, is) {
            (Some(_), Some(_)) => "changed",
            (None, _) => "added",
            (_, None) => "removed",
        };
        let (was, is) = (was.unwrap_or(&empty), is.unwrap_or(&empty));
        let moved: Vec<FigureChange> = figures
            .iter()
            .zip(was.iter().zip(is))
            .filter(|(_, (a, b))| a != b)
            .map(|(c, (a, b))| FigureChange { column: (*c).to_owned(), filed: a.clone(), now: b.clone() })
            .collect();
        if !moved.is_empty() || status != "changed" {
            let line = keys.iter().map(|k| (*k).to_owned()).zip(name.iter().cloned()).collect();
            out.push(LineChange { line, status: status.into(), figures: moved });
        }
    }
    Ok(out)
}

/// `verify`'s checks of the filed returns. Each problem names the return.
/// - its bytes still have the SHA-256 stored with it, and the audit trail's record of the
///   filing (chained, so it cannot be rewritten unseen) agrees with the stored record;
/// - the ledger still holds the position it was generated at (every award's chain head);
/// - generated again at that position, its figures equal the stored file's;
/// - every return the audit trail says was filed is still stored.
pub async fn verify(store: &Store) -> Result<Vec<String>, StoreError> {
    let (stored, audited_ids) = returns::all_stored(store).await?;
    let mut problems = Vec::new();
    for s in &stored {
        problems.extend(check_one(store, s).await?);
    }
    for id in audited_ids {
        if !stored.iter().any(|s| s.record.id == id) {
            problems.push(format!("filed return {id}: the audit trail records its filing, but it is no longer stored"));
        }
    }
    Ok(problems)
}

async fn check_one(store: &Store, s: &Stored) -> Result<Vec<String>, StoreError> {
    let r = &s.record;
    let name = format!("filed return {} ({} {} Q{})", r.id, r.kind, r.financial_year, r.quarter);
    let mut problems = Vec::new();
    if returns::sha256_hex(&s.body) != r.sha256 {
        problems.push(format!("{name}: its stored file no longer has the SHA-256 it was filed with: altered"));
    }
    match &s.audited {
        None => problems.push(format!("{name}: the audit trail has no record of its filing")),
        Some(a) => {
            let recorded = serde_json::to_value(r).expect("records serialize");
            for field in ["kind", "financial_year", "quarter", "filed_at", "filed_by", "sha256", "bytes", "position"] {
                if a.get(field) != recorded.get(field) {
                    problems.push(format!("{name}: its {field} differs from the audit trail's record of its filing"));
                }
            }
        }
    }
    let position = match returns::position_of(r) {
        Ok(p) => p,
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            return Ok(problems);
        }
    };
    for a in returns::award_anchors(&position) {
        if let Some(p) = anchors::check_one(store, a).await? {
            problems.push(format!("{name}: {p}"));
        }
    }
    let again = generate(store, r.kind, r.financial_year, r.quarter, &Known::Position(position)).await?;
    match compare(r.kind, &s.body, &again.body) {
        Err(e) => problems.push(format!("{name}: its stored file cannot be read as the return: {e}")),
        Ok(lines) => {
            for l in lines {
                let line: Vec<String> = l.line.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let figures: Vec<String> = l
                    .figures
                    .iter()
                    .map(|f| format!("{} is {} at its position, the file says {}", f.column, f.now, f.filed))
                    .collect();
                problems.push(format!(
                    "{name}: generated again at its position, line {} is {}: {}",
                    line.join(" "),
                    if l.status == "changed" { "different" } else { l.status.as_str() },
                    figures.join("; ")
                ));
            }
        }
    }
    Ok(problems)
}
