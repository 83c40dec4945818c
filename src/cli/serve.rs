//! `grant-ledger serve` and what `init` shares with it: the first admin token (generated, or
//! `GRANT_LEDGER_ADMIN_TOKEN`), and the settings `serve` stores before it listens (the
//! virement threshold, the RAG rule, the illustrative demo, refused over a ledger's own records).

use clap::Args;

use crate::http::{self, AppState};
use crate::storage::{Store, reference, tokens};

/// `serve`'s flags; each but `--demo` can also come from its environment variable.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default: put a TLS proxy in front to expose it.
    #[arg(long, env = "GRANT_LEDGER_BIND", default_value = http::DEFAULT_BIND)]
    pub bind: String,
    /// The address people reach the ledger at, e.g. https://ledger.example.org: the only
    /// origin the pages take a form from. Default: http:// and the listening address.
    #[arg(long, env = "GRANT_LEDGER_PUBLIC_URL", value_parser = http::public_url::PublicUrl::parse)]
    pub public_url: Option<http::public_url::PublicUrl>,
    /// A proxy whose X-Forwarded-For names the client for the throttle of failed
    /// sign-ins: an address or a CIDR range; repeat it, or give a comma-separated list.
    #[arg(long = "trusted-proxy", value_name = "ADDR", env = "GRANT_LEDGER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<http::throttle::IpRange>,
    /// Also load illustrative projects, allocations, commitments and spend (labelled as such).
    #[arg(long)]
    pub demo: bool,
    /// A virement above this amount (pounds, e.g. "5000") waits for a second approver.
    /// Stored as a setting, so it holds until changed; the default is 5000.00.
    #[arg(long, env = "GRANT_LEDGER_VIREMENT_APPROVAL_THRESHOLD")]
    pub virement_approval_threshold: Option<String>,
    /// RAG amber threshold, percentage points outside the spend profile; stored in the ledger.
    #[arg(long, env = "GRANT_LEDGER_RAG_AMBER_PCT")]
    pub rag_amber_pct: Option<String>,
    /// RAG red threshold, percentage points outside the spend profile; stored in the ledger.
    #[arg(long, env = "GRANT_LEDGER_RAG_RED_PCT")]
    pub rag_red_pct: Option<String>,
}

/// `serve`: stores the settings given, loads the demo if asked, makes sure of an admin token,
/// then answers until stopped.
pub async fn run(store: &Store, args: ServeArgs, env_secret: Option<&str>) -> anyhow::Result<()> {
    let ServeArgs { bind, public_url, trusted_proxies, demo, virement_approval_threshold, rag_amber_pct, rag_red_pct } =
        args;
    if let Some(t) = virement_approval_threshold {
        let amount =
            crate::domain::Money::parse(&t).map_err(|e| anyhow::anyhow!("--virement-approval-threshold {t:?}: {e}"))?;
        crate::storage::controls::set_virement_threshold(store, amount, "configuration").await?;
    }
    store_rag_rule(store, rag_amber_pct, rag_red_pct).await?;
    if demo && reference::setting(store, "demo_loaded").await?.is_none() {
        refuse_demo_over_records(store).await?;
        crate::fixtures::load_demo(store).await?;
        let mut db_tx = store.begin().await?;
        reference::set_setting_in(&mut db_tx, "demo_loaded", "true", "configuration").await?;
        db_tx.commit().await?;
        tracing::info!("loaded the illustrative demo data");
    }
    bootstrap_admin(store, env_secret).await?;
    let state = AppState::new(store.clone()).with_trusted_proxies(http::throttle::TrustedProxies::new(trusted_proxies));
    http::serve(state, &bind, public_url).await?;
    Ok(())
}

/// The demo's illustrative projects and spend go only into a ledger that holds nothing of
/// its own: entries are never deleted, so mixed into real records they would stay for good.
async fn refuse_demo_over_records(store: &Store) -> anyhow::Result<()> {
    let (projects, entries) = reference::own_records(store).await?;
    anyhow::ensure!(
        projects == 0 && entries == 0,
        "--demo refused: this ledger already holds {projects} project(s) and {entries} entry(ies) of its own. \
         The illustrative demo data would mix with them, and entries can never be deleted. \
         Run the demo on an empty database instead, e.g. --database-url sqlite://demo.db"
    );
    Ok(())
}

