//! Bearer tokens as storage reads them and http and cli show them; the secret itself is
//! never held here.

use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::wire::Text;
use crate::domain::Role;

/// A new token: whose it is and its role.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = TokenBody)]
#[serde(deny_unknown_fields)]
pub struct TokenCmd {
    /// Whose token it is.
    #[schema(value_type = Text)]
    pub name: String,
    pub role: Role,
}

impl FromFields for TokenCmd {
    fn read(f: &mut Fields) -> Self {
        TokenCmd { name: f.text("name"), role: f.word("role", &Role::ALL, None) }
    }
}

/// A token as the server sees it once authenticated.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Principal {
    #[sqlx(rename = "id")]
    pub token_id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The secret: shown in this response only. A replay of the same request under its
    /// `Idempotency-Key` answers `null` here (the secret is never stored), with a `note`.
    #[schema(value_type = Option<String>)]
    pub token: String,
}
