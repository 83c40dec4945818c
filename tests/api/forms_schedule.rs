//! An award's payment schedule from its page, driven over HTTP as a browser posts it: the
//! form's rows set what the API's PUT would (the PUT of the same instalments changes
//! nothing after it), a bad row or a total above the award is refused naming the field with
//! the values kept and nothing written, and a row left blank is not given.

use axum::http::{Method, StatusCode};
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::forms_postings::{element, location, post_to};
use crate::hostile_pages::{ESCAPED, HOSTILE};
use crate::pages::{send, sign_in};
use crate::support::TestApp;

const PAGE: &str = "/grants/LDF/awards/2023-24/payment-schedule";
const API: &str = "/api/v1/grants/LDF/awards/2023-24/payment-schedule";

async fn audit_count(app: &TestApp) -> usize {
    let r = app.get("/api/v1/audit?entity=payment_schedule", Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["items"].as_array().unwrap().len()
}

async fn stored(app: &TestApp) -> Value {
    let r = app.get(API, Role::Viewer).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// Two instalments, the later one first, and a third row left blank.
fn two() -> Vec<(&'static str, &'static str)> {
    vec![
        ("schedule[0].due_on", "2023-10-31"),
        ("schedule[0].amount", "30697"),
        ("schedule[0].condition", "subject to the Q2 return"),
        ("schedule[1].due_on", "2023-04-30"),
        ("schedule[1].amount", "30697.00"),
        ("schedule[1].condition", ""),
        ("schedule[2].due_on", ""),
        ("schedule[2].amount", ""),
        ("schedule[2].condition", ""),
    ]
}

backend_test!(the_schedule_set_from_its_page_is_what_the_put_would_store, |app: TestApp| async move {
    let approver = sign_in(&app, Role::Approver).await;
    // Found from the dashboard's cash position, by those who may set it.
    let d = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&approver), None, &[]).await;
    assert!(element(&d.text, "schedule-LDF").contains(&format!("href=\"{PAGE}\"")), "{}", d.text);
    let viewer = sign_in(&app, Role::Viewer).await;
    let d = send(&app, "GET", "/dashboard?financial_year=2023-24", Some(&viewer), None, &[]).await;
    assert!(d.text.contains("id=\"cash-position\"") && !d.text.contains("payment-schedule"), "{}", d.text);
    let page = send(&app, "GET", PAGE, Some(&approver), None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(element(&page.text, "award-amount").ends_with("£61,394.00"), "{}", page.text);
    assert!(page.text.contains("id=\"no-schedule\""), "none set yet: {}", page.text);
    for i in 0..4 {
        for field in ["due_on", "amount", "condition"] {
            assert!(page.text.contains(&format!("id=\"schedule[{i}].{field}\"")), "row {i} {field}: {}", page.text);
        }
    }

    let p = post_to(&app, &approver, PAGE, PAGE, &two()).await;
    assert_eq!(location(&p), PAGE, "back to the schedule's page");
    let saved = stored(&app).await;
    assert_eq!(
        saved,
        json!([
            { "due_on": "2023-04-30", "amount": "30697.00", "condition": "" },
            { "due_on": "2023-10-31", "amount": "30697.00", "condition": "subject to the Q2 return" },
        ]),
        "in due date order, the blank row not given"
    );
    assert_eq!(audit_count(&app).await, 1, "audited as the PUT is");
    let audit = app.get("/api/v1/audit?entity=payment_schedule", Role::Viewer).await;
    assert_eq!(audit.body["items"][0]["actor"], "test approver", "{}", audit.body);

    // The PUT of the same instalments stores the same: it changes nothing, so audits nothing.
    let body = json!([
        { "due_on": "2023-10-31", "amount": "30697", "condition": "subject to the Q2 return" },
        { "due_on": "2023-04-30", "amount": "30697.00" },
    ]);
    let put = app.call(Method::PUT, API, Some(app.token(Role::Approver)), Some(body), &[]).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body, saved);
    assert_eq!(audit_count(&app).await, 1, "the form stored what the PUT would");

    // The page shows the schedule set, and fills the form with it to edit.
    let page = send(&app, "GET", PAGE, Some(&approver), None, &[]).await;
    let now = &page.text[page.text.find("id=\"schedule-now\"").expect("the schedule as set")..];
    let now = &now[..now.find("</table>").unwrap()];
    assert!(
        now.contains("2023-04-30") && now.contains("£30,697.00") && now.contains("subject to the Q2 return"),
        "{now}"
    );
    assert!(element(&page.text, "schedule[0].due_on").contains("value=\"2023-04-30\""), "{}", page.text);
    assert!(element(&page.text, "schedule[1].condition").contains("value=\"subject to the Q2 return\""));
    assert!(element(&page.text, "schedule[3].amount").contains("value=\"\""), "a blank row to add");

    // Edited: the first instalment taken out by clearing its row, which is not given.
    let edited = [
        ("schedule[0].due_on", ""),
        ("schedule[0].amount", ""),
        ("schedule[0].condition", ""),
        ("schedule[1].due_on", "2023-10-31"),
        ("schedule[1].amount", "61394"),
    ];
    location(&post_to(&app, &approver, PAGE, PAGE, &edited).await);
    assert_eq!(stored(&app).await, json!([{ "due_on": "2023-10-31", "amount": "61394.00", "condition": "" }]));

    // No row given at all clears it, as the PUT of an empty list does.
    location(&post_to(&app, &approver, PAGE, PAGE, &[("schedule[0].amount", "")]).await);
    assert_eq!(stored(&app).await, json!([]));
    assert_eq!(audit_count(&app).await, 3);
});

