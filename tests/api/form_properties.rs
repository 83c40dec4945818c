//! Properties of the routes the desk added:
//! - a form and the API read one request type alike: any form body the reader accepts (as
//!   the pages read it, `forms::for_reading` then `Fields::text_pairs`) is accepted as the
//!   JSON body with the same fields, as the same value; for every recording form and every
//!   action form on a record's page;
//! - an import's dry run is deterministic (the same file kept twice: the same outcome line
//!   by line), and confirming it in a quiet ledger matches its dry run: the accepted lines,
//!   each once, are its entries; with a line refused, nothing is recorded.

use std::collections::BTreeMap;
use std::fmt::Debug;

use axum::http::{Method, StatusCode};
use grant_ledger::http::pages::forms::{RecordForm, for_reading};
use grant_ledger::model::agreements::EvidenceCmd;
use grant_ledger::model::cash::CashCmd;
use grant_ledger::model::controls::{CloseYearCmd, RejectVirementCmd, ReopenYearCmd};
use grant_ledger::model::fields::{Fields, FromFields};
use grant_ledger::model::imports::ReverseImportCmd;
use grant_ledger::model::monitoring::{ForecastCmd, IndicatorReturnCmd};
use grant_ledger::model::postings::{AllocationCmd, ReleaseCmd, ReverseCmd, VirementCmd};
use grant_ledger::model::quarters::QuarterLockCmd;
use grant_ledger::model::reference::NewProject;
use grant_ledger::model::returns::FileReturnCmd;
use grant_ledger::storage::operations::{GrantAgreementCmd, PurchaseOrderCmd, RefundCmd, SpendCmd};
use grant_ledger::storage::tokens::Role;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

use crate::support::{Backend, TestApp, TestDb};

/// Fields a JSON body gives as a whole number, and as true or false.
const INTEGERS: [&str; 3] = ["quarter", "commitment_id", "spend_entry_id"];
const FLAGS: [&str; 2] = ["vat_recoverable", "duplicate_of_entry_ok"];

/// Values a person would type in a field, by its name: mostly good, so that whole forms are
/// often accepted and the property has values to compare.
fn good(field: &str) -> &'static [&'static str] {
    let name = field.rsplit('.').next().unwrap_or(field);
    match name {
        "grant" => &["LDF", "ASB-EI"],
        "project" | "from_project" | "to_project" | "recipient" | "code" | "indicator" => &["P1", "SA", "x-1"],
        "financial_year" => &["2023-24", "2022-23"],
        "amount" | "vat" | "forecast_outturn" | "amount_evidenced" => &["12.34", "100", "0.01", "1500.00"],
        "actual" => &["12", "3.5"],
        "date" | "approved_on" | "made_on" | "start_date" | "end_date" => &["2023-06-01", "2024-02-29"],
        "quarter" => &["1", "4", " 3"],
        "commitment_id" | "spend_entry_id" => &["7", "12"],
        "vat_recoverable" | "duplicate_of_entry_ok" => &["on", "true", "false", "off"],
        "kind" => &["commissioner-return"],
        "status" => &["active", "closed", "partial", "complete"],
        "progress_rag" => &["green", "amber", "red"],
        "priority" => &["ASB", "COHESION"],
        _ => &["desk", "Acme Ltd", "line one\nline two"],
    }
}

/// Values a form should refuse somewhere (or, where a field is optional, read as absent).
const BAD: [&str; 14] =
    ["", " ", "x", "-5", "1e3", "12.345", "2023-02-30", "0", "5", "maybe", "not a code", "a\tb", "3.0", "2023"];

fn value(field: &'static str) -> BoxedStrategy<Option<String>> {
    let flag = FLAGS.contains(&field);
    let any_text = "\\PC{0,10}".prop_map(Some);
    let bad = select(&BAD[..]).prop_filter("a browser sends no empty checkbox", move |v| !(flag && v.is_empty()));
    prop_oneof![
        24 => select(good(field)).prop_map(|v| Some(v.to_owned())),
        2 => bad.prop_map(|v| Some(v.to_owned())),
        1 => any_text.prop_filter("as above", move |v: &Option<String>| !(flag && v.as_deref() == Some(""))),
        1 => Just(None),
    ]
    .boxed()
}

