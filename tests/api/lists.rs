//! The lists people search (docs/desk.md, "Finding things"): each filter of the entries list
//! alone and together, on the API and the page; bad filters refused naming the parameter;
//! free text matched literally, escaped on the page and defused in the CSV; a filtered list
//! paged by date with cursors bound to its order and filters; the CSV holding the page's
//! rows; the other lists' filters; and a drilled list adding up to the figure it explains.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::{Value, json};

use crate::backend_test;
use crate::pages::{send, sign_in};
use crate::support::TestApp;

fn spend(supplier: &str, invoice: &str, project: &str, date: &str, amount: &str, memo: &str) -> Value {
    json!({ "grant": "LDF", "project": project, "date": date, "supplier": supplier,
            "description": memo, "invoice_ref": invoice, "amount": amount })
}

/// Two projects with money, and five spends: (entry ids in the order recorded).
async fn ledger(app: &TestApp) -> Vec<i64> {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    app.allocate("LDF", "2023-24", "P2", "20000").await;
    let spends = [
        spend("Youth Trust", "YT-1", "P1", "2023-06-10", "1500.00", "Diversionary sessions"),
        spend("Hall Hire Ltd", "HH-7", "P1", "2023-05-01", "250.00", "Room for 100% of_fees"),
        spend("youth trust", "YT-2", "P2", "2023-07-15", "3000.00", "Summer programme"),
        spend("Print & Co", "PC-9", "P2", "2023-05-20", "99.99", "Leaflets"),
        spend("Youth Trust", "YT-3", "P1", "2023-04-20", "750.00", "Mentoring"),
    ];
    let mut ids = Vec::new();
    for body in spends {
        ids.push(app.ok("/api/v1/spend", Role::Finance, body).await["entry_id"].as_i64().unwrap());
    }
    ids
}

