//! The tamper-evident chain: every entry carries a hash of its content and of the previous
//! entry's hash in the same award. Altering, removing or reordering a stored entry or
//! posting breaks the chain, and `verify` names the first entry where it breaks.

use sha2::{Digest, Sha256};

/// The hash the first entry of an award chains from.
pub const GENESIS: &str = "";

/// Everything an entry records, in the form that is hashed.
#[derive(Debug, serde::Serialize)]
pub struct EntryContent<'a> {
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
    /// (account name, signed pence), in line order.
    pub postings: Vec<(String, i64)>,
}

/// SHA-256 over the previous hash and the content's canonical JSON, hex-encoded.
pub fn entry_hash(prev_hash: &str, content: &EntryContent) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(serde_json::to_vec(content).expect("entry content serializes"));
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(amount: i64) -> EntryContent<'static> {
        EntryContent {
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
            postings: vec![("available:LDF:2023-24:P1".into(), amount), ("spent:LDF:2023-24:P1".into(), -amount)],
        }
    }

    #[test]
    fn any_change_changes_the_hash() {
        let a = entry_hash(GENESIS, &content(100));
        assert_eq!(a, entry_hash(GENESIS, &content(100)), "deterministic");
        assert_ne!(a, entry_hash(GENESIS, &content(101)), "amount");
        assert_ne!(a, entry_hash("x", &content(100)), "previous hash");
        assert_eq!(a.len(), 64);
    }
}
