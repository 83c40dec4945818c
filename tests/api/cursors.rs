//! Every list refuses a cursor it did not give out, 422 naming `cursor`, rather than silently
//! starting again at its first page: hand-made ones (`30`, `00`), edited ones, and another
//! list's.

use axum::http::StatusCode;
use grant_ledger::storage::tokens::Role;
use serde_json::json;

use crate::backend_test;
use crate::contract::operations;
use crate::support::TestApp;

/// Two of everything that lists: projects, organisations, commitments, virements, a funder,
/// filed returns (the fixtures hold the rest).
async fn two_of_each(app: &TestApp) {
    for p in ["P1", "P2"] {
        app.project(p, "ASB").await;
        app.allocate("LDF", "2023-24", p, "1000").await;
        app.ok(
            "/api/v1/commitments",
            Role::Finance,
            json!({ "grant": "LDF", "financial_year": "2023-24", "project": p, "supplier": "s", "amount": "10", "date": "2023-05-01" }),
        )
        .await;
    }
    for (code, amount) in [("A", "1"), ("B", "2")] {
        app.ok(
            "/api/v1/virements",
            Role::Approver,
            json!({ "grant": "LDF", "financial_year": "2023-24", "from_project": "P1", "to_project": "P2",
                    "amount": amount, "approved_on": "2023-06-01", "approval_ref": code, "reason": "r" }),
        )
        .await;
        app.ok(
            "/api/v1/organisations",
            Role::Approver,
            json!({ "code": format!("ORG-{code}"), "name": format!("Org {code}"), "kind": "vcse" }),
        )
        .await;
        app.ok(
            "/api/v1/funders",
            Role::Operator,
            json!({ "code": format!("F-{code}"), "name": format!("Funder {code}") }),
        )
        .await;
    }
    for quarter in [1, 2] {
        app.ok(
            "/api/v1/returns",
            Role::Finance,
            json!({ "kind": "commissioner-return", "financial_year": "2023-24", "quarter": quarter }),
        )
        .await;
    }
}

fn with_cursor(path: &str, cursor: &str) -> String {
    format!("{path}?limit=1&cursor={}", cursor.replace('%', "%25").replace('&', "%26").replace('#', "%23"))
}

backend_test!(every_list_refuses_a_cursor_it_did_not_give_out, |app: TestApp| async move {
    two_of_each(&app).await;
    let lists: Vec<String> = operations()
        .into_iter()
        .filter(|o| o.method == "get" && o.path.starts_with("/api/v1/"))
        .filter(|o| {
            o.op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "cursor" && p["in"] == "query"))
        })
        .map(|o| o.path.replace("{grant}", "LDF"))
        .collect();
    assert_eq!(lists.len(), 14, "every paged list: {lists:?}");

    // Each list's own second page, reached through the cursor it gave out.
    let mut cursors = Vec::new();
    for path in &lists {
        let first = app.get(&format!("{path}?limit=1"), Role::Admin).await;
        assert_eq!(first.status, StatusCode::OK, "{path}: {}", first.body);
        let cursor =
            first.body["next_cursor"].as_str().unwrap_or_else(|| panic!("{path} has one page: {}", first.body));
        let second = app.get(&with_cursor(path, cursor), Role::Admin).await;
        assert_eq!(second.status, StatusCode::OK, "{path}: {}", second.body);
        assert_ne!(first.body["items"][0], second.body["items"][0], "{path}: the cursor moved on");
        cursors.push(cursor.to_owned());
    }

    for (path, own) in lists.iter().zip(&cursors) {
        let (key, check) = own.split_once('.').expect("a cursor carries its check");
        let mut forged: Vec<String> = ["30", "00", "31", "ff", "zz", "0", "-1", "1.0", ".", "3130.", "%00", "30%2e00"]
            .map(str::to_owned)
            .to_vec();
        forged.extend([
            key.to_owned(),
            format!("{key}."),
            format!(".{check}"),
            format!("{key}.{}", &check[1..]),
            format!("{key}.{check}0"),
            format!("{own}.{check}"),
            format!("{}.{check}", hex::encode("1")),
            format!("{}{key}.{check}", hex::encode("9")),
            format!(
                "{key}.{}",
                if check.starts_with('0') { check.replacen('0', "1", 1) } else { format!("0{}", &check[1..]) }
            ),
        ]);
        // Another list's cursor, genuine there, is refused here.
        forged.extend(cursors.iter().filter(|c| *c != own).cloned());
        forged.retain(|c| c != own);
        for cursor in &forged {
            let r = app.get(&with_cursor(path, cursor), Role::Admin).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path} took cursor {cursor:?}: {}", r.body);
            assert_eq!(r.fields(), ["cursor"], "{path} {cursor:?}: {}", r.body);
        }
    }
});
