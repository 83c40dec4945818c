//! `verify --seal`: brings the chain heads of a ledger that had entries before the chain
//! key was set under that key, after a clean verify with it.

use super::chains;
use super::{Store, StoreError};
use crate::domain::chain::{self, AUDIT_CHAIN, ChainKey};

/// Seals every chain head with the key, after a clean verify with it: how a ledger that
/// had entries before the key was set comes under it. Refuses while verify finds problems
/// other than unsealed heads, so a chain rebuilt without the key is never sealed.
pub async fn seal(store: &Store, key: &ChainKey) -> Result<Vec<String>, StoreError> {
    let report = super::verify::report(store, Some(key)).await?;
    let blocking: Vec<String> =
        report.problems.into_iter().filter(|p| !p.contains("is not sealed with the chain key")).collect();
    if !blocking.is_empty() {
        return Ok(blocking);
    }
    let mut db_tx = store.begin().await?;
    for ((grant, year), head) in chains::award_heads(store).await? {
        if head.hash.is_empty() {
            continue;
        }
        sqlx::query(
            "update awards set head_seal = $3 where grant_code = $1 and financial_year = $2 and head_hash = $4",
        )
        .bind(&grant)
        .bind(&year)
        .bind(chain::head_seal(key, &chain::award_chain(&grant, &year), &head.hash))
        .bind(&head.hash)
        .execute(&mut *db_tx)
        .await?;
    }
    let (head, _) = chains::audit_head(store).await?;
    if !head.is_empty() {
        sqlx::query("update audit_head set head_seal = $1 where id = 1 and hash = $2")
            .bind(chain::head_seal(key, AUDIT_CHAIN, &head))
            .bind(&head)
            .execute(&mut *db_tx)
            .await?;
    }
    db_tx.commit().await?;
    Ok(Vec::new())
}
