//! The service's partnerships: each holds one ledger and is funded by one funder
//! (ARCHITECTURE.md, "Partnerships and funders").

use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::wire::{AreaCode, Code, Text};

/// A partnership as stored. `home` is the one whose ledger the ledger tables hold today.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow, ToSchema)]
pub struct Partnership {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub funder: String,
    pub area_code: String,
    #[sqlx(try_from = "i64")]
    pub home: Flag,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A stored 0 or 1, answered as a boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = bool)]
pub struct Flag(pub bool);

impl From<i64> for Flag {
    fn from(n: i64) -> Flag {
        Flag(n != 0)
    }
}

/// A partnership to register, or the home partnership's identity to adopt.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = PartnershipBody)]
#[serde(deny_unknown_fields)]
pub struct NewPartnership {
    #[schema(value_type = Code)]
    pub code: String,
    #[schema(value_type = Text)]
    pub name: String,
    /// The funder's code: a funder the service knows.
    #[schema(value_type = Code)]
    pub funder: String,
    #[schema(value_type = AreaCode)]
    pub area_code: String,
}

impl FromFields for NewPartnership {
    fn read(f: &mut Fields) -> Self {
        NewPartnership {
            code: f.code("code"),
            name: f.text("name"),
            funder: f.code("funder"),
            area_code: f.area_code("area_code"),
        }
    }
}

/// How much one partnership's ledger holds, for the operator: counts and a time, no figure,
/// name or entry.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct PartnershipHealth {
    pub code: String,
    pub funder: String,
    pub home: bool,
    /// Entries recorded (0 for a partnership whose ledger the service does not hold yet).
    pub entries: i64,
    /// Users who sign in to its pages, live or disabled.
    pub users: i64,
    /// Live bearer tokens, of every role the ledger's tables hold.
    pub tokens: i64,
    /// When its newest entry was recorded.
    #[schema(format = DateTime)]
    pub last_entry_at: Option<String>,
}

/// The service's health as the operator reads it.
#[derive(Debug, Clone, serde::Serialize, ToSchema)]
pub struct ServiceHealth {
    /// `ok` once the database answered.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub partnerships: Vec<PartnershipHealth>,
}

/// A token to make for a funder or a partnership: whose it is.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = AdminTokenBody)]
#[serde(deny_unknown_fields)]
pub struct NewAdmin {
    #[schema(value_type = Text)]
    pub name: String,
}

impl FromFields for NewAdmin {
    fn read(f: &mut Fields) -> Self {
        NewAdmin { name: f.text("name") }
    }
}
