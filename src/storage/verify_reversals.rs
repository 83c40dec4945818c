//! `verify` of the reversals of partners' evidence (docs/agreements.md): every reversal row
//! is what its audit record says was recorded, and reverses evidence of its own agreement;
//! every audit record of a reversal still has its row. The audit trail is chained, so a
//! reversal added, changed or deleted with the triggers off is named here.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use super::{Store, StoreError};
use crate::domain::{AuditAction, AuditEntity};

pub(super) async fn check(store: &Store, problems: &mut Vec<String>) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "select r.evidence_id, r.commitment_id, r.reversal_date, r.reason, r.created_by, r.created_at,
                e.commitment_id as evidence_of
         from evidence_reversals r left join agreement_evidence e on e.id = r.evidence_id
         order by r.evidence_id",
    )
    .fetch_all(store.pool())
    .await?;
    let mut stored: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for r in rows {
        let (evidence, commitment): (i64, i64) = (r.try_get("evidence_id")?, r.try_get("commitment_id")?);
        let key = format!("{commitment}/{evidence}");
        if r.try_get::<Option<i64>, _>("evidence_of")? != Some(commitment) {
            problems.push(format!("evidence reversal {key}: reverses no evidence of agreement {commitment}"));
        }
        let record = serde_json::json!({
            "evidence_id": evidence,
            "commitment_id": commitment,
            "date": r.try_get::<String, _>("reversal_date")?,
            "reason": r.try_get::<String, _>("reason")?,
            "created_by": r.try_get::<String, _>("created_by")?,
            "created_at": r.try_get::<String, _>("created_at")?,
        });
        stored.insert(key, record);
    }
    let audited_sql = format!(
        "select entity_key, after_json from audit_log where entity = {} and action = {} order by id",
        AuditEntity::EvidenceReversal.sql(),
        AuditAction::Reverse.sql()
    );
    let audited = sqlx::query(&audited_sql).fetch_all(store.pool()).await?;
    let mut seen = BTreeSet::new();
    for r in audited {
        let key: String = r.try_get("entity_key")?;
        let after: Option<String> = r.try_get("after_json")?;
        let after: serde_json::Value = after.and_then(|a| serde_json::from_str(&a).ok()).unwrap_or_default();
        match stored.get(&key) {
            None => problems.push(format!("evidence reversal {key}: in the audit trail but no longer stored")),
            Some(row) if *row != after => problems
                .push(format!("evidence reversal {key}: differs from its audit record: altered outside the ledger")),
            Some(_) => {}
        }
        seen.insert(key);
    }
    for key in stored.keys().filter(|k| !seen.contains(*k)) {
        problems.push(format!("evidence reversal {key}: has no audit record: written outside the ledger"));
    }
    Ok(())
}
