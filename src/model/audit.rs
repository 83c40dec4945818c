//! The audit trail as read back: a record, and the filters of `GET /audit` and `audit list`.

use serde::Serialize;

use crate::domain::AuditEntity;

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
    pub entity: Option<AuditEntity>,
    pub key: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Inclusive dates, compared with the UTC date of the change.
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// Whether the records of admin-only entities (`AuditEntity::admin_only`) are listed:
    /// only admin reads tokens (docs/api.md).
    pub with_tokens: bool,
}
