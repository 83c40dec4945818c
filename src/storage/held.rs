//! The rows `verify` holds to the audit trail. Every write to a table below records the row in
//! the audit trail in the same `db_tx`, and the trail is chained, so each row must say what
//! the trail says of it: every field its records hold, each record laid over the ones before
//! it (`recorded`). A row the trail never recorded, a field that differs, and a recorded row
//! that is gone are each named by table, key and field.
//!
//! `COVERAGE` says, for every table of the schema, how `verify` covers it or why it does not;
//! a test holds it to the database's own list of tables. To bring a new table under `verify`:
//! record its every write in the writing `db_tx` (a table recorded as stored needs only an
//! `audit::Stored` and its `record_in`), add it to `held()`, and list it in `COVERAGE`.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::audit::{self, Col, Stored};
use super::chains::AuditRow;
use super::{Store, StoreError};
use crate::domain::{AuditAction, AuditEntity, Money};

/// How `verify` covers a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cover {
    /// In a hash chain, recomputed link by link (`chains`).
    Chained,
    /// Recomputed from chained rows: balances from postings.
    Derived,
    /// Held to the entries that recorded it (`verify::check_commitments`).
    Entries,
    /// Held to its audit records: `held()` here, or the check named in `COVERAGE`.
    Audit,
    /// Not covered, for the reason given.
    Uncovered(&'static str),
}

/// Every table of the schema and how `verify` covers it.
pub const COVERAGE: &[(&str, Cover)] = &[
    // Its typed columns (`entry_columns::NAMES`) are held to its chained `details` by
    // `verify::check_entry_columns`.
    ("entries", Cover::Chained),
    ("postings", Cover::Chained),
    ("audit_log", Cover::Chained),
    // The audit chain's head and seal; checked against the newest record.
    ("audit_head", Cover::Chained),
    ("balances", Cover::Derived),
    // Each account's postings per quarter (migration 0023), by `verify_quarters`.
    ("quarter_balances", Cover::Derived),
    // Each account's postings per month (migration 0027), by `verify_quarters` too.
    ("month_balances", Cover::Derived),
    // Each day's entries of an award and kind, counted and summed (migration 0024), by
    // `verify_quarters::check_day_totals`.
    ("entry_day_totals", Cover::Derived),
    ("commitments", Cover::Entries),
    ("agreement_parts", Cover::Entries),
    // Held to its audit records by `verify::check_evidence`.
    ("agreement_evidence", Cover::Audit),
    // Held to its audit records by `verify_reversals`.
    ("evidence_reversals", Cover::Audit),
    // Held to the audit record of its filing, its SHA-256 and its position by `reports::filing::verify`.
    ("filed_returns", Cover::Audit),
    // An award's decision date and reference here; its chain head and seal by `chains`.
    ("awards", Cover::Audit),
    ("grants", Cover::Audit),
    ("projects", Cover::Audit),
    ("organisations", Cover::Audit),
    ("funders", Cover::Audit),
    ("priorities", Cover::Audit),
    ("financial_years", Cover::Audit),
    ("tokens", Cover::Audit),
    ("users", Cover::Audit),
    ("partnerships", Cover::Audit),
    ("settings", Cover::Audit),
    ("quarter_locks", Cover::Audit),
    ("payment_schedules", Cover::Audit),
    ("spend_profiles", Cover::Audit),
    ("indicators", Cover::Audit),
    ("virements", Cover::Audit),
    ("forecasts", Cover::Audit),
    ("indicator_returns", Cover::Audit),
    ("forecast_withdrawals", Cover::Audit),
    ("indicator_return_withdrawals", Cover::Audit),
    ("sessions", Cover::Audit),
    // Its file is held to its SHA-256 by `imports::check_files`.
    ("imports", Cover::Audit),
    ("funds", Cover::Audit),
    ("fund_shares", Cover::Audit),
    ("reallocations", Cover::Audit),
    ("funder_payments", Cover::Audit),
    (
        "idempotency_keys",
        Cover::Uncovered(
            "a stored answer, replayed only to a client retrying with the same token and key; no rule, report or \
             export reads it, and what it answers about is held in its own table",
        ),
    ),
    (
        "_sqlx_migrations",
        Cover::Uncovered(
            "the migration tool's record of the schema; the tool refuses to open a ledger whose applied \
             migrations differ from the binary's",
        ),
    ),
];

