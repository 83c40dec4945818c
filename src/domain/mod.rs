//! The pure core: money, financial years, accounts, entries and rules. No I/O, no clock.

pub mod account;
pub mod agreement;
pub mod anchor;
pub mod audit;
pub mod chain;
pub mod default_year;
pub mod entry;
pub mod fund;
pub mod money;
pub mod operations;
pub mod org;
pub mod quantity;
pub mod rag;
pub mod rules;
pub mod status;
pub mod text;
pub mod words;
pub mod year;

pub use account::{Account, AccountKind, is_valid_code};
pub use audit::{AuditAction, AuditEntity};
pub use entry::{EntryBuilder, EntryError, EntryKind, NewEntry, Posting};
pub use money::{Money, MoneyError};
pub use quantity::{Quantity, QuantityError};
pub use rules::{OverspendFlag, RuleViolation};
pub use status::{
    CommitmentKind, EvidenceStatus, OnOverspend, OrgKind, ProgressRag, ProjectStatus, Role, UnknownValue,
    VirementStatus, YearStatus,
};
pub use text::control_character;
pub use year::{FinancialYear, parse_date};
