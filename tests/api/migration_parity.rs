//! The two migration trees describe one schema. Each backend is migrated fresh and read back
//! from its own catalogue: tables, columns (types mapped to what both store: text, integer,
//! bytes), primary keys, unique constraints, foreign keys, check constraints (by the columns
//! and literals they name, since each backend prints its expressions its own way), named
//! indexes (columns, uniqueness, whether partial) and triggers (table, timing, event). Any
//! difference fails the test, naming the table and what differs, so a migration written for
//! one backend alone cannot land.
//!
//! Column defaults and trigger bodies are not compared: their text differs by dialect.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use sqlx::{Connection, Row};

use crate::support::{Backend, TestDb};

/// One backend's schema as both can state it.
#[derive(Debug, Default, PartialEq)]
struct Table {
    /// name → (mapped type, not null)
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    uniques: BTreeSet<Vec<String>>,
    /// (columns, referenced table, referenced columns)
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>)>,
    /// (columns named, string literals, number literals), sorted
    checks: BTreeSet<String>,
    /// name → (columns, unique, partial)
    indexes: BTreeMap<String, (Vec<String>, bool, bool)>,
    /// (timing, event)
    triggers: BTreeSet<(String, String)>,
}

type Schema = BTreeMap<String, Table>;

/// A foreign key as SQLite lists it: its columns, the target, and the target's columns
/// (none where it names the target's primary key).
type SqliteForeignKey = (Vec<String>, String, Vec<Option<String>>);

/// A one-sided change the comparison must name.
type Change = (&'static str, fn(&mut Table));

fn map_type(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" | "character varying" | "varchar" => "text",
        "integer" | "bigint" | "smallint" | "int" | "int8" | "int4" => "integer",
        "blob" | "bytea" => "bytes",
        other => return format!("unmapped:{other}"),
    }
    .to_owned()
}

fn split_list(list: &str) -> Vec<String> {
    list.split(',').map(|c| c.trim().trim_matches('"').to_owned()).filter(|c| !c.is_empty()).collect()
}

/// A check expression reduced to what both dialects keep: the table's columns it names and
/// its literals. `status in ('open', 'closed')` and PostgreSQL's
/// `CHECK ((status = ANY (ARRAY['open'::text, 'closed'::text])))` both become
/// `status | 'closed','open' | `.
fn check_key(expr: &str, columns: &BTreeMap<String, (String, bool)>) -> String {
    let strings = Regex::new(r"'((?:[^']|'')*)'").unwrap();
    let mut literals: Vec<String> = strings.captures_iter(expr).map(|c| format!("'{}'", &c[1])).collect();
    literals.sort();
    literals.dedup();
    let rest = strings.replace_all(expr, " ");
    let words = Regex::new(r"[A-Za-z_][A-Za-z0-9_]*|\b\d+\b").unwrap();
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for w in words.find_iter(&rest) {
        let w = w.as_str();
        if w.chars().all(|c| c.is_ascii_digit()) {
            numbers.insert(w.to_owned());
        } else if columns.contains_key(&w.to_ascii_lowercase()) {
            names.insert(w.to_ascii_lowercase());
        }
    }
    format!(
        "{} | {} | {}",
        names.into_iter().collect::<Vec<_>>().join(","),
        literals.join(","),
        numbers.into_iter().collect::<Vec<_>>().join(",")
    )
}

