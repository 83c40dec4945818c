//! Types shared by storage, http and cli, below all three: who is acting, and under which
//! idempotency key, and in `postings` the commands and records of the recording operations.
//! (Roles and the status enums live in `domain::status`.)

pub mod postings;
pub mod quarters;

/// A request's claim on an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdemKey {
    pub token_id: i64,
    pub key: String,
    /// SHA-256 of method, path, query and body: a reuse with anything else is a conflict.
    pub request_hash: String,
}

/// Who is recording, and under which idempotency key.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub name: &'a str,
    pub idem: Option<&'a IdemKey>,
}
