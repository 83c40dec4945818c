//! The tamper-evident chains: every entry carries a hash of its content and of the previous
//! entry's hash in the same award, and every audit record one of the previous record's.
//! Altering, removing or reordering a stored entry, posting or audit record breaks the
//! chain, and `verify` names the first link where it breaks.
//!
//! A link is made one of three ways, recorded beside it as its version:
//! - v1: SHA-256 over the entry without its posting dates or line numbers (entries written
//!   before migration 0008; still checked, never written);
//! - v2: SHA-256 over every stored field of the entry (its id too) and its postings;
//! - v3: HMAC-SHA256 with the chain key over the same bytes as v2, so that write access to
//!   the database is not enough to rebuild the chain.

use sha2::{Digest, Sha256};

/// The hash the first entry of an award, and the first audit record, chain from.
pub const GENESIS: &str = "";

/// The shortest chain key accepted, in bytes: 256 bits, the HMAC-SHA256 output size.
pub const KEY_MIN_LEN: usize = 32;

/// The secret that makes links keyed. It never reaches the database or a log.
#[derive(Clone)]
pub struct ChainKey(Vec<u8>);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    /// Refuses a key too short to resist guessing.
    pub fn new(secret: &[u8]) -> Result<ChainKey, String> {
        if secret.len() < KEY_MIN_LEN {
            return Err(format!("the chain key must be at least {KEY_MIN_LEN} bytes; it has {}", secret.len()));
        }
        Ok(ChainKey(secret.to_vec()))
    }

    fn mac(&self, msg: &[u8]) -> String {
        hex::encode(hmac_sha256(&self.0, msg))
    }
}

/// How a link was made; stored as `entries.hash_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HashVersion {
    V1 = 1,
    V2 = 2,
    Keyed = 3,
}

impl HashVersion {
    pub fn from_stored(v: i64) -> Option<HashVersion> {
        match v {
            1 => Some(HashVersion::V1),
            2 => Some(HashVersion::V2),
            3 => Some(HashVersion::Keyed),
            _ => None,
        }
    }

    pub fn stored(self) -> i64 {
        self as i64
    }
}

/// One posting as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PostingContent {
    pub line: i64,
    pub account: String,
    pub amount_pence: i64,
    pub entry_date: String,
}

/// Every stored field of an entry but the chain columns, in the form hashed. The typed
/// columns read in place of `details` (migration 0019) are not hashed: each is a value of
/// `details`, and `verify` holds it to the details hashed here (`storage::entry_columns`).
#[derive(Debug, serde::Serialize)]
pub struct EntryContent<'a> {
    /// Not covered by v1.
    pub id: i64,
    pub kind: &'a str,
    pub date: &'a str,
    pub financial_year: &'a str,
    pub grant: &'a str,
    pub memo: &'a str,
    pub details: &'a str,
    pub created_by: &'a str,
    pub created_at: &'a str,
    pub reverses: Option<i64>,
    pub commitment_id: Option<i64>,
    pub source_ref: Option<&'a str>,
    /// In line order.
    pub postings: Vec<PostingContent>,
}

/// What v1 hashed: the same fields with postings as (account, pence) only. The field
/// order and names are those of the v1 struct, so old hashes still verify.
#[derive(serde::Serialize)]
struct V1Content<'a> {
    kind: &'a str,
    date: &'a str,
    financial_year: &'a str,
    grant: &'a str,
    memo: &'a str,
    details: &'a str,
    created_by: &'a str,
    created_at: &'a str,
    reverses: Option<i64>,
    commitment_id: Option<i64>,
    source_ref: Option<&'a str>,
    postings: Vec<(&'a str, i64)>,
}

/// The v1 link: SHA-256 over the previous hash and the v1 content. Checked, never written.
pub fn entry_hash_v1(prev_hash: &str, c: &EntryContent) -> String {
    let v1 = V1Content {
        kind: c.kind,
        date: c.date,
        financial_year: c.financial_year,
        grant: c.grant,
        memo: c.memo,
        details: c.details,
        created_by: c.created_by,
        created_at: c.created_at,
        reverses: c.reverses,
        commitment_id: c.commitment_id,
        source_ref: c.source_ref,
        postings: c.postings.iter().map(|p| (p.account.as_str(), p.amount_pence)).collect(),
    };
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(serde_json::to_vec(&v1).expect("entry content serializes"));
    hex::encode(h.finalize())
}

