//! Bearer-token authentication as an extractor, and the role rules of docs/api.md.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::AppState;
use super::error::AppError;
use crate::domain::EntryKind;
use crate::domain::Role;
use crate::model::tokens::{LedgerAccess, Principal};
use crate::model::{Actor, IdemKey};
use crate::storage::tokens;

/// The authenticated caller. Extracting it answers 401 for a missing or unknown token.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

/// What a route needs of the caller's role. `admin` may do everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Reference data, reports and exports: every role.
    ReadReference,
    /// The records behind a figure: entries, accounts, commitments (grant agreements with
    /// their parts, payments, evidence and clawbacks), virements and what changed since a
    /// return was filed. Every role: a funder reads what its returns and agreements show.
    ReadLedger,
    /// The audit trail (who changed reference data, settings and tokens): every role but
    /// `funder`, which reads the money, not the partnership's administration.
    ReadAudit,
    /// Commitments, releases, spend, refunds and their reversal, imports.
    Finance,
    /// Grants, awards, priorities, projects, allocations, virements and their reversal.
    Approver,
    /// Filing a return: `finance` or `approver`.
    Reporting,
    /// Tokens, closing years, funders and financial years.
    Admin,
    /// The funder's reports over the partnerships it funds (overview, filed returns): the
    /// funder's roles, and admin. A partnership's own roles read their ledger's reports instead.
    FunderReports,
    /// What a funder records of its own: funds, shares, reallocations, payments. Only
    /// `funder_admin`: admin is a partnership's role.
    FunderAdmin,
    /// The service's registry: funders, partnerships and their first admins. Only `operator`.
    Operator,
}

impl Need {
    pub fn allows(self, role: Role) -> bool {
        match self {
            // The service's roles first: admin is a partnership's, and the operator reads no ledger.
            Need::Operator => role == Role::Operator,
            Need::FunderAdmin => role == Role::FunderAdmin,
            _ if role == Role::Operator => false,
            _ if role == Role::Admin => true,
            Need::ReadReference | Need::ReadLedger => true,
            Need::ReadAudit => !role.is_funders(),
            Need::Finance => role == Role::Finance,
            Need::Approver => role == Role::Approver,
            Need::Reporting => role == Role::Finance || role == Role::Approver,
            Need::Admin => false,
            Need::FunderReports => role.is_funders(),
        }
    }

    /// Reversing an entry needs the role that may record its kind.
    pub fn to_reverse(kind: EntryKind) -> Need {
        if kind.is_budget_decision() { Need::Approver } else { Need::Finance }
    }
}

impl Auth {
    pub fn require(&self, need: Need) -> Result<(), AppError> {
        if need.allows(self.0.role) { Ok(()) } else { Err(AppError::Forbidden) }
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Who is recording, and under which idempotency key, as storage takes it.
    pub fn actor<'a>(&'a self, idem: &'a Option<IdemKey>) -> Actor<'a> {
        Actor { name: &self.0.name, idem: idem.as_ref() }
    }
}

/// No token is shorter: the admin token from the environment must have 32 characters
/// (`cli::ADMIN_TOKEN_LEN_MIN`) and issued ones have 67. A shorter secret is refused without
/// counting as a failed authentication, since no guess that short can succeed.
pub const SECRET_LEN_MIN: usize = 32;

/// The secret of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, secret) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty()).then(|| secret.trim())
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    /// The caller of a ledger route: authenticated (`ServiceAuth`), then held to the one
    /// ledger the service holds (`ledger_refusal`). Every ledger route extracts this.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ServiceAuth(principal) = ServiceAuth::from_request_parts(parts, state).await?;
        match ledger_refusal(&principal) {
            Some(refused) => Err(refused),
            None => Ok(Auth(principal)),
        }
    }
}

/// Why a caller may not reach the ledger the service holds, the home partnership's: the
/// operator reads no ledger (403), and a funder's role whose funder does not fund the home
/// partnership is not told it exists (404).
pub fn ledger_refusal(principal: &Principal) -> Option<AppError> {
    match principal.ledger_access() {
        LedgerAccess::Allowed => None,
        LedgerAccess::Forbidden => Some(AppError::Forbidden),
        LedgerAccess::Hidden => Some(AppError::Store(crate::storage::StoreError::NotFound("partnership".into()))),
    }
}

/// Any authenticated caller, of a ledger or not: what the service's registry routes
/// (`routes::operator`) extract, each requiring its own `Need`.
#[derive(Debug, Clone)]
pub struct ServiceAuth(pub Principal);

impl FromRequestParts<AppState> for ServiceAuth {
    type Rejection = AppError;

    /// A throttled address is refused whatever it sends, so guessing cannot go on behind
    /// the 429s. A missing token is not a guess and is not counted; a wrong one is.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let client = state.throttle.client(parts);
        state.throttle.check(&client)?;
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(ServiceAuth(principal.clone()));
        }
        let secret = bearer(parts).ok_or(AppError::Unauthorized)?;
        // Shorter than any token can be: it cannot match, so it is no guess at one.
        if secret.len() < SECRET_LEN_MIN {
            return Err(AppError::Unauthorized);
        }
        let Some(principal) = tokens::authenticate(&state.store, secret).await? else {
            state.throttle.failed(&client);
            return Err(AppError::Unauthorized);
        };
        parts.extensions.insert(principal.clone());
        Ok(ServiceAuth(principal))
    }
}
