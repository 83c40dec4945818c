//! Open data (docs/open-data.md): the grant agreements awarded in a financial year, as the
//! Local Government Transparency Code 2015's "grants to voluntary, community and social
//! enterprise organisations" CSV, and in the 360Giving Data Standard (JSON or CSV). Pure but
//! for `vcse_grants` and `giving`, which read through storage.
//!
//! A multi-year agreement is published once, in the year it was awarded, with its whole
//! amount and its planned dates spanning the years; the VCSE file also shows the part
//! falling in the year asked for. Its later years' parts are not published again.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::value::RawValue;

use super::csv_out::{self, Cell};
use crate::domain::org::charity_org_id;
use crate::domain::{FinancialYear, Money};
use crate::model::known::Known;
use crate::model::open_data::PublishedAgreement;
use crate::storage::open_data::{
    FUNDING_ORG_ID_KEY, FUNDING_ORG_NAME_KEY, GIVING_PREFIX_KEY, agreements_awarded, required, settings,
};
use crate::storage::{Store, StoreError, reference};

/// The VCSE grants file's columns: the Code's seven (the period as two dates), then the
/// part in the year asked for, then the ledger's own keys.
pub const VCSE_HEADER: [&str; 13] = [
    "Date Awarded",
    "Start Date",
    "End Date",
    "Awarding Department",
    "Beneficiary Name",
    "Beneficiary Registration Number",
    "Purpose",
    "Amount",
    "Amount In Financial Year",
    "Agreement ID",
    "Grant",
    "Project",
    "Beneficiary Org ID",
];

/// The 360Giving CSV's columns, with the standard's titles.
pub const GIVING_HEADER: [&str; 17] = [
    "Identifier",
    "Title",
    "Description",
    "Currency",
    "Amount Awarded",
    "Award Date",
    "Planned Dates:Start Date",
    "Planned Dates:End Date",
    "Recipient Org:Identifier",
    "Recipient Org:Name",
    "Recipient Org:Charity Number",
    "Recipient Org:Company Number",
    "Recipient Org:Postal Code",
    "Funding Org:Identifier",
    "Funding Org:Name",
    "Grant Programme:Code",
    "Grant Programme:Title",
];

/// Every amount is in pounds sterling.
pub const CURRENCY: &str = "GBP";

/// The agreement's purpose, or its project's name where none was written: both files need one.
fn purpose(a: &PublishedAgreement) -> &str {
    if a.purpose.trim().is_empty() { &a.project_name } else { &a.purpose }
}

/// The Code's beneficiary registration number: the charity number, else the company number.
fn registration_number(a: &PublishedAgreement) -> &str {
    if a.recipient.charity_number.is_empty() { &a.recipient.company_number } else { &a.recipient.charity_number }
}

/// The VCSE grants file: agreements with a `vcse` recipient, in the order given (award date,
/// then id). `department` is the awarding department (setting `funding_org_name`).
pub fn vcse_csv(department: &str, year: FinancialYear, agreements: &[PublishedAgreement]) -> Vec<u8> {
    let text = |s: &str| Cell::Text(s.to_owned());
    let rows: Vec<Vec<Cell>> = agreements
        .iter()
        .filter(|a| a.recipient.kind == crate::domain::OrgKind::Vcse)
        .map(|a| {
            vec![
                text(&a.award_date.to_string()),
                text(&a.start_date.to_string()),
                text(&a.end_date.to_string()),
                text(department),
                text(&a.recipient.name),
                text(registration_number(a)),
                text(purpose(a)),
                Cell::Number(a.amount.to_string()),
                Cell::Number(a.part_in(year).to_string()),
                Cell::Number(a.id.to_string()),
                text(&a.grant),
                text(&a.project),
                text(&a.recipient.org_id),
            ]
        })
        .collect();
    csv_out::write(&VCSE_HEADER, &rows, false)
}

/// Who publishes a 360Giving file: the settings it needs, all set.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// The identifier prefix, `360G-…`.
    pub prefix: String,
    pub funding_org_id: String,
    pub funding_org_name: String,
}

/// The recipient's identifier: its org-id, else one its charity or company number implies,
/// else one under the publisher's prefix (`{prefix}-org-{code}`), as 360Giving asks of
/// organisations no register lists.
pub fn recipient_id(prefix: &str, a: &PublishedAgreement) -> String {
    let o = &a.recipient;
    if !o.org_id.is_empty() {
        return o.org_id.clone();
    }
    if let Some(id) = charity_org_id(&o.charity_number) {
        return id;
    }
    if !o.company_number.is_empty() {
        return format!("GB-COH-{}", o.company_number);
    }
    format!("{prefix}-org-{}", o.code)
}

