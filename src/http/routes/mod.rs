//! Route modules, one per area, each with its own `router()`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::{Auth, Need};
use super::error::AppError;
use super::{AppState, Idem};
use crate::model::{Actor, IdemKey};
use crate::storage::Store;

/// Who calls an API route, over which ledger, under which idempotency key: what a handler
/// takes first (`interchange`'s take the three apart), extracted in that order. The role is
/// checked in the handler (`require`), before its path or body is read.
pub struct Caller {
    pub state: AppState,
    pub auth: Auth,
    pub idem: Option<IdemKey>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let auth = Auth::from_request_parts(parts, state).await?;
        let Ok(Idem(idem)) = Idem::from_request_parts(parts, state).await;
        Ok(Caller { state: state.clone(), auth, idem })
    }
}

impl Caller {
    pub fn require(&self, need: Need) -> Result<(), AppError> {
        self.auth.require(need)
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn name(&self) -> &str {
        self.auth.name()
    }

    /// Who records, under this request's idempotency key.
    pub fn actor(&self) -> Actor<'_> {
        self.auth.actor(&self.idem)
    }
}

/// A route recording its JSON body, answering 201 with the record: `$need` may call it,
/// `$cmd`'s `FromFields` parses the body (`.into()` the command storage takes), and `$op`
/// records it under the caller's idempotency key.
macro_rules! recording_route {
    ($(#[$doc:meta])* $name:ident: $path:literal, $tag:literal, $need:ident,
        $cmd:ident $(.$into:ident())? => $op:path => $record:ident, $($responses:tt)*) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = $tag, request_body = $cmd,
            responses((status = 201, body = $record), $($responses)*))]
        async fn $name(c: $crate::http::routes::Caller, body: $crate::http::input::RawBody) -> $crate::http::routes::Created<$record> {
            c.require($crate::http::auth::Need::$need)?;
            let cmd = body.cmd::<$cmd>()?$(.$into())?;
            $crate::http::routes::created($op(c.store(), cmd, c.actor()).await?)
        }
    };
    // The same of a record named by its path's `id`, which the command takes as `$field`.
    ($(#[$doc:meta])* $name:ident: $path:literal, $tag:literal, $need:ident,
        $cmd:ident { $field:ident: id $id_doc:literal } => $op:path => $record:ident, $($responses:tt)*) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = $tag,
            params(("id" = i64, Path, minimum = 1, description = $id_doc)), request_body = $cmd,
            responses((status = 201, body = $record), $($responses)*))]
        async fn $name(c: $crate::http::routes::Caller, axum::extract::Path(id): axum::extract::Path<String>, body: $crate::http::input::RawBody) -> $crate::http::routes::Created<$record> {
            c.require($crate::http::auth::Need::$need)?;
            let $field = $crate::http::routes::postings::path_id(&id, "id")?;
            let cmd = $cmd { $field, ..body.cmd::<$cmd>()? };
            $crate::http::routes::created($op(c.store(), cmd, c.actor()).await?)
        }
    };
}

/// A route reading one record by its path's `id` (a positive whole number) or `code`:
/// `$need` may call it, and `$op` reads the record or answers 404.
macro_rules! record_route {
    ($(#[$doc:meta])* $name:ident: $path:literal, $tag:literal, $need:ident,
        id => $op:path => $record:ident, $($responses:tt)*) => {
        $(#[$doc])*
        #[utoipa::path(get, path = $path, tag = $tag, params(("id" = i64, Path, minimum = 1)),
            responses((status = 200, body = $record), $($responses)*))]
        async fn $name(c: $crate::http::routes::Caller, axum::extract::Path(id): axum::extract::Path<String>) -> $crate::http::routes::Answer<$record> {
            c.require($crate::http::auth::Need::$need)?;
            Ok(axum::Json($op(c.store(), $crate::http::routes::postings::path_id(&id, "id")?).await?))
        }
    };
    ($(#[$doc:meta])* $name:ident: $path:literal, $tag:literal, $need:ident,
        code => $op:path => $record:ident, $($responses:tt)*) => {
        $(#[$doc])*
        #[utoipa::path(get, path = $path, tag = $tag, params(("code" = $crate::http::openapi::Code, Path)),
            responses((status = 200, body = $record), $($responses)*))]
        async fn $name(c: $crate::http::routes::Caller, axum::extract::Path(code): axum::extract::Path<String>) -> $crate::http::routes::Answer<$record> {
            c.require($crate::http::auth::Need::$need)?;
            Ok(axum::Json($op(c.store(), &code).await?))
        }
    };
}

/// A list filtered by its query type `$query` (its `read` and `filter`) and paged by id:
/// `$need` may call it, and `$op` reads the page.
macro_rules! filtered_list {
    ($(#[$doc:meta])* $vis:vis $name:ident: $path:literal, $tag:literal, $need:ident,
        $query:ident, $list:ident => $op:path => $item:ident, $page:ident) => {
        $(#[$doc])*
        #[utoipa::path(get, path = $path, tag = $tag, params($query, $crate::http::openapi::PageQuery),
            responses((status = 200, body = $crate::http::openapi::$page)))]
        $vis async fn $name(c: $crate::http::routes::Caller, mut q: $crate::http::input::Query) -> $crate::http::routes::Answer<$crate::model::page::Page<$item>> {
            c.require($crate::http::auth::Need::$need)?;
            let filter = $query::read(&mut q).filter();
            let page = q.page($crate::model::page::List::$list);
            q.finish()?;
            Ok(axum::Json($op(c.store(), &filter, page.after_id(), page.limit).await?))
        }
    };
}

/// A route's answer: its record as JSON.
pub type Answer<T> = Result<axum::Json<T>, AppError>;

/// A recording route's answer: 201 with the record.
pub type Created<T> = Result<(axum::http::StatusCode, axum::Json<T>), AppError>;

/// 201 with the record made.
pub fn created<T>(record: T) -> Created<T> {
    Ok((axum::http::StatusCode::CREATED, axum::Json(record)))
}

pub mod cash;
pub mod controls;
pub mod funder;
pub mod funds;
pub mod imports;
pub mod interchange;
pub mod ledger;
pub mod monitoring;
pub mod operator;
pub mod postings;
pub mod reference;
pub mod reports;
pub mod returns;
pub mod tokens;
pub mod users;