/// A form's fields: each given (with a value) or left out, and a checkbox shown.
fn form(fields: &'static [&'static str]) -> impl Strategy<Value = (Vec<(String, String)>, Vec<&'static str>)> {
    let values: Vec<BoxedStrategy<Option<String>>> = fields.iter().map(|f| value(f)).collect();
    let shown = proptest::collection::vec(any::<bool>(), FLAGS.len());
    (values, shown).prop_map(move |(values, shown)| {
        let pairs = fields.iter().zip(values).filter_map(|(f, v)| v.map(|v| ((*f).to_owned(), v))).collect();
        let shown = FLAGS.iter().zip(shown).filter(|(f, s)| *s && fields.contains(*f)).map(|(f, _)| *f).collect();
        (pairs, shown)
    })
}

/// The JSON body with the same fields: numbers and flags as JSON writes them, an empty
/// value left out, `list[i].field` as the list's `i`th object, an unticked checkbox false.
fn json_of(pairs: &[(String, String)], shown: &[&str]) -> Value {
    let mut body = Map::new();
    let mut rows: BTreeMap<String, BTreeMap<usize, Map<String, Value>>> = BTreeMap::new();
    for (name, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        let json = if INTEGERS.contains(&name.as_str()) {
            v.trim().parse::<i64>().map_or_else(|_| json!(v), |n| json!(n))
        } else if FLAGS.contains(&name.as_str()) {
            match v.as_str() {
                "true" | "on" | "yes" => json!(true),
                "false" | "off" | "no" => json!(false),
                _ => json!(v),
            }
        } else {
            json!(v)
        };
        match name.split_once('[').and_then(|(list, rest)| Some((list, rest.split_once("].")?))) {
            Some((list, (i, field))) => {
                rows.entry(list.to_owned())
                    .or_default()
                    .entry(i.parse().unwrap())
                    .or_default()
                    .insert(field.into(), json);
            }
            None => {
                body.insert(name.clone(), json);
            }
        }
    }
    for (list, items) in rows {
        let last = *items.keys().max().unwrap();
        let array = (0..=last).map(|i| Value::Object(items.get(&i).cloned().unwrap_or_default())).collect();
        body.insert(list, Value::Array(array));
    }
    for f in shown {
        body.entry(f.to_string()).or_insert(json!(false));
    }
    Value::Object(body)
}

/// Reads `pairs` as a page does and as the API reads the JSON body: where the form is
/// accepted, the JSON body is too, as the same value. Says whether the form was accepted.
fn agree<T: FromFields + Debug>(pairs: &[(String, String)], shown: &[&str]) -> Result<bool, TestCaseError> {
    let mut sent = pairs.to_vec();
    sent.extend(shown.iter().map(|f| ("shown_checkbox".to_owned(), f.to_string())));
    let (fields, _) = for_reading(&sent, &[]);
    let from_form = T::from_fields(Fields::text_pairs(fields));
    let body = json_of(pairs, shown);
    let from_json = Fields::parse(body.to_string().as_bytes()).and_then(T::from_fields);
    match (from_form, from_json) {
        (Ok(f), Ok(j)) => {
            prop_assert_eq!(format!("{f:?}"), format!("{j:?}"), "the form and {} read apart", body);
            Ok(true)
        }
        (Ok(f), Err(e)) => {
            Err(TestCaseError::fail(format!("the form gives {f:?}; the JSON body {body} is refused: {e:?}")))
        }
        (Err(_), _) => Ok(false),
    }
}

/// `T`'s form fields, with `FIXED` ones (a commitment's `kind`) left to their fixed value
/// and a list's rows as a form names them.
fn fields_of<T: RecordForm>() -> &'static [&'static str] {
    let fields: Vec<&'static str> = T::FIELDS
        .iter()
        .filter(|f| !T::FIXED.iter().any(|(k, _)| k == *f))
        .flat_map(|f| match *f {
            "schedule" => vec![
                "schedule[0].financial_year",
                "schedule[0].amount",
                "schedule[1].financial_year",
                "schedule[1].amount",
            ],
            f => vec![f],
        })
        .collect();
    Vec::leak(fields)
}

