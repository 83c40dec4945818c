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
    #[schema(value_type = crate::domain::status::GrantedRole)]
    pub role: Role,
}

impl FromFields for TokenCmd {
    fn read(f: &mut Fields) -> Self {
        TokenCmd { name: f.text("name"), role: f.word("role", &Role::GRANTED_BY_ADMIN, None) }
    }
}

/// Who acts, once authenticated: a token's holder, or a user signed in to the pages. `name`
/// is what entries record as `created_by` and the audit trail as the actor: the token's
/// name, or the user's username.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Principal {
    /// The token, for a bearer token or a session signed in with one.
    #[sqlx(rename = "id")]
    pub token_id: Option<i64>,
    /// The user, for a session signed in with a password.
    #[sqlx(default)]
    pub user_id: Option<i64>,
    pub name: String,
    /// A user's display name; empty for a token, whose `name` is already a person's.
    #[sqlx(default)]
    pub display_name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// The funder a `funder` or `funder_admin` belongs to; none for a partnership's roles.
    #[sqlx(default)]
    pub funder: Option<String>,
    /// The home partnership's funder when the caller authenticated (`HOME_FUNDER_SQL`).
    #[sqlx(default)]
    pub home_funder: Option<String>,
}

/// Selects the home partnership's funder as `home_funder`, beside a principal's row.
pub const HOME_FUNDER_SQL: &str = "(select p.funder from partnerships p where p.home = 1) as home_funder";

impl Principal {
    /// Whether the caller may reach the ledger the service holds, the home partnership's:
    /// the operator reads no ledger (`Forbidden`), and a funder's role only the ledger of a
    /// partnership its funder funds (`Hidden`: it is not told the ledger exists).
    pub fn ledger_access(&self) -> LedgerAccess {
        if self.role == Role::Operator {
            LedgerAccess::Forbidden
        } else if self.role.is_funders() && (self.funder.is_none() || self.funder != self.home_funder) {
            LedgerAccess::Hidden
        } else {
            LedgerAccess::Allowed
        }
    }
}

/// What `Principal::ledger_access` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerAccess {
    Allowed,
    Forbidden,
    Hidden,
}

impl Principal {
    /// The name a page calls the person by: a user's display name, else the token's name.
    pub fn shown_name(&self) -> &str {
        if self.display_name.is_empty() { &self.name } else { &self.display_name }
    }
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
    /// The funder of a `funder` or `funder_admin` token.
    #[sqlx(default)]
    pub funder: Option<String>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct NewToken {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The funder of a `funder` or `funder_admin` token.
    pub funder: Option<String>,
    /// The secret: shown in this response only. A replay of the same request under its
    /// `Idempotency-Key` answers `null` here (the secret is never stored), with a `note`.
    #[schema(value_type = Option<String>)]
    pub token: String,
}
