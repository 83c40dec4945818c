//! A test that the crate's top-level modules form layers, each naming only those below it:
//!
//! 0. `domain`: the pure core, names nothing else.
//! 1. `model`: commands and records shared by everything above; names only `domain`.
//! 2. `storage`: runs the commands and answers the records.
//! 3. `reports`, `csv`, `fixtures`: read and write through storage (reports and csv are also
//!    used by http, fixtures by cli); none names another.
//! 4. `http`: the API and pages, over storage, reports and csv.
//! 5. `cli`: every subcommand, one file per command group under `src/cli/`, serving http and
//!    loading the fixtures.
//! 6. `main`: the binary, naming `cli` only.
//!
//! A file names a module through `crate::NAME` (grouped `crate::{…}` included) or through
//! enough `super::` to reach the crate root. Two modules of one layer may not name each other
//! either, so the crate has no module cycles (storage's and cli's own modules: `module_cycles`).
//! A type a lower layer needs goes down (into `model` or `domain`), not the rule up.

use std::fs;
use std::path::{Path, PathBuf};

/// The layer of each top-level module; `lib.rs` only declares them (and this file, a test,
/// only quotes them).
const LAYERS: &[(&str, usize)] = &[
    ("domain", 0),
    ("model", 1),
    ("storage", 2),
    ("reports", 3),
    ("csv", 3),
    ("fixtures", 3),
    ("http", 4),
    ("cli", 5),
    ("main", 6),
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// Every `.rs` file under `dir`, in a stable order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for item in fs::read_dir(dir).expect("a source directory is readable") {
        let path = item.expect("a directory entry").path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// A file's module path below the crate root: `src/storage/reference/awards.rs` is
/// `[storage, reference, awards]`, `src/storage/mod.rs` and `src/storage.rs` are `[storage]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" {
            parts.push(stem.to_owned());
        }
    }
    parts
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The top-level modules `text` names, each with its line (from 1). `depth` is how many
/// `super::` reach the crate root from this file.
fn named(text: &str, depth: usize) -> Vec<(String, usize)> {
    // Line comments out, line breaks kept, so a word in a doc comment is not a use.
    let text: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let line_of = |at: usize| text[..at].matches('\n').count() + 1;
    let mut out = Vec::new();
    // The module right after the prefix ending at `from`, or the head of each item of a group.
    let mut heads = |from: usize| {
        let rest = &text[from..];
        let Some(group) = rest.strip_prefix('{') else {
            out.push((ident(rest).to_owned(), line_of(from)));
            return;
        };
        let (mut level, mut start) = (0usize, 0usize);
        for (i, c) in group.char_indices() {
            match c {
                '{' => level += 1,
                '}' if level > 0 => level -= 1,
                '}' | ',' if level == 0 => {
                    let item = &group[start..i];
                    let lead = item.len() - item.trim_start().len();
                    let name = ident(item.trim_start());
                    if !name.is_empty() {
                        out.push((name.to_owned(), line_of(from + 1 + start + lead)));
                    }
                    if c == '}' {
                        break;
                    }
                    start = i + 1;
                }
                _ => {}
            }
        }
    };
    for (at, _) in text.match_indices("crate::") {
        // `grant_ledger::crate_x` or `my_crate::` are not the crate root.
        if text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        heads(at + "crate::".len());
    }
    if depth > 0 {
        let up = "super::".repeat(depth);
        for (at, _) in text.match_indices(&up) {
            // Only a chain of exactly `depth`: a longer one is counted from its own start.
            if text[..at].ends_with("super::") || text[at + up.len()..].starts_with("super::") {
                continue;
            }
            heads(at + up.len());
        }
    }
    out
}

/// Every use of a module of a higher layer, or of another module of the same layer, as
/// `file:line: module (layer) names other (layer)`.
fn violations(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for path in files(src) {
        let rel = path.strip_prefix(src).expect("a file under src");
        let module = module_path(rel);
        let Some(own) = module.first() else { continue };
        let Some(own_layer) = layer(own) else {
            // `lib` declares every module; these tests quote them.
            if own != "lib" && own != "layers" && own != "module_cycles" {
                found.push(format!("{}: {own} is in no layer; add it to LAYERS", rel.display()));
            }
            continue;
        };
        let text = fs::read_to_string(&path).expect("a source file is readable");
        for (name, line) in named(&text, module.len()) {
            let Some(other_layer) = layer(&name) else { continue };
            if name != *own && other_layer >= own_layer {
                found.push(format!(
                    "src/{}:{line}: {own} (layer {own_layer}) names {name} (layer {other_layer})",
                    rel.display()
                ));
            }
        }
    }
    found
}

#[test]
fn each_layer_names_only_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    // The files are read: storage names model, and http names storage.
    let http = named(&fs::read_to_string(src.join("http/mod.rs")).unwrap(), 1);
    assert!(http.iter().any(|(n, _)| n == "storage"), "http/mod.rs is read: {http:?}");
    let found = violations(&src);
    assert!(found.is_empty(), "a lower layer names a higher one:\n{}", found.join("\n"));
}

#[test]
fn uses_are_found_with_their_lines() {
    let text = "use crate::domain::Money;\n// crate::http in a comment\nuse crate::{model::Actor,\n    storage::Store};\nfn f() { super::super::reports::run(); super::super::super::cli::x(); }\n";
    let at = |depth| named(text, depth);
    assert_eq!(
        at(2),
        [("domain".into(), 1), ("model".into(), 3), ("storage".into(), 4), ("reports".into(), 5)]
            as [(String, usize); 4]
    );
    assert!(at(3).iter().any(|(n, l)| n == "cli" && *l == 5), "three supers from depth 3: {:?}", at(3));
    assert_eq!(module_path(Path::new("storage/reference/awards.rs")), ["storage", "reference", "awards"]);
    assert_eq!(module_path(Path::new("storage/mod.rs")), ["storage"]);
    assert_eq!(module_path(Path::new("model.rs")), ["model"]);
}