/// A 360Giving file: `{"grants": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GivingFile {
    pub grants: Vec<GivingGrant>,
}

/// One grant in the 360Giving JSON schema's shape; optional fields the ledger does not
/// know are left out, never written empty.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GivingGrant {
    /// `{giving_prefix}-{agreement id}`.
    pub id: String,
    pub title: String,
    pub description: String,
    pub currency: String,
    /// A JSON number written from the amount's decimal text, never through a float.
    #[schema(schema_with = decimal_number)]
    pub amount_awarded: Box<RawValue>,
    pub award_date: String,
    pub planned_dates: Vec<PlannedDates>,
    pub recipient_organization: Vec<GivingOrg>,
    pub funding_organization: Vec<GivingOrg>,
    pub grant_programme: Vec<GrantProgramme>,
}

fn decimal_number() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Number)
        .description(Some("Pounds, at most two decimal places."))
        .build()
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlannedDates {
    pub start_date: String,
    pub end_date: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GivingOrg {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = false)]
    pub charity_number: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = false)]
    pub company_number: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = false)]
    pub postal_code: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct GrantProgramme {
    pub code: String,
    pub title: String,
}

/// Money's decimal text as a JSON number: exact, as the ledger holds it.
fn number(amount: Money) -> Box<RawValue> {
    RawValue::from_string(amount.to_string()).expect("Money's decimal text is a JSON number")
}

/// Every agreement given (any recipient kind), in the order given.
pub fn giving_grants(p: &Publisher, agreements: &[PublishedAgreement]) -> GivingFile {
    let grants = agreements
        .iter()
        .map(|a| GivingGrant {
            id: format!("{}-{}", p.prefix, a.id),
            title: a.project_name.clone(),
            description: purpose(a).to_owned(),
            currency: CURRENCY.to_owned(),
            amount_awarded: number(a.amount),
            award_date: a.award_date.to_string(),
            planned_dates: vec![PlannedDates {
                start_date: a.start_date.to_string(),
                end_date: a.end_date.to_string(),
            }],
            recipient_organization: vec![GivingOrg {
                id: recipient_id(&p.prefix, a),
                name: a.recipient.name.clone(),
                charity_number: a.recipient.charity_number.clone(),
                company_number: a.recipient.company_number.clone(),
                postal_code: a.recipient.postcode.clone(),
            }],
            funding_organization: vec![GivingOrg {
                id: p.funding_org_id.clone(),
                name: p.funding_org_name.clone(),
                charity_number: String::new(),
                company_number: String::new(),
                postal_code: String::new(),
            }],
            grant_programme: vec![GrantProgramme { code: a.grant.clone(), title: a.grant_name.clone() }],
        })
        .collect();
    GivingFile { grants }
}

/// The 360Giving JSON, two-space indented, ending with a newline.
pub fn giving_json(p: &Publisher, agreements: &[PublishedAgreement]) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(&giving_grants(p, agreements)).expect("the file serialises");
    out.push(b'\n');
    out
}

/// The 360Giving CSV: one row per grant, the standard's column titles; a field the ledger
/// does not know is an empty cell.
pub fn giving_csv(p: &Publisher, agreements: &[PublishedAgreement]) -> Vec<u8> {
    let text = |s: &str| Cell::Text(s.to_owned());
    let rows: Vec<Vec<Cell>> = giving_grants(p, agreements)
        .grants
        .iter()
        .map(|g| {
            let (recipient, funder, dates, programme) =
                (&g.recipient_organization[0], &g.funding_organization[0], &g.planned_dates[0], &g.grant_programme[0]);
            vec![
                text(&g.id),
                text(&g.title),
                text(&g.description),
                text(&g.currency),
                Cell::Number(g.amount_awarded.get().to_owned()),
                text(&g.award_date),
                text(&dates.start_date),
                text(&dates.end_date),
                text(&recipient.id),
                text(&recipient.name),
                text(&recipient.charity_number),
                text(&recipient.company_number),
                text(&recipient.postal_code),
                text(&funder.id),
                text(&funder.name),
                text(&programme.code),
                text(&programme.title),
            ]
        })
        .collect();
    csv_out::write(&GIVING_HEADER, &rows, false)
}

/// The 360Giving export's two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GivingFormat {
    Json,
    Csv,
}

impl GivingFormat {
    pub fn parse(text: &str) -> Option<GivingFormat> {
        match text {
            "json" => Some(GivingFormat::Json),
            "csv" => Some(GivingFormat::Csv),
            _ => None,
        }
    }
}

