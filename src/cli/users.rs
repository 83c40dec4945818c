//! `grant-ledger user`: add, list, disable and reset the password of the people who sign in
//! to the pages. Whoever runs it holds the database itself, so it acts as the ledger's
//! operator, and each change is written to the audit trail as coming from the command line.
//! A password is prompted for (not echoed) or read from standard input, never taken as an
//! argument, where it would sit in the shell's history and the process list.

use std::io::{BufRead, IsTerminal, Write};

use clap::Subcommand;

use super::body::{Body, stored};
use crate::model::users::{NewUserCmd, Password};
use crate::storage::{Store, StoreError, users};

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Add a user. `--role admin` makes the first person who can add the others. As
    /// `POST /api/v1/users`: its flags are that body's fields but the password, which is
    /// never a flag's value.
    Add {
        /// Letters, digits, '-' and '_'; stored case-folded.
        username: String,
        #[command(flatten)]
        body: Body<NewUserCmd>,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every user, live and disabled.
    List,
    /// Disable a user: they cannot sign in, and their sessions end at once.
    Disable {
        /// The user's username (any case).
        username: String,
    },
    /// Set a user's password; their sessions end.
    ResetPassword {
        /// The user's username (any case).
        username: String,
        /// Read the password from the first line of standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The password from standard input's first line, or asked for twice on the terminal with
/// echo off.
fn read_password(from_stdin: bool) -> anyhow::Result<Password> {
    let stdin = std::io::stdin();
    if from_stdin || !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(Password(line.trim_end_matches(['\n', '\r']).to_owned()));
    }
    let ask = |prompt: &str| -> anyhow::Result<String> {
        eprint!("{prompt}");
        std::io::stderr().flush()?;
        let echo_off = std::process::Command::new("stty").arg("-echo").stdin(std::fs::File::open("/dev/tty")?).status();
        let mut line = String::new();
        let read = stdin.lock().read_line(&mut line);
        if echo_off.is_ok_and(|s| s.success()) {
            let _ = std::process::Command::new("stty").arg("echo").stdin(std::fs::File::open("/dev/tty")?).status();
        }
        eprintln!();
        read?;
        Ok(line.trim_end_matches(['\n', '\r']).to_owned())
    };
    let first = ask("Password: ")?;
    if ask("Password again: ")? != first {
        anyhow::bail!("the two passwords differ");
    }
    Ok(Password(first))
}

/// A store refusal naming its field, as the command line says it.
fn said(e: StoreError) -> anyhow::Error {
    match e {
        StoreError::Invalid { field, message } => anyhow::anyhow!("{field}: {message}"),
        e => e.into(),
    }
}

pub async fn run(store: &Store, action: UserAction) -> anyhow::Result<i32> {
    match action {
        UserAction::Add { username, body, password_stdin } => {
            let password = read_password(password_stdin)?;
            let body = match body.has("display_name") {
                true => body,
                false => body.with("display_name", username.clone()),
            };
            let cmd = body.with("username", username).with("password", password.0).read()?;
            let added = users::add(store, &cmd, "command line (user add)").await.map_err(stored::<NewUserCmd>)?;
            eprintln!("user {} ({}) added", added.username, added.role.as_str());
        }
        UserAction::List => {
            println!("{:<24}  {:<8}  {:<20}  {:<20}  display name", "username", "role", "created_at", "disabled_at");
            for u in users::list(store).await? {
                let disabled = u.disabled_at.as_deref().unwrap_or("");
                println!(
                    "{:<24}  {:<8}  {:<20}  {:<20}  {}",
                    u.username,
                    u.role.as_str(),
                    u.created_at,
                    disabled,
                    u.display_name
                );
            }
        }
        UserAction::Disable { username } => {
            users::disable(store, &username, "command line (user disable)").await.map_err(said)?;
            eprintln!("user {username} disabled; their sessions have ended");
        }
        UserAction::ResetPassword { username, password_stdin } => {
            let password = read_password(password_stdin)?;
            users::reset_password(store, &username, &password, "command line (user reset-password)")
                .await
                .map_err(said)?;
            eprintln!("password of {username} reset; their sessions have ended");
        }
    }
    Ok(0)
}