/// The bytes a v2 or keyed entry link covers.
fn entry_message(prev_hash: &str, c: &EntryContent) -> Vec<u8> {
    let mut msg = format!("grant-ledger entry v2\n{prev_hash}\n").into_bytes();
    msg.extend(serde_json::to_vec(c).expect("entry content serializes"));
    msg
}

/// The link a new entry gets: keyed when there is a key.
pub fn entry_link(prev_hash: &str, c: &EntryContent, key: Option<&ChainKey>) -> (HashVersion, String) {
    let msg = entry_message(prev_hash, c);
    match key {
        Some(k) => (HashVersion::Keyed, k.mac(&msg)),
        None => (HashVersion::V2, hex::encode(Sha256::digest(&msg))),
    }
}

/// What checking one stored link found.
#[derive(Debug, PartialEq, Eq)]
pub enum LinkCheck {
    Sound,
    /// The stored hash is not what its content and predecessor give.
    Altered,
    /// A keyed link, and no key to check it with.
    Unchecked,
}

/// Recomputes a stored entry link of any version.
pub fn check_entry_link(
    version: HashVersion,
    prev_hash: &str,
    c: &EntryContent,
    stored: &str,
    key: Option<&ChainKey>,
) -> LinkCheck {
    let expected = match (version, key) {
        (HashVersion::V1, _) => entry_hash_v1(prev_hash, c),
        (HashVersion::V2, _) => hex::encode(Sha256::digest(entry_message(prev_hash, c))),
        (HashVersion::Keyed, Some(k)) => k.mac(&entry_message(prev_hash, c)),
        (HashVersion::Keyed, None) => return LinkCheck::Unchecked,
    };
    if expected == stored { LinkCheck::Sound } else { LinkCheck::Altered }
}

/// Every stored field of an audit record but its id and chain columns.
#[derive(Debug, serde::Serialize)]
pub struct AuditContent<'a> {
    pub at: &'a str,
    pub actor: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_key: &'a str,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub reason: &'a str,
}

/// How an audit link was made; stored as `audit_log.hash_version`. Records written before
/// migration 0008 have none (0) and are not part of the chain.
pub const AUDIT_UNCHAINED: i64 = 0;
pub const AUDIT_SHA256: i64 = 1;
pub const AUDIT_KEYED: i64 = 2;

fn audit_message(prev_hash: &str, c: &AuditContent) -> Vec<u8> {
    let mut msg = format!("grant-ledger audit v1\n{prev_hash}\n").into_bytes();
    msg.extend(serde_json::to_vec(c).expect("audit content serializes"));
    msg
}

/// The link a new audit record gets, and its version.
pub fn audit_link(prev_hash: &str, c: &AuditContent, key: Option<&ChainKey>) -> (i64, String) {
    let msg = audit_message(prev_hash, c);
    match key {
        Some(k) => (AUDIT_KEYED, k.mac(&msg)),
        None => (AUDIT_SHA256, hex::encode(Sha256::digest(&msg))),
    }
}

/// Recomputes a stored audit link; `None` for a version this build does not know.
pub fn check_audit_link(
    version: i64,
    prev_hash: &str,
    c: &AuditContent,
    stored: &str,
    key: Option<&ChainKey>,
) -> Option<LinkCheck> {
    let expected = match (version, key) {
        (AUDIT_SHA256, _) => hex::encode(Sha256::digest(audit_message(prev_hash, c))),
        (AUDIT_KEYED, Some(k)) => k.mac(&audit_message(prev_hash, c)),
        (AUDIT_KEYED, None) => return Some(LinkCheck::Unchecked),
        _ => return None,
    };
    Some(if expected == stored { LinkCheck::Sound } else { LinkCheck::Altered })
}

/// The seal of a chain head: a MAC over which chain it heads and its hash. With a key set,
/// every head must carry one, so rewriting a chain unkeyed (a downgrade) cannot pass.
pub fn head_seal(key: &ChainKey, chain: &str, head: &str) -> String {
    key.mac(format!("grant-ledger head v1\n{chain}\n{head}").as_bytes())
}

/// The name a head seal gives an award's chain.
pub fn award_chain(grant: &str, year: &str) -> String {
    format!("award {grant} {year}")
}

/// The name a head seal gives the audit chain.
pub const AUDIT_CHAIN: &str = "audit";