fn fixed_of<T: RecordForm>() -> Vec<(String, String)> {
    T::FIXED.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// Runs the property for `T` over `cases` forms; insists some were accepted, so the
/// property compared values and was not met only by refusals.
fn property<T: FromFields + Debug>(name: &str, fields: &'static [&'static str], fixed: Vec<(String, String)>) {
    let accepted = std::cell::Cell::new(0u32);
    let config = ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |((pairs, shown) in form(fields))| {
        let mut pairs = pairs;
        pairs.extend(fixed.iter().cloned());
        if agree::<T>(&pairs, &shown)? {
            accepted.set(accepted.get() + 1);
        }
    });
    eprintln!("{name}: {} of 256 forms accepted", accepted.get());
    assert!(accepted.get() >= 5, "{name}: only {} of 256 forms were accepted", accepted.get());
}

macro_rules! record_forms {
    ($($t:ty),+ $(,)?) => {
        $( property::<$t>(stringify!($t), fields_of::<$t>(), fixed_of::<$t>()); )+
    };
}

#[test]
fn a_form_and_its_json_body_read_as_one_request() {
    record_forms!(
        AllocationCmd,
        SpendCmd,
        RefundCmd,
        PurchaseOrderCmd,
        GrantAgreementCmd,
        VirementCmd,
        NewProject,
        ForecastCmd,
        IndicatorReturnCmd,
        FileReturnCmd,
    );
    // The forms on a record's page, and the cash forms' request type.
    property::<CashCmd>("CashCmd", &["grant", "financial_year", "date", "amount", "reference"], vec![]);
    property::<ReverseCmd>("ReverseCmd", &["date", "reason"], vec![]);
    property::<ReleaseCmd>("ReleaseCmd", &["date", "amount", "reason"], vec![]);
    property::<EvidenceCmd>("EvidenceCmd", &["date", "amount_evidenced", "status", "note"], vec![]);
    property::<ReverseImportCmd>("ReverseImportCmd", &["date", "reason"], vec![]);
    property::<RejectVirementCmd>("RejectVirementCmd", &["reason"], vec![]);
    property::<QuarterLockCmd>("QuarterLockCmd", &["reason"], vec![]);
    property::<CloseYearCmd>("CloseYearCmd", &["reason"], vec![]);
    property::<ReopenYearCmd>("ReopenYearCmd", &["reason"], vec![]);
}

/// A line of a spend file the import property draws: good, an overspend, repeated, or bad.
#[derive(Debug, Clone)]
enum Line {
    Spend {
        project: usize,
        day: u16,
        pence: i64,
    },
    /// Repeats the source_ref of the `k`th line before it, modulo how many.
    Repeat(usize),
    UnknownProject,
    BadDate,
    BadAmount,
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        12 => (0usize..2, 0u16..365, prop_oneof![7 => 1i64..20_000, 1 => 2_000_000i64..5_000_000])
            .prop_map(|(project, day, pence)| Line::Spend { project, day, pence }),
        2 => any::<usize>().prop_map(Line::Repeat),
        1 => Just(Line::UnknownProject),
        1 => Just(Line::BadDate),
        1 => Just(Line::BadAmount),
    ]
}

fn file(case: usize, lines: &[Line]) -> String {
    let mut csv = String::from("date,grant,project,supplier,description,invoice_ref,amount,source_ref\n");
    let mut refs: Vec<String> = Vec::new();
    for (k, l) in lines.iter().enumerate() {
        let fresh = format!("prop-{case}-{k}");
        let row = match l {
            Line::Spend { project, day, pence } => {
                let date =
                    chrono::NaiveDate::from_ymd_opt(2023, 4, 1).unwrap() + chrono::Duration::days(i64::from(*day));
                format!("{date},LDF,P{},S,d,{fresh},{}.{:02},{fresh}", project + 1, pence / 100, pence % 100)
            }
            Line::Repeat(i) if !refs.is_empty() => {
                let earlier = &refs[i % refs.len()];
                format!("2023-05-01,LDF,P1,S,d,{fresh},1.00,{earlier}")
            }
            Line::Repeat(_) | Line::UnknownProject => format!("2023-05-01,LDF,NOPE,S,d,{fresh},1.00,{fresh}"),
            Line::BadDate => format!("2023-02-30,LDF,P1,S,d,{fresh},1.00,{fresh}"),
            Line::BadAmount => format!("2023-05-01,LDF,P1,S,d,{fresh},12.345,{fresh}"),
        };
        refs.push(fresh);
        csv.push_str(&row);
        csv.push('\n');
    }
    csv
}

