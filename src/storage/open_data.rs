//! The open-data exports' reads (docs/open-data.md): the grant agreements awarded in a
//! financial year with their recipients, and the settings that say who publishes them.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use sqlx::Row;

use super::known::Cut;
use super::{DbTx, Store, StoreError, rows};
use crate::domain::org::{area_type, is_giving_prefix, org_id_refusal};
use crate::domain::{CommitmentKind, EntryKind, FinancialYear, Money};
use crate::model::known::{Known, parse_instant};
use crate::model::open_data::{OpenDataSettings, PublishedAgreement};
use crate::model::reference::Organisation;

/// The settings keys: the 360Giving identifier prefix, the funder's org-id and name, the
/// area the partnership serves (its ONS code and name) and the 360Giving data source.
pub const GIVING_PREFIX_KEY: &str = "giving_prefix";
pub const FUNDING_ORG_ID_KEY: &str = "funding_org_id";
pub const FUNDING_ORG_NAME_KEY: &str = "funding_org_name";
pub const AREA_CODE_KEY: &str = "area_code";
pub const AREA_NAME_KEY: &str = "area_name";
pub const DATA_SOURCE_KEY: &str = "data_source";

pub use crate::domain::org::WEB_ADDRESS_PATTERN;
static WEB_ADDRESS: LazyLock<Regex> = LazyLock::new(|| Regex::new(WEB_ADDRESS_PATTERN).expect("a valid pattern"));

/// Why a value cannot be a setting's, or `None` when it can. One rule for the API's check
/// and for what an export reads back.
pub fn refusal(key: &str, value: &str) -> Option<String> {
    match key {
        GIVING_PREFIX_KEY if !is_giving_prefix(value) => {
            Some("must be a 360Giving prefix: 360G- then letters, digits or hyphens, e.g. 360G-tamworthcsp".into())
        }
        FUNDING_ORG_ID_KEY => org_id_refusal(value),
        AREA_CODE_KEY => area_type(value).err(),
        DATA_SOURCE_KEY if !WEB_ADDRESS.is_match(value) => {
            Some("must be a web address beginning http:// or https://, e.g. https://www.tamworth.gov.uk/".into())
        }
        FUNDING_ORG_NAME_KEY | AREA_NAME_KEY if value.trim().is_empty() => Some("must not be blank".into()),
        _ => None,
    }
}

/// The settings, each `None` while unset, as stored: an export holds each it needs to
/// `refusal` through `required`.
pub async fn settings(store: &Store) -> Result<OpenDataSettings, StoreError> {
    let read = |key: &'static str| super::reference::setting(store, key);
    Ok(OpenDataSettings {
        giving_prefix: read(GIVING_PREFIX_KEY).await?,
        funding_org_id: read(FUNDING_ORG_ID_KEY).await?,
        funding_org_name: read(FUNDING_ORG_NAME_KEY).await?,
        area_code: read(AREA_CODE_KEY).await?,
        area_name: read(AREA_NAME_KEY).await?,
        data_source: read(DATA_SOURCE_KEY).await?,
    })
}

/// Sets each setting `patch` gives, in the caller's `db_tx`; a value `refusal` refuses is
/// refused naming the setting.
pub async fn set_settings_in(db_tx: &mut DbTx, patch: &OpenDataSettings, actor: &str) -> Result<(), StoreError> {
    for (key, value) in [
        (GIVING_PREFIX_KEY, &patch.giving_prefix),
        (FUNDING_ORG_ID_KEY, &patch.funding_org_id),
        (FUNDING_ORG_NAME_KEY, &patch.funding_org_name),
        (AREA_CODE_KEY, &patch.area_code),
        (AREA_NAME_KEY, &patch.area_name),
        (DATA_SOURCE_KEY, &patch.data_source),
    ] {
        if let Some(value) = value {
            if let Some(why) = refusal(key, value) {
                return Err(StoreError::invalid(key, why));
            }
            super::reference::set_setting_in(db_tx, key, value, actor).await?;
        }
    }
    Ok(())
}

/// A setting an export needs: `conflict` naming it while it is unset, or while it holds a
/// value `refusal` refuses (one stored by an earlier version, or outside the API): nothing is
/// published with a blank or unusable publisher.
pub fn required(value: &Option<String>, key: &str) -> Result<String, StoreError> {
    let fix = "an admin sets it with PATCH /api/v1/settings before this export can be made";
    let value = value.clone().ok_or_else(|| StoreError::Conflict(format!("setting {key} is not set: {fix}")))?;
    match refusal(key, &value) {
        Some(why) => Err(StoreError::Conflict(format!(
            "setting {key} is {value:?}, which the ledger now refuses ({why}): {fix}"
        ))),
        None => Ok(value),
    }
}