/// HMAC-SHA256 (RFC 2104) over `sha2`: SHA-256 of the key padded with 0x5c, then of the key
/// padded with 0x36 and the message. A key longer than the block is hashed first.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(Sha256::digest(key).as_slice());
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize().as_slice());
    let mut out = [0u8; 32];
    out.copy_from_slice(outer.finalize().as_slice());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(amount: i64, date: &str) -> EntryContent<'static> {
        let posting = |line, account: &str, amount_pence| PostingContent {
            line,
            account: account.into(),
            amount_pence,
            entry_date: date.into(),
        };
        EntryContent {
            id: 5,
            kind: "spend",
            date: "2023-05-01",
            financial_year: "2023-24",
            grant: "LDF",
            memo: "m",
            details: "{}",
            created_by: "jo",
            created_at: "2023-05-01T10:00:00Z",
            reverses: None,
            commitment_id: None,
            source_ref: None,
            postings: vec![posting(1, "available:LDF:2023-24:P1", amount), posting(2, "spent:LDF:2023-24:P1", -amount)],
        }
    }

    #[test]
    fn v1_hashes_are_those_written_before_v2() {
        let v1 = entry_hash_v1(GENESIS, &content(100, "2023-05-01"));
        // SHA-256 of "\n" and the v1 JSON of this content, as the v1 code wrote it.
        assert_eq!(v1, "9eae1669ab82d0efa848fd1d0b11e90960d42fede89ea5a5cbbc12670fd6de11");
        assert_eq!(v1, entry_hash_v1(GENESIS, &content(100, "2024-03-31")), "v1 never covered posting dates");
        let mut moved = content(100, "2023-05-01");
        moved.id = 6;
        assert_eq!(v1, entry_hash_v1(GENESIS, &moved), "nor the id");
        assert_ne!(v1, entry_hash_v1(GENESIS, &content(101, "2023-05-01")), "amount");
        assert_ne!(v1, entry_hash_v1("x", &content(100, "2023-05-01")), "previous hash");
        assert_eq!(v1.len(), 64);
    }

    #[test]
    fn v2_covers_posting_dates_and_lines() {
        let (version, a) = entry_link(GENESIS, &content(100, "2023-05-01"), None);
        assert_eq!(version, HashVersion::V2);
        assert_ne!(a, entry_link(GENESIS, &content(100, "2024-03-31"), None).1, "posting date");
        let mut renumbered = content(100, "2023-05-01");
        renumbered.postings[1].line = 7;
        assert_ne!(a, entry_link(GENESIS, &renumbered, None).1, "line number");
        let mut moved = content(100, "2023-05-01");
        moved.id = 6;
        assert_ne!(a, entry_link(GENESIS, &moved, None).1, "id");
        let c = content(100, "2023-05-01");
        assert_eq!(check_entry_link(HashVersion::V2, GENESIS, &c, &a, None), LinkCheck::Sound);
        // The same bytes claimed as v1 do not check: the version is part of what is checked.
        assert_eq!(check_entry_link(HashVersion::V1, GENESIS, &c, &a, None), LinkCheck::Altered);
    }

    #[test]
    fn keyed_links_need_the_key() {
        let key = ChainKey::new(&[7u8; 32]).unwrap();
        let other = ChainKey::new(&[8u8; 32]).unwrap();
        let c = content(100, "2023-05-01");
        let (version, mac) = entry_link(GENESIS, &c, Some(&key));
        assert_eq!(version, HashVersion::Keyed);
        assert_eq!(check_entry_link(version, GENESIS, &c, &mac, Some(&key)), LinkCheck::Sound);
        assert_eq!(check_entry_link(version, GENESIS, &c, &mac, Some(&other)), LinkCheck::Altered);
        assert_eq!(check_entry_link(version, GENESIS, &c, &mac, None), LinkCheck::Unchecked);
        let (_, plain) = entry_link(GENESIS, &c, None);
        assert_ne!(mac, plain);
        assert_eq!(check_entry_link(HashVersion::Keyed, GENESIS, &c, &plain, Some(&key)), LinkCheck::Altered);
        assert!(ChainKey::new(&[1u8; 31]).is_err(), "a short key is refused");
        assert_eq!(format!("{key:?}"), "ChainKey(..)", "the key never reaches a log");
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2: a short key.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block, hashed first.
        assert_eq!(
            hex::encode(hmac_sha256(&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
