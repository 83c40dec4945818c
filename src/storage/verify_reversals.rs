//! `verify` of the reversals of partners' evidence (docs/agreements.md): every reversal row
//! is what its audit record says was recorded, and reverses evidence of its own agreement;
//! every audit record of a reversal still has its row. The audit trail is chained, so a
//! reversal added, changed or deleted with the triggers off is named here.

use std::collections::BTreeMap;

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
    let records = (AuditEntity::EvidenceReversal, AuditAction::Reverse);
    super::held::check_records(store, "evidence reversal", records, &stored, problems).await?;
    Ok(())
}