/// Stores RAG thresholds given to `serve`, after checking them; absent ones keep what is stored.
async fn store_rag_rule(store: &Store, amber: Option<String>, red: Option<String>) -> anyhow::Result<()> {
    if amber.is_none() && red.is_none() {
        return Ok(());
    }
    let current = crate::storage::reports::rag_rule(store).await?;
    let amber = amber.unwrap_or_else(|| current.amber_pct.to_string());
    let red = red.unwrap_or_else(|| current.red_pct.to_string());
    let rule = crate::domain::rag::RagRule::parse(&amber, &red).map_err(|e| anyhow::anyhow!("RAG thresholds: {e}"))?;
    crate::storage::reports::set_rag_rule(store, rule, "configuration").await?;
    tracing::info!(amber = %rule.amber_pct, red = %rule.red_pct, "RAG thresholds stored");
    Ok(())
}

/// The shortest `GRANT_LEDGER_ADMIN_TOKEN` accepted: a shorter secret can be guessed.
pub const ADMIN_TOKEN_LEN_MIN: usize = 32;

/// `GRANT_LEDGER_ADMIN_TOKEN`, if set and not blank; an error saying why when it is too short.
pub fn admin_token_from_env() -> anyhow::Result<Option<String>> {
    token_from_env("GRANT_LEDGER_ADMIN_TOKEN", "admin")
}

/// `GRANT_LEDGER_OPERATOR_TOKEN`, if set and not blank; an error when it is too short, as
/// for the admin's (`ADMIN_TOKEN_LEN_MIN`).
pub fn operator_token_from_env() -> anyhow::Result<Option<String>> {
    token_from_env("GRANT_LEDGER_OPERATOR_TOKEN", "operator")
}

/// The secret in environment variable `var`, if set and not blank, refused when shorter than
/// `ADMIN_TOKEN_LEN_MIN`: a short `role` token can be guessed.
fn token_from_env(var: &str, role: &str) -> anyhow::Result<Option<String>> {
    let Ok(secret) = std::env::var(var) else { return Ok(None) };
    let secret = secret.trim();
    if secret.is_empty() {
        return Ok(None);
    }
    let len = secret.chars().count();
    if len < ADMIN_TOKEN_LEN_MIN {
        anyhow::bail!(
            "{var} has {len} character(s); it must have at least {ADMIN_TOKEN_LEN_MIN}, \
             because a short {role} token can be guessed. Generate one with `openssl rand -hex 32`."
        );
    }
    Ok(Some(secret.to_owned()))
}

/// `GRANT_LEDGER_OPERATOR_TOKEN` becomes a valid operator token, unless that secret was revoked.
pub(super) async fn bootstrap_operator(store: &Store, secret: &str) -> anyhow::Result<()> {
    let name = "operator (GRANT_LEDGER_OPERATOR_TOKEN)";
    let ensured = tokens::ensure_secret(store, name, tokens::Role::Operator, secret, "configuration").await?;
    if ensured == tokens::Ensured::Revoked {
        tracing::warn!(
            "GRANT_LEDGER_OPERATOR_TOKEN names a revoked token: it stays revoked and grants nothing; \
             unset it or set a new secret"
        );
    }
    Ok(())
}

/// `GRANT_LEDGER_ADMIN_TOKEN` becomes a valid admin token, unless that secret was revoked;
/// otherwise a fresh ledger with no token gets one generated and printed once.
pub(super) async fn bootstrap_admin(store: &Store, env_secret: Option<&str>) -> anyhow::Result<()> {
    match env_secret {
        Some(secret) => {
            let name = "admin (GRANT_LEDGER_ADMIN_TOKEN)";
            let ensured = tokens::ensure_secret(store, name, tokens::Role::Admin, secret, "configuration").await?;
            if ensured == tokens::Ensured::Revoked {
                tracing::warn!(
                    "GRANT_LEDGER_ADMIN_TOKEN names a revoked token: it stays revoked and grants nothing; \
                     unset it or set a new secret"
                );
            }
        }
        None if tokens::count(store).await? == 0 => {
            let created =
                tokens::create(store, "admin (generated at first start)", tokens::Role::Admin, "configuration").await?;
            println!("Admin token (shown only this once; keep it safe): {}", created.token);
        }
        None => {}
    }
    Ok(())
}
