//! Open data (docs/open-data.md): the grant agreements awarded in a financial year, as the
//! Local Government Transparency Code 2015's "grants to voluntary, community and social
//! enterprise organisations" CSV, and in the 360Giving Data Standard (JSON or CSV). Pure but
//! for `vcse_grants` and `giving`, which read through storage.
//!
//! A multi-year agreement is published once, in the year it was awarded, with its whole
//! amount and its planned dates spanning the years; the VCSE file also shows the part
//! falling in the year asked for. Its later years' parts are not published again.

use serde::Serialize;
use serde_json::value::RawValue;

use super::columns::{Column, Kind, cells, money, names, text_cell};
use super::csv_out::{self, Cell};
use crate::domain::org::{area_type, charity_org_id, is_org_id, org_id_refusal, postcode_country};
use crate::domain::{FinancialYear, Money};
use crate::model::known::Known;
use crate::model::open_data::PublishedAgreement;
use crate::storage::open_data::{
    AREA_CODE_KEY, AREA_NAME_KEY, DATA_SOURCE_KEY, FUNDING_ORG_ID_KEY, FUNDING_ORG_NAME_KEY, GIVING_PREFIX_KEY,
    agreements_awarded, required, settings,
};
use crate::storage::{Store, StoreError, reference};

/// A line of the VCSE grants file: an agreement, with the awarding department and the year
/// asked for.
pub struct VcseLine<'a> {
    agreement: &'a PublishedAgreement,
    department: &'a str,
    year: FinancialYear,
}

/// The VCSE grants file's columns: the Code's seven (the period as two dates), then the
/// part in the year asked for, then the ledger's own keys.
const fn vcse_columns<'a>() -> [Column<VcseLine<'a>>; 13] {
    use Kind::{Money, Text, Whole};
    [
        Column::new("Date Awarded", Text, |l| Cell::Text(l.agreement.award_date.to_string())),
        Column::new("Start Date", Text, |l| Cell::Text(l.agreement.start_date.to_string())),
        Column::new("End Date", Text, |l| Cell::Text(l.agreement.end_date.to_string())),
        Column::new("Awarding Department", Text, |l| text_cell(l.department)),
        Column::new("Beneficiary Name", Text, |l| text_cell(&l.agreement.recipient.name)),
        Column::new("Beneficiary Registration Number", Text, |l| text_cell(registration_number(l.agreement))),
        Column::new("Purpose", Text, |l| text_cell(&l.agreement.purpose)),
        Column::new("Amount", Money, |l| money(l.agreement.amount)),
        Column::new("Amount In Financial Year", Money, |l| money(l.agreement.part_in(l.year))),
        Column::new("Agreement ID", Whole, |l| Cell::Number(l.agreement.id.to_string())),
        Column::new("Grant", Text, |l| text_cell(&l.agreement.grant)),
        Column::new("Project", Text, |l| text_cell(&l.agreement.project)),
        Column::new("Beneficiary Org ID", Text, |l| text_cell(&l.agreement.recipient.org_id)),
    ]
}

pub const VCSE_HEADER: [&str; 13] = names(&vcse_columns());

