//! One figure, one rounding: on the demo ledger (`serve --demo`, fixtures/tamworth/demo.json),
//! at many dates of every year, every text of the variance report that shows a figure shows
//! it as the figure itself is shown: `rag_why` on every row, subtotal and total against
//! `percent_spent`, `variance`, `actual` and `available`, `unallocated_why` against
//! `unallocated`, and the dashboard's cells against the API's.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::backend_test;
use crate::support::TestApp;

fn dec(text: &str) -> Decimal {
    text.parse().unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// `percent_spent` (a JSON number with one place) as the text a reader sees.
fn percent(v: &Value) -> String {
    format!("{:.1}", v["percent_spent"].as_f64().unwrap())
}

/// `£1234.50` for a money string `1234.50`, as the ratings write pounds.
fn pounds(money: &str) -> String {
    match money.strip_prefix('-') {
        Some(rest) => format!("-£{rest}"),
        None => format!("£{money}"),
    }
}

/// Checks one figure set's `rag_why` against its figures; says which form it took.
fn check_why(v: &Value, at: &str) -> &'static str {
    let why = v["rag_why"].as_str().unwrap();
    let (budget, actual) = (dec(v["budget"].as_str().unwrap()), dec(v["actual"].as_str().unwrap()));
    let variance = v["variance"].as_str().unwrap();
    let shown = percent(v);
    if let Some(rest) = why.strip_prefix("overspent: actual ") {
        let over = (actual - budget).to_string();
        assert_eq!(
            rest,
            format!("{} is {} above budget", pounds(v["actual"].as_str().unwrap()), pounds(&over)),
            "{at}"
        );
        return "overspent";
    }
    if let Some(rest) = why.strip_prefix("overcommitted: available is ") {
        assert_eq!(rest, pounds(v["available"].as_str().unwrap()), "{at}");
        return "overcommitted";
    }
    if why == "no budget" {
        assert!(budget <= Decimal::ZERO, "{at}: {v}");
        return "no budget";
    }
    if let Some(rest) = why.strip_prefix("year ended ") {
        assert_eq!(rest, format!("{shown}% spent, {} unspent", pounds(variance)), "{at}: {v}");
        return "year ended";
    }
    let (pct, rest) = why.split_once("% spent, ").unwrap_or_else(|| panic!("{at}: unexpected rag_why {why:?}"));
    assert_eq!(pct, shown, "{at}: rag_why {why:?} beside percent_spent {}", v["percent_spent"]);
    let pct = dec(pct);
    let band = rest.rsplit_once('(').unwrap().1.trim_end_matches("%)");
    let (low, high) = match band.split_once('–') {
        Some((l, h)) => (dec(l), dec(h)),
        None => (dec(band), dec(band)),
    };
    if let Some(points) = rest.strip_suffix(&format!(" points behind the profile ({band}%)")) {
        assert_eq!(dec(points), low - pct, "{at}: {why:?}: the points are the shown figures' difference");
        assert!(pct < low, "{at}: {why:?}");
        "behind"
    } else if let Some(points) = rest.strip_suffix(&format!(" points ahead of the profile ({band}%)")) {
        assert_eq!(dec(points), pct - high, "{at}: {why:?}");
        assert!(pct > high, "{at}: {why:?}");
        "ahead"
    } else {
        assert_eq!(rest, format!("on profile ({band}%)"), "{at}: {why:?}");
        assert!(low <= pct && pct <= high, "{at}: {why:?}");
        "on profile"
    }
}

/// `unallocated_why` names the unallocated money, and its share as one rounding gives it.
fn check_unallocated(v: &Value, at: &str) {
    let why = v["unallocated_why"].as_str().unwrap();
    let (awarded, unallocated) = (dec(v["awarded"].as_str().unwrap()), dec(v["unallocated"].as_str().unwrap()));
    if unallocated <= Decimal::ZERO || awarded <= Decimal::ZERO {
        assert_eq!(why, "all of the award is allocated", "{at}");
        return;
    }
    let share = (unallocated * Decimal::from(100) / awarded)
        .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    let start = format!("{} ({share:.1}% of the award) unallocated", pounds(v["unallocated"].as_str().unwrap()));
    assert!(why.starts_with(&start), "{at}: {why:?} should start {start:?}");
}

