//! The only SQL in the product. One set of runtime queries runs on both backends through
//! sqlx's `Any` driver: placeholders are `$N`, which SQLite and PostgreSQL both read.

pub mod anchors;
pub mod audit;
pub mod cash;
pub mod chain_key;
pub mod chains;
pub mod controls;
pub mod duplicates;
pub mod entries;
pub mod entry_columns;
pub mod error;
pub mod exports;
pub mod funder_payments;
mod funder_roles;
pub mod funds;
pub mod held;
pub mod idempotency;
pub mod import;
mod import_bulk;
mod import_lines;
pub mod imports;
pub mod known;
mod lookups;
pub mod monitoring;
pub mod open_data;
pub mod operations;
pub mod partnerships;
mod periods;
pub mod presence;
pub mod quarter_locks;
mod readable;
pub mod reference;
pub mod reports;
pub mod returns;
mod rows;
mod scanned;
pub mod sealing;
mod search;
pub mod sessions;
pub mod tokens;
mod upgrade;
pub mod users;
pub mod verify;
mod verify_quarters;
mod verify_reversals;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use error::StoreError;

use crate::model::page::Page;

/// A database transaction. Named `db_tx` wherever it is held.
pub type DbTx = sqlx::Transaction<'static, sqlx::Any>;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The ledger's database: a pool for reads, one for writes, and which backend it is.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where every write `db_tx` begins. On SQLite it holds one connection, so writers in
    /// this process queue for it in turn instead of failing with "database is locked"; on
    /// PostgreSQL it is the same pool as reads, and row locks order the writers.
    writer: AnyPool,
    backend: Backend,
}

/// How much of a SQLite file its connections map into memory for reads (1 GiB): shared
/// between connections through the operating system's page cache, so it costs address space,
/// not memory per connection.
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// How long a writer waits for its turn (the writer connection, or SQLite's write lock held
/// by another process) before the request is answered 503 and may be retried.
pub const WRITE_WAIT_MAX: Duration = Duration::from_secs(20);

impl Store {
    /// Connects to `sqlite://…` or `postgres://…`, creating a SQLite file if needed.
    pub async fn connect(url: &str) -> anyhow::Result<Store> {
        Store::connect_waiting(url, WRITE_WAIT_MAX).await
    }

    /// Connects with `write_wait` as the bound on every wait for a lock or the writer
    /// connection; tests shorten it to see the 503 without waiting 20 s.
    pub async fn connect_waiting(url: &str, write_wait: Duration) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            anyhow::bail!("database url must start with sqlite: or postgres:");
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url).context("parsing the database url")?;
        let pool = Self::pool_options(backend, if backend == Backend::Sqlite { 8 } else { 16 }, write_wait)
            .connect_with(options.clone())
            .await
            .context("connecting to the database")?;
        let writer = match backend {
            Backend::Sqlite => Self::pool_options(backend, 1, write_wait)
                .connect_with(options)
                .await
                .context("connecting to the database")?,
            Backend::Postgres => pool.clone(),
        };
        Ok(Store { pool, writer, backend })
    }

    fn pool_options(backend: Backend, connections: u32, write_wait: Duration) -> AnyPoolOptions {
        let wait_ms = write_wait.as_millis();
        AnyPoolOptions::new().max_connections(connections).acquire_timeout(write_wait).after_connect(
            move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; FULL sync makes an
                        // acknowledged entry survive power loss, not only a killed process.
                        conn.execute("pragma journal_mode = wal").await?;
                        conn.execute("pragma synchronous = full").await?;
                        conn.execute("pragma foreign_keys = on").await?;
                        // Reads map the file instead of copying each page through a read call
                        // into every connection's own small cache: a report over a large ledger
                        // spent a third of its time in those copies. SQLite maps it read-only;
                        // writes still go through the WAL.
                        conn.execute(format!("pragma mmap_size = {SQLITE_MMAP_BYTES}").as_str()).await?;
                        conn.execute(format!("pragma busy_timeout = {wait_ms}").as_str()).await?;
                    } else {
                        // A row lock held too long (another writer, a stuck session) fails
                        // the wait as 55P03 instead of holding the request forever.
                        conn.execute(format!("set lock_timeout = {wait_ms}").as_str()).await?;
                    }
                    Ok(())
                })
            },
        )
    }

    /// Applies the embedded migrations of this backend, then records in the audit trail, once,
    /// what an upgrade began to hold to it (`upgrade`).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await.context("running migrations")?;
        upgrade::run(self).await.context("recording the rows an upgrade brought under the audit trail")?;
        partnerships::on_start(self).await.context("adopting the ledger as the home partnership's")?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a write `db_tx`. On SQLite it begins immediate: it takes the write lock now,
    /// waiting its turn, rather than reading first and failing when it later upgrades.
    pub async fn begin(&self) -> Result<DbTx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("begin immediate").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Begins a `db_tx` that only reads, for one consistent picture across several queries.
    /// It never takes the write lock, so it does not queue behind writers.
    pub async fn begin_read(&self) -> Result<DbTx, StoreError> {
        Ok(self.pool.begin().await?)
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// How a `db_tx` holds a row it reads, so that a change the row's readers depend on waits for
/// them (and they for it). Only PostgreSQL needs it: a SQLite write `db_tx` begins immediate and
/// holds the whole database's write lock already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// A posting that depends on the row: many may hold it at once.
    Share,
    /// A change to the row: waits for every sharer, and they for it. `no key` leaves the
    /// foreign-key checks of rows that merely reference this one unblocked.
    Update,
}

impl RowLock {
    /// The clause to end a `select` with on this `db_tx`'s backend.
    pub fn clause(self, db_tx: &DbTx) -> &'static str {
        match (db_tx.backend_name() == "PostgreSQL", self) {
            (false, _) => "",
            (true, RowLock::Share) => " for share",
            (true, RowLock::Update) => " for no key update",
        }
    }
}

/// The current time as stored: UTC, RFC 3339, to the second.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The time an entry or a filed return is recorded at, to the microsecond (fixed width, so
/// it sorts as text): what `as_known_at` compares with. Taken after the award locks, so an
/// entry recorded after a filing always has a later time than the filing's.
pub fn now_precise() -> String {
    crate::model::known::instant_text(chrono::Utc::now())
}

/// True when a database error is a unique-constraint violation, on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}