/// How a table's rows read into the form its audit records hold.
enum Shape {
    /// The records name these columns as the table does.
    Columns(&'static [(&'static str, Col)]),
    /// The records are the product's own record of the row, which this reads a row into.
    Record(fn(&AnyRow) -> Result<Value, StoreError>),
    /// As `Record`, for one line of several under a key: the records hold the lines in order.
    Lines(fn(&AnyRow) -> Result<Value, StoreError>),
}

/// One table held to its audit records.
struct Held {
    table: &'static str,
    entity: AuditEntity,
    /// Selects `audit_key`, the key the records name the row by, and what `shape` reads.
    select: String,
    shape: Shape,
    /// Whether the ledger deletes its rows itself (a session ends): then a recorded row that
    /// is gone is no problem.
    removable: bool,
}

impl Held {
    fn columns(table: &'static str, entity: AuditEntity, key: &str, columns: &'static [(&'static str, Col)]) -> Held {
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let select = format!("select {key} as audit_key, {} from {table}", names.join(", "));
        Held { table, entity, select, shape: Shape::Columns(columns), removable: false }
    }

    fn stored(s: &'static Stored, removable: bool) -> Held {
        Held { table: s.table, entity: s.entity, select: s.select(), shape: Shape::Columns(s.columns), removable }
    }
}

const TEXT: Col = Col::Text;

/// The table whose rows an entity's audit records describe; `None` for the ledger's own
/// upgrade records. Every entity is named, so a new one must say where its rows are, and the
/// test below then holds that table to `COVERAGE`.
pub fn audited_table(entity: AuditEntity) -> Option<&'static str> {
    use AuditEntity::*;
    Some(match entity {
        Funder => "funders",
        Priority => "priorities",
        Grant => "grants",
        Award => "awards",
        Project => "projects",
        Organisation => "organisations",
        FinancialYear => "financial_years",
        Quarter => "quarter_locks",
        Setting => "settings",
        Token => "tokens",
        Session => "sessions",
        User => "users",
        PaymentSchedule => "payment_schedules",
        SpendProfile => "spend_profiles",
        Indicator => "indicators",
        IndicatorReturn => "indicator_returns",
        IndicatorReturnWithdrawal => "indicator_return_withdrawals",
        Forecast => "forecasts",
        ForecastWithdrawal => "forecast_withdrawals",
        Virement => "virements",
        AgreementEvidence => "agreement_evidence",
        EvidenceReversal => "evidence_reversals",
        Return => "filed_returns",
        Import => "imports",
        Partnership => "partnerships",
        Fund => "funds",
        FundShare => "fund_shares",
        Reallocation => "reallocations",
        FunderPayment => "funder_payments",
        Ledger => return None,
    })
}

/// The tables held to their audit records here.
fn held() -> Vec<Held> {
    vec![
        Held::columns(
            "grants",
            AuditEntity::Grant,
            "code",
            &[("name", TEXT), ("funder", TEXT), ("restricted_to_priority", TEXT), ("on_overspend", TEXT)],
        ),
        Held::columns(
            "projects",
            AuditEntity::Project,
            "code",
            &[("name", TEXT), ("priority", TEXT), ("lead_organisation", TEXT), ("description", TEXT), ("status", TEXT)],
        ),
        Held::columns(
            "organisations",
            AuditEntity::Organisation,
            "code",
            &[
                ("name", TEXT),
                ("kind", TEXT),
                ("charity_number", TEXT),
                ("company_number", TEXT),
                ("org_id", TEXT),
                ("postcode", TEXT),
            ],
        ),
        Held::columns(
            "funders",
            AuditEntity::Funder,
            "code",
            &[("name", TEXT), ("over_programming_percent", Col::Int), ("return_due_days", Col::Int)],
        ),
        Held::columns("priorities", AuditEntity::Priority, "code", &[("name", TEXT), ("description", TEXT)]),
        Held::columns(
            "financial_years",
            AuditEntity::FinancialYear,
            "code",
            &[("start_date", TEXT), ("end_date", TEXT), ("status", TEXT)],
        ),
        Held::columns(
            "awards",
            AuditEntity::Award,
            "grant_code || '/' || financial_year",
            &[("awarded_on", TEXT), ("reference", TEXT)],
        ),
        Held::columns(
            "tokens",
            AuditEntity::Token,
            "cast(id as text)",
            &[("name", TEXT), ("role", TEXT), ("secret_hash", TEXT), ("revoked_at", TEXT), ("funder", TEXT)],
        ),
        Held {
            table: "users",
            entity: AuditEntity::User,
            select: super::users::AUDITED_SELECT.to_owned(),
            shape: Shape::Record(super::users::audited),
            removable: false,
        },
        Held {
            table: "settings",
            entity: AuditEntity::Setting,
            select: "select key as audit_key, value from settings".to_owned(),
            shape: Shape::Record(|r| Ok(Value::String(text(r, "settings", "value")?))),
            removable: false,
        },
        Held::columns(
            "quarter_locks",
            AuditEntity::Quarter,
            "financial_year || '/Q' || cast(quarter as text)",
            &[("locked", Col::Flag), ("reason", TEXT), ("changed_by", TEXT), ("changed_at", TEXT)],
        ),
        Held {
            table: "payment_schedules",
            entity: AuditEntity::PaymentSchedule,
            select: "select grant_code || '/' || financial_year as audit_key, due_on, amount_pence, condition
                     from payment_schedules order by grant_code, financial_year, line"
                .to_owned(),
            shape: Shape::Lines(|r| {
                let pence: i64 = r.try_get("amount_pence").map_err(|e| corrupt(r, "payment_schedules", e))?;
                Ok(json!({
                    "due_on": text(r, "payment_schedules", "due_on")?,
                    "amount": Money::from_pence(pence).to_string(),
                    "condition": text(r, "payment_schedules", "condition")?,
                }))
            }),
            removable: false,
        },
        Held {
            table: "spend_profiles",
            entity: AuditEntity::SpendProfile,
            select: "select grant_code || '/' || financial_year || '/' || project_code as audit_key,
                            q1_pct as q1, q2_pct as q2, q3_pct as q3, q4_pct as q4, set_by, set_at
                     from spend_profiles"
                .to_owned(),
            shape: Shape::Columns(&[
                ("q1", Col::Int),
                ("q2", Col::Int),
                ("q3", Col::Int),
                ("q4", Col::Int),
                ("set_by", TEXT),
                ("set_at", TEXT),
            ]),
            removable: false,
        },
        Held {
            table: "indicators",
            entity: AuditEntity::Indicator,
            select: "select project_code || '/' || code || '/' || financial_year as audit_key, name, unit, baseline,
                            target, q1_target, q2_target, q3_target, q4_target, created_by, created_at
                     from indicators"
                .to_owned(),
            shape: Shape::Record(|r| {
                let t = |c| text(r, "indicators", c);
                Ok(json!({
                    "name": t("name")?, "unit": t("unit")?, "baseline": t("baseline")?, "target": t("target")?,
                    "quarterly_targets": [t("q1_target")?, t("q2_target")?, t("q3_target")?, t("q4_target")?],
                    "created_by": t("created_by")?, "created_at": t("created_at")?,
                }))
            }),
            removable: false,
        },
        Held::stored(&audit::VIREMENTS, false),
        Held::stored(&audit::FORECASTS, false),
        Held::stored(&audit::INDICATOR_RETURNS, false),
        Held::stored(&audit::FORECAST_WITHDRAWALS, false),
        Held::stored(&audit::INDICATOR_RETURN_WITHDRAWALS, false),
        // Sign-out and expiry delete sessions: only a row the trail never recorded is named.
        Held::stored(&audit::SESSIONS, true),
        Held::stored(&super::imports::IMPORTS, false),
        Held::stored(&super::partnerships::PARTNERSHIPS, false),
        Held::stored(&super::funds::FUNDS, false),
        // A share is set anew or taken away: a row gone is recorded so, and only one the
        // trail never removed is named.
        Held::stored(&super::funds::FUND_SHARES, false),
        Held::stored(&super::funds::REALLOCATIONS, false),
        Held::stored(&super::funder_payments::FUNDER_PAYMENTS, false),
    ]
}

fn corrupt(row: &AnyRow, table: &str, e: sqlx::Error) -> StoreError {
    super::rows::corrupt(row, table, &["audit_key"], e)
}

fn text(row: &AnyRow, table: &str, column: &str) -> Result<String, StoreError> {
    row.try_get(column).map_err(|e| corrupt(row, table, e))
}

/// Lays one record's `after` over what the records before it said: an object's fields one by
/// one, anything else whole; a removal (no `after`) leaves null.
pub(crate) fn lay_over(state: &mut Value, after: Option<&str>) {
    let after: Value = after.and_then(|a| serde_json::from_str(a).ok()).unwrap_or(Value::Null);
    match (state, after) {
        (Value::Object(fields), Value::Object(new)) => fields.extend(new),
        (state, after) => *state = after,
    }
}

/// What the audit trail says of each (entity, key) now, from its records in order.
pub(crate) fn recorded<'a>(
    records: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
) -> HashMap<(&'a str, &'a str), Value> {
    let mut state: HashMap<(&str, &str), Value> = HashMap::new();
    for (entity, key, after) in records {
        lay_over(state.entry((entity, key)).or_insert(Value::Null), after);
    }
    state
}

