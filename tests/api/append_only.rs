//! Every append-only table refuses an update and a delete with its own
//! trigger's message. Each is tried on a row nothing depends on (written straight into the
//! database, past the API), so no foreign key refuses it first: without its trigger the edit
//! would go through, and the test would fail.

use std::collections::BTreeSet;

use grant_ledger::storage::Backend as StoreBackend;
use sqlx::Row;

use crate::backend_test;
use crate::support::TestApp;

/// Every append-only table, a column to try to change, and its SQLite trigger's message.
/// PostgreSQL's triggers share one function, whose message names the table: "entries is
/// append-only".
const TABLES: &[(&str, &str, &str)] = &[
    ("entries", "memo", "entries are append-only"),
    ("postings", "line", "postings are append-only"),
    ("audit_log", "actor", "the audit log is append-only"),
    ("filed_returns", "filed_by", "filed returns are append-only"),
    ("forecasts", "explanation", "forecasts are append-only"),
    ("indicator_returns", "note", "indicator returns are append-only"),
    ("commitments", "supplier", "commitments are append-only"),
    ("agreement_parts", "amount_pence", "agreement parts are append-only"),
    ("agreement_evidence", "note", "agreement evidence is append-only"),
    ("forecast_withdrawals", "reason", "forecast withdrawals are append-only"),
    ("indicator_return_withdrawals", "reason", "indicator return withdrawals are append-only"),
    ("evidence_reversals", "reason", "evidence reversals are append-only"),
    ("funds", "created_by", "funds are append-only"),
    ("reallocations", "reason", "reallocations are append-only"),
    ("funder_payments", "reference", "funder payments are append-only"),
];

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn id_of(app: &TestApp, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(app.store.pool()).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get("id")
}