backend_test!(a_refused_schedule_names_the_row_keeps_the_values_and_writes_nothing, |app: TestApp| async move {
    let admin = sign_in(&app, Role::Admin).await;
    location(&post_to(&app, &admin, PAGE, PAGE, &two()).await);
    let before = stored(&app).await;

    // A bad amount and a bad date, each beside its own row's field and linked from the summary.
    let mut bad = two();
    bad[4] = ("schedule[1].amount", "abc");
    bad[0] = ("schedule[0].due_on", "31/10/2023");
    let p = post_to(&app, &admin, PAGE, PAGE, &bad).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    let summary = &p.text[p.text.find("role=\"alert\"").expect("a summary")..];
    for field in ["schedule[1].amount", "schedule[0].due_on"] {
        assert!(element(&p.text, &format!("{field}-error")).len() > 30, "{field}: {}", p.text);
        assert!(summary.contains(&format!("<a href=\"#{field}\">")), "{field}: {summary}");
        let input = element(&p.text, field);
        assert!(input.contains(&format!("aria-describedby=\"{field}-error\"")), "{input}");
    }
    assert!(element(&p.text, "schedule[1].amount").contains("value=\"abc\""), "kept");
    assert!(element(&p.text, "schedule[0].condition").contains("value=\"subject to the Q2 return\""), "kept");
    assert!(!p.text.contains("id=\"schedule[0].amount-error\""), "a good field has no error");

    // A blank row between two given is left out, not refused.
    let gap = [
        ("schedule[0].due_on", "2023-04-30"),
        ("schedule[0].amount", "100"),
        ("schedule[2].due_on", "2023-05-31"),
        ("schedule[2].amount", "200"),
    ];
    location(&post_to(&app, &admin, PAGE, PAGE, &gap).await);
    assert_eq!(stored(&app).await.as_array().unwrap().len(), 2);
    location(&post_to(&app, &admin, PAGE, PAGE, &two()).await);

    // Adding up to more than the award: the list is named, the rows kept.
    let over = [
        ("schedule[0].due_on", "2023-04-30"),
        ("schedule[0].amount", "61394"),
        ("schedule[1].due_on", "2023-10-31"),
        ("schedule[1].amount", "0.01"),
    ];
    let p = post_to(&app, &admin, PAGE, PAGE, &over).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    let error = element(&p.text, "schedule-error");
    assert!(error.contains("more than the award"), "{error}");
    assert!(p.text.contains("role=\"alert\""), "{}", p.text);
    assert!(element(&p.text, "schedule[1].amount").contains("value=\"0.01\""), "kept");

    // A field no instalment has, and a row missing its amount.
    let p =
        post_to(&app, &admin, PAGE, PAGE, &[("schedule[0].due_on", "2023-04-30"), ("schedule[0].colour", "red")]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(p.text.contains("schedule[0].colour: is not a field of this request"), "{}", p.text);
    assert!(element(&p.text, "schedule[0].amount-error").contains("required"), "{}", p.text);

    assert_eq!(stored(&app).await, before, "nothing half-written");
    assert_eq!(audit_count(&app).await, 3, "only the schedules set were audited");

    // Without a session: to sign in and back; a post is refused, as a redirect would drop it.
    let p = send(&app, "GET", PAGE, None, None, &[]).await;
    assert_eq!(location(&p), "/sign-in?next=/grants/LDF/awards/2023-24/payment-schedule");

    // No such award, and an address that names none.
    let p = send(&app, "GET", "/grants/LDF/awards/2031-32/payment-schedule", Some(&admin), None, &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.text);
    assert!(p.is_html());
    let p = send(&app, "GET", "/grants/LDF/awards/2023/payment-schedule", Some(&admin), None, &[]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    let token = send(&app, "GET", PAGE, Some(&admin), None, &[]).await.form_token();
    let body = format!("schedule%5B0%5D.amount=1&csrf_token={token}");
    let p = send(&app, "POST", "/grants/NOPE/awards/2023-24/payment-schedule", Some(&admin), Some(&body), &[]).await;
    assert_eq!(p.status, StatusCode::NOT_FOUND, "{}", p.text);
});

backend_test!(hostile_text_in_the_schedule_comes_back_escaped, |app: TestApp| async move {
    let approver = sign_in(&app, Role::Approver).await;
    // Finance may not set it, as the PUT route says (approver, admin): the 403 page.
    let finance = sign_in(&app, Role::Finance).await;
    let p = send(&app, "GET", PAGE, Some(&finance), None, &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.text);
    assert!(p.is_html());
    let fields =
        [("schedule[0].due_on", "2023-04-30"), ("schedule[0].amount", "10"), ("schedule[0].condition", HOSTILE)];
    location(&post_to(&app, &approver, PAGE, PAGE, &fields).await);
    assert_eq!(stored(&app).await[0]["condition"], HOSTILE, "kept as given");
    let page = send(&app, "GET", PAGE, Some(&approver), None, &[]).await;
    assert!(!page.text.contains("<script>") && !page.text.contains("<img"), "{}", page.text);
    assert!(page.text.contains(&format!("<td>{ESCAPED}</td>")), "{}", page.text);
    assert!(element(&page.text, "schedule[0].condition").contains(&format!("value=\"{ESCAPED}\"")));
    // Refused, every field hostile: shown back escaped.
    let all = [("schedule[0].due_on", HOSTILE), ("schedule[0].amount", HOSTILE), ("schedule[0].condition", HOSTILE)];
    let p = post_to(&app, &approver, PAGE, PAGE, &all).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
    assert!(!p.text.contains("<script>") && !p.text.contains("<img"), "{}", p.text);
    for field in ["due_on", "amount", "condition"] {
        assert!(element(&p.text, &format!("schedule[0].{field}")).contains(&format!("value=\"{ESCAPED}\"")), "{field}");
    }
});

backend_test!(the_years_page_links_each_award_to_its_schedule_for_those_who_may_set_it, |app: TestApp| async move {
    for role in [Role::Approver, Role::Admin] {
        let secret = sign_in(&app, role).await;
        let year = send(&app, "GET", "/financial-years/2023-24", Some(&secret), None, &[]).await;
        assert_eq!(year.status, StatusCode::OK, "{}", year.text);
        let link = element(&year.text, "payment-schedule-LDF");
        assert!(link.contains(&format!("href=\"{PAGE}\"")) && link.ends_with(">Payment schedule of LDF"), "{link}");
        assert_eq!(send(&app, "GET", PAGE, Some(&secret), None, &[]).await.status, StatusCode::OK, "{role:?}");
    }
    // The others, whom the schedule's page refuses, are linked to nothing.
    for role in [Role::Finance, Role::Viewer] {
        let secret = sign_in(&app, role).await;
        let year = send(&app, "GET", "/financial-years/2023-24", Some(&secret), None, &[]).await;
        assert_eq!(year.status, StatusCode::OK, "{}", year.text);
        assert!(year.text.contains("id=\"awards\""), "the awards are shown: {}", year.text);
        assert!(!year.text.contains("payment-schedule"), "{role:?}: {}", year.text);
        assert_eq!(send(&app, "GET", PAGE, Some(&secret), None, &[]).await.status, StatusCode::FORBIDDEN, "{role:?}");
    }
});