/// Whether the trail's state of a row means the row should be stored.
fn present(state: &Value) -> bool {
    !(state.is_null() || state.as_array().is_some_and(Vec::is_empty))
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_owned(),
        v => v.to_string(),
    }
}

/// Every held table's rows against the audit trail `audit`, and the trail's baselines.
pub(crate) async fn check(store: &Store, audit: &[AuditRow], problems: &mut Vec<String>) -> Result<(), StoreError> {
    let state = recorded(audit.iter().map(|a| (a.entity.as_str(), a.key.as_str(), a.after.as_deref())));
    for h in held() {
        let mut rows: BTreeMap<String, Value> = BTreeMap::new();
        let mut lines: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for r in sqlx::query(&h.select).fetch_all(store.pool()).await? {
            let key = text(&r, h.table, "audit_key")?;
            match &h.shape {
                Shape::Columns(columns) => {
                    rows.insert(key, audit::row_value(&r, h.table, columns)?);
                }
                Shape::Record(read) => {
                    rows.insert(key, read(&r)?);
                }
                Shape::Lines(read) => lines.entry(key).or_default().push(read(&r)?),
            }
        }
        rows.extend(lines.into_iter().map(|(key, lines)| (key, Value::Array(lines))));
        for (key, row) in &rows {
            compare(h.table, key, row, state.get(&(h.entity.as_str(), key.as_str())), problems);
        }
        if !h.removable {
            let mut gone: Vec<&str> = state
                .iter()
                .filter(|((entity, key), s)| *entity == h.entity.as_str() && present(s) && !rows.contains_key(*key))
                .map(|((_, key), _)| *key)
                .collect();
            gone.sort_unstable();
            for key in gone {
                problems.push(format!(
                    "{} {key}: in the audit trail but no longer stored: deleted outside the ledger",
                    h.table
                ));
            }
        }
    }
    check_baselines(audit, problems);
    Ok(())
}