/// Writes one row of each append-only table that nothing refers to; returns, for each table,
/// the condition that picks that row.
async fn rows_without_dependants(app: &TestApp) -> Vec<(&'static str, String)> {
    app.project("P1", "ASB").await;
    let entry = |id: i64| {
        format!(
            "insert into entries (id, kind, entry_date, financial_year, grant_code, created_by, created_at)
             values ({id}, 'spend', '2023-05-01', '2023-24', 'LDF', 'x', '2023-05-01T00:00:00Z')"
        )
    };
    // 900001 has nothing under it; 900002 carries the posting tried below.
    exec(app, &entry(900_001)).await;
    exec(app, &entry(900_002)).await;
    exec(
        app,
        "insert into postings (entry_id, line, account, amount_pence, entry_date)
         values (900002, 1, 'awarded:LDF:2023-24', 1, '2023-05-01')",
    )
    .await;
    let audit = id_of(app, "select max(id) as id from audit_log").await;
    let filed: i64 = sqlx::query(
        "insert into filed_returns (kind, financial_year, quarter, filed_at, filed_by, file_name, content_type, body,
                                    sha256, anchors)
         values ('commissioner-return', '2023-24', 1, '2023-07-01T00:00:00Z', 'x', 'x.csv', 'text/csv', $1, 'x', '')
         returning id",
    )
    .bind(vec![0u8])
    .fetch_one(app.store.pool())
    .await
    .unwrap()
    .get("id");
    let forecast = id_of(
        app,
        "insert into forecasts (grant_code, financial_year, quarter, project_code, forecast_pence, explanation,
                                progress_rag, rag_reason, made_on, made_by, made_at)
         values ('LDF', '2023-24', 1, 'P1', 1, 'x', 'green', 'x', '2023-05-01', 'x', '2023-05-01T00:00:00Z')
         returning id",
    )
    .await;
    exec(
        app,
        "insert into indicators (project_code, code, financial_year, name, unit, baseline, target, q1_target,
                                 q2_target, q3_target, q4_target, created_by, created_at)
         values ('P1', 'I', '2023-24', 'x', 'x', '0', '4', '1', '1', '1', '1', 'x', '2023-04-01T00:00:00Z')",
    )
    .await;
    let indicator_return = id_of(
        app,
        "insert into indicator_returns (project_code, indicator_code, financial_year, quarter, actual, evidence_ref,
                                        note, recorded_by, recorded_at)
         values ('P1', 'I', '2023-24', 1, '1', 'x', 'x', 'x', '2023-07-01T00:00:00Z') returning id",
    )
    .await;
    // Withdrawals of a second forecast and a second return, so the first ones stay without dependants.
    let withdrawn_forecast = id_of(
        app,
        "insert into forecasts (grant_code, financial_year, quarter, project_code, forecast_pence, explanation,
                                progress_rag, rag_reason, made_on, made_by, made_at)
         values ('LDF', '2023-24', 1, 'P1', 2, 'x', 'green', 'x', '2023-05-02', 'x', '2023-05-02T00:00:00Z')
         returning id",
    )
    .await;
    let forecast_withdrawal = id_of(
        app,
        &format!(
            "insert into forecast_withdrawals (forecast_id, reason, withdrawn_by, withdrawn_at)
             values ({withdrawn_forecast}, 'x', 'x', '2023-05-03T00:00:00Z') returning id"
        ),
    )
    .await;
    let withdrawn_return = id_of(
        app,
        "insert into indicator_returns (project_code, indicator_code, financial_year, quarter, actual, evidence_ref,
                                        note, recorded_by, recorded_at)
         values ('P1', 'I', '2023-24', 1, '2', 'x', 'x', 'x', '2023-07-02T00:00:00Z') returning id",
    )
    .await;
    let return_withdrawal = id_of(
        app,
        &format!(
            "insert into indicator_return_withdrawals (indicator_return_id, reason, withdrawn_by, withdrawn_at)
             values ({withdrawn_return}, 'x', 'x', '2023-07-03T00:00:00Z') returning id"
        ),
    )
    .await;
    let commitment = |reference: &str| {
        format!(
            "insert into commitments (grant_code, financial_year, project_code, supplier, reference, amount_pence,
                                      commitment_date, created_at)
             values ('LDF', '2023-24', 'P1', 'x', '{reference}', 100, '2023-05-01', '2023-05-01T00:00:00Z')
             returning id"
        )
    };
    // The first has nothing under it; the second carries the part and the evidence tried below.
    let lone = id_of(app, &commitment("lone")).await;
    let parent = id_of(app, &commitment("parent")).await;
    exec(
        app,
        &format!(
            "insert into agreement_parts (commitment_id, financial_year, amount_pence) values ({parent}, '2023-24', 100)"
        ),
    )
    .await;
    let evidence = id_of(
        app,
        &format!(
            "insert into agreement_evidence (commitment_id, evidence_date, amount_pence, status, note, created_by,
                                             created_at)
             values ({parent}, '2023-06-01', 1, 'partial', '', 'x', '2023-06-01T00:00:00Z') returning id"
        ),
    )
    .await;
    // A reversal of a second piece of evidence, so the first stays without dependants.
    let reversed_evidence = id_of(
        app,
        &format!(
            "insert into agreement_evidence (commitment_id, evidence_date, amount_pence, status, note, created_by,
                                             created_at)
             values ({parent}, '2023-06-02', 1, 'partial', '', 'x', '2023-06-02T00:00:00Z') returning id"
        ),
    )
    .await;
    exec(
        app,
        &format!(
            "insert into evidence_reversals (evidence_id, commitment_id, reversal_date, reason, created_by, created_at)
             values ({reversed_evidence}, {parent}, '2023-06-03', 'x', 'x', '2023-06-03T00:00:00Z')"
        ),
    )
    .await;
    // The funder's records: a fund nothing refers to, and a second fund with a second
    // partnership for the reallocation and the payment to name.
    exec(app, "insert into funders (code, name) values ('TFUND', 'Test funder')").await;
    let fund = |grant: &str| {
        format!(
            "insert into funds (grant_code, financial_year, amount_pence, funder, created_by, created_at)
             values ('{grant}', '2023-24', 100, 'TFUND', 'x', '2023-04-01T00:00:00Z')"
        )
    };
    exec(app, &fund("LONE")).await;
    exec(app, &fund("MOVED")).await;
    let partnership = |code: &str| {
        format!(
            "insert into partnerships (code, name, funder, area_code, created_at)
             values ('{code}', 'x', 'TFUND', 'E07000199', '2023-04-01T00:00:00Z') returning id"
        )
    };
    let (from, to) = (id_of(app, &partnership("PA")).await, id_of(app, &partnership("PB")).await);
    let reallocation = id_of(
        app,
        &format!(
            "insert into reallocations (grant_code, financial_year, from_partnership_id, to_partnership_id,
                                        amount_pence, reallocated_on, reason, created_by, created_at)
             values ('MOVED', '2023-24', {from}, {to}, 1, '2024-01-15', 'x', 'x', '2024-01-15T00:00:00Z')
             returning id"
        ),
    )
    .await;
    let payment = id_of(
        app,
        &format!(
            "insert into funder_payments (partnership_id, grant_code, financial_year, paid_on, amount_pence,
                                          reference, created_by, created_at)
             values ({to}, 'MOVED', '2023-24', '2023-05-01', 1, 'x', 'x', '2023-05-01T00:00:00Z') returning id"
        ),
    )
    .await;
    vec![
        ("entries", "id = 900001".to_owned()),
        ("postings", "entry_id = 900002 and line = 1".to_owned()),
        ("audit_log", format!("id = {audit}")),
        ("filed_returns", format!("id = {filed}")),
        ("forecasts", format!("id = {forecast}")),
        ("indicator_returns", format!("id = {indicator_return}")),
        ("commitments", format!("id = {lone}")),
        ("agreement_parts", format!("commitment_id = {parent}")),
        ("agreement_evidence", format!("id = {evidence}")),
        ("forecast_withdrawals", format!("id = {forecast_withdrawal}")),
        ("indicator_return_withdrawals", format!("id = {return_withdrawal}")),
        ("evidence_reversals", format!("evidence_id = {reversed_evidence}")),
        ("funds", "grant_code = 'LONE'".to_owned()),
        ("reallocations", format!("id = {reallocation}")),
        ("funder_payments", format!("id = {payment}")),
    ]
}

