//! `grant-ledger verify`: every rule, balance and hash chain checked; `--against` a journal's
//! chain heads; `--seal` to bring a ledger under the chain key.

use crate::storage::Store;

/// `grant-ledger verify [--against FILE] [--seal]`: the exit code is 0 only when nothing
/// is wrong; what could not be checked is said on standard error either way.
pub async fn run(store: &Store, against: Option<&std::path::Path>, seal: bool) -> anyhow::Result<i32> {
    use crate::storage::{anchors, chain_key, sealing, verify};
    let key = chain_key::installed();
    if seal {
        let key = key.ok_or_else(|| anyhow::anyhow!("--seal needs the chain key in {}", chain_key::ENV))?;
        let problems = sealing::seal(store, key).await?;
        for p in &problems {
            println!("{p}");
        }
        if !problems.is_empty() {
            eprintln!("{} problem(s) found: nothing was sealed", problems.len());
            return Ok(1);
        }
        println!("every chain head is sealed with the chain key");
        return Ok(0);
    }
    let mut report = match against {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--against {}: {e}", path.display()))?;
            let vouched = crate::domain::anchor::parse(&text)
                .map_err(|e| anyhow::anyhow!("--against {}: {e}", path.display()))?;
            if vouched.is_empty() {
                anyhow::bail!("--against {}: the file carries no chain heads", path.display());
            }
            anchors::check_against(store, &vouched, key).await?
        }
        None => verify::report(store, key).await?,
    };
    // Every filed return still matches its bytes, its audit record and the ledger at its position.
    report.problems.extend(crate::reports::filing::verify(store).await?);
    for note in &report.notes {
        eprintln!("note: {note}");
    }
    if report.problems.is_empty() {
        let what = match against {
            Some(path) => format!(", and it still holds every chain head {} vouched for", path.display()),
            None => String::new(),
        };
        println!("ledger verified: every entry balances, every balance equals its postings, every rule holds{what}");
        Ok(0)
    } else {
        for p in &report.problems {
            println!("{p}");
        }
        eprintln!("{} problem(s) found", report.problems.len());
        Ok(1)
    }
}
