//! Which column of an import file holds which field, and how cost centres and expense codes
//! map to projects and grants: the `generic` and `transparency` presets, and TOML files.

use serde::Deserialize;

/// A field an import line is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Date,
    Grant,
    Project,
    Supplier,
    Description,
    InvoiceRef,
    Amount,
    SourceRef,
    /// The council's cost centre ("expense area"): mapped to a project by the rules.
    CostCentre,
    /// A category of spend; used as the description when the description cell is blank.
    ExpenseType,
    /// The council's account code; rules may match it too.
    ExpenseCode,
    /// The VAT on the line, unsigned or with the amount's sign. Optional: a file without the
    /// column has no VAT.
    Vat,
    /// Whether the line's VAT is recoverable (`true`/`false`, `yes`/`no`, `1`/`0`); blank
    /// takes the mapping's default. Optional, like `Vat`.
    VatRecoverable,
    /// The id of the commitment (a purchase order or grant agreement) an invoice draws on,
    /// as `POST /spend` takes it. Optional; blank draws on none.
    CommitmentId,
    /// The commitment's `reference` (a purchase order number) instead of its id. Optional.
    CommitmentRef,
}

impl Field {
    /// Prose that may hold tabs and line breaks; every other cell is one line.
    pub fn is_free_text(self) -> bool {
        matches!(self, Field::Description | Field::ExpenseType)
    }

    /// A column a file may leave out even when its layout names it.
    pub fn is_optional(self) -> bool {
        matches!(self, Field::Vat | Field::VatRecoverable | Field::CommitmentId | Field::CommitmentRef)
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::Grant => "grant",
            Field::Project => "project",
            Field::Supplier => "supplier",
            Field::Description => "description",
            Field::InvoiceRef => "invoice_ref",
            Field::Amount => "amount",
            Field::SourceRef => "source_ref",
            Field::CostCentre => "cost_centre",
            Field::ExpenseType => "expense_type",
            Field::ExpenseCode => "expense_code",
            Field::Vat => "vat",
            Field::VatRecoverable => "vat_recoverable",
            Field::CommitmentId => "commitment_id",
            Field::CommitmentRef => "commitment_reference",
        }
    }
}

/// How dates are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYY-MM-DD` or `dd/mm/yyyy`.
    IsoOrUk,
    /// A chrono format string, e.g. `%d-%b-%Y` for `01-Apr-2023`.
    Pattern(String),
}

/// Sends lines of a cost centre (and optionally an expense code) to a project and grant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub cost_centre: Option<String>,
    pub expense_code: Option<String>,
    pub project: String,
    pub grant: Option<String>,
}

impl Rule {
    /// True when every key the rule names equals the line's (trimmed, ASCII case-insensitive).
    pub fn matches(&self, cost_centre: &str, expense_code: &str) -> bool {
        let same = |want: &Option<String>, got: &str| {
            want.as_deref().is_none_or(|w| w.trim().eq_ignore_ascii_case(got.trim()))
        };
        same(&self.cost_centre, cost_centre) && same(&self.expense_code, expense_code)
    }
}

#[derive(Debug, Clone)]
pub struct Mapping {
    pub name: String,
    /// Each field read from the file, and the header of its column.
    pub columns: Vec<(Field, String)>,
    /// Whether the header may hold columns the mapping does not read. Councils' transparency
    /// files carry extra columns; the generic layout is exact, so a misnamed column is caught.
    pub extra_columns_ok: bool,
    pub date_format: DateFormat,
    /// Accept `£` in amounts, as finance-system exports write them. Every layout reads
    /// thousands separators and bracketed credits.
    pub lenient_amounts: bool,
    pub rules: Vec<Rule>,
    pub default_grant: Option<String>,
    /// With no matching rule, take the cost centre itself as the project code.
    pub cost_centre_is_project: bool,
    /// Whether a line's VAT is recoverable when no `vat_recoverable` cell says: true for the
    /// generic layout, false for the transparency layout, whose VAT column is "Irrecoverable VAT".
    pub vat_recoverable_default: bool,
}

crate::domain::words::word_set!(
    /// A spend file's column layout, built in: the ledger's own, or the Local Government
    /// Transparency Code's.
    Preset, "mapping preset", { Generic => "generic", Transparency => "transparency" }
);

impl Preset {
    /// The layout itself.
    pub fn mapping(self) -> Mapping {
        match self {
            Preset::Generic => Mapping::generic(),
            Preset::Transparency => Mapping::transparency(),
        }
    }
}