backend_test!(every_append_only_table_refuses_with_its_own_trigger, |app: TestApp| async move {
    let sqlite = app.store.backend() == StoreBackend::Sqlite;
    let rows = rows_without_dependants(&app).await;
    assert_eq!(rows.len(), TABLES.len(), "a row for every append-only table");
    for ((table, column, message), (row_table, which)) in TABLES.iter().zip(&rows) {
        assert_eq!(table, row_table);
        let message = if sqlite { (*message).to_owned() } else { format!("{table} is append-only") };
        // A change that leaves the value as it was is still one the trigger refuses.
        let change = format!("update {table} set {column} = {column} where {which}");
        for sql in [change, format!("delete from {table} where {which}")] {
            let refused = sqlx::query(&sql).execute(app.store.pool()).await;
            let err = refused.err().unwrap_or_else(|| panic!("{sql}: let through"));
            assert!(err.to_string().contains(&message), "{sql}: refused, but not by its trigger: {err}");
        }
        let left: i64 = sqlx::query(&format!("select count(*) as n from {table} where {which}"))
            .fetch_one(app.store.pool())
            .await
            .unwrap()
            .get("n");
        assert_eq!(left, 1, "{table}: the row is still there");
    }
});

backend_test!(the_append_only_tables_are_exactly_those_with_the_triggers, |app: TestApp| async move {
    let sql = if app.store.backend() == StoreBackend::Sqlite {
        "select distinct tbl_name as name from sqlite_master
         where type = 'trigger' and (name like '%\\_no\\_update' escape '\\' or name like '%\\_no\\_delete' escape '\\')"
    } else {
        "select distinct cast(c.relname as text) as name from pg_trigger t
         join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid
         where p.proname = 'refuse_change' and not t.tgisinternal"
    };
    let with_triggers: BTreeSet<String> =
        sqlx::query(sql).fetch_all(app.store.pool()).await.unwrap().iter().map(|r| r.get("name")).collect();
    let tested: BTreeSet<String> = TABLES.iter().map(|(t, _, _)| (*t).to_owned()).collect();
    assert_eq!(with_triggers, tested, "every table with append-only triggers is tried above, and only those");
});
