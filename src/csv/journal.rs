//! The whole ledger as a plain-text journal for hledger or beancount, so auditors can check
//! it with their own tools. Every entry is written with its date, memo and postings (and a
//! confirmed second invoice with the entry it repeats, `duplicate_of`), signed
//! as the ledger stores them (debit positive). Each writer ends with the balance of every
//! account as the ledger holds it: beancount `balance` directives, which `bean-check`
//! verifies, and an hledger comment block (hledger prints its own with `bal`). Both end
//! with the chain heads the file vouches for, as `;` comments both tools ignore
//! (`domain::anchor`; `grant-ledger verify --against FILE` checks them).
//!
//! Account names:
//! - hledger takes the ledger's names unchanged: `spent:LDF:2023-24:P1`.
//! - beancount needs a root of Assets, Liabilities, Equity, Income or Expenses, and every
//!   component starting with a capital letter or digit. `beancount_account` maps:
//!   `awarded` → `Assets:Awarded`, `unallocated` → `Equity:Unallocated`,
//!   `available` → `Liabilities:Available`, `committed` → `Liabilities:Committed`,
//!   `spent` → `Expenses:Spent`, `returned` → `Equity:Returned`, `carried` → `Equity:Carried`,
//!   and the cash side (docs/cash.md): `cash` → `Assets:Cash`, `received` → `Income:Received`,
//!   `owed` → `Liabilities:Owed`, `claimed` → `Equity:Claimed`;
//!   the year `2023-24` becomes `FY2023-24`; a grant or project code that is not a valid
//!   component (e.g. lower case or with `_`), or that starts with `X-`, becomes `X-` and the
//!   upper-case hex of its bytes, so the mapping never merges two accounts.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::domain::anchor::Anchor;
use crate::domain::{Account, AccountKind, Money};
use crate::model::exports::JournalEntry;

crate::domain::words::word_set!(
    /// A journal's plain-text accounting format.
    Format, "journal format", { Hledger => "hledger", Beancount => "beancount" }
);

pub fn write(
    format: Format,
    title: &str,
    entries: &[JournalEntry],
    balances: &[(String, Money)],
    anchors: &[Anchor],
) -> String {
    let mut out = match format {
        Format::Hledger => hledger(title, entries, balances),
        Format::Beancount => beancount(title, entries, balances),
    };
    // A comment in both formats; the anchors are plain ASCII without newlines.
    out.push_str(
        "
; the chain heads this file vouches for: `grant-ledger verify --against FILE` proves the
",
    );
    out.push_str(
        "; ledger still holds each of them
",
    );
    for a in anchors {
        let _ = writeln!(out, "; {a}");
    }
    out
}

/// One line of free text, safe in either tool: no control characters, no comment marker
/// for hledger, no unescaped quote for beancount.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

fn describe(e: &JournalEntry) -> String {
    let memo = one_line(&e.memo);
    if memo.is_empty() { e.kind.clone() } else { memo }
}

fn hledger(title: &str, entries: &[JournalEntry], balances: &[(String, Money)]) -> String {
    let mut out = String::with_capacity(entries.len() * 160 + 1024);
    let _ = writeln!(out, "; {}", one_line(title));
    out.push_str("; exported by grant-ledger: amounts in GBP, debit positive, credit negative\n");
    out.push_str("commodity 1000.00 GBP\n");
    for (account, _) in balances {
        let _ = writeln!(out, "account {account}");
    }
    for e in entries {
        // `;` starts a comment in an hledger description.
        let text = describe(e).replace(';', ",");
        let _ = write!(out, "\n{} * ({}) {}  ; entry:{}, kind:{}", e.date, e.id, text, e.id, e.kind);
        // A confirmed second invoice says which entry it repeats, as a tag.
        if let Some(of) = e.duplicate_of {
            let _ = write!(out, ", duplicate_of:{of}");
        }
        out.push('\n');
        for (account, amount) in &e.postings {
            let _ = writeln!(out, "    {account}  {amount} GBP");
        }
    }
    out.push_str("\n; balances as the ledger holds them:\n");
    for (account, amount) in balances {
        let _ = writeln!(out, "; {account}  {amount} GBP");
    }
    out
}

/// A beancount account component: kept when valid, otherwise encoded (see the module doc).
fn component(code: &str) -> String {
    let valid = code.as_bytes().first().is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !code.starts_with("X-");
    if valid { code.to_owned() } else { format!("X-{}", hex::encode_upper(code.as_bytes())) }
}

