//! Pagination of every list: a page, its cursor, and the bounds of `limit`.

/// A page of a list, and the cursor for the next.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The most rows one page may hold.
pub const PAGE_LIMIT_MAX: i64 = 500;
pub const PAGE_LIMIT_DEFAULT: i64 = 50;

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> String) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if more { rows.last().map(|r| hex::encode(key(r))) } else { None };
        Page { items: rows, next_cursor }
    }
}

/// Decodes a cursor made by `Page::from_rows`.
pub fn decode_cursor(cursor: &str) -> Option<String> {
    hex::decode(cursor).ok().and_then(|b| String::from_utf8(b).ok())
}
