//! Chain heads anchored outside the database. Every journal export (and, later, every filed
//! return) carries one line per chain: which chain, how many links it had, the newest
//! link's id and its hash. `grant-ledger verify --against FILE` reads them back and proves
//! the ledger still holds each: a ledger that lost its newest entries, with balances and
//! head fixed up, still contradicts every copy of the file sent before.
//!
//! The line is `grant-ledger-anchor v1 award grant=LDF year=2023-24 entries=57 newest=123 head=ab…`
//! or `grant-ledger-anchor v1 audit records=40 newest=40 head=cd…`, after whatever comment
//! marker the file's format uses (`;` in hledger and beancount), so the tools ignore it.

/// What starts every anchor, after the comment marker.
pub const MARK: &str = "grant-ledger-anchor v1";

/// One chain head a file vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// An award's chain of entries.
    Award { grant: String, year: String, entries: i64, newest: i64, head: String },
    /// The audit trail's chain (its chained records only).
    Audit { records: i64, newest: i64, head: String },
}

impl std::fmt::Display for Anchor {
    /// The anchor line, without a comment marker.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Anchor::Award { grant, year, entries, newest, head } => {
                write!(f, "{MARK} award grant={grant} year={year} entries={entries} newest={newest} head={head}")
            }
            Anchor::Audit { records, newest, head } => {
                write!(f, "{MARK} audit records={records} newest={newest} head={head}")
            }
        }
    }
}

/// Every anchor in `text`, in order; an error names the first malformed anchor line. Lines
/// without the mark are ignored, whatever their comment marker.
pub fn parse(text: &str) -> Result<Vec<Anchor>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARK) else { continue };
        let rest = &line[at + MARK.len()..];
        out.push(parse_one(rest).ok_or_else(|| format!("line {}: malformed anchor: {}", i + 1, line.trim()))?);
    }
    Ok(out)
}

fn parse_one(rest: &str) -> Option<Anchor> {
    let mut words = rest.split_whitespace();
    let chain = words.next()?;
    let fields: std::collections::HashMap<&str, &str> = words.map(|w| w.split_once('=')).collect::<Option<_>>()?;
    let get = |k: &str| fields.get(k).copied();
    let number = |k: &str| get(k)?.parse::<i64>().ok().filter(|n| *n >= 0);
    let head = get("head")?;
    if !head.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match chain {
        "award" => Some(Anchor::Award {
            grant: get("grant").filter(|g| !g.is_empty())?.to_owned(),
            year: get("year").filter(|y| !y.is_empty())?.to_owned(),
            entries: number("entries")?,
            newest: number("newest")?,
            head: head.to_owned(),
        }),
        "audit" => {
            Some(Anchor::Audit { records: number("records")?, newest: number("newest")?, head: head.to_owned() })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_read_back_what_was_written() {
        let anchors = vec![
            Anchor::Award { grant: "LDF".into(), year: "2023-24".into(), entries: 3, newest: 9, head: "ab12".into() },
            Anchor::Audit { records: 4, newest: 7, head: String::new() },
        ];
        let text: String = anchors.iter().map(|a| format!("; {a}\n")).collect();
        let file = format!("2023-05-01 * x\n    a  1 GBP\n{text}; an ordinary comment\n");
        assert_eq!(parse(&file).unwrap(), anchors);
    }

    #[test]
    fn a_malformed_anchor_is_refused_with_its_line() {
        for bad in [
            "; grant-ledger-anchor v1 award grant=LDF year=2023-24 entries=x newest=9 head=ab",
            "; grant-ledger-anchor v1 award grant=LDF entries=1 newest=9 head=ab",
            "; grant-ledger-anchor v1 audit records=1 newest=2 head=zz",
            "; grant-ledger-anchor v1 award grant=LDF year=2023-24 entries=-1 newest=9 head=ab",
            "; grant-ledger-anchor v1 vault records=1 newest=2 head=ab",
        ] {
            let err = parse(&format!("; title\n{bad}\n")).unwrap_err();
            assert!(err.starts_with("line 2: malformed anchor"), "{bad}: {err}");
        }
        assert!(parse("; nothing here\n").unwrap().is_empty());
    }
}