/// Every entry the API lists for `query`, as JSON (following cursors).
async fn every_item(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/entries?{query}&limit=2&cursor={c}"),
            None => format!("/api/v1/entries?{query}&limit=2"),
        };
        let r = app.get(&path, Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        out.extend(r.body["items"].as_array().unwrap().iter().cloned());
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// The ids of every entry the API lists for `query`.
async fn listed(app: &TestApp, query: &str) -> Vec<i64> {
    every_item(app, query).await.iter().map(|e| e["id"].as_i64().unwrap()).collect()
}

fn set(ids: &[i64]) -> BTreeSet<i64> {
    ids.iter().copied().collect()
}

backend_test!(each_filter_finds_its_entries_alone_and_together, |app: TestApp| async move {
    let s = ledger(&app).await;
    let spends = |q: &str| format!("kind=spend&{q}");
    let cases: Vec<(String, Vec<i64>)> = vec![
        (spends("supplier=YOUTH"), vec![s[0], s[2], s[4]]),
        (spends("supplier=hall"), vec![s[1]]),
        (spends("invoice_ref=YT-2"), vec![s[2]]),
        (spends("invoice_ref=YT"), vec![]),
        (spends("q=SESSIONS"), vec![s[0]]),
        (spends("project=P2"), vec![s[2], s[3]]),
        ("kind=spend&grant=LDF".into(), s.clone()),
        (spends("grant=ASB-EI"), vec![]),
        (spends("from=2023-05-01&to=2023-06-10"), vec![s[0], s[1], s[3]]),
        (spends("min=250&max=1500"), vec![s[0], s[1], s[4]]),
        (spends("min=99.99&max=99.99"), vec![s[3]]),
        (spends("supplier=youth&project=P1&min=1000"), vec![s[0]]),
        (spends("supplier=youth&from=2023-05-01&q=programme"), vec![s[2]]),
        (spends("financial_year=2023-24&account=spent&project=P1"), vec![s[0], s[1], s[4]]),
    ];
    for (query, want) in cases {
        assert_eq!(set(&listed(&app, &query).await), set(&want), "{query}");
    }
    // Without `kind`, the allocations are listed too; `kind=allocation` finds only them.
    let allocations = listed(&app, "kind=allocation&project=P1").await;
    assert_eq!(allocations.len(), 1);
    assert!(!allocations.contains(&s[0]));
});

backend_test!(bad_filters_are_refused_naming_the_parameter, |app: TestApp| async move {
    for (query, field) in [
        ("min=abc", "min"),
        ("max=-5", "max"),
        ("min=1.234", "min"),
        ("sort=up", "sort"),
        ("account=wallet", "account"),
        ("kind=gift", "kind"),
        ("from=2023-13-01", "from"),
        ("supplier=", "supplier"),
        ("project=no%20code", "project"),
        ("colour=red", "colour"),
    ] {
        let r = app.get(&format!("/api/v1/entries?{query}"), Role::Viewer).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", r.body);
        assert_eq!(r.headers["content-type"], "application/problem+json", "{query}");
        assert_eq!(r.fields(), [field], "{query}");
    }
    let r = app.get("/api/v1/entries?min=x&sort=up", Role::Viewer).await;
    assert_eq!(r.fields(), ["min", "sort"], "every bad parameter at once");
    for (path, field) in [
        ("/api/v1/commitments?status=closed", "status"),
        ("/api/v1/commitments?from=yesterday", "from"),
        ("/api/v1/virements?project=a%20b", "project"),
        ("/api/v1/returns?to=2024-02-30", "to"),
    ] {
        let r = app.get(path, Role::Viewer).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.body);
        assert_eq!(r.fields(), [field], "{path}");
    }
    // On the pages, an error page naming it.
    let secret = sign_in(&app, Role::Viewer).await;
    for path in ["/entries?min=abc", "/entries?sort=up", "/commitments?status=closed", "/entries?format=pdf"] {
        let p = send(&app, "GET", path, Some(&secret), None, &[]).await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert!(p.is_html(), "{path}");
        let field = path.split(['?', '=']).nth(1).unwrap();
        assert!(p.text.contains(field), "{path} names {field}: {}", p.text);
    }
});

