//! Which funder a token or user of a funder's role belongs to (migration 0025): the one it
//! is made for, or the home partnership's funder.

use sqlx::Row;

use super::{DbTx, StoreError};
use crate::domain::Role;

/// The funder a new token or user of `role` belongs to: `given`, which must be a funder,
/// or the home partnership's funder for a funder's role given none. A partnership's role
/// belongs to no funder, so naming one is refused.
pub async fn funder_for_role_in(
    db_tx: &mut DbTx,
    role: Role,
    given: Option<&str>,
) -> Result<Option<String>, StoreError> {
    match (role.is_funders(), given) {
        (false, None) => Ok(None),
        (false, Some(_)) => {
            Err(StoreError::invalid("funder", format!("a {role} belongs to a partnership, not a funder")))
        }
        (true, Some(code)) => {
            let found =
                sqlx::query("select code from funders where code = $1").bind(code).fetch_optional(&mut **db_tx).await?;
            found.map(|_| Some(code.to_owned())).ok_or_else(|| StoreError::NotFound(format!("funder {code}")))
        }
        (true, None) => match home_funder_in(db_tx).await? {
            Some(funder) => Ok(Some(funder)),
            None => Err(StoreError::Conflict(format!(
                "a {role} belongs to the funder of the home partnership, and this ledger has none yet: \
                 record its funder, or name the partnership with `grant-ledger partnership adopt`"
            ))),
        },
    }
}

pub(super) async fn home_funder_in(db_tx: &mut DbTx) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("select funder from partnerships where home = 1").fetch_optional(&mut **db_tx).await?;
    Ok(row.map(|r| r.try_get("funder")).transpose()?)
}
