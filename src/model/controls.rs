//! The commands of the controls routes (virements, years, year end, settings) and the
//! year-end record, shared by storage (which runs them), http and cli.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::fields::{Fields, FromFields};
use super::wire::{
    AmountOrZero, AreaCode, Code, FundingOrgId, GivingPrefix, IsoDate, Prose, ProseOrEmpty, Text, WebAddress,
};
use crate::domain::{FinancialYear, Money};

/// Why a pending virement is rejected.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = RejectBody)]
#[serde(deny_unknown_fields)]
pub struct RejectVirementCmd {
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for RejectVirementCmd {
    fn read(f: &mut Fields) -> Self {
        RejectVirementCmd { reason: f.text("reason") }
    }
}

/// Closing a year: the reason may be left out, as may the whole body.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = CloseBody)]
#[serde(deny_unknown_fields)]
pub struct CloseYearCmd {
    #[schema(value_type = Option<ProseOrEmpty>)]
    pub reason: String,
}

impl FromFields for CloseYearCmd {
    fn read(f: &mut Fields) -> Self {
        CloseYearCmd { reason: f.text_or_empty("reason") }
    }
}

/// Why a closed year is reopened.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = ReopenBody)]
#[serde(deny_unknown_fields)]
pub struct ReopenYearCmd {
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for ReopenYearCmd {
    fn read(f: &mut Fields) -> Self {
        ReopenYearCmd { reason: f.text("reason") }
    }
}

// `grant` and `year` come from the route's path (or the CLI's flags), not the body: `read`
// leaves them empty for the caller to set.
/// How an award's unspent money is resolved at year end.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = YearEndBody)]
#[serde(deny_unknown_fields)]
pub struct YearEndCmd {
    #[serde(skip)]
    pub grant: String,
    #[serde(skip)]
    pub year: FinancialYear,
    #[schema(value_type = Option<AmountOrZero>)]
    pub carry_forward: Money,
    #[schema(value_type = Option<AmountOrZero>)]
    pub return_to_funder: Money,
    /// Default: the last day of the year.
    #[schema(value_type = Option<IsoDate>)]
    pub date: Option<NaiveDate>,
    #[schema(value_type = Prose)]
    pub reason: String,
}

impl FromFields for YearEndCmd {
    fn read(f: &mut Fields) -> Self {
        YearEndCmd {
            grant: String::new(),
            year: FinancialYear::of(NaiveDate::MIN),
            carry_forward: f.money_or_zero("carry_forward"),
            return_to_funder: f.money_or_zero("return_to_funder"),
            date: f.has("date").then(|| f.date("date")),
            reason: f.text("reason"),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct YearEndRecord {
    pub grant: String,
    pub financial_year: FinancialYear,
    pub carried_forward: Money,
    pub returned: Money,
    pub entry_id: i64,
    pub next_financial_year: Option<FinancialYear>,
    pub carry_forward_entry_id: Option<i64>,
    pub reason: String,
}

// The open-data values are read as text here: their shapes are storage's
// (`storage::open_data::refusal`), which the route checks before it finishes the request, so
// every bad field is still named in one answer.
/// A change of settings: a field left out keeps its value.
#[derive(Debug, Clone, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    #[schema(nullable = false, required = false, value_type = Option<AmountOrZero>)]
    pub virement_approval_threshold: Option<Money>,
    /// Percentage points of drift from the spend profile that rate amber; not above red.
    #[schema(nullable = false, required = false, pattern = r"^(?:[0-9]{1,2}(?:\.[0-9]{1,2})?|100(?:\.00?)?)$")]
    pub rag_amber_pct: Option<String>,
    /// Percentage points of drift that rate red.
    #[schema(nullable = false, required = false, pattern = r"^(?:[0-9]{1,2}(?:\.[0-9]{1,2})?|100(?:\.00?)?)$")]
    pub rag_red_pct: Option<String>,
    /// The unallocated underspend above which the cash position flags an award.
    #[schema(nullable = false, required = false, value_type = Option<AmountOrZero>)]
    pub clawback_threshold: Option<Money>,
    /// The 360Giving identifier prefix (docs/open-data.md).
    #[schema(nullable = false, required = false, value_type = Option<GivingPrefix>)]
    pub giving_prefix: Option<String>,
    /// The funder's org-id.guide identifier.
    #[schema(nullable = false, required = false, value_type = Option<FundingOrgId>)]
    pub funding_org_id: Option<String>,
    /// The funder's name.
    #[schema(nullable = false, required = false, value_type = Option<Text>)]
    pub funding_org_name: Option<String>,
    /// The ONS code of the area the partnership serves, of a type 360Giving's codelist names.
    #[schema(nullable = false, required = false, value_type = Option<AreaCode>)]
    pub area_code: Option<String>,
    /// That area's name, e.g. Tamworth.
    #[schema(nullable = false, required = false, value_type = Option<Text>)]
    pub area_name: Option<String>,
    /// Where the 360Giving file is published, or the publisher's website: an http(s) address.
    #[schema(nullable = false, required = false, value_type = Option<WebAddress>)]
    pub data_source: Option<String>,
    /// Days after a quarter's end by which the funder wants its return, 0 to 365; a return
    /// filed later is `late` (docs/returns.md).
    #[schema(nullable = false, required = false, minimum = 0, maximum = 365)]
    pub return_due_days: Option<u16>,
    /// The partnership's code, as the funder's reports name it (its name is `partnership`).
    #[schema(nullable = false, required = false, value_type = Option<Code>)]
    pub partnership_code: Option<String>,
}

/// The most days after a quarter's end a funder may allow for its return: a year.
pub const RETURN_DUE_DAYS_MAX: u16 = 365;

/// The settings the funder's reports read beside the ledger's figures: when a return is due,
/// and the code the partnership is named by. A field left out keeps its value.
#[derive(Debug, Clone, Default)]
pub struct ReportingSettings {
    pub return_due_days: Option<u16>,
    pub partnership_code: Option<String>,
}

impl FromFields for SettingsPatch {
    fn read(f: &mut Fields) -> Self {
        let text = |f: &mut Fields, name: &str| f.has_value(name).then(|| f.text(name));
        SettingsPatch {
            virement_approval_threshold: f
                .has_value("virement_approval_threshold")
                .then(|| f.money_or_zero("virement_approval_threshold")),
            rag_amber_pct: f.has_value("rag_amber_pct").then(|| percentage(f, "rag_amber_pct")),
            rag_red_pct: f.has_value("rag_red_pct").then(|| percentage(f, "rag_red_pct")),
            clawback_threshold: f.has_value("clawback_threshold").then(|| f.money_or_zero("clawback_threshold")),
            giving_prefix: text(f, "giving_prefix"),
            funding_org_id: text(f, "funding_org_id"),
            funding_org_name: text(f, "funding_org_name"),
            area_code: text(f, "area_code"),
            area_name: text(f, "area_name"),
            data_source: text(f, "data_source"),
            return_due_days: f
                .has_value("return_due_days")
                .then(|| f.whole_up_to("return_due_days", RETURN_DUE_DAYS_MAX)),
            partnership_code: f.has_value("partnership_code").then(|| f.code("partnership_code")),
        }
    }
}

/// Percentage points as the document writes them: 0 to 100, at most two places. (`RagRule`
/// reads any decimal; the contract is narrower, so exponents and padding are refused here.)
fn percentage(f: &mut Fields, name: &str) -> String {
    let text = f.text(name);
    let (whole, places) = text.split_once('.').unwrap_or((&text, "00"));
    let digits = |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let fits = digits(whole, 3)
        && digits(places, 2)
        && (whole.len() < 3 || (whole == "100" && places.bytes().all(|b| b == b'0')));
    if !text.is_empty() && !fits {
        f.refuse(name, "must be percentage points from 0 to 100, at most two places, like \"15\" or \"12.5\"");
    }
    text
}