backend_test!(free_text_is_matched_literally_escaped_on_the_page_and_defused_in_the_csv, |app: TestApp| async move {
    let s = ledger(&app).await;
    assert_eq!(listed(&app, "q=%25").await, vec![s[1]], "% is a percent sign");
    assert_eq!(listed(&app, "q=_").await, vec![s[1]], "_ is an underscore");
    assert_eq!(listed(&app, "q=100%25%20of_").await, vec![s[1]]);
    assert_eq!(listed(&app, "q=100%25%20of%25").await, Vec::<i64>::new(), "no wildcard");
    let hostile = "<script>alert('x')</script>";
    let formula = "=HYPERLINK(\"http://evil\")";
    let h = app.ok("/api/v1/spend", Role::Finance, spend(formula, "EV-1", "P1", "2023-08-01", "10.00", hostile)).await;
    let h = h["entry_id"].as_i64().unwrap();
    assert_eq!(listed(&app, "q=%3Cscript%3E").await, vec![h]);
    assert_eq!(listed(&app, "supplier=%3DHYPERLINK").await, vec![h]);

    let secret = sign_in(&app, Role::Viewer).await;
    let p = send(&app, "GET", "/entries?q=%3Cscript%3E", Some(&secret), None, &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    assert!(!p.text.contains("<script>"), "escaped: {}", p.text);
    assert!(p.text.contains("&lt;script&gt;alert('x')&lt;/script&gt;"), "{}", p.text);
    // The filter's own value comes back in the form, escaped too.
    assert!(p.text.contains("value=\"&lt;script&gt;\""), "{}", p.text);
    let csv = send(&app, "GET", "/entries?q=%3Cscript%3E&format=csv", Some(&secret), None, &[]).await;
    assert_eq!(csv.status, StatusCode::OK);
    let line = csv.text.lines().nth(1).unwrap();
    assert!(line.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "defused: {line}");
});

backend_test!(a_filtered_list_pages_by_date_with_its_own_cursors, |app: TestApp| async move {
    let s = ledger(&app).await;
    // By date: YT-3 (04-20), HH-7 (05-01), PC-9 (05-20), YT-1 (06-10), YT-2 (07-15).
    let by_date = listed(&app, "kind=spend&sort=date").await;
    assert_eq!(by_date, vec![s[4], s[1], s[3], s[0], s[2]]);
    assert_eq!(listed(&app, "kind=spend&sort=date&supplier=youth").await, vec![s[4], s[0], s[2]]);
    assert_eq!(listed(&app, "kind=spend").await, s, "by id, as before");
    assert_eq!(listed(&app, "kind=spend&sort=id").await, s);

    let first = app.get("/api/v1/entries?kind=spend&sort=date&limit=2", Role::Viewer).await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    let same = app.get(&format!("/api/v1/entries?kind=spend&sort=date&limit=2&cursor={cursor}"), Role::Viewer).await;
    assert_eq!(same.status, StatusCode::OK);
    for other in ["kind=spend&sort=date&supplier=youth", "kind=spend", "sort=date", "kind=spend&sort=id"] {
        let r = app.get(&format!("/api/v1/entries?{other}&limit=2&cursor={cursor}"), Role::Viewer).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{other}: {}", r.body);
        assert_eq!(r.fields(), ["cursor"], "{other}");
    }
    let by_id = app.get("/api/v1/entries?kind=spend&limit=2", Role::Viewer).await;
    let id_cursor = by_id.body["next_cursor"].as_str().unwrap();
    let r = app.get(&format!("/api/v1/entries?kind=spend&sort=date&cursor={id_cursor}"), Role::Viewer).await;
    assert_eq!(r.fields(), ["cursor"], "a cursor of the order by id");

    // The page follows its next-page links through the same rows.
    let secret = sign_in(&app, Role::Viewer).await;
    let mut path = "/entries?kind=spend&limit=2".to_owned();
    let mut seen = Vec::new();
    loop {
        let p = send(&app, "GET", &path, Some(&secret), None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.text);
        seen.extend(row_ids(&p.text));
        match next_link(&p.text) {
            Some(next) => path = next,
            None => break,
        }
    }
    assert_eq!(seen, by_date, "the page lists by date");
});

/// The `data-id` of each row of the page's table.
fn row_ids(html: &str) -> Vec<i64> {
    let body = &html[html.find("<tbody>").unwrap_or(0)..];
    body.split("<tr data-id=\"").skip(1).map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap()).collect()
}

