//! The audit trail as read back: a record, and the filters of `GET /audit` and `audit list`.

use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub key: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub reason: String,
}

/// Filters of `GET /audit`; each optional.
#[derive(Debug, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub key: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Inclusive dates, compared with the UTC date of the change.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Whether the records of `ADMIN_ONLY` entities are listed: only admin reads tokens (docs/api.md).
    pub with_tokens: bool,
}

/// The entities whose records only admin reads: tokens, and the sign-ins made with them.
pub const ADMIN_ONLY: [&str; 2] = ["token", "session"];

/// Whether only admin reads the records of `entity`.
pub fn admin_only(entity: &str) -> bool {
    ADMIN_ONLY.contains(&entity)
}