/// The 360Giving CSV's columns, with the standard's titles (flattentool's `--convert-titles`
/// reads them back into the JSON's fields); a field the ledger does not know is an empty
/// cell.
const GIVING_COLUMNS: [Column<GivingGrant>; 24] = {
    use Kind::{Money, Text};
    [
        Column::new("Identifier", Text, |g| text_cell(&g.id)),
        Column::new("Title", Text, |g| text_cell(&g.title)),
        Column::new("Description", Text, |g| text_cell(&g.description)),
        Column::new("Currency", Text, |g| text_cell(&g.currency)),
        Column::new("Amount Awarded", Money, |g| Cell::Number(g.amount_awarded.get().to_owned())),
        Column::new("Award Date", Text, |g| text_cell(&g.award_date)),
        Column::new("Planned Dates:Start Date", Text, |g| text_cell(&g.planned_dates[0].start_date)),
        Column::new("Planned Dates:End Date", Text, |g| text_cell(&g.planned_dates[0].end_date)),
        Column::new("Recipient Org:Identifier", Text, |g| text_cell(&g.recipient_organization[0].id)),
        Column::new("Recipient Org:Name", Text, |g| text_cell(&g.recipient_organization[0].name)),
        Column::new("Recipient Org:Charity Number", Text, |g| text_cell(&g.recipient_organization[0].charity_number)),
        Column::new("Recipient Org:Company Number", Text, |g| text_cell(&g.recipient_organization[0].company_number)),
        Column::new("Recipient Org:Postal Code", Text, |g| text_cell(&g.recipient_organization[0].postal_code)),
        Column::new("Recipient Org:Location:Country Code", Text, |g| {
            text_cell(g.recipient_organization[0].location.first().map_or("", |l| l.country_code.as_str()))
        }),
        Column::new("Funding Org:Identifier", Text, |g| text_cell(&g.funding_organization[0].id)),
        Column::new("Funding Org:Name", Text, |g| text_cell(&g.funding_organization[0].name)),
        Column::new("Grant Programme:Code", Text, |g| text_cell(&g.grant_programme[0].code)),
        Column::new("Grant Programme:Title", Text, |g| text_cell(&g.grant_programme[0].title)),
        Column::new("Beneficiary Location:Name", Text, |g| text_cell(&g.beneficiary_location[0].name)),
        Column::new("Beneficiary Location:Country Code", Text, |g| text_cell(&g.beneficiary_location[0].country_code)),
        Column::new("Beneficiary Location:Geographic Code", Text, |g| text_cell(&g.beneficiary_location[0].geo_code)),
        Column::new("Beneficiary Location:Geographic Code Type", Text, |g| {
            text_cell(&g.beneficiary_location[0].geo_code_type)
        }),
        Column::new("Data Source", Text, |g| text_cell(&g.data_source)),
        Column::new("Last Modified", Text, |g| text_cell(&g.date_modified)),
    ]
};

pub const GIVING_HEADER: [&str; 24] = names(&GIVING_COLUMNS);

/// Every amount is in pounds sterling.
pub const CURRENCY: &str = "GBP";

/// The Code's beneficiary registration number: the charity number, else the company number.
fn registration_number(a: &PublishedAgreement) -> &str {
    if a.recipient.charity_number.is_empty() { &a.recipient.company_number } else { &a.recipient.charity_number }
}

/// The VCSE grants file: agreements with a `vcse` recipient, in the order given (award date,
/// then id). `department` is the awarding department (setting `funding_org_name`).
pub fn vcse_csv(department: &str, year: FinancialYear, agreements: &[PublishedAgreement]) -> Vec<u8> {
    let columns = vcse_columns();
    let rows: Vec<Vec<Cell>> = agreements
        .iter()
        .filter(|a| a.recipient.kind == crate::domain::OrgKind::Vcse)
        .map(|agreement| cells(&columns, &VcseLine { agreement, department, year }))
        .collect();
    csv_out::write(&VCSE_HEADER, &rows, false)
}

/// Who publishes a 360Giving file: the settings it needs, all set and checked.
#[derive(Debug, Clone)]
pub struct Publisher {
    /// The identifier prefix, `360G-…`.
    pub prefix: String,
    pub funding_org_id: String,
    pub funding_org_name: String,
    /// Where the grants benefit: the area the partnership serves.
    pub area: Area,
    /// Where the data is published, or the publisher's website.
    pub data_source: String,
}

/// An area as the ONS codes it, with the type 360Giving's codelist gives that code.
#[derive(Debug, Clone)]
pub struct Area {
    /// e.g. `E07000199`.
    pub code: String,
    /// e.g. `Tamworth`.
    pub name: String,
    /// e.g. `NMD`, a non-metropolitan district (`domain::org::area_type`).
    pub code_type: String,
}

/// Every area the ledger publishes is in the United Kingdom (ONS codes cover no other).
const UK: &str = "GB";

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
    #[schema(format = Date)]
    pub award_date: String,
    pub planned_dates: Vec<PlannedDates>,
    pub recipient_organization: Vec<GivingOrg>,
    pub funding_organization: Vec<GivingOrg>,
    pub grant_programme: Vec<GrantProgramme>,
    /// The area the partnership serves (settings `area_code`, `area_name`).
    pub beneficiary_location: Vec<Location>,
    /// Setting `data_source`.
    pub data_source: String,
    /// When what the file shows of this grant last changed (RFC 3339, UTC): the latest of
    /// when the agreement was recorded and when its project or recipient last changed.
    #[schema(format = DateTime)]
    pub date_modified: String,
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
    #[schema(format = Date)]
    pub start_date: String,
    #[schema(format = Date)]
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
    /// Where the postcode is known: the country it lies in.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub location: Vec<Location>,
}