/// An attribute's value on the element with `id`, unescaped (`&amp;` only).
fn attribute(html: &str, id: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let tag_start = html[..at].rfind('<')?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let rest = &tag[tag.find(&format!(" {name}=\""))? + name.len() + 3..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

fn next_link(html: &str) -> Option<String> {
    attribute(html, "next-page", "href")
}

backend_test!(the_csv_holds_the_pages_rows_and_a_viewer_reads_both, |app: TestApp| async move {
    let s = ledger(&app).await;
    let secret = sign_in(&app, Role::Viewer).await;
    let p = send(&app, "GET", "/entries?supplier=youth&kind=spend", Some(&secret), None, &[]).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.text);
    let ids = row_ids(&p.text);
    assert_eq!(ids, vec![s[4], s[0], s[2]]);
    assert_eq!(attribute(&p.text, "list-total", "data-total").as_deref(), Some("5250.00"));
    let csv_link = attribute(&p.text, "csv-link", "href").unwrap();
    assert!(csv_link.contains("supplier=youth") && csv_link.contains("kind=spend"), "{csv_link}");
    let csv = send(&app, "GET", &csv_link, Some(&secret), None, &[]).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let mut lines = csv.text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (id_at, amount_at) =
        (header.iter().position(|h| *h == "id").unwrap(), header.iter().position(|h| *h == "amount").unwrap());
    let rows: Vec<(i64, String)> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[id_at].parse().unwrap(), cells[amount_at].to_owned())
        })
        .collect();
    assert_eq!(rows, vec![(s[4], "750.00".into()), (s[0], "1500.00".into()), (s[2], "3000.00".into())]);

    // Every list page opens for a viewer; the audit trail's admin-only records do not.
    for path in ["/commitments", "/virements", "/returns", "/audit"] {
        let p = send(&app, "GET", path, Some(&secret), None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{path}: {}", p.text);
        let csv = send(&app, "GET", &format!("{path}?format=csv"), Some(&secret), None, &[]).await;
        assert_eq!(csv.status, StatusCode::OK, "{path} as CSV");
    }
    let p = send(&app, "GET", "/audit?entity=token", Some(&secret), None, &[]).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = send(&app, "GET", "/entries", None, None, &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "no session: to sign in");
    let funder = sign_in(&app, Role::Funder).await;
    assert_eq!(send(&app, "GET", "/audit", Some(&funder), None, &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&app, "GET", "/entries", Some(&funder), None, &[]).await.status, StatusCode::OK);
});

backend_test!(commitments_and_virements_are_found_by_their_filters, |app: TestApp| async move {
    app.project("P1", "ASB").await;
    app.project("P2", "ASB").await;
    app.allocate("LDF", "2023-24", "P1", "20000").await;
    app.allocate("LDF", "2023-24", "P2", "20000").await;
    let commit = |project: &str, supplier: &str, date: &str, amount: &str| {
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": project, "supplier": supplier,
                "amount": amount, "date": date })
    };
    let c1 = app.ok("/api/v1/commitments", Role::Finance, commit("P1", "Youth Trust", "2023-05-01", "1000")).await;
    let c2 = app.ok("/api/v1/commitments", Role::Finance, commit("P2", "Hall Hire", "2023-06-01", "500")).await;
    let c3 = app.ok("/api/v1/commitments", Role::Finance, commit("P1", "Hall Hire", "2023-07-01", "300")).await;
    // c3 is spent in full: no longer open.
    let mut body = spend("Hall Hire", "HH-1", "P1", "2023-07-02", "300.00", "Hall");
    body["commitment_id"] = c3["commitment_id"].clone();
    app.ok("/api/v1/spend", Role::Finance, body).await;
    let ids = |v: &Value| -> Vec<i64> {
        v["items"].as_array().unwrap().iter().map(|c| c["commitment_id"].as_i64().unwrap()).collect()
    };
    let id = |c: &Value| c["commitment_id"].as_i64().unwrap();
    for (query, want) in [
        ("status=open", vec![id(&c1), id(&c2)]),
        ("status=all", vec![id(&c1), id(&c2), id(&c3)]),
        ("open=true", vec![id(&c1), id(&c2)]),
        ("supplier=HALL", vec![id(&c2), id(&c3)]),
        ("supplier=hall&status=open", vec![id(&c2)]),
        ("project=P1&grant=LDF&financial_year=2023-24", vec![id(&c1), id(&c3)]),
        ("from=2023-05-15&to=2023-06-30", vec![id(&c2)]),
    ] {
        let r = app.get(&format!("/api/v1/commitments?{query}"), Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(ids(&r.body), want, "{query}");
    }
    let v = json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                    "amount": "100", "approved_on": "2023-05-05", "approval_ref": "m", "reason": "r" });
    app.ok("/api/v1/virements", Role::Approver, v).await;
    for (query, n) in
        [("project=P2", 1), ("project=P3", 0), ("grant=LDF&from=2023-05-05&to=2023-05-05", 1), ("to=2023-05-04", 0)]
    {
        let r = app.get(&format!("/api/v1/virements?{query}"), Role::Viewer).await;
        assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.body);
        assert_eq!(r.body["items"].as_array().unwrap().len(), n, "{query}");
    }
    // The page's total is what is outstanding on the commitments it finds.
    let secret = sign_in(&app, Role::Viewer).await;
    let p = send(&app, "GET", "/commitments?status=open&supplier=hall", Some(&secret), None, &[]).await;
    assert_eq!(row_ids(&p.text), vec![id(&c2)]);
    assert_eq!(attribute(&p.text, "list-total", "data-total").as_deref(), Some("500.00"));
});