/// Rows keyed as their records are (`stored`) against the records of `entity` done as
/// `action`, each the row whole: a recorded row gone, a row that differs from its record,
/// and a row with no record are each named, as `what` and key.
pub(crate) async fn check_records(
    store: &Store,
    what: &str,
    (entity, action): (AuditEntity, AuditAction),
    stored: &BTreeMap<String, Value>,
    problems: &mut Vec<String>,
) -> Result<(), StoreError> {
    let sql = format!(
        "select entity_key, after_json from audit_log where entity = {} and action = {} order by id",
        entity.sql(),
        action.sql()
    );
    let mut seen = std::collections::BTreeSet::new();
    for r in sqlx::query(&sql).fetch_all(store.pool()).await? {
        let key: String = r.try_get("entity_key")?;
        let after: Option<String> = r.try_get("after_json")?;
        let after: Value = after.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default();
        match stored.get(&key) {
            None => problems.push(format!("{what} {key}: in the audit trail but no longer stored")),
            Some(row) if *row != after => {
                problems.push(format!("{what} {key}: differs from its audit record: altered outside the ledger"))
            }
            Some(_) => {}
        }
        seen.insert(key);
    }
    for key in stored.keys().filter(|k| !seen.contains(*k)) {
        problems.push(format!("{what} {key}: has no audit record: written outside the ledger"));
    }
    Ok(())
}