/// The VCSE grants file for `year` as `known`: 404 for a year the ledger does not have,
/// `conflict` naming `funding_org_name` while it is unset.
pub async fn vcse_grants(store: &Store, year: FinancialYear, known: &Known) -> Result<Vec<u8>, StoreError> {
    reference::get_financial_year(store, year).await?;
    let department = required(&settings(store).await?.funding_org_name, FUNDING_ORG_NAME_KEY)?;
    Ok(vcse_csv(&department, year, &agreements_awarded(store, year, known).await?))
}

/// The 360Giving file for `year` as `known`: 404 for a year the ledger does not have,
/// `conflict` naming the first of its three settings that is unset.
pub async fn giving(
    store: &Store,
    year: FinancialYear,
    known: &Known,
    format: GivingFormat,
) -> Result<Vec<u8>, StoreError> {
    reference::get_financial_year(store, year).await?;
    let s = settings(store).await?;
    let publisher = Publisher {
        prefix: required(&s.giving_prefix, GIVING_PREFIX_KEY)?,
        funding_org_id: required(&s.funding_org_id, FUNDING_ORG_ID_KEY)?,
        funding_org_name: required(&s.funding_org_name, FUNDING_ORG_NAME_KEY)?,
    };
    let agreements = agreements_awarded(store, year, known).await?;
    Ok(match format {
        GivingFormat::Json => giving_json(&publisher, &agreements),
        GivingFormat::Csv => giving_csv(&publisher, &agreements),
    })
}

/// An organisation identifier's shape: an org-id.guide prefix (`XX-LIST-…`) or a
/// publisher's own `360G-…` one.
static ORG_IDENTIFIER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(?:[A-Z]{2}-[A-Z0-9]{2,}|360G-[A-Za-z0-9-]+)-\S+$").expect("a valid pattern"));