/// The first drill-down link to `path` in the variance row of `project`.
fn drill_link(dashboard: &str, project: &str, path: &str) -> Option<String> {
    let row_at = dashboard.find(&format!("data-project=\"{project}\""))?;
    let row = &dashboard[row_at..row_at + dashboard[row_at..].find("</tr>")?];
    let at = row.find(&format!("class=\"drill\" href=\"{path}?"))?;
    let rest = &row[at + "class=\"drill\" href=\"".len()..];
    Some(rest[..rest.find('"')?].replace("&amp;", "&"))
}

backend_test!(a_drilled_list_adds_up_to_the_variance_figure_it_explains, |app: TestApp| async move {
    let s = ledger(&app).await;
    // A refund and a reversed spend on P1 too: the figure nets them, and so must the list.
    app.ok(
        "/api/v1/refunds",
        Role::Finance,
        json!({ "grant": "LDF", "project": "P1", "date": "2023-09-01", "amount": "100.50", "reference": "CN-1",
                "reason": "credit note" }),
    )
    .await;
    app.ok(
        &format!("/api/v1/entries/{}/reverse", s[1]),
        Role::Finance,
        json!({ "date": "2023-09-02", "reason": "keyed twice" }),
    )
    .await;
    app.ok(
        "/api/v1/commitments",
        Role::Finance,
        json!({ "grant": "LDF", "financial_year": "2023-24", "project": "P1", "supplier": "Youth Trust",
                "amount": "400", "date": "2023-10-01" }),
    )
    .await;
    let secret = sign_in(&app, Role::Viewer).await;
    for as_at in ["", "&as_at=2023-09-01"] {
        let variance = app.get(&format!("/api/v1/reports/variance?financial_year=2023-24{as_at}"), Role::Viewer).await;
        assert_eq!(variance.status, StatusCode::OK, "{}", variance.body);
        let line = variance.body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["project"] == "P1" && l["grant"] == "LDF")
            .unwrap_or_else(|| panic!("{}", variance.body))
            .clone();
        let d = send(
            &app,
            "GET",
            &format!("/dashboard?financial_year=2023-24&columns=all{as_at}"),
            Some(&secret),
            None,
            &[],
        )
        .await;
        assert_eq!(d.status, StatusCode::OK);
        let link = drill_link(&d.text, "P1", "/entries").unwrap_or_else(|| panic!("no drill-down: {}", d.text));
        let list = send(&app, "GET", &link, Some(&secret), None, &[]).await;
        assert_eq!(list.status, StatusCode::OK, "{link}: {}", list.text);
        let total = attribute(&list.text, "list-total", "data-total");
        assert_eq!(total.as_deref(), line["actual"].as_str(), "{link} against {line}");
        let spends = row_ids(&list.text);
        assert!(spends.contains(&s[0]) && spends.contains(&s[1]), "the reversed spend and its reversal: {spends:?}");
        // The committed figure, for the current report, to the open commitments.
        match drill_link(&d.text, "P1", "/commitments") {
            Some(link) => {
                assert!(as_at.is_empty(), "committed links only for the current figures");
                let list = send(&app, "GET", &link, Some(&secret), None, &[]).await;
                let total = attribute(&list.text, "list-total", "data-total");
                assert_eq!(total.as_deref(), line["committed"].as_str(), "{link} against {line}");
            }
            None => assert!(!as_at.is_empty(), "no committed link: {}", d.text),
        }
    }
    assert_eq!(listed(&app, "account=spent&project=P1&to=2023-08-31").await, vec![s[0], s[1], s[4]]);
});