/// One row against what the trail says of it.
fn compare(table: &str, key: &str, row: &Value, state: Option<&Value>, problems: &mut Vec<String>) {
    let Some(state) = state.filter(|s| present(s)) else {
        problems.push(format!("{table} {key}: has no audit record: written outside the ledger"));
        return;
    };
    let differs = |what: String, stored: &Value, said: &Value| {
        format!(
            "{table} {key}: {what} is {} but its audit trail says {}: changed outside the ledger",
            shown(stored),
            shown(said)
        )
    };
    match row {
        Value::Object(fields) => {
            for (field, value) in fields {
                let said = state.get(field).unwrap_or(&Value::Null);
                if value != said {
                    problems.push(differs(field.clone(), value, said));
                }
            }
        }
        Value::Array(lines) => {
            let said = state.as_array().map(Vec::as_slice).unwrap_or_default();
            let first = (0..lines.len().max(said.len())).find(|&i| lines.get(i) != said.get(i));
            if let Some(i) = first {
                let nothing = Value::String("nothing".to_owned());
                let (stored, said) = (lines.get(i).unwrap_or(&nothing), said.get(i).unwrap_or(&nothing));
                problems.push(differs(format!("line {}", i + 1), stored, said));
            }
        }
        value if value != state => problems.push(differs("value".to_owned(), value, state)),
        _ => {}
    }
}

/// The action of an upgrade's record, and of the records of rows it brought under the trail.
const UPGRADE: &str = AuditAction::Upgrade.as_str();
const BASELINE: &str = AuditAction::Baseline.as_str();

/// Baseline records are written only by an upgrade, in its `db_tx`, directly before its own
/// record; an upgrade is recorded once. Anything else would let rows be recorded as they
/// stand at a later time than the upgrade.
fn check_baselines(audit: &[AuditRow], problems: &mut Vec<String>) {
    let mut upgrades: HashMap<&str, i64> = HashMap::new();
    for (i, a) in audit.iter().enumerate() {
        if a.action == UPGRADE
            && let Some(first) = upgrades.insert(a.key.as_str(), a.id)
        {
            problems.push(format!(
                "audit record {}: upgrade {} recorded again (first as record {first}): written outside the ledger",
                a.id, a.key
            ));
        }
        if a.action == BASELINE {
            let next = audit[i + 1..].iter().find(|n| n.action != BASELINE);
            if next.is_none_or(|n| n.action != UPGRADE) {
                problems.push(format!(
                    "audit record {}: a baseline of {} {} that no upgrade follows: written outside the ledger",
                    a.id, a.entity, a.key
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each entity's table is covered as audited, each table covered as audited is some
    /// entity's, and each table held here is held to its own entity's records.
    #[test]
    fn entities_and_audited_tables_agree() {
        let audited: Vec<&str> = COVERAGE.iter().filter(|(_, c)| *c == Cover::Audit).map(|(t, _)| *t).collect();
        let tables: Vec<&str> = AuditEntity::ALL.into_iter().filter_map(audited_table).collect();
        for table in &tables {
            assert!(audited.contains(table), "{table} is audited but COVERAGE does not say so");
        }
        for table in &audited {
            assert!(tables.contains(table), "{table} is covered as audited but no entity's records describe it");
        }
        for h in held() {
            assert_eq!(audited_table(h.entity), Some(h.table), "{} is held to the records of {}", h.table, h.entity);
        }
    }
}
