//! The schemas of the value types a request carries: money, years, codes, text, dates,
//! identifiers. Each is a marker type whose schema states exactly what its parser in
//! `fields` accepts; a request type names it with `#[schema(value_type = …)]` on the field
//! it documents, so one struct is both the contract and what gets parsed.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{FinancialYear, Money, Quantity};

pub fn string_schema(pattern: &str, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([example])
        .into()
}

/// Declares a value type's schema by hand: its name in `components.schemas` and its schema.
macro_rules! hand_schema {
    ($ty:ty, $name:literal, $schema:expr) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }
        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

hand_schema!(
    Money,
    "Money",
    string_schema(
        r"^-?[0-9]+\.[0-9]{2}$",
        "Pounds as a decimal string with two places; signed where the figure is (postings, balances).",
        "1500.00"
    )
);

/// The pattern of a quantity, exactly what `Quantity::parse` accepts.
pub const QUANTITY_PATTERN: &str = r"^(?:(?:0|[1-9][0-9]{0,8})(?:\.[0-9]{1,4})?|1000000000(?:\.0{1,4})?)$";

hand_schema!(
    Quantity,
    "Quantity",
    string_schema(
        QUANTITY_PATTERN,
        "A quantity an indicator counts, with its unit beside it (not money): a decimal string, \
         zero or more, at most 1000000000, at most four places, no leading zeros.",
        "12.5"
    )
);

/// Every financial year the server accepts, 2000-01 to 2098-99: the second year follows the first.
pub fn year_pattern() -> String {
    let pairs: Vec<String> = (0..99).map(|y| format!("{y:02}-{:02}", y + 1)).collect();
    format!("^20(?:{})$", pairs.join("|"))
}

hand_schema!(
    FinancialYear,
    "FinancialYear",
    string_schema(&year_pattern(), "A financial year, April to March, written YYYY-YY.", "2023-24")
);

/// A positive amount given in a request: at most £1,000,000,000, at most two places.
pub struct Amount;
hand_schema!(
    Amount,
    "Amount",
    string_schema(
        r"^(?:[1-9][0-9]{0,8}(?:\.[0-9]{1,2})?|0\.(?:[1-9][0-9]?|0[1-9])|1000000000(?:\.00?)?)$",
        "A positive amount of money as a decimal string (not a JSON number), at most 1000000000.",
        "1500.00"
    )
);

/// An amount that may be zero.
pub struct AmountOrZero;
hand_schema!(
    AmountOrZero,
    "AmountOrZero",
    string_schema(
        r"^(?:[0-9]{1,9}(?:\.[0-9]{1,2})?|1000000000(?:\.00?)?)$",
        "An amount of money, zero or more, as a decimal string, at most 1000000000.",
        "0.00"
    )
);

pub struct Code;
hand_schema!(
    Code,
    "Code",
    string_schema(
        "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
        "A code: 1 to 32 letters, digits, '-' or '_', starting with a letter or digit.",
        "LDF"
    )
);

/// Characters no stored text may hold: C0, DEL and C1 controls.
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";
/// The same, less tab and newline, for free prose.
const CONTROL_IN_PROSE: &str = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f";
/// As `fields::TEXT_LEN_MAX`.
const TEXT_CHARS_MAX: usize = super::fields::TEXT_LEN_MAX;

fn text_schema(control: &str, blank_allowed: bool, description: &str) -> RefOr<Schema> {
    let pattern =
        if blank_allowed { format!("^[^{control}]*$") } else { format!(r"^[^{control}]*[^\s{control}][^{control}]*$") };
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(usize::from(!blank_allowed)))
        .max_length(Some(TEXT_CHARS_MAX))
        .description(Some(description))
        .into()
}

pub struct Text;
hand_schema!(Text, "Text", text_schema(CONTROL, false, "One line of text, not blank, no control characters."));
/// A new password, as `model::users::password_problem` accepts it but for being the username,
/// which no pattern can know: 12 to 256 characters, one line, not blank, not one character
/// repeated.
pub struct NewPassword;
hand_schema!(
    NewPassword,
    "NewPassword",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(format!(r"^(?!(.)\1*$)[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$")))
        .min_length(Some(crate::model::users::PASSWORD_LEN_MIN))
        .max_length(Some(crate::model::users::PASSWORD_LEN_MAX))
        .description(Some("A password: 12 to 256 characters, not all one character, not the username."))
        .into()
);
pub struct TextOrEmpty;
hand_schema!(TextOrEmpty, "TextOrEmpty", text_schema(CONTROL, true, "One line of text, may be empty."));
pub struct Prose;
hand_schema!(Prose, "Prose", text_schema(CONTROL_IN_PROSE, false, "Free text, not blank; tab and newline allowed."));
pub struct ProseOrEmpty;
hand_schema!(ProseOrEmpty, "ProseOrEmpty", text_schema(CONTROL_IN_PROSE, true, "Free text, may be empty."));