/// A figure as the API gives it ("-12.34") in pence.
fn pence(text: &str) -> i64 {
    let (sign, digits) = text.strip_prefix('-').map_or((1, text), |d| (-1, d));
    let (pounds, part) = digits.split_once('.').unwrap_or((digits, "00"));
    sign * (pounds.parse::<i64>().unwrap() * 100 + part.parse::<i64>().unwrap())
}

/// The count and total the page must show for `query`, worked out from the postings of every
/// entry the API lists (docs/desk.md: an entry's amount is the sum of its debits, or with
/// `account` its net to the accounts of that kind, of the project when one is asked for).
async fn summed(app: &TestApp, query: &str) -> (usize, i64) {
    let param = |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_owned));
    let (account, project) = (param("account"), param("project"));
    let items = every_item(app, query).await;
    let amount = |e: &Value| -> i64 {
        let postings = e["postings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["account"].as_str().unwrap().to_owned(), pence(p["amount"].as_str().unwrap())));
        match &account {
            None => postings.map(|(_, a)| a).filter(|a| *a > 0).sum(),
            Some(kind) => {
                let net: i64 = postings
                    .filter(|(name, _)| {
                        name.starts_with(&format!("{kind}:"))
                            && project.as_ref().is_none_or(|p| name.ends_with(&format!(":{p}")))
                    })
                    .map(|(_, a)| a)
                    .sum();
                // Credit-normal kinds show a credit as positive.
                if ["awarded", "cash", "claimed"].contains(&kind.as_str()) { net } else { -net }
            }
        }
    };
    (items.len(), items.iter().map(amount).sum())
}

backend_test!(the_pages_count_and_total_are_every_entry_its_filters_find, |app: TestApp| async move {
    let s = ledger(&app).await;
    // A refund and a reversal, so amounts net to an account in both directions.
    let refund = json!({ "grant": "LDF", "project": "P1", "date": "2023-08-01", "amount": "40.00",
        "reference": "RF-1", "reason": "Overcharged" });
    app.ok("/api/v1/refunds", Role::Finance, refund).await;
    let reversal = json!({ "date": "2023-08-02", "reason": "keyed twice" });
    app.ok(&format!("/api/v1/entries/{}/reverse", s[3]), Role::Finance, reversal).await;
    let secret = sign_in(&app, Role::Viewer).await;
    let queries = [
        "",
        "project=P1",
        "project=P2&kind=spend",
        "kind=allocation",
        "account=spent",
        "account=spent&project=P1",
        "account=available&project=P2",
        "account=spent&project=P1&min=100",
        "min=250&max=1500",
        "from=2023-05-01&to=2023-06-10&project=P1",
        "supplier=youth&project=P1",
        "financial_year=2023-24&grant=LDF&kind=spend",
        "project=P3",
    ];
    for query in queries {
        let (count, total) = summed(&app, query).await;
        let p = send(&app, "GET", &format!("/entries?{query}"), Some(&secret), None, &[]).await;
        assert_eq!(p.status, StatusCode::OK, "{query}: {}", p.text);
        let shown = |name| attribute(&p.text, "list-total", name).unwrap();
        assert_eq!(shown("data-count"), count.to_string(), "count of /entries?{query}");
        assert_eq!(pence(&shown("data-total")), total, "total of /entries?{query}");
    }
    // Not a list of nothing: the filters find what the ledger holds.
    assert_eq!(summed(&app, "kind=spend").await, (5, 150_000 + 25_000 + 300_000 + 9_999 + 75_000));
    assert_eq!(summed(&app, "account=spent&project=P1").await, (4, 150_000 + 25_000 + 75_000 - 4_000));
});