/// One case: the file kept twice, then the first confirmed, and (if it recorded entries)
/// reversed, so every case starts from the same balances. Answers whether it recorded.
async fn import_case(app: &TestApp, case: usize, lines: &[Line]) -> Result<bool, TestCaseError> {
    let csv = file(case, lines);
    let keep = || app.send_bytes(Method::POST, "/api/v1/imports", Role::Finance, "text/csv", csv.clone().into_bytes());
    let (first, second) = (keep().await, keep().await);
    prop_assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    prop_assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    prop_assert_eq!(&first.body["outcome"], &second.body["outcome"], "the same file, two dry runs, for {}", csv);
    prop_assert_eq!(&first.body["file_sha256"], &second.body["file_sha256"]);
    let id = first.body["id"].as_i64().unwrap();
    let dry = &first.body["outcome"];
    let confirmed = app.post(&format!("/api/v1/imports/{id}/confirm"), Role::Finance, json!({})).await;
    let record = app.get(&format!("/api/v1/imports/{id}"), Role::Viewer).await;
    let entries = record.body["entries"].as_array().unwrap();
    if dry["rejected"] != 0 {
        prop_assert_eq!(confirmed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", confirmed.body);
        prop_assert_eq!(&confirmed.body["outcome"], dry, "confirm refuses as the dry run did");
        prop_assert!(entries.is_empty() && record.body["confirmed_at"].is_null(), "{}", record.body);
        return Ok(false);
    }
    prop_assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
    prop_assert_eq!(&confirmed.body["outcome"], dry, "a quiet ledger: confirm finds what the dry run found");
    // Its entries are the accepted lines, each once, in order, each as its line says.
    let accepted: Vec<u64> = dry["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["outcome"] == "accepted")
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    prop_assert_eq!(entries.len(), accepted.len(), "{}", record.body);
    let rows: Vec<&str> = csv.lines().collect();
    for (e, line) in entries.iter().zip(&accepted) {
        let cells: Vec<&str> = rows[*line as usize - 1].split(',').collect();
        let entry = app.get(&format!("/api/v1/entries/{}", e["entry_id"]), Role::Viewer).await.body;
        prop_assert_eq!(entry["source_ref"].as_str(), Some(cells[7]), "line {}: {}", line, entry);
        prop_assert_eq!(&e["spent"], &json!(cells[6]), "line {}", line);
        prop_assert_eq!(entry["import_id"].as_i64().or(entry["details"]["import_id"].as_i64()), Some(id));
    }
    if !entries.is_empty() {
        let r =
            app.post(&format!("/api/v1/imports/{id}/reverse"), Role::Finance, json!({ "reason": "property" })).await;
        prop_assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    Ok(!entries.is_empty())
}

fn import_property(backend: Backend) {
    if backend == Backend::Postgres && !crate::support::postgres_configured() {
        eprintln!("TEST_DATABASE_URL is not set: skipping the PostgreSQL run");
        return;
    }
    // One ledger for every case (a fresh one each would be most of the time): each case
    // reverses what it recorded, and its source_refs are its own.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (db, app) = rt.block_on(async {
        let db = TestDb::create(backend).await.expect("the backend was checked above");
        let app = TestApp::start(&db.url).await;
        for p in ["P1", "P2"] {
            app.project(p, "ASB").await;
            app.allocate("LDF", "2023-24", p, "5000").await;
        }
        (db, app)
    });
    let case = std::cell::Cell::new(0usize);
    let recorded = std::cell::Cell::new(0usize);
    let config = ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(lines in proptest::collection::vec(line(), 1..5))| {
        case.set(case.get() + 1);
        if rt.block_on(import_case(&app, case.get(), &lines))? {
            recorded.set(recorded.get() + 1);
        }
    });
    rt.block_on(async {
        app.assert_verified().await;
        app.store.close().await;
        db.drop().await;
    });
    eprintln!("{backend:?}: {} of 32 imports recorded entries", recorded.get());
    assert!(recorded.get() >= 3, "{backend:?}: only {} of the cases recorded entries", recorded.get());
}

#[test]
fn an_import_dry_run_is_deterministic_and_confirm_matches_it_sqlite() {
    import_property(Backend::Sqlite);
}

#[test]
fn an_import_dry_run_is_deterministic_and_confirm_matches_it_postgres() {
    import_property(Backend::Postgres);
}
