//! The chain key: a setting from the environment, never stored in the database. With it,
//! new links are HMAC-SHA256 and chain heads are sealed; see docs/controls.md for the
//! threat model.

use std::sync::OnceLock;

use crate::domain::chain::ChainKey;

/// The environment variable that holds the key.
pub const ENV: &str = "GRANT_LEDGER_CHAIN_KEY";

/// Reads the key from the environment: `None` when unset or empty, an error when too short.
pub fn from_env() -> Result<Option<ChainKey>, String> {
    match std::env::var(ENV) {
        Ok(s) if !s.is_empty() => ChainKey::new(s.as_bytes()).map(Some).map_err(|e| format!("{ENV}: {e}")),
        _ => Ok(None),
    }
}

static INSTALLED: OnceLock<Option<ChainKey>> = OnceLock::new();

/// The key every write of this process links with, read once. The binary checks the
/// setting with `from_env` before it opens the ledger, so a bad key never gets this far.
pub fn installed() -> Option<&'static ChainKey> {
    INSTALLED.get_or_init(|| from_env().unwrap_or_else(|e| panic!("{e}"))).as_ref()
}
