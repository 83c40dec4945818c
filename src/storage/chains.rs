//! The chains `verify` walks: each award's chain of entries, the audit trail's chain, and the
//! seals on their heads when there is a chain key. The rows held to the (chained) audit
//! trail are `held`'s.

use std::collections::{BTreeMap, HashMap};

use sqlx::Row;

use super::scanned::{Report, StoredEntry};
use super::{Store, StoreError, rows};
use crate::domain::chain::{
    self, AUDIT_CHAIN, AUDIT_KEYED, AUDIT_UNCHAINED, AuditContent, ChainKey, EntryContent, GENESIS, HashVersion,
    LinkCheck,
};

/// Walks every chain: the awards' over `entries`, the audit trail's over `audit`; adds to `report`.
pub(crate) async fn check(
    store: &Store,
    entries: &[StoredEntry],
    audit: &[AuditRow],
    key: Option<&ChainKey>,
    report: &mut Report,
) -> Result<(), StoreError> {
    let mut unchecked = check_entry_chains(store, entries, key, &mut report.problems).await?;
    unchecked += check_audit_chain(store, audit, key, &mut report.problems).await?;
    if unchecked > 0 {
        report.notes.push(format!(
            "{unchecked} keyed links and seals were NOT checked: {} is not set, so only the links made without \
             the key were checked",
            super::chain_key::ENV
        ));
    }
    Ok(())
}

fn content(e: &StoredEntry) -> EntryContent<'_> {
    EntryContent {
        id: e.id,
        kind: &e.kind,
        date: &e.date,
        financial_year: &e.year,
        grant: &e.grant,
        memo: &e.memo,
        details: &e.details,
        created_by: &e.created_by,
        created_at: &e.created_at,
        reverses: e.reverses,
        commitment_id: e.commitment_id,
        source_ref: e.source_ref.as_deref(),
        postings: e.postings.clone(),
    }
}

/// An award's chain head as stored on the award.
pub(super) struct Head {
    pub(super) hash: String,
    seal: String,
}

pub(super) async fn award_heads(store: &Store) -> Result<BTreeMap<(String, String), Head>, StoreError> {
    sqlx::query("select grant_code, financial_year, head_hash, head_seal from awards")
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| -> Result<_, StoreError> {
            Ok((
                (r.try_get("grant_code")?, r.try_get("financial_year")?),
                Head { hash: r.try_get("head_hash")?, seal: r.try_get("head_seal")? },
            ))
        })
        .collect::<Result<_, _>>()
}

/// Recomputes every award's chain in id order and compares the newest with the award's
/// head. The first broken link of each award is named. Returns how many keyed links and
/// seals went unchecked for want of the key.
async fn check_entry_chains(
    store: &Store,
    entries: &[StoredEntry],
    key: Option<&ChainKey>,
    problems: &mut Vec<String>,
) -> Result<usize, StoreError> {
    let mut unchecked = 0;
    let mut last: HashMap<(&str, &str), &str> = HashMap::new();
    let mut keyed: HashMap<(&str, &str), bool> = HashMap::new();
    let mut broken: std::collections::HashSet<(&str, &str)> = Default::default();
    for e in entries {
        let award = (e.grant.as_str(), e.year.as_str());
        let expected_prev = last.get(&award).copied().unwrap_or(GENESIS);
        if !broken.contains(&award) {
            let problem = match HashVersion::from_stored(e.hash_version) {
                None => Some(format!("entry {}: unknown hash version {}", e.id, e.hash_version)),
                Some(_) if e.prev_hash != expected_prev => Some(format!(
                    "entry {}: chain broken: it does not follow the previous entry of {} {}",
                    e.id, e.grant, e.year
                )),
                Some(version) => match chain::check_entry_link(version, &e.prev_hash, &content(e), &e.hash, key) {
                    LinkCheck::Altered => Some(format!(
                        "entry {}: hash does not match its content or postings: altered after it was written",
                        e.id
                    )),
                    LinkCheck::Unchecked => {
                        unchecked += 1;
                        None
                    }
                    // A link made without the key after one made with it: the chain was
                    // rebuilt from here by someone without the key.
                    LinkCheck::Sound
                        if key.is_some() && version != HashVersion::Keyed && keyed.contains_key(&award) =>
                    {
                        Some(format!(
                            "entry {}: written without the chain key after keyed entries of {} {}: the chain was \
                             rebuilt outside the ledger",
                            e.id, e.grant, e.year
                        ))
                    }
                    LinkCheck::Sound => None,
                },
            };
            if let Some(p) = problem {
                problems.push(p);
                broken.insert(award);
            }
        }
        if e.hash_version == HashVersion::Keyed.stored() {
            keyed.insert(award, true);
        }
        last.insert(award, &e.hash);
    }
    for ((grant, year), head) in award_heads(store).await? {
        let award = (grant.as_str(), year.as_str());
        let newest = last.get(&award).copied().unwrap_or(GENESIS);
        if broken.contains(&award) {
            continue;
        }
        if newest != head.hash {
            problems.push(format!(
                "award {grant} {year}: newest entry is not the chain head: an entry was removed or added outside the ledger"
            ));
            continue;
        }
        match key {
            Some(k)
                if !head.hash.is_empty()
                    && head.seal != chain::head_seal(k, &chain::award_chain(&grant, &year), &head.hash) =>
            {
                problems.push(format!(
                    "award {grant} {year}: its chain head is not sealed with the chain key: the chain was rebuilt \
                     without the key, or was last written before the key was set (then run `grant-ledger verify \
                     --seal` once verify is otherwise clean)"
                ));
            }
            None if !head.seal.is_empty() => unchecked += 1,
            _ => {}
        }
    }
    Ok(unchecked)
}