/// The grant agreements awarded (commitment date) in `year`, any recipient kind, in award
/// date then id order, each with its yearly parts, its recipient as held now, and when what
/// is published of it last changed (`modified`). An
/// agreement counts when `known` holds one of its commitment entries that `known` does not
/// also hold reversed: one recorded after `as_known_at`, or reversed whole, was not awarded.
pub async fn agreements_awarded(
    store: &Store,
    year: FinancialYear,
    known: &Known,
) -> Result<Vec<PublishedAgreement>, StoreError> {
    // One read db_tx, so the agreements and their parts are one picture.
    let mut db_tx = store.begin_read().await?;
    let entry = Cut::of(known, "e", 3);
    let reversal = Cut::of(known, "r", 3 + entry.binds.len());
    let standing = format!(
        "exists (select 1 from entries e where e.commitment_id = c.id and e.kind = {} and {}
                 and not exists (select 1 from entries r where r.reverses = e.id and {}))",
        EntryKind::Commitment.sql(),
        entry.sql,
        reversal.sql
    );
    let sql = format!(
        "select c.id as agreement_id, c.grant_code, g.name as grant_name, c.project_code, p.name as project_name,
                c.purpose, c.commitment_date, c.start_date, c.end_date, c.amount_pence,
                c.created_at as recorded_at, p.updated_at as project_updated_at, o.updated_at as recipient_updated_at,
                o.code, o.name, o.kind, o.charity_number, o.company_number, o.org_id, o.postcode
         from commitments c
         join grants g on g.code = c.grant_code
         join projects p on p.code = c.project_code
         join organisations o on o.code = c.recipient
         where c.kind = {agreement} and c.commitment_date >= $1 and c.commitment_date <= $2 and {standing}
         order by c.commitment_date, c.id",
        agreement = CommitmentKind::GrantAgreement.sql()
    );
    let query = sqlx::query(&sql).bind(year.start().to_string()).bind(year.end().to_string());
    let found = reversal.bind(entry.bind(query)).fetch_all(&mut *db_tx).await?;
    let parts = sqlx::query(&format!(
        "select ap.commitment_id, ap.financial_year, ap.amount_pence
         from agreement_parts ap join commitments c on c.id = ap.commitment_id
         where c.kind = {} and c.commitment_date >= $1 and c.commitment_date <= $2
         order by ap.commitment_id, ap.financial_year",
        CommitmentKind::GrantAgreement.sql()
    ))
    .bind(year.start().to_string())
    .bind(year.end().to_string())
    .fetch_all(&mut *db_tx)
    .await?;
    db_tx.rollback().await?;

    let part_key: &[&str] = &["commitment_id", "financial_year"];
    let mut by_agreement: BTreeMap<i64, Vec<(FinancialYear, Money)>> = BTreeMap::new();
    for r in &parts {
        let id: i64 = r.try_get("commitment_id")?;
        let fy = rows::year(r, ("agreement_parts", part_key), "financial_year")?;
        by_agreement.entry(id).or_default().push((fy, Money::from_pence(r.try_get("amount_pence")?)));
    }
    let at: (&str, &[&str]) = ("commitments", &["agreement_id"]);
    found
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("agreement_id")?;
            // Set on every agreement; absent only if written outside the ledger.
            let term = |column: &str| -> Result<_, StoreError> {
                match r.try_get::<Option<String>, _>(column)? {
                    Some(_) => rows::date(r, at, column),
                    None => Err(rows::named(r, at.0, at.1, column, "is empty on a grant agreement")),
                }
            };
            let purpose: String = r.try_get("purpose")?;
            if purpose.trim().is_empty() {
                return Err(rows::named(r, at.0, at.1, "purpose", "is empty on a grant agreement"));
            }
            // The agreement is written once; its project's name (the title) and its recipient
            // can change later, and the file shows them as they are now.
            let mut modified = None;
            for (read_as, table, key, column) in [
                ("recorded_at", "commitments", "agreement_id", "created_at"),
                ("project_updated_at", "projects", "project_code", "updated_at"),
                ("recipient_updated_at", "organisations", "code", "updated_at"),
            ] {
                let text: String = r.try_get(read_as)?;
                let t = parse_instant(&text)
                    .ok_or_else(|| rows::named(r, table, &[key], column, "is not an RFC 3339 instant"))?;
                modified = modified.max(Some(t));
            }
            Ok(PublishedAgreement {
                id,
                grant: r.try_get("grant_code")?,
                grant_name: r.try_get("grant_name")?,
                project: r.try_get("project_code")?,
                project_name: r.try_get("project_name")?,
                purpose,
                award_date: rows::date(r, at, "commitment_date")?,
                start_date: term("start_date")?,
                end_date: term("end_date")?,
                amount: Money::from_pence(r.try_get("amount_pence")?),
                parts: by_agreement.remove(&id).unwrap_or_default(),
                recipient: rows::read::<Organisation>(r, "organisations", &["code"])?,
                modified: modified.expect("three instants were read"),
            })
        })
        .collect()
}