impl Mapping {
    /// `date,grant,project,supplier,description,invoice_ref,amount,source_ref`, exactly, and
    /// optionally `vat`, `vat_recoverable`, `commitment_id` and `commitment_reference`.
    pub fn generic() -> Mapping {
        let columns = [
            Field::Date,
            Field::Grant,
            Field::Project,
            Field::Supplier,
            Field::Description,
            Field::InvoiceRef,
            Field::Amount,
            Field::SourceRef,
            Field::Vat,
            Field::VatRecoverable,
            Field::CommitmentId,
            Field::CommitmentRef,
        ]
        .into_iter()
        .map(|f| (f, f.name().to_owned()))
        .collect();
        Mapping {
            name: "generic".into(),
            columns,
            extra_columns_ok: false,
            date_format: DateFormat::IsoOrUk,
            lenient_amounts: false,
            rules: Vec::new(),
            default_grant: None,
            cost_centre_is_project: false,
            vat_recoverable_default: true,
        }
    }

    /// The Local Government Transparency Code "expenditure over £500" layout. The transaction
    /// number is both the invoice reference and the `source_ref`, so a re-published file
    /// posts each payment once. An optional "Purchase order number" column names the
    /// commitment an invoice draws on, by its reference.
    pub fn transparency() -> Mapping {
        let columns = [
            (Field::Date, "Date"),
            (Field::InvoiceRef, "Transaction number"),
            (Field::SourceRef, "Transaction number"),
            (Field::Amount, "Amount"),
            (Field::Supplier, "Supplier name"),
            (Field::CostCentre, "Expense area"),
            (Field::ExpenseType, "Expense type"),
            (Field::ExpenseCode, "Expense code"),
            (Field::Description, "Extended description"),
            (Field::Vat, "Irrecoverable VAT"),
            (Field::CommitmentRef, "Purchase order number"),
        ]
        .into_iter()
        .map(|(f, h)| (f, h.to_owned()))
        .collect();
        Mapping {
            name: "transparency".into(),
            columns,
            extra_columns_ok: true,
            date_format: DateFormat::IsoOrUk,
            lenient_amounts: true,
            rules: Vec::new(),
            default_grant: None,
            cost_centre_is_project: true,
            vat_recoverable_default: false,
        }
    }

    pub fn preset(name: &str) -> Option<Mapping> {
        Preset::parse(name).map(Preset::mapping)
    }