/// The dates a report is taken at: every month's end and mid-month of the year, the day
/// before it and the day after, and none (a current report).
fn dates(start: i32) -> Vec<Option<String>> {
    let mut out = vec![None, Some(format!("{start}-03-31")), Some(format!("{}-04-01", start + 1))];
    for (y, m) in (4..=12).map(|m| (start, m)).chain((1..=3).map(|m| (start + 1, m))) {
        let first = chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        let last = first.checked_add_months(chrono::Months::new(1)).unwrap().pred_opt().unwrap();
        out.push(Some(first.with_day0(14).unwrap().to_string()));
        out.push(Some(last.to_string()));
    }
    out
}

use chrono::Datelike;

backend_test!(every_text_shows_its_figure_as_the_figure_is_shown, |app: TestApp| async move {
    grant_ledger::fixtures::load_demo(&app.store).await.unwrap();
    let mut forms = std::collections::BTreeMap::<&str, usize>::new();
    let mut rows = 0;
    for (year, start) in [("2022-23", 2022), ("2023-24", 2023), ("2024-25", 2024)] {
        for as_at in dates(start) {
            let query = as_at.as_ref().map(|d| format!("&as_at={d}")).unwrap_or_default();
            let r = app.get(&format!("/api/v1/reports/variance?financial_year={year}{query}"), Role::Viewer).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            let at = format!("{year} as at {as_at:?}");
            for row in r.body["rows"].as_array().unwrap() {
                *forms.entry(check_why(row, &format!("{at} {} {}", row["grant"], row["project"]))).or_default() += 1;
                rows += 1;
            }
            for p in r.body["priorities"].as_array().unwrap() {
                check_why(p, &format!("{at} priority {}", p["priority"]));
            }
            for g in r.body["grants"].as_array().unwrap() {
                check_why(g, &format!("{at} grant {}", g["grant"]));
                check_unallocated(g, &format!("{at} grant {}", g["grant"]));
            }
            check_why(&r.body["totals"], &format!("{at} total"));
            check_unallocated(&r.body["totals"], &format!("{at} total"));
        }
    }
    assert!(rows >= 100, "the demo should give many rows: {rows}");
    // (No demo row is ahead of its profile; the unit tests of `domain::rag` cover that form.)
    for form in ["behind", "on profile", "year ended"] {
        assert!(forms.get(form).is_some_and(|n| *n > 0), "no row's rating was {form:?}: {forms:?}");
    }

    // The dashboard shows the same figure and the same words on each row.
    let secret = crate::pages::sign_in(&app, Role::Viewer).await;
    for as_at in ["2023-06-15", "2023-11-10", "2024-01-31", "2024-03-31"] {
        let path = format!("/dashboard?financial_year=2023-24&as_at={as_at}");
        let page = crate::pages::send(&app, "GET", &path, Some(&secret), None, &[]).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let r = app.get(&format!("/api/v1/reports/variance?financial_year=2023-24&as_at={as_at}"), Role::Viewer).await;
        for row in r.body["rows"].as_array().unwrap() {
            let open = format!(
                "<tr data-grant=\"{}\" data-project=\"{}\">",
                row["grant"].as_str().unwrap(),
                row["project"].as_str().unwrap()
            );
            let from = page.text.find(&open).unwrap_or_else(|| panic!("{open} not on the page"));
            let tr = &page.text[from..from + page.text[from..].find("</tr>").unwrap()];
            assert!(tr.contains(&format!("<td class=\"num\">{}%</td>", percent(row))), "{as_at}: {tr}");
            assert!(
                tr.contains(&format!("<td class=\"why\">{}</td>", row["rag_why"].as_str().unwrap())),
                "{as_at}: {tr}"
            );
        }
    }
});
