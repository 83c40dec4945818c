//! Filed returns: the record of what was sent, and what has changed since.

use serde::Serialize;

use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use crate::domain::FinancialYear;
use crate::domain::status::ReturnKind;

/// Filing a return: which, for which year and quarter.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = FileReturnBody)]
#[serde(deny_unknown_fields)]
pub struct FileReturnCmd {
    pub kind: ReturnKind,
    #[serde(rename = "financial_year")]
    pub year: FinancialYear,
    #[schema(minimum = 1, maximum = 4)]
    pub quarter: u8,
}

impl FromFields for FileReturnCmd {
    fn read(f: &mut Fields) -> Self {
        FileReturnCmd {
            kind: f.word("kind", &ReturnKind::ALL, None),
            year: f.year("financial_year"),
            quarter: f.quarter("quarter"),
        }
    }
}

/// A filed return, without its bytes.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FiledReturn {
    pub id: i64,
    pub kind: ReturnKind,
    pub financial_year: FinancialYear,
    /// 1 to 4.
    pub quarter: u8,
    /// When it was filed: UTC, RFC 3339 to the microsecond. `as_known_at` this instant
    /// regenerates it.
    #[schema(format = DateTime)]
    pub filed_at: String,
    pub filed_by: String,
    /// SHA-256 of the stored file, lower-case hex.
    pub sha256: String,
    /// The stored file's length in bytes.
    pub bytes: i64,
    /// The name `GET /api/v1/returns/{id}/file` gives it.
    pub file_name: String,
    /// The ledger position it was generated at: one anchor line per award's chain head and
    /// the audit trail's (`grant-ledger verify --against` reads them).
    pub position: Vec<String>,
}

/// What a return is generated from, before it is stored.
pub struct NewReturn {
    pub kind: ReturnKind,
    pub year: FinancialYear,
    pub quarter: u8,
    pub file_name: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// An entry recorded after a return was filed, dated within the return's period.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct LaterEntry {
    #[sqlx(rename = "id")]
    pub entry_id: i64,
    pub kind: String,
    #[schema(format = Date)]
    #[sqlx(rename = "entry_date")]
    pub date: String,
    pub financial_year: String,
    #[sqlx(rename = "grant_code")]
    pub grant: String,
    pub memo: String,
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The entry it reverses, for a reversal.
    pub reverses: Option<i64>,
}

/// One figure of a return's line: as filed and as the ledger holds it now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FigureChange {
    /// The return's column, e.g. `spent_to_date`.
    pub column: String,
    pub filed: String,
    pub now: String,
}

/// One line of a return whose figures changed: which line, and each figure that moved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineChange {
    /// The columns that name the line (e.g. `grant`, `project`) and their values.
    pub line: std::collections::BTreeMap<String, String>,
    /// `changed` (in both), `added` (only now) or `removed` (only as filed).
    pub status: String,
    pub figures: Vec<FigureChange>,
}

/// What changed since a return was filed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnChanges {
    #[serde(rename = "return")]
    pub filed: FiledReturn,
    /// True when regenerating the return now would give other figures than the file's.
    pub changed: bool,
    /// Entries recorded after the filing, dated on or before the quarter's end in its year.
    pub entries: Vec<LaterEntry>,
    /// Per line of the return whose figures differ, the figure as filed and now.
    pub lines: Vec<LineChange>,
}