    /// Reads a TOML mapping file (see docs/interchange.md). It may start from a preset and
    /// rename its columns, and adds rules.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let file: MappingFile = toml::from_str(text).map_err(|e| format!("mapping file: {e}"))?;
        let mut m = match file.preset.as_deref() {
            None => Mapping { name: "toml".into(), columns: Vec::new(), ..Mapping::transparency() },
            Some(p) => Mapping::preset(p)
                .ok_or_else(|| format!("mapping file: preset must be one of {}", Preset::WORDS.join(", ")))?,
        };
        m.name = format!("toml ({})", file.preset.as_deref().unwrap_or("own columns"));
        if let Some(c) = file.columns {
            for (field, header) in c.pairs() {
                m.columns.retain(|(f, _)| *f != field);
                if let Some(h) = header {
                    m.columns.push((field, h));
                }
            }
        }
        if let Some(f) = file.date_format {
            m.date_format = DateFormat::Pattern(f);
        }
        if let Some(extra) = file.extra_columns_ok {
            m.extra_columns_ok = extra;
        }
        m.rules = file.rules;
        if file.default_grant.is_some() {
            m.default_grant = file.default_grant;
        }
        if let Some(b) = file.cost_centre_is_project {
            m.cost_centre_is_project = b;
        }
        if let Some(b) = file.vat_recoverable_default {
            m.vat_recoverable_default = b;
        }
        m.check()?;
        Ok(m)
    }

    /// Sets the grant for lines whose column or rule gives none.
    pub fn with_default_grant(mut self, grant: Option<String>) -> Mapping {
        if grant.is_some() {
            self.default_grant = grant;
        }
        self
    }

    pub fn header_of(&self, field: Field) -> Option<&str> {
        self.columns.iter().find(|(f, _)| *f == field).map(|(_, h)| h.as_str())
    }

    /// A mapping must say where each required field comes from.
    fn check(&self) -> Result<(), String> {
        if let DateFormat::Pattern(p) = &self.date_format {
            use std::fmt::Write;
            let mut probe = String::new();
            let day = chrono::NaiveDate::from_ymd_opt(2023, 4, 1).expect("a valid date");
            // An unknown specifier makes formatting fail rather than print.
            if write!(probe, "{}", day.format(p)).is_err() || chrono::NaiveDate::parse_from_str(&probe, p) != Ok(day) {
                return Err(format!("mapping file: date_format {p:?} cannot read back a date it writes"));
            }
        }
        for f in [Field::Date, Field::Amount, Field::Supplier] {
            if self.header_of(f).is_none() {
                return Err(format!("mapping file: [columns] must name the {} column", f.name()));
            }
        }
        if self.header_of(Field::Description).is_none() && self.header_of(Field::ExpenseType).is_none() {
            return Err("mapping file: [columns] must name a description or expense_type column".into());
        }
        if self.header_of(Field::Project).is_none() && self.header_of(Field::CostCentre).is_none() {
            return Err("mapping file: [columns] must name a project or cost_centre column".into());
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    preset: Option<String>,
    date_format: Option<String>,
    default_grant: Option<String>,
    extra_columns_ok: Option<bool>,
    cost_centre_is_project: Option<bool>,
    vat_recoverable_default: Option<bool>,
    columns: Option<Columns>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Columns {
    date: Option<String>,
    grant: Option<String>,
    project: Option<String>,
    supplier: Option<String>,
    description: Option<String>,
    invoice_ref: Option<String>,
    amount: Option<String>,
    source_ref: Option<String>,
    cost_centre: Option<String>,
    expense_type: Option<String>,
    expense_code: Option<String>,
    vat: Option<String>,
    vat_recoverable: Option<String>,
    commitment_id: Option<String>,
    commitment_reference: Option<String>,
}

impl Columns {
    /// The fields this section names. A field given as "" is removed from the preset.
    fn pairs(self) -> Vec<(Field, Option<String>)> {
        [
            (Field::Date, self.date),
            (Field::Grant, self.grant),
            (Field::Project, self.project),
            (Field::Supplier, self.supplier),
            (Field::Description, self.description),
            (Field::InvoiceRef, self.invoice_ref),
            (Field::Amount, self.amount),
            (Field::SourceRef, self.source_ref),
            (Field::CostCentre, self.cost_centre),
            (Field::ExpenseType, self.expense_type),
            (Field::ExpenseCode, self.expense_code),
            (Field::Vat, self.vat),
            (Field::VatRecoverable, self.vat_recoverable),
            (Field::CommitmentId, self.commitment_id),
            (Field::CommitmentRef, self.commitment_reference),
        ]
        .into_iter()
        .filter_map(|(f, h)| h.map(|h| (f, Some(h).filter(|h| !h.trim().is_empty()))))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toml_file_renames_columns_and_adds_rules() {
        let m = Mapping::from_toml(
            r#"
            preset = "transparency"
            date_format = "%d-%b-%Y"
            default_grant = "LDF"
            [columns]
            date = "Payment date"
            expense_code = ""
            [[rules]]
            cost_centre = "CS100"
            project = "P1"
            [[rules]]
            cost_centre = "CS200"
            expense_code = "5001"
            project = "P2"
            grant = "ASB-EI"
            "#,
        )
        .unwrap();
        assert_eq!(m.header_of(Field::Date), Some("Payment date"));
        assert_eq!(m.header_of(Field::ExpenseCode), None, "an empty name removes the preset's column");
        assert_eq!(m.header_of(Field::Supplier), Some("Supplier name"));
        assert_eq!(m.rules.len(), 2);
        assert!(m.rules[0].matches(" cs100", "anything"));
        assert!(!m.rules[1].matches("CS200", "5002"));
        assert_eq!(m.default_grant.as_deref(), Some("LDF"));
    }

    #[test]
    fn bad_mapping_files_are_refused_with_a_reason() {
        for (text, expect) in [
            ("preset = \"unit4\"", "preset must be one of"),
            ("colums = {}", "unknown field"),
            ("[columns]\ndate = \"D\"", "must name the amount column"),
            ("[[rules]]\ncost_centre = \"X\"", "missing field `project`"),
            ("date_format = \"%Q\"", "date_format"),
            ("preset = ", "mapping file"),
        ] {
            let err = Mapping::from_toml(text).unwrap_err();
            assert!(err.contains(expect), "{text:?} gave {err:?}, expected it to mention {expect:?}");
        }
    }
}