/// The beancount name of one of the ledger's accounts.
pub fn beancount_account(name: &str) -> String {
    let Some(a) = Account::parse(name) else {
        // Every stored account parses (verify checks it); keep a stray one visible, valid.
        return format!("Equity:Unknown:{}", component(name));
    };
    let root = match a.kind {
        AccountKind::Awarded => "Assets:Awarded",
        AccountKind::Unallocated => "Equity:Unallocated",
        AccountKind::Available => "Liabilities:Available",
        AccountKind::Committed => "Liabilities:Committed",
        AccountKind::Spent => "Expenses:Spent",
        AccountKind::Returned => "Equity:Returned",
        AccountKind::Carried => "Equity:Carried",
        AccountKind::Cash => "Assets:Cash",
        AccountKind::Received => "Income:Received",
        AccountKind::Owed => "Liabilities:Owed",
        AccountKind::Claimed => "Equity:Claimed",
    };
    let mut out = format!("{root}:{}:FY{}", component(&a.grant), a.year);
    if let Some(p) = &a.project {
        out.push(':');
        out.push_str(&component(p));
    }
    out
}

fn quoted(text: &str) -> String {
    format!("\"{}\"", one_line(text).replace('\\', "\\\\").replace('"', "\\\""))
}

fn beancount(title: &str, entries: &[JournalEntry], balances: &[(String, Money)]) -> String {
    let mut out = String::with_capacity(entries.len() * 200 + 1024);
    let _ = writeln!(out, "option \"title\" {}", quoted(title));
    out.push_str("option \"operating_currency\" \"GBP\"\n");
    out.push_str("; exported by grant-ledger: amounts in GBP, debit positive, credit negative\n\n");
    // Each account opens on the date of its first posting.
    let mut opened: BTreeMap<&str, &str> = BTreeMap::new();
    for e in entries {
        for (account, _) in &e.postings {
            let first = opened.entry(account.as_str()).or_insert(e.date.as_str());
            if e.date.as_str() < *first {
                *first = e.date.as_str();
            }
        }
    }
    let earliest = opened.values().min().copied().unwrap_or("2000-01-01");
    let _ = writeln!(out, "{earliest} commodity GBP");
    for (account, date) in &opened {
        let _ = writeln!(out, "{date} open {} GBP", beancount_account(account));
    }
    for e in entries {
        let _ = writeln!(out, "\n{} * {}", e.date, quoted(&describe(e)));
        let _ = writeln!(out, "  entry: {}", e.id);
        let _ = writeln!(out, "  kind: {}", quoted(&e.kind));
        if let Some(of) = e.duplicate_of {
            let _ = writeln!(out, "  duplicate_of: {of}");
        }
        for (account, amount) in &e.postings {
            let _ = writeln!(out, "  {}  {amount} GBP", beancount_account(account));
        }
    }
    // A balance directive holds at the start of its day: date it after the last entry.
    let last = entries.iter().map(|e| e.date.as_str()).max();
    if let Some(day_after) = last.and_then(crate::domain::parse_date).and_then(|d| d.succ_opt()) {
        out.push('\n');
        for (account, amount) in balances {
            if opened.contains_key(account.as_str()) {
                // `~ 0.00`: no tolerance. By default beancount lets a balance be a penny out.
                let _ = writeln!(out, "{day_after} balance {}  {amount} ~ 0.00 GBP", beancount_account(account));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beancount_names_are_valid_and_distinct() {
        for (ours, theirs) in [
            ("spent:LDF:2023-24:P1", "Expenses:Spent:LDF:FY2023-24:P1"),
            ("awarded:ASB-EI:2022-23", "Assets:Awarded:ASB-EI:FY2022-23"),
            ("available:LDF:2023-24:p_1", "Liabilities:Available:LDF:FY2023-24:X-705F31"),
            ("available:LDF:2023-24:X-1", "Liabilities:Available:LDF:FY2023-24:X-582D31"),
            ("unallocated:ldf:2023-24", "Equity:Unallocated:X-6C6466:FY2023-24"),
        ] {
            assert_eq!(beancount_account(ours), theirs);
        }
    }

    #[test]
    fn text_is_one_line_and_quoted_safely() {
        assert_eq!(quoted("a \"b\" \\ c\nd"), "\"a \\\"b\\\" \\\\ c d\"");
        let e = JournalEntry {
            id: 7,
            kind: "spend".into(),
            date: "2023-05-01".into(),
            memo: "tea; biscuits\n".into(),
            reverses: None,
            duplicate_of: None,
            postings: vec![
                ("available:LDF:2023-24:P1".into(), Money::from_pence(150)),
                ("spent:LDF:2023-24:P1".into(), Money::from_pence(-150)),
            ],
        };
        let text = hledger("t", std::slice::from_ref(&e), &[]);
        assert!(text.contains("2023-05-01 * (7) tea, biscuits  ; entry:7, kind:spend\n"), "{text}");
        assert!(text.contains("    spent:LDF:2023-24:P1  -1.50 GBP\n"), "{text}");
    }
}