/// The `check (…)` expressions of a `create table` statement, comments removed.
fn sqlite_checks(sql: &str) -> Vec<String> {
    let text: String = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find("check") {
        let start = from + at;
        let Some(open) = lower[start..].find('(').map(|o| start + o) else { break };
        let mut depth = 0;
        let mut end = open;
        for (i, c) in text[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push(text[open + 1..end].to_owned());
        from = end.max(open + 1);
    }
    out
}

async fn sqlite_schema(url: &str) -> Schema {
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("opening the SQLite ledger");
    let tables = sqlx::query(
        "select name, sql from sqlite_master where type = 'table'
         and name not like 'sqlite_%' and name <> '_sqlx_migrations' order by name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for row in tables {
        let name: String = row.get("name");
        let sql: String = row.get("sql");
        let mut t = Table::default();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in sqlx::query("select name, type, \"notnull\" as nn, pk from pragma_table_info($1)")
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            let col: String = c.get("name");
            let pk_pos: i64 = c.get("pk");
            let not_null: i64 = c.get("nn");
            if pk_pos > 0 {
                pk.push((pk_pos, col.clone()));
            }
            t.columns.insert(col, (map_type(c.get::<String, _>("type").as_str()), not_null == 1 || pk_pos > 0));
        }
        pk.sort();
        t.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        for i in sqlx::query("select name, \"unique\" as u, origin, partial from pragma_index_list($1)")
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            let index: String = i.get("name");
            let origin: String = i.get("origin");
            let cols: Vec<String> = sqlx::query("select name from pragma_index_info($1) order by seqno")
                .bind(&index)
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get("name"))
                .collect();
            match origin.as_str() {
                "u" => {
                    t.uniques.insert(cols);
                }
                "pk" => {}
                _ => {
                    let unique: i64 = i.get("u");
                    let partial: i64 = i.get("partial");
                    t.indexes.insert(index, (cols, unique == 1, partial == 1));
                }
            }
        }
        let mut fks: BTreeMap<i64, SqliteForeignKey> = BTreeMap::new();
        for f in sqlx::query("select id, seq, \"table\" as target, \"from\" as src, \"to\" as dst from pragma_foreign_key_list($1) order by id, seq")
            .bind(&name)
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            let e = fks.entry(f.get("id")).or_insert_with(|| (Vec::new(), f.get("target"), Vec::new()));
            e.0.push(f.get("src"));
            e.2.push(f.get("dst"));
        }
        for (_, (from, target, to)) in fks {
            // A reference without columns names the target's primary key.
            let to = if to.iter().all(Option::is_none) {
                sqlx::query("select name from pragma_table_info($1) where pk > 0 order by pk")
                    .bind(&target)
                    .fetch_all(&mut conn)
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get("name"))
                    .collect()
            } else {
                to.into_iter().map(Option::unwrap_or_default).collect()
            };
            t.foreign_keys.insert((from, target, to));
        }
        t.checks = sqlite_checks(&sql).iter().map(|c| check_key(c, &t.columns)).collect();
        schema.insert(name, t);
    }
    let timing = Regex::new(r"(?i)\b(before|after|instead\s+of)\s+(insert|update|delete)\b").unwrap();
    for row in sqlx::query("select tbl_name, sql from sqlite_master where type = 'trigger'")
        .fetch_all(&mut conn)
        .await
        .unwrap()
    {
        let table: String = row.get("tbl_name");
        let sql: String = row.get("sql");
        let c = timing.captures(&sql).unwrap_or_else(|| panic!("a trigger on {table} without timing: {sql}"));
        schema.entry(table).or_default().triggers.insert((c[1].to_ascii_lowercase(), c[2].to_ascii_lowercase()));
    }
    conn.close().await.ok();
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let mut conn = sqlx::PgConnection::connect(url).await.expect("opening the PostgreSQL ledger");
    let tables: Vec<String> = sqlx::query(
        "select table_name::text as name from information_schema.tables where table_schema = 'public'
         and table_type = 'BASE TABLE' and table_name <> '_sqlx_migrations' order by 1",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("name"))
    .collect();
    let constraint = Regex::new(
        r"^(PRIMARY KEY|UNIQUE|FOREIGN KEY) \(([^)]*)\)(?: REFERENCES ([A-Za-z0-9_.]+)\(([^)]*)\))?|^CHECK \((.*)\)$",
    )
    .unwrap();
    let index = Regex::new(r"^CREATE (UNIQUE )?INDEX \S+ ON \S+ USING \w+ \(([^)]*)\)( WHERE .*)?$").unwrap();
    let mut schema = Schema::new();
    for name in tables {
        let mut t = Table::default();
        for c in sqlx::query(
            "select column_name::text as name, data_type::text as ty, is_nullable::text as nullable
             from information_schema.columns where table_schema = 'public' and table_name = $1",
        )
        .bind(&name)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        {
            let nullable: String = c.get("nullable");
            t.columns.insert(c.get("name"), (map_type(c.get::<String, _>("ty").as_str()), nullable == "NO"));
        }
        let mut backing = BTreeSet::new();
        for c in sqlx::query(
            "select conname::text as name, pg_get_constraintdef(oid) as def from pg_constraint
             where conrelid = ('public.' || $1)::regclass",
        )
        .bind(&name)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        {
            let def: String = c.get("def");
            backing.insert(c.get::<String, _>("name"));
            let m = constraint.captures(&def).unwrap_or_else(|| panic!("{name}: a constraint not read: {def}"));
            if let Some(expr) = m.get(5) {
                t.checks.insert(check_key(expr.as_str(), &t.columns));
                continue;
            }
            let cols = split_list(&m[2]);
            match &m[1] {
                "PRIMARY KEY" => t.primary_key = cols,
                "UNIQUE" => {
                    t.uniques.insert(cols);
                }
                _ => {
                    let target = m[3].trim_start_matches("public.").to_owned();
                    t.foreign_keys.insert((cols, target, split_list(&m[4])));
                }
            }
        }
        for i in sqlx::query(
            "select indexname::text as name, indexdef as def from pg_indexes where schemaname = 'public' and tablename = $1",
        )
        .bind(&name)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        {
            let index_name: String = i.get("name");
            if backing.contains(&index_name) {
                continue;
            }
            let def: String = i.get("def");
            let m = index.captures(&def).unwrap_or_else(|| panic!("{name}: an index not read: {def}"));
            t.indexes.insert(index_name, (split_list(&m[2]), m.get(1).is_some(), m.get(3).is_some()));
        }
        for tr in sqlx::query(
            "select action_timing::text as timing, event_manipulation::text as event from information_schema.triggers
             where event_object_schema = 'public' and event_object_table = $1",
        )
        .bind(&name)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        {
            t.triggers.insert((
                tr.get::<String, _>("timing").to_ascii_lowercase(),
                tr.get::<String, _>("event").to_ascii_lowercase(),
            ));
        }
        schema.insert(name, t);
    }
    conn.close().await.ok();
    schema
}

