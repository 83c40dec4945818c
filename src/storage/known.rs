//! `model::known::Known` as SQL: a condition on an `entries` row (under an alias) that keeps
//! the entries a report may count, with its bind values.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::domain::anchor::Anchor;
use crate::model::known::{Known, instant_text};

/// A value bound to a placeholder of a `Cut` or of a searched list (`search::Where`).
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Int(i64),
}

impl Bind {
    /// Binds `binds` to `query` in order, after the placeholders it has bound already; a cut
    /// and a searched list's `Where` bind through it.
    pub fn all<'q>(binds: &'q [Bind], mut query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        for b in binds {
            query = match b {
                Bind::Text(t) => query.bind(t.as_str()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        query
    }
}

/// A condition on the entries row aliased `alias`, with placeholders numbered from `first`.
#[derive(Debug, Clone)]
pub struct Cut {
    pub sql: String,
    pub binds: Vec<Bind>,
}

/// Entries written before microsecond timestamps carry `YYYY-MM-DDTHH:MM:SSZ`; read as
/// `.000000Z` so every `created_at` compares as text in time order.
fn created_at(alias: &str) -> String {
    format!(
        "(case when length({alias}.created_at) = 20 then substr({alias}.created_at, 1, 19) || '.000000Z' \
         else {alias}.created_at end)"
    )
}

impl Cut {
    pub fn of(known: &Known, alias: &str, first: usize) -> Cut {
        match known {
            Known::Now => Cut { sql: "1 = 1".into(), binds: Vec::new() },
            Known::At(t) => {
                Cut { sql: format!("{} <= ${first}", created_at(alias)), binds: vec![Bind::Text(instant_text(*t))] }
            }
            Known::Position(position) => {
                let mut parts = Vec::new();
                let mut binds = Vec::new();
                for a in &position.anchors {
                    if let Anchor::Award { grant, year, newest, .. } = a {
                        let n = first + binds.len();
                        parts.push(format!(
                            "({alias}.grant_code = ${n} and {alias}.financial_year = ${} and {alias}.id <= ${})",
                            n + 1,
                            n + 2
                        ));
                        binds.extend([Bind::Text(grant.clone()), Bind::Text(year.clone()), Bind::Int(*newest)]);
                    }
                }
                if parts.is_empty() {
                    Cut { sql: "1 = 0".into(), binds }
                } else {
                    Cut { sql: format!("({})", parts.join(" or ")), binds }
                }
            }
        }
    }

    /// Binds this cut's values to `query`, whose earlier placeholders are already bound.
    pub fn bind<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        Bind::all(&self.binds, query)
    }
}