/// The shape of an optional identifier: the pattern of `domain::org`, or empty.
fn identifier_schema(pattern: &str, description: &str, example: &str) -> RefOr<Schema> {
    string_schema(&format!("^$|{pattern}"), description, example)
}
pub struct OrgId;
hand_schema!(
    OrgId,
    "OrgId",
    identifier_schema(
        &crate::domain::org::ORG_ID_PATTERN,
        "An org-id.guide identifier: the code of a list in the org-id.guide register that is not deprecated (`GB-CHC`, `GB-SC`, `GB-NIC`, `GB-COH`, `GB-LAE` …), a hyphen, then the id in that list, in the list's form; empty when not known.",
        "GB-CHC-1234567"
    )
);
pub struct CharityNumber;
hand_schema!(
    CharityNumber,
    "CharityNumber",
    identifier_schema(
        crate::domain::org::CHARITY_NUMBER_PATTERN,
        "A charity number in its register's form: England and Wales (6 to 8 digits, perhaps a `-N` subsidiary number), Scotland (`SC` and 6 digits) or Northern Ireland (`NIC` and 6 digits); empty when none.",
        "1234567"
    )
);
pub struct CompanyNumber;
hand_schema!(
    CompanyNumber,
    "CompanyNumber",
    identifier_schema(
        crate::domain::org::COMPANY_NUMBER_PATTERN,
        "A Companies House number: 8 digits, or 2 capitals and 6 digits; empty when none.",
        "01234567"
    )
);
pub struct GivingPrefix;
hand_schema!(
    GivingPrefix,
    "GivingPrefix",
    string_schema(
        crate::domain::org::GIVING_PREFIX_PATTERN,
        "A 360Giving identifier prefix, as 360Giving registered it: `360G-` then letters, digits or hyphens.",
        "360G-tamworthcsp"
    )
);
pub struct FundingOrgId;
hand_schema!(
    FundingOrgId,
    "FundingOrgId",
    string_schema(
        &crate::domain::org::ORG_ID_PATTERN,
        "The funder's org-id.guide identifier, e.g. a local authority's `GB-LAE-` code; its list must be one of the register's, not deprecated.",
        "GB-LAE-TAW"
    )
);
pub struct AreaCode;
hand_schema!(
    AreaCode,
    "AreaCode",
    string_schema(
        crate::domain::org::AREA_CODE_PATTERN,
        "An ONS area code of a type 360Giving's codelist of geographic code types names, e.g. `E07000199` (Tamworth, a non-metropolitan district).",
        "E07000199"
    )
);
pub struct WebAddress;
hand_schema!(
    WebAddress,
    "WebAddress",
    string_schema(
        crate::domain::org::WEB_ADDRESS_PATTERN,
        "A web address beginning `http://` or `https://`.",
        "https://www.tamworth.gov.uk/"
    )
);
pub struct Postcode;
hand_schema!(
    Postcode,
    "Postcode",
    identifier_schema(
        crate::domain::org::POSTCODE_PATTERN,
        "A UK postcode, stored in capitals with one space before the inward code; empty when not known.",
        "B79 7BZ"
    )
);

/// A calendar date, `YYYY-MM-DD`.
pub struct IsoDate;
hand_schema!(
    IsoDate,
    "Date",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
        .pattern(Some(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        .into()
);

/// An instant, RFC 3339 with its offset: `2024-01-10T09:30:00Z`.
pub struct Instant;
hand_schema!(
    Instant,
    "Instant",
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .pattern(Some(
            r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
        ))
        .into()
);

/// A file's bytes, as a download or a body that is not JSON: a generated client hands them
/// over as bytes, not text it would try to decode.
fn bytes_schema(description: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
        .description(Some(description))
        .into()
}

/// The monitoring return as an Excel workbook (XLSX).
pub struct Workbook;
hand_schema!(Workbook, "Workbook", bytes_schema("An Excel workbook (XLSX), as bytes."));

/// A CSV file sent as `application/octet-stream`, for clients that send only JSON, forms or
/// bytes; read exactly as the same file sent as `text/csv`.
pub struct CsvFile;
hand_schema!(CsvFile, "CsvFile", bytes_schema("A CSV file, as bytes: UTF-8, perhaps with a byte-order mark."));

/// A financial year, or empty as an HTML form sends an unset field.
pub struct YearOrEmpty;
hand_schema!(
    YearOrEmpty,
    "YearOrEmpty",
    string_schema(
        &year_pattern().replacen("^", "^(?:|", 1).replacen('$', ")$", 1),
        "A financial year, or empty.",
        "2023-24"
    )
);

/// A date, or empty as an HTML form sends an unset field.
pub struct DateOrEmpty;
hand_schema!(
    DateOrEmpty,
    "DateOrEmpty",
    string_schema(r"^(?:|[0-9]{4}-[0-9]{2}-[0-9]{2})$", "A date written YYYY-MM-DD, or empty.", "2024-03-31")
);