/// A date as 360Giving writes one: ISO 8601 `YYYY-MM-DD`, a real day.
fn is_iso_date(text: &str) -> bool {
    text.len() == 10 && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

/// The 360Giving schema's rules a file is held to: every required field present and not
/// empty, the grant id under a `360G-` prefix, organisation ids of an org-id shape, dates
/// `YYYY-MM-DD`, the currency a three-letter ISO 4217 code, the amount a number, and no
/// optional field written empty. Each problem names the grant and the field.
pub fn check_360giving(file: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let mut problems = Vec::new();
    let Some(grants) = file.get("grants").and_then(Value::as_array) else {
        return vec!["grants: must be an array".into()];
    };
    for (i, g) in grants.iter().enumerate() {
        let mut bad = |field: &str, why: &str| problems.push(format!("grants[{i}].{field}: {why}"));
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let required = |bad: &mut dyn FnMut(&str, &str), field: &str, v: Option<&Value>| {
            let t = text(v);
            if t.as_deref().is_none_or(|t| t.trim().is_empty()) {
                bad(field, "is required and must not be empty");
            }
            t
        };
        if let Some(id) = required(&mut bad, "id", g.get("id"))
            && !id.starts_with("360G-")
        {
            bad("id", "must start with 360G-");
        }
        required(&mut bad, "title", g.get("title"));
        required(&mut bad, "description", g.get("description"));
        if let Some(c) = required(&mut bad, "currency", g.get("currency"))
            && !(c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            bad("currency", "must be a three-letter ISO 4217 code");
        }
        if !g.get("amountAwarded").is_some_and(Value::is_number) {
            bad("amountAwarded", "is required and must be a number");
        }
        if let Some(d) = required(&mut bad, "awardDate", g.get("awardDate"))
            && !is_iso_date(&d)
        {
            bad("awardDate", "must be a date written YYYY-MM-DD");
        }
        for (j, dates) in g.get("plannedDates").and_then(Value::as_array).into_iter().flatten().enumerate() {
            for key in ["startDate", "endDate"] {
                if let Some(v) = dates.get(key)
                    && !v.as_str().is_some_and(is_iso_date)
                {
                    bad(&format!("plannedDates[{j}].{key}"), "must be a date written YYYY-MM-DD");
                }
            }
        }
        for list in ["recipientOrganization", "fundingOrganization"] {
            let orgs = g.get(list).and_then(Value::as_array).filter(|a| !a.is_empty());
            let Some(orgs) = orgs else {
                bad(list, "is required: one organisation at least");
                continue;
            };
            for (j, org) in orgs.iter().enumerate() {
                let at = format!("{list}[{j}]");
                if let Some(id) = required(&mut bad, &format!("{at}.id"), org.get("id"))
                    && !ORG_IDENTIFIER.is_match(&id)
                {
                    bad(&format!("{at}.id"), "must be an org-id (XX-LIST-id) or 360G- identifier");
                }
                required(&mut bad, &format!("{at}.name"), org.get("name"));
                for key in ["charityNumber", "companyNumber", "postalCode"] {
                    if org.get(key).is_some() {
                        required(&mut bad, &format!("{at}.{key}"), org.get(key));
                    }
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::domain::OrgKind;
    use crate::model::reference::Organisation;

    fn org(code: &str, name: &str, kind: OrgKind) -> Organisation {
        Organisation {
            code: code.into(),
            name: name.into(),
            kind,
            charity_number: String::new(),
            company_number: String::new(),
            org_id: String::new(),
            postcode: String::new(),
        }
    }

    fn date(s: &str) -> NaiveDate {
        crate::domain::parse_date(s).unwrap()
    }

    fn year(s: &str) -> FinancialYear {
        FinancialYear::parse(s).unwrap()
    }

    fn agreement(id: i64, recipient: Organisation) -> PublishedAgreement {
        PublishedAgreement {
            id,
            grant: "LDF".into(),
            grant_name: "Local Development Fund".into(),
            project: "P1".into(),
            project_name: "Youth diversion".into(),
            purpose: "Detached youth work in Glascote".into(),
            award_date: date("2023-09-15"),
            start_date: date("2023-10-01"),
            end_date: date("2024-09-30"),
            amount: Money::from_pence(1_200_000),
            parts: vec![(year("2023-24"), Money::from_pence(600_000)), (year("2024-25"), Money::from_pence(600_000))],
            recipient,
        }
    }

    fn publisher() -> Publisher {
        Publisher {
            prefix: "360G-tamworthcsp".into(),
            funding_org_id: "GB-LAE-TAW".into(),
            funding_org_name: "Tamworth Borough Council".into(),
        }
    }

    #[test]
    fn the_vcse_file_has_vcse_recipients_only_with_the_part_in_the_year_and_text_defused() {
        let mut trust = org("YT", "=HYPERLINK(\"x\")", OrgKind::Vcse);
        trust.charity_number = "1123456".into();
        trust.company_number = "01234567".into();
        let mut cic = org("CIC", "Glascote CIC", OrgKind::Vcse);
        cic.company_number = "12345678".into();
        let council = org("SCC", "Staffordshire County Council", OrgKind::Public);
        let mut one = agreement(3, trust);
        one.purpose = String::new();
        let text = String::from_utf8(vcse_csv(
            "Tamworth Borough Council",
            year("2023-24"),
            &[one, agreement(4, cic), agreement(5, council)],
        ))
        .unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], VCSE_HEADER.join(","));
        assert_eq!(
            lines[1],
            "2023-09-15,2023-10-01,2024-09-30,Tamworth Borough Council,\"'=HYPERLINK(\"\"x\"\")\",1123456,\
             Youth diversion,12000.00,6000.00,3,LDF,P1,"
        );
        assert_eq!(
            lines[2],
            "2023-09-15,2023-10-01,2024-09-30,Tamworth Borough Council,Glascote CIC,12345678,\
             Detached youth work in Glascote,12000.00,6000.00,4,LDF,P1,"
        );
        assert_eq!(lines[3], "", "a public body is not a VCSE grant");
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn recipient_ids_follow_org_id_then_charity_then_company_then_the_prefix() {
        let mut o = org("YT", "Youth Trust", OrgKind::Vcse);
        o.org_id = "GB-SC-SC012345".into();
        o.charity_number = "1123456".into();
        o.company_number = "01234567".into();
        let id = |o: &Organisation| recipient_id("360G-x", &agreement(1, o.clone()));
        assert_eq!(id(&o), "GB-SC-SC012345");
        o.org_id.clear();
        assert_eq!(id(&o), "GB-CHC-1123456");
        o.charity_number.clear();
        assert_eq!(id(&o), "GB-COH-01234567");
        o.company_number.clear();
        assert_eq!(id(&o), "360G-x-org-YT");
    }

    #[test]
    fn the_json_writes_the_amount_exactly_and_leaves_out_what_is_empty() {
        let mut trust = org("YT", "Youth Trust", OrgKind::Vcse);
        trust.postcode = "B79 7BZ".into();
        let mut a = agreement(7, trust);
        a.amount = Money::from_pence(12_345_678_901);
        let json = String::from_utf8(giving_json(&publisher(), &[a])).unwrap();
        assert!(json.contains("\"amountAwarded\": 123456789.01,"), "{json}");
        assert!(json.contains("\"postalCode\": \"B79 7BZ\""), "{json}");
        assert!(!json.contains("charityNumber") && !json.contains("\"\""), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(check_360giving(&value), Vec::<String>::new());
        assert_eq!(value["grants"][0]["id"], "360G-tamworthcsp-7");
        assert_eq!(value["grants"][0]["recipientOrganization"][0]["id"], "360G-tamworthcsp-org-YT");
    }

    #[test]
    fn the_giving_csv_has_the_standards_titles_and_defuses_text() {
        let mut o = org("YT", "+Youth Trust", OrgKind::Private);
        o.charity_number = "1123456".into();
        let text = String::from_utf8(giving_csv(&publisher(), &[agreement(2, o)])).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], GIVING_HEADER.join(","));
        assert_eq!(
            lines[1],
            "360G-tamworthcsp-2,Youth diversion,Detached youth work in Glascote,GBP,12000.00,2023-09-15,\
             2023-10-01,2024-09-30,GB-CHC-1123456,'+Youth Trust,1123456,,,GB-LAE-TAW,Tamworth Borough Council,\
             LDF,Local Development Fund"
        );
    }

    /// A valid grant, then one broken per rule: the check names each.
    #[test]
    fn the_check_fails_each_rule_it_holds() {
        let good =
            serde_json::to_value(giving_grants(&publisher(), &[agreement(1, org("YT", "Youth Trust", OrgKind::Vcse))]))
                .unwrap();
        assert_eq!(check_360giving(&good), Vec::<String>::new());
        let broken = |path: &[&str], value: Option<serde_json::Value>| {
            let mut file = good.clone();
            let mut at = &mut file["grants"][0];
            for p in &path[..path.len() - 1] {
                at = match p.parse::<usize>() {
                    Ok(n) => &mut at[n],
                    Err(_) => &mut at[*p],
                };
            }
            let last = path[path.len() - 1];
            let object = at.as_object_mut().unwrap();
            match value {
                Some(v) => object.insert(last.into(), v),
                None => object.remove(last),
            };
            check_360giving(&file)
        };
        use serde_json::json;
        let cases: Vec<(&[&str], Option<serde_json::Value>, &str)> = vec![
            (&["id"], None, "grants[0].id: is required"),
            (&["id"], Some(json!("")), "grants[0].id: is required"),
            (&["id"], Some(json!("GB-1")), "grants[0].id: must start with 360G-"),
            (&["title"], Some(json!(" ")), "grants[0].title: is required"),
            (&["description"], None, "grants[0].description: is required"),
            (&["currency"], Some(json!("pounds")), "grants[0].currency: must be a three-letter"),
            (&["currency"], Some(json!("gbp")), "grants[0].currency: must be a three-letter"),
            (&["amountAwarded"], Some(json!("12000.00")), "grants[0].amountAwarded: is required and must be a number"),
            (&["amountAwarded"], None, "grants[0].amountAwarded: is required"),
            (&["awardDate"], Some(json!("15/09/2023")), "grants[0].awardDate: must be a date"),
            (&["awardDate"], Some(json!("2023-02-30")), "grants[0].awardDate: must be a date"),
            (
                &["plannedDates", "0", "endDate"],
                Some(json!("2024-9-30")),
                "grants[0].plannedDates[0].endDate: must be a date",
            ),
            (&["recipientOrganization"], Some(json!([])), "grants[0].recipientOrganization: is required"),
            (
                &["recipientOrganization", "0", "id"],
                Some(json!("1123456")),
                "grants[0].recipientOrganization[0].id: must be an org-id",
            ),
            (&["recipientOrganization", "0", "name"], None, "grants[0].recipientOrganization[0].name: is required"),
            (
                &["recipientOrganization", "0", "postalCode"],
                Some(json!("")),
                "grants[0].recipientOrganization[0].postalCode: is required",
            ),
            (&["fundingOrganization"], None, "grants[0].fundingOrganization: is required"),
            (
                &["fundingOrganization", "0", "id"],
                Some(json!("gb-lae-taw")),
                "grants[0].fundingOrganization[0].id: must be an org-id",
            ),
        ];
        for (path, value, want) in cases {
            let problems = broken(path, value.clone());
            assert!(problems.iter().any(|p| p.starts_with(want)), "{path:?} = {value:?}: {problems:?}");
        }
        assert_eq!(check_360giving(&serde_json::json!({ "grant": [] })), vec!["grants: must be an array"]);
    }
}
