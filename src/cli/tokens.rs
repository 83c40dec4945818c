//! `grant-ledger token`: create, list and revoke bearer tokens from the command line. Whoever
//! runs it holds the database itself, so it acts as the ledger's operator, and each change
//! is written to the audit trail as coming from the command line.

use clap::Subcommand;

use super::body::Body;
use crate::model::page::PAGE_LIMIT_MAX;
use crate::model::tokens::TokenCmd;
use crate::storage::Store;
use crate::storage::tokens;

#[derive(Subcommand, Debug)]
pub enum TokenAction {
    /// Create a token and print its secret, once. As `POST /api/v1/tokens`: its flags are
    /// that body's fields.
    Create {
        #[command(flatten)]
        body: Body<TokenCmd>,
    },
    /// List every token (live and revoked) without its secret.
    List,
    /// Revoke a live token by its id: it is refused from then on.
    Revoke {
        /// The token's id, as `token list` shows it.
        id: i64,
    },
}

pub async fn run(store: &Store, action: TokenAction) -> anyhow::Result<i32> {
    match action {
        TokenAction::Create { body } => {
            let TokenCmd { name, role } = body.read()?;
            let created = tokens::create(store, &name, role, "command line (token create)").await?;
            println!("{}", created.token);
            eprintln!(
                "token {} for {} ({}) created; the secret above is shown only this once",
                created.id,
                name,
                role.as_str()
            );
        }
        TokenAction::List => {
            let mut after = 0;
            println!("{:>5}  {:<8}  {:<20}  {:<20}  name", "id", "role", "created_at", "revoked_at");
            loop {
                let page = tokens::list(store, after, PAGE_LIMIT_MAX).await?;
                for t in &page.items {
                    let revoked = t.revoked_at.as_deref().unwrap_or("");
                    println!("{:>5}  {:<8}  {:<20}  {:<20}  {}", t.id, t.role.as_str(), t.created_at, revoked, t.name);
                    after = t.id;
                }
                if page.next_cursor.is_none() {
                    break;
                }
            }
        }
        TokenAction::Revoke { id } => {
            tokens::revoke(store, id, "command line (token revoke)").await?;
            eprintln!("token {id} revoked");
        }
    }
    Ok(0)
}