/// One audit record as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub id: i64,
    pub at: String,
    actor: String,
    pub action: String,
    pub entity: String,
    #[sqlx(rename = "entity_key")]
    pub key: String,
    #[sqlx(rename = "before_json")]
    before: Option<String>,
    #[sqlx(rename = "after_json")]
    pub after: Option<String>,
    reason: String,
    prev_hash: String,
    pub hash: String,
    #[sqlx(rename = "hash_version")]
    pub version: i64,
}

pub(crate) async fn load_audit(store: &Store) -> Result<Vec<AuditRow>, StoreError> {
    let found = sqlx::query(
        "select id, at, actor, action, entity, entity_key, before_json, after_json, reason, prev_hash, hash, hash_version
         from audit_log order by id",
    )
    .fetch_all(store.pool())
    .await?;
    rows::read_all(&found, "audit_log", &["id"])
}

/// The audit trail's chain head as stored.
pub(crate) async fn audit_head(store: &Store) -> Result<(String, String), StoreError> {
    let r = sqlx::query("select hash, head_seal from audit_head where id = 1").fetch_one(store.pool()).await?;
    Ok((r.try_get("hash")?, r.try_get("head_seal")?))
}

/// The audit chain: records written before migration 0008 are unchained and come first;
/// every later one links to the one before it, and the newest is the stored head.
async fn check_audit_chain(
    store: &Store,
    audit: &[AuditRow],
    key: Option<&ChainKey>,
    problems: &mut Vec<String>,
) -> Result<usize, StoreError> {
    let mut unchecked = 0;
    let mut last = GENESIS;
    let mut keyed = false;
    for a in audit {
        if a.version == AUDIT_UNCHAINED {
            if !last.is_empty() {
                problems.push(format!("audit record {}: not chained, yet written after chained records", a.id));
                return Ok(unchecked);
            }
            continue;
        }
        let c = AuditContent {
            at: &a.at,
            actor: &a.actor,
            action: &a.action,
            entity: &a.entity,
            entity_key: &a.key,
            before: a.before.as_deref(),
            after: a.after.as_deref(),
            reason: &a.reason,
        };
        let problem = match chain::check_audit_link(a.version, &a.prev_hash, &c, &a.hash, key) {
            _ if a.prev_hash != last => Some("chain broken: it does not follow the previous audit record"),
            None => Some("unknown hash version"),
            Some(LinkCheck::Altered) => Some("hash does not match its content: altered after it was written"),
            Some(LinkCheck::Unchecked) => {
                unchecked += 1;
                None
            }
            Some(LinkCheck::Sound) if key.is_some() && keyed && a.version != AUDIT_KEYED => {
                Some("written without the chain key after keyed records: the chain was rebuilt outside the ledger")
            }
            Some(LinkCheck::Sound) => None,
        };
        if let Some(p) = problem {
            problems.push(format!("audit record {}: {p}", a.id));
            return Ok(unchecked);
        }
        keyed |= a.version == AUDIT_KEYED;
        last = &a.hash;
    }
    let (head, seal) = audit_head(store).await?;
    if head != last {
        problems.push(
            "audit trail: the newest record is not the chain head: a record was removed or added outside the ledger"
                .to_owned(),
        );
    } else {
        match key {
            Some(k) if !head.is_empty() && seal != chain::head_seal(k, AUDIT_CHAIN, &head) => problems.push(
                "audit trail: its chain head is not sealed with the chain key: the chain was rebuilt without the key, \
                 or was last written before the key was set (then run `grant-ledger verify --seal`)"
                    .to_owned(),
            ),
            None if !seal.is_empty() => unchecked += 1,
            _ => {}
        }
    }
    Ok(unchecked)
}
