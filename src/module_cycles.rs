//! A test that a module's own modules name each other without a cycle, for the two layers
//! made of many: `storage` and `cli`. For each module of `src/storage` (a file, or a
//! directory with its `mod.rs`), the sibling modules it names through `super::NAME` (from a
//! file one level down, `super::super::NAME`) or `crate::storage::NAME`, grouped `use`s
//! included; the graph of those names must be acyclic. The same holds for `src/cli`, where
//! `mod.rs` runs every command group, so no command group names an item of `mod.rs` either.
//! `returns`, `funder` and `agreements` sign in through `controls`, so it cannot name them back.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Every module of `dir` and the text of its files, by module name.
fn modules(dir: &Path) -> BTreeMap<String, Vec<(String, usize)>> {
    let mut out: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for item in fs::read_dir(dir).expect("a source directory is readable") {
        let path = item.expect("a directory entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 name").to_owned();
        if path.is_dir() {
            for inner in fs::read_dir(&path).expect("a source subdirectory is readable") {
                let inner = inner.expect("a directory entry").path();
                if inner.extension().is_some_and(|e| e == "rs") {
                    // `mod.rs` sits at the module's own level; its siblings one level down.
                    let depth = if inner.file_name().is_some_and(|f| f == "mod.rs") { 1 } else { 2 };
                    out.entry(name.clone()).or_default().push((read(&inner), depth));
                }
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "mod" {
            out.entry(name).or_default().push((read(&path), 1));
        }
    }
    out
}

/// A file's text without its line comments, so words in docs are not counted.
fn read(path: &Path) -> String {
    let text = fs::read_to_string(path).expect("a source file is readable");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The names right after each `prefix`: one, or the head of each item of a `{...}` group.
fn named_after(text: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in text.match_indices(prefix) {
        // `super::super::x` seen from a file one level down is not also `super::super`.
        if prefix.starts_with("super") && text[..at].ends_with("super::") {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut start) = (0usize, 0usize);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        names.push(ident(group[start..i].trim()).to_owned());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        names.push(ident(group[start..i].trim()).to_owned());
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            names.push(ident(rest).to_owned());
        }
    }
    names
}

/// What each module of `src/{parent}` names at the level of `parent`, as its source says:
/// sibling modules, and items of the parent's `mod.rs`.
fn named(src: &Path, parent: &str) -> BTreeMap<String, BTreeSet<String>> {
    let from_root = format!("crate::{parent}::");
    modules(&src.join(parent))
        .into_iter()
        .map(|(name, files)| {
            let mut uses = BTreeSet::new();
            for (text, depth) in &files {
                let up = "super::".repeat(*depth);
                for n in named_after(text, &up).into_iter().chain(named_after(text, &from_root)) {
                    // `super::*`, a trailing comma, or a path that climbs further up.
                    if !n.is_empty() && n != "super" && n != name {
                        uses.insert(n);
                    }
                }
            }
            (name, uses)
        })
        .collect()
}

/// Each module's sibling modules, out of what it names.
fn graph(named: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    named
        .iter()
        .map(|(name, uses)| (name.clone(), uses.iter().filter(|n| named.contains_key(*n)).cloned().collect()))
        .collect()
}

/// A cycle of the graph, named from its first module back to it, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut found = path[i..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, done, path) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn storage_has_no_module_cycles() {
    let g = graph(&named(&src(), "storage"));
    // Read from a file (entries) and from a file one level down (reference/awards.rs).
    assert!(g.contains_key("entries") && g["entries"].contains("lookups"), "the graph is read: {g:?}");
    assert!(g.contains_key("reference") && g["reference"].contains("entries"), "the graph is read: {g:?}");
    if let Some(c) = cycle(&g) {
        panic!("storage has a module cycle: {}", c.join(" -> "));
    }
}

#[test]
fn cli_has_no_module_cycles_and_its_groups_stay_below_mod_rs() {
    let named = named(&src(), "cli");
    let g = graph(&named);
    assert!(g.contains_key("agreements") && g["agreements"].contains("controls"), "the graph is read: {g:?}");
    if let Some(c) = cycle(&g) {
        panic!("cli has a module cycle: {}", c.join(" -> "));
    }
    let up: Vec<String> = named
        .iter()
        .flat_map(|(name, uses)| {
            uses.iter()
                .filter(|n| !g.contains_key(*n))
                .map(move |n| format!("cli::{name} names {n}, an item of src/cli/mod.rs"))
        })
        .collect();
    assert!(up.is_empty(), "cli/mod.rs runs every command group, so none names it:\n{}", up.join("\n"));
}

#[test]
fn a_cycle_is_found_and_named() {
    let g: BTreeMap<String, BTreeSet<String>> = [("a", vec!["b"]), ("b", vec!["c"]), ("c", vec!["a"])]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
    assert_eq!(cycle(&g), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let grouped = named_after("use super::{audit::{self, Change}, rows, DbTx};\nsuper::entries::post_in", "super::");
    assert_eq!(grouped, ["audit", "rows", "DbTx", "entries"]);
}