/// Every difference between the two, one line each, naming the table.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    fn side<T: Ord + std::fmt::Debug>(
        out: &mut Vec<String>,
        table: &str,
        what: &str,
        a: impl IntoIterator<Item = T>,
        b: impl IntoIterator<Item = T>,
    ) {
        let (a, b): (BTreeSet<T>, BTreeSet<T>) = (a.into_iter().collect(), b.into_iter().collect());
        for x in a.difference(&b) {
            out.push(format!("{table}: {what} {x:?} on SQLite only"));
        }
        for x in b.difference(&a) {
            out.push(format!("{table}: {what} {x:?} on PostgreSQL only"));
        }
    }
    let mut out = Vec::new();
    side(&mut out, "(schema)", "table", sqlite.keys(), postgres.keys());
    for (name, s) in sqlite {
        let Some(p) = postgres.get(name) else { continue };
        side(&mut out, name, "column", s.columns.iter(), p.columns.iter());
        if s.primary_key != p.primary_key {
            out.push(format!("{name}: primary key {:?} on SQLite, {:?} on PostgreSQL", s.primary_key, p.primary_key));
        }
        side(&mut out, name, "unique", s.uniques.iter(), p.uniques.iter());
        side(&mut out, name, "foreign key", s.foreign_keys.iter(), p.foreign_keys.iter());
        side(&mut out, name, "check", s.checks.iter(), p.checks.iter());
        side(&mut out, name, "index", s.indexes.iter(), p.indexes.iter());
        side(&mut out, name, "trigger", s.triggers.iter(), p.triggers.iter());
    }
    out
}

