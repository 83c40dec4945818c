//! Whether a database url points at a ledger, found out without creating or changing
//! anything there: a command that reads or records must never leave a new, empty ledger
//! behind in whatever folder it was run from.

use std::str::FromStr;

use anyhow::Context;
use sqlx::Connection;

/// The table every ledger has from its first migration: its presence marks a ledger.
const MARK: &str = "entries";

/// Where `url` points, as a person looks for it: a SQLite file's absolute path, or a
/// PostgreSQL url without its password.
pub fn place(url: &str) -> String {
    match sqlite_file(url) {
        Some(Ok(path)) => std::path::absolute(&path).unwrap_or(path).display().to_string(),
        Some(Err(_)) | None if is_memory(url) => "an in-memory SQLite database".to_owned(),
        Some(Err(_)) | None => without_password(url),
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@').and_then(|at| rest[..at].find(':').map(|colon| (colon, at))) {
        Some((colon, at)) => format!("{scheme}://{}:***{}", &rest[..colon], &rest[at..]),
        None => url.to_owned(),
    }
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// The file a `sqlite:` url names; `None` for any other url.
fn sqlite_file(url: &str) -> Option<anyhow::Result<std::path::PathBuf>> {
    if !url.starts_with("sqlite:") || is_memory(url) {
        return None;
    }
    Some(
        sqlx::sqlite::SqliteConnectOptions::from_str(url)
            .map(|o| o.get_filename().to_path_buf())
            .context("parsing the database url"),
    )
}

/// True when the database at `url` holds the ledger's tables. A SQLite file that does not
/// exist, or an in-memory database, holds none and is not created; a PostgreSQL database is
/// connected to and read, never written.
pub async fn holds_ledger(url: &str) -> anyhow::Result<bool> {
    if url.starts_with("sqlite:") {
        if is_memory(url) {
            return Ok(false);
        }
        let path = sqlite_file(url).expect("a sqlite url")?;
        if !path.is_file() {
            return Ok(false);
        }
        // Without `mode=rwc` (which `Store::connect` adds) the file is opened, never created.
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(false);
        let mut conn =
            sqlx::SqliteConnection::connect_with(&options).await.with_context(|| format!("opening {}", place(url)))?;
        let n: i64 = sqlx::query_scalar("select count(*) from sqlite_master where type = 'table' and name = $1")
            .bind(MARK)
            .fetch_one(&mut conn)
            .await
            .with_context(|| format!("reading {}", place(url)))?;
        conn.close().await.ok();
        return Ok(n > 0);
    }
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let mut conn =
            sqlx::PgConnection::connect(url).await.with_context(|| format!("connecting to {}", place(url)))?;
        let found: Option<String> = sqlx::query_scalar("select to_regclass($1)::text")
            .bind(MARK)
            .fetch_one(&mut conn)
            .await
            .with_context(|| format!("reading {}", place(url)))?;
        conn.close().await.ok();
        return Ok(found.is_some());
    }
    anyhow::bail!("database url must start with sqlite: or postgres:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_never_shows_a_password() {
        assert_eq!(place("postgres://gl:s3cret@db.example:5432/ledger"), "postgres://gl:***@db.example:5432/ledger");
        assert_eq!(place("postgres://gl@db.example/ledger"), "postgres://gl@db.example/ledger");
        assert_eq!(place("sqlite::memory:"), "an in-memory SQLite database");
        let file = place("sqlite://grant-ledger.db");
        assert!(std::path::Path::new(&file).is_absolute() && file.ends_with("grant-ledger.db"), "{file}");
    }
}
