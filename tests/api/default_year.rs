//! The dashboard opens, without a year asked for, on the year holding today if it has an
//! award, else on the latest year with one. Today is fixed for the page (`AppState`'s
//! `fixed_today`), so each branch is reached on any date; every expected year is written by
//! hand. The fixtures award 2022-23 to 2024-25 and set up 2025-26 without an award. (A
//! ledger with no award at all cannot be made here, since awards are entries and entries stay;
//! that branch is `domain::default_year`'s unit test.)

use axum::http::StatusCode;
use grant_ledger::http::{AppState, app};
use grant_ledger::storage::tokens::Role;

use crate::backend_test;
use crate::support::TestApp;

/// The same ledger, its pages taking `today` as the date.
pub(crate) fn on(ledger: &TestApp, today: &str) -> TestApp {
    let mut fixed = ledger.with_store(ledger.store.clone());
    let state = AppState {
        fixed_today: Some(grant_ledger::domain::parse_date(today).unwrap()),
        ..AppState::new(ledger.store.clone())
    };
    fixed.router = app(state);
    fixed
}

async fn opened_on(app: &TestApp) -> String {
    let secret = crate::pages::sign_in(app, Role::Viewer).await;
    let page = crate::pages::send(app, "GET", "/dashboard", Some(&secret), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    let start = page.text.find("<h1>Budget report ").expect("the report's heading") + "<h1>Budget report ".len();
    page.text[start..start + 7].to_owned()
}

backend_test!(the_dashboard_opens_on_the_year_holding_today_else_the_latest_awarded, |app: TestApp| async move {
    let cases = [
        ("2023-11-20", "2023-24", "today's year has an award"),
        ("2024-04-01", "2024-25", "the first day of a year with an award"),
        ("2023-03-31", "2022-23", "the last day of the earliest year with an award"),
        ("2025-06-15", "2024-25", "today's year is set up but has no award"),
        ("2026-12-05", "2024-25", "today's year is not set up"),
        ("2019-05-01", "2024-25", "today is before every award: the latest, not the first"),
    ];
    for (today, expected, why) in cases {
        assert_eq!(opened_on(&on(&app, today)).await, expected, "today {today}: {why}");
    }
    // The clock's own today, long after the fixtures' last award: the latest year with one.
    assert_eq!(opened_on(&app).await, "2024-25");
    // A year asked for is the year shown, whatever today is.
    let fixed = on(&app, "2023-11-20");
    let secret = crate::pages::sign_in(&fixed, Role::Viewer).await;
    let page = crate::pages::send(&fixed, "GET", "/dashboard?financial_year=2022-23", Some(&secret), None, &[]).await;
    assert!(page.text.contains("<h1>Budget report 2022-23</h1>"), "{}", page.text);
});

// The dashboard's dates are the ledger's today too: the report is current on it, and "since
// last quarter" compares with the last quarter end before it, not the clock's.
backend_test!(the_dashboards_dates_are_the_ledgers_today, |app: TestApp| async move {
    let fixed = on(&app, "2023-11-20");
    let secret = crate::pages::sign_in(&fixed, Role::Viewer).await;
    let page = crate::pages::send(&fixed, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Current on 2023-11-20"), "{}", page.text);
    assert!(page.text.contains("the same report as at 2023-09-30, the end of the previous quarter"), "{}", page.text);
    // In the year's first quarter there is no quarter before to compare with.
    let first = on(&app, "2023-05-02");
    let secret = crate::pages::sign_in(&first, Role::Viewer).await;
    let page = crate::pages::send(&first, "GET", "/dashboard?financial_year=2023-24", Some(&secret), None, &[]).await;
    assert!(page.text.contains("Current on 2023-05-02"), "{}", page.text);
    assert!(!page.text.contains("the end of the previous quarter"), "{}", page.text);
});
