//! Thin: parse the command line, start tracing, run the subcommand.

use std::io::IsTerminal;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // RUST_LOG overrides; info shows requests and start-up without flooding a terminal.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal: a log file or journal gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        // A log line that cannot be written (stderr closed) is dropped: reporting that on
        // stderr too would panic, and the panic guard's own log line would drop the request.
        .log_internal_errors(false)
        .init();
    let cli = grant_ledger::cli::Cli::parse();
    let code = grant_ledger::cli::run(cli).await?;
    std::process::exit(code);
}