/// A 360Giving location: a country (ISO 3166), and an area's name, ONS code and code type
/// where the ledger knows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = false)]
    pub name: String,
    pub country_code: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = false)]
    pub geo_code: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    #[schema(required = false)]
    pub geo_code_type: String,
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

/// An organisation with no identifiers but its id and name (the funder).
fn org(id: &str, name: &str) -> GivingOrg {
    GivingOrg {
        id: id.to_owned(),
        name: name.to_owned(),
        charity_number: String::new(),
        company_number: String::new(),
        postal_code: String::new(),
        location: Vec::new(),
    }
}

/// Every agreement given (any recipient kind), in the order given.
pub fn giving_grants(p: &Publisher, agreements: &[PublishedAgreement]) -> GivingFile {
    let grants = agreements
        .iter()
        .map(|a| {
            let r = &a.recipient;
            let recipient = GivingOrg {
                charity_number: r.charity_number.clone(),
                company_number: r.company_number.clone(),
                postal_code: r.postcode.clone(),
                location: match r.postcode.as_str() {
                    "" => Vec::new(),
                    code => vec![Location {
                        name: String::new(),
                        country_code: postcode_country(code).to_owned(),
                        geo_code: String::new(),
                        geo_code_type: String::new(),
                    }],
                },
                ..org(&recipient_id(&p.prefix, a), &r.name)
            };
            GivingGrant {
                id: format!("{}-{}", p.prefix, a.id),
                title: a.project_name.clone(),
                description: a.purpose.clone(),
                currency: CURRENCY.to_owned(),
                amount_awarded: number(a.amount),
                award_date: a.award_date.to_string(),
                planned_dates: vec![PlannedDates {
                    start_date: a.start_date.to_string(),
                    end_date: a.end_date.to_string(),
                }],
                recipient_organization: vec![recipient],
                funding_organization: vec![org(&p.funding_org_id, &p.funding_org_name)],
                grant_programme: vec![GrantProgramme { code: a.grant.clone(), title: a.grant_name.clone() }],
                beneficiary_location: vec![Location {
                    name: p.area.name.clone(),
                    country_code: UK.to_owned(),
                    geo_code: p.area.code.clone(),
                    geo_code_type: p.area.code_type.clone(),
                }],
                data_source: p.data_source.clone(),
                date_modified: a.modified.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }
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
/// does not know is an empty cell. A data interchange file: every cell holds the JSON's value
/// exactly, never defused (docs/open-data.md, "Formula injection").
pub fn giving_csv(p: &Publisher, agreements: &[PublishedAgreement]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = giving_grants(p, agreements)
        .grants
        .iter()
        .map(|g| cells(&GIVING_COLUMNS, g).into_iter().map(Cell::into_text).collect())
        .collect();
    csv_out::write_literal(&GIVING_HEADER, &rows, false)
}

/// The 360Giving export's two forms.
pub use crate::model::formats::DataFormat as GivingFormat;

/// The VCSE grants file for `year` as `known`: 404 for a year the ledger does not have,
/// `conflict` naming `funding_org_name` while it is unset.
pub async fn vcse_grants(store: &Store, year: FinancialYear, known: &Known) -> Result<Vec<u8>, StoreError> {
    reference::get_financial_year(store, year).await?;
    let department = required(&settings(store).await?.funding_org_name, FUNDING_ORG_NAME_KEY)?;
    Ok(vcse_csv(&department, year, &agreements_awarded(store, year, known).await?))
}

/// The 360Giving file for `year` as `known`: 404 for a year the ledger does not have or one
/// with no grants to publish (the standard's package holds at least one grant); `conflict`
/// naming the first setting it needs that is unset or refused, or a recipient whose stored
/// `org_id` the ledger now refuses.
pub async fn giving(
    store: &Store,
    year: FinancialYear,
    known: &Known,
    format: GivingFormat,
) -> Result<Vec<u8>, StoreError> {
    reference::get_financial_year(store, year).await?;
    let s = settings(store).await?;
    // Checked in this order, so an unset ledger names the first it needs.
    let prefix = required(&s.giving_prefix, GIVING_PREFIX_KEY)?;
    let funding_org_id = required(&s.funding_org_id, FUNDING_ORG_ID_KEY)?;
    let funding_org_name = required(&s.funding_org_name, FUNDING_ORG_NAME_KEY)?;
    let area_code = required(&s.area_code, AREA_CODE_KEY)?;
    let area_name = required(&s.area_name, AREA_NAME_KEY)?;
    let data_source = required(&s.data_source, DATA_SOURCE_KEY)?;
    let code_type = area_type(&area_code).map_err(StoreError::Conflict)?.to_owned();
    let publisher = Publisher {
        prefix,
        funding_org_id,
        funding_org_name,
        area: Area { code: area_code, name: area_name, code_type },
        data_source,
    };
    let agreements = agreements_awarded(store, year, known).await?;
    if agreements.is_empty() {
        return Err(StoreError::NotFound(format!(
            "no grants to publish for {year}: a grant agreement awarded in the year"
        )));
    }
    for a in &agreements {
        let o = &a.recipient;
        if let Some(why) = (!o.org_id.is_empty()).then(|| org_id_refusal(&o.org_id)).flatten() {
            return Err(StoreError::Conflict(format!(
                "organisation {}'s org_id {:?} cannot be published ({why}): an approver corrects it with \
                 PATCH /api/v1/organisations/{}",
                o.code, o.org_id, o.code
            )));
        }
    }
    Ok(match format {
        GivingFormat::Json => giving_json(&publisher, &agreements),
        GivingFormat::Csv => giving_csv(&publisher, &agreements),
    })
}

/// An organisation identifier 360Giving reads: an org-id.guide one of a current list, or a
/// publisher's own `360G-…` one.
fn is_organisation_identifier(id: &str) -> bool {
    is_org_id(id) || (id.starts_with("360G-") && !id.contains(char::is_whitespace))
}

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
                    && !is_organisation_identifier(&id)
                {
                    bad(&format!("{at}.id"), "must be an org-id of a current org-id.guide list, or a 360G- identifier");
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
            modified: chrono::DateTime::parse_from_rfc3339("2023-09-15T10:20:30.123456Z").unwrap().to_utc(),
        }
    }

    fn publisher() -> Publisher {
        Publisher {
            prefix: "360G-tamworthcsp".into(),
            funding_org_id: "GB-LAE-TAW".into(),
            funding_org_name: "Tamworth Borough Council".into(),
            area: Area { code: "E07000199".into(), name: "Tamworth".into(), code_type: "NMD".into() },
            data_source: "https://www.tamworth.gov.uk/".into(),
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
        let one = agreement(3, trust);
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
             Detached youth work in Glascote,12000.00,6000.00,3,LDF,P1,"
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
    fn the_giving_csv_has_the_standards_titles_and_the_jsons_values_exactly() {
        let mut o = org("YT", "+Youth Trust", OrgKind::Private);
        o.charity_number = "1123456".into();
        o.postcode = "B79 7BZ".into();
        let text = String::from_utf8(giving_csv(&publisher(), &[agreement(2, o)])).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], GIVING_HEADER.join(","));
        assert_eq!(
            lines[1],
            "360G-tamworthcsp-2,Youth diversion,Detached youth work in Glascote,GBP,12000.00,2023-09-15,\
             2023-10-01,2024-09-30,GB-CHC-1123456,+Youth Trust,1123456,,B79 7BZ,GB,GB-LAE-TAW,\
             Tamworth Borough Council,LDF,Local Development Fund,Tamworth,GB,E07000199,NMD,\
             https://www.tamworth.gov.uk/,2023-09-15T10:20:30Z"
        );
        assert_eq!(lines[2..], [""]);
    }

    #[test]
    fn the_json_places_the_beneficiaries_the_recipient_and_the_source() {
        let mut o = org("YT", "Youth Trust", OrgKind::Vcse);
        o.postcode = "JE2 3AB".into();
        let value = serde_json::to_value(giving_grants(&publisher(), &[agreement(1, o.clone())])).unwrap();
        let g = &value["grants"][0];
        assert_eq!(
            g["beneficiaryLocation"],
            serde_json::json!([{ "name": "Tamworth", "countryCode": "GB", "geoCode": "E07000199", "geoCodeType": "NMD" }])
        );
        assert_eq!(g["recipientOrganization"][0]["location"], serde_json::json!([{ "countryCode": "JE" }]));
        assert_eq!(g["dataSource"], "https://www.tamworth.gov.uk/");
        assert_eq!(g["dateModified"], "2023-09-15T10:20:30Z");
        o.postcode.clear();
        let value = serde_json::to_value(giving_grants(&publisher(), &[agreement(1, o)])).unwrap();
        assert!(value["grants"][0]["recipientOrganization"][0].get("location").is_none(), "{value}");
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
            (
                &["fundingOrganization", "0", "id"],
                Some(json!("ZZ-NOPE-1")),
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