async fn migrated(backend: Backend) -> Option<TestDb> {
    let db = TestDb::create(backend).await?;
    let store = grant_ledger::storage::Store::connect(&db.url).await.expect("connecting");
    store.migrate().await.expect("migrating");
    store.close().await;
    Some(db)
}

#[tokio::test]
async fn both_migration_trees_make_the_same_schema() {
    let lite = migrated(Backend::Sqlite).await.expect("a SQLite database");
    let Some(pg) = migrated(Backend::Postgres).await else {
        // Outside CI only: under CI, `TestDb::create` refuses to skip PostgreSQL.
        lite.drop().await;
        eprintln!("TEST_DATABASE_URL is not set: skipping the migration parity test");
        return;
    };
    let sqlite = sqlite_schema(&lite.url).await;
    let postgres = postgres_schema(&pg.url).await;
    lite.drop().await;
    pg.drop().await;
    assert!(sqlite.len() > 20, "the SQLite schema was read: {:?}", sqlite.keys());
    assert!(sqlite.values().any(|t| !t.triggers.is_empty()), "the triggers were read");
    assert!(sqlite.values().any(|t| !t.checks.is_empty()), "the checks were read");
    let found = differences(&sqlite, &postgres);
    assert!(found.is_empty(), "the two migration trees differ:\n{}", found.join("\n"));
}

/// The comparison itself finds each kind of one-sided change.
#[test]
fn a_one_sided_change_is_named() {
    let cols: BTreeMap<String, (String, bool)> =
        [("status".to_owned(), ("text".to_owned(), true)), ("amount_pence".to_owned(), ("integer".to_owned(), true))]
            .into();
    assert_eq!(
        check_key("status in ('open', 'closed')", &cols),
        check_key("(status = ANY (ARRAY['open'::text, 'closed'::text]))", &cols),
    );
    assert_eq!(check_key("amount_pence > 0", &cols), check_key("(amount_pence > 0)", &cols));
    assert_ne!(check_key("amount_pence > 0", &cols), check_key("(amount_pence >= 1)", &cols));
    assert_eq!(
        sqlite_checks("create table t (\n a text check (a in ('x')), -- check (comment)\n b integer check (b > (0)))"),
        vec!["a in ('x')".to_owned(), "b > (0)".to_owned()]
    );

    let base = || {
        let mut t = Table::default();
        t.columns.insert("id".into(), ("integer".into(), true));
        t.triggers.insert(("before".into(), "update".into()));
        t.indexes.insert("t_by_id".into(), (vec!["id".into()], false, false));
        Schema::from([("t".to_owned(), t)])
    };
    assert!(differences(&base(), &base()).is_empty());
    let changes: [Change; 5] = [
        ("column", |t| {
            t.columns.insert("extra".into(), ("text".into(), false));
        }),
        ("trigger", |t| {
            t.triggers.insert(("before".into(), "delete".into()));
        }),
        ("index", |t| {
            t.indexes.get_mut("t_by_id").unwrap().2 = true;
        }),
        ("check", |t| {
            t.checks.insert("id |  | 0".into());
        }),
        ("unique", |t| {
            t.uniques.insert(vec!["id".into()]);
        }),
    ];
    for (what, change) in changes {
        let mut one = base();
        change(one.get_mut("t").unwrap());
        let found = differences(&one, &base());
        assert!(
            found.iter().any(|d| d.starts_with(&format!("t: {what}")) && d.ends_with("on SQLite only")),
            "a {what} on one side is named: {found:?}"
        );
    }
    let mut more = base();
    more.insert("u".into(), Table::default());
    assert_eq!(differences(&base(), &more), vec!["(schema): table \"u\" on PostgreSQL only".to_owned()]);
}
