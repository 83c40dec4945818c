//! Parsing an import file into spend and refund commands, each with its line number, and an
//! error for every bad field. Pure: it reads the bytes it is given and nothing else.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::mapping::{DateFormat, Field, Mapping};
use crate::domain::{Money, is_valid_code, parse_date};
use crate::model::import::{ImportLine, ImportOp, LineError};
use crate::model::postings::{RefundCmd, SpendCmd};

/// The most data lines one file may hold.
pub const IMPORT_LINES_MAX: usize = 1_000_000;
/// The longest line accepted, in bytes. Real finance exports stay far below it.
pub const IMPORT_LINE_BYTES_MAX: usize = 65_536;
/// The longest cell accepted, in bytes: as long as any text field of the API.
pub const CELL_BYTES_MAX: usize = 2_000;

/// What a file parsed into. When `errors` holds a file-level error (line 0 or the header),
/// `lines` is empty.
#[derive(Debug, Default)]
pub struct Parsed {
    pub lines: Vec<ImportLine>,
    pub errors: Vec<LineError>,
    /// The file could not be read line by line at all: encoding, header, quoting, size.
    pub unreadable: bool,
}

impl Parsed {
    fn fatal(line: u64, field: &str, message: impl Into<String>) -> Parsed {
        Parsed { lines: Vec::new(), errors: vec![LineError::new(line, field, message)], unreadable: true }
    }
}

pub fn parse(bytes: &[u8], mapping: &Mapping) -> Parsed {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Parsed::fatal(1, "file", "is UTF-16; save it as \"CSV UTF-8\" and import that");
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64;
            return Parsed::fatal(
                line,
                "file",
                format!(
                    "is not UTF-8: byte 0x{:02X} on line {line} (a Latin-1 or Windows-1252 export?); save it as \"CSV UTF-8\"",
                    bytes[at]
                ),
            );
        }
    };
    // NUL in the header means UTF-16 or a binary file; later, it is a bad cell, named below.
    if let Some(at) = text.find('\0').filter(|at| !text[..*at].contains('\n')) {
        let line = 1 + text[..at].matches('\n').count() as u64;
        return Parsed::fatal(
            line,
            "file",
            "contains NUL bytes: it is UTF-16 or not a text file; save it as \"CSV UTF-8\"",
        );
    }
    if text.trim().is_empty() {
        return Parsed::fatal(1, "file", "is empty: expected a header line and data lines");
    }
    if let Some(line) = unclosed_quote(text.as_bytes()) {
        return Parsed::fatal(line, "file", "a quote opened on this line is never closed");
    }
    if let Some(line) = long_line(text.as_bytes()) {
        return Parsed::fatal(line, "file", format!("this line is longer than {IMPORT_LINE_BYTES_MAX} bytes"));
    }

    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Parsed::fatal(1, "file", format!("cannot be read as CSV: {e}")),
        None => return Parsed::fatal(1, "file", "is empty: expected a header line and data lines"),
    };
    let columns = match Columns::resolve(&header, mapping) {
        Ok(c) => c,
        Err(errors) => return Parsed { lines: Vec::new(), errors, unreadable: true },
    };

    // Line numbers come from byte offsets, so blank lines and quoted line breaks count.
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1)).collect();
    // A record's position can point at blank lines skipped before it: step over them.
    let line_at = |byte: u64| {
        let skipped = text.as_bytes().iter().skip(byte as usize).take_while(|b| matches!(b, b'\n' | b'\r')).count();
        line_starts.partition_point(|s| *s <= byte as usize + skipped) as u64
    };
    let mut parsed = Parsed::default();
    for (count, record) in records.enumerate() {
        if count >= IMPORT_LINES_MAX {
            return Parsed::fatal(0, "file", format!("has more than {IMPORT_LINES_MAX} lines; split it"));
        }
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                return Parsed::fatal(line, "file", format!("cannot be read as CSV: {e}"));
            }
        };
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if record.len() != header.len() {
            parsed.errors.push(LineError::new(
                line,
                "line",
                format!("has {} cells; the header has {}", record.len(), header.len()),
            ));
            continue;
        }
        match line_of(&record, line, &columns, mapping) {
            Ok((op, commitment_reference)) => parsed.lines.push(ImportLine { line, op, commitment_reference }),
            Err(errors) => parsed.errors.extend(errors),
        }
    }
    parsed
}

/// The line a quote that never closes was opened on. Quotes open only at the start of a
/// field (RFC 4180); a doubled quote inside a quoted field is an escaped quote.
fn unclosed_quote(bytes: &[u8]) -> Option<u64> {
    let (mut line, mut opened_on) = (1u64, 0u64);
    let (mut quoted, mut field_start) = (false, true);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if quoted {
            match b {
                b'"' if bytes.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => quoted = false,
                b'\n' => line += 1,
                _ => {}
            }
        } else {
            match b {
                b'"' if field_start => {
                    quoted = true;
                    opened_on = line;
                }
                b',' => {
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'\n' => {
                    line += 1;
                    field_start = true;
                    i += 1;
                    continue;
                }
                b'\r' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            field_start = false;
        }
        i += 1;
    }
    quoted.then_some(opened_on)
}

/// The first physical line longer than `IMPORT_LINE_BYTES_MAX`.
fn long_line(bytes: &[u8]) -> Option<u64> {
    bytes.split(|b| *b == b'\n').position(|l| l.len() > IMPORT_LINE_BYTES_MAX).map(|i| i as u64 + 1)
}

/// Where each field sits in a file's lines.
struct Columns {
    at: HashMap<Field, usize>,
}

fn normalise(header: &str) -> String {
    header.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Columns {
    fn resolve(header: &::csv::StringRecord, mapping: &Mapping) -> Result<Columns, Vec<LineError>> {
        let mut errors = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for (i, h) in header.iter().enumerate() {
            if by_name.insert(normalise(h), i).is_some() {
                errors.push(LineError::new(1, h.trim(), "this column appears twice in the header"));
            }
        }
        let mut at = HashMap::new();
        for (field, name) in &mapping.columns {
            match by_name.get(&normalise(name)) {
                Some(i) => {
                    at.insert(*field, *i);
                }
                None if errors.iter().any(|e| e.field == *name) => {}
                None if field.is_optional() => {}
                None => errors.push(LineError::new(
                    1,
                    name,
                    format!("column {name:?} is missing from the header (mapping {})", mapping.name),
                )),
            }
        }
        if !mapping.extra_columns_ok {
            let known: Vec<String> = mapping.columns.iter().map(|(_, h)| normalise(h)).collect();
            for h in header.iter() {
                if !known.contains(&normalise(h)) {
                    errors.push(LineError::new(
                        1,
                        h.trim(),
                        format!("is not a column of the {} layout ({})", mapping.name, expected(mapping)),
                    ));
                }
            }
        }
        if errors.is_empty() { Ok(Columns { at }) } else { Err(errors) }
    }
}

fn expected(mapping: &Mapping) -> String {
    let mut names: Vec<&str> = mapping.columns.iter().map(|(_, h)| h.as_str()).collect();
    names.dedup();
    names.join(",")
}

/// Reads one line's fields, naming each bad one.
struct Cells<'a> {
    record: &'a ::csv::StringRecord,
    line: u64,
    columns: &'a Columns,
    errors: Vec<LineError>,
}

impl Cells<'_> {
    fn error(&mut self, field: Field, message: impl Into<String>) {
        self.errors.push(LineError::new(self.line, field.name(), message));
    }

    /// A cell, trimmed; "" when the mapping has no such column.
    fn raw(&mut self, field: Field) -> &str {
        let Some(i) = self.columns.at.get(&field) else { return "" };
        self.record.get(*i).unwrap_or("").trim()
    }

    fn text(&mut self, field: Field, required: bool) -> String {
        let cell = self.raw(field).to_owned();
        if cell.len() > CELL_BYTES_MAX {
            self.error(field, format!("is longer than {CELL_BYTES_MAX} bytes"));
        } else if let Some(message) = crate::domain::control_character(&cell, field.is_free_text()) {
            self.error(field, message);
        } else if required && cell.is_empty() {
            self.error(field, "must not be blank");
        }
        cell
    }

    fn code(&mut self, field: Field, value: String) -> String {
        if value.is_empty() {
            self.error(field, "is blank, and no mapping rule or default gives one");
        } else if !is_valid_code(&value) {
            self.error(field, format!("{value:?} is not a code: 1–32 letters, digits, '-' or '_'"));
        }
        value
    }
}

/// A line's operation, and the reference of the commitment it draws on where it names one so.
fn line_of(
    record: &::csv::StringRecord,
    line: u64,
    columns: &Columns,
    mapping: &Mapping,
) -> Result<(ImportOp, Option<String>), Vec<LineError>> {
    let mut c = Cells { record, line, columns, errors: Vec::new() };
    let date_cell = c.text(Field::Date, true);
    let date = if date_cell.is_empty() {
        None
    } else {
        match parse_line_date(&date_cell, &mapping.date_format) {
            Ok(d) => Some(d),
            Err(e) => {
                c.error(Field::Date, e);
                None
            }
        }
    };
    let amount_cell = c.text(Field::Amount, true);
    let amount = if amount_cell.is_empty() { None } else { Some(parse_amount(&amount_cell, mapping.lenient_amounts)) };
    match &amount {
        Some(Ok(m)) if *m == Money::ZERO => c.error(Field::Amount, "must not be zero"),
        Some(Err(e)) => c.error(Field::Amount, format!("{amount_cell:?}: {e}")),
        _ => {}
    }
    let supplier = c.text(Field::Supplier, true);
    let mut description = c.text(Field::Description, false);
    let expense_type = c.text(Field::ExpenseType, false);
    if description.is_empty() {
        description = expense_type;
    }
    if description.is_empty() {
        c.error(Field::Description, "must not be blank");
    }
    let invoice_ref = c.text(Field::InvoiceRef, false);
    let source_ref = Some(c.text(Field::SourceRef, false)).filter(|s| !s.is_empty());

    let cost_centre = c.text(Field::CostCentre, false);
    let expense_code = c.text(Field::ExpenseCode, false);
    let rule = mapping.rules.iter().find(|r| r.matches(&cost_centre, &expense_code));
    let mut project = c.text(Field::Project, false);
    if project.is_empty() {
        project = match rule {
            Some(r) => r.project.clone(),
            None if mapping.cost_centre_is_project => cost_centre.clone(),
            None => String::new(),
        };
    }
    let project = c.code(Field::Project, project);
    let mut grant = c.text(Field::Grant, false);
    if grant.is_empty() {
        grant = rule.and_then(|r| r.grant.clone()).or_else(|| mapping.default_grant.clone()).unwrap_or_default();
    }
    let grant = c.code(Field::Grant, grant);

    let (vat, vat_recoverable) = vat_of(&mut c, amount.as_ref().and_then(|a| a.as_ref().ok()).copied(), mapping);
    let (commitment_id, commitment_reference) =
        commitment_of(&mut c, amount.as_ref().and_then(|a| a.as_ref().ok()).copied());

    let (Some(date), Some(Ok(amount)), true) = (date, amount, c.errors.is_empty()) else { return Err(c.errors) };
    let op = if amount.is_positive() {
        ImportOp::Spend(SpendCmd {
            grant,
            project,
            date,
            supplier,
            description,
            invoice_ref,
            amount,
            commitment_id,
            source_ref,
            vat,
            vat_recoverable,
            duplicate_ok: false,
        })
    } else {
        ImportOp::Refund(RefundCmd {
            grant,
            project,
            date,
            amount: amount.negated(),
            reference: invoice_ref,
            reason: description,
            source_ref,
            supplier: Some(supplier),
            vat,
            vat_recoverable,
            spend_entry_id: None,
            commitment_id: None,
            duplicate_ok: false,
        })
    };
    Ok((op, commitment_reference))
}

/// The commitment an invoice line draws on: by id, or by reference (found in storage), not
/// both. A credit line draws on none: a clawback under an agreement is recorded through
/// `POST /refunds`, which holds it to what the partner was paid and evidenced.
fn commitment_of(c: &mut Cells, amount: Option<Money>) -> (Option<i64>, Option<String>) {
    let id_cell = c.text(Field::CommitmentId, false);
    let reference = c.text(Field::CommitmentRef, false);
    let id = if id_cell.is_empty() {
        None
    } else {
        let id = id_cell.parse::<i64>().ok().filter(|i| *i > 0 && id_cell.bytes().all(|b| b.is_ascii_digit()));
        if id.is_none() {
            c.error(Field::CommitmentId, format!("{id_cell:?} is not a commitment id: a whole number from 1"));
        }
        id
    };
    let reference = Some(reference).filter(|r| !r.is_empty());
    if id.is_some() && reference.is_some() {
        c.error(Field::CommitmentRef, "give the commitment by commitment_id or by its reference, not both");
    }
    let named = if reference.is_some() { Field::CommitmentRef } else { Field::CommitmentId };
    if (id.is_some() || reference.is_some()) && amount.is_some_and(|a| a.pence() < 0) {
        c.error(named, "a credit line draws on no commitment; record a clawback with POST /api/v1/refunds");
    }
    (id, reference)
}

/// A line's VAT and whether it is recoverable. The VAT cell is unsigned or carries the
/// amount's sign (a credit note's VAT may be written negative); blank means no VAT.
fn vat_of(c: &mut Cells, amount: Option<Money>, mapping: &Mapping) -> (Option<Money>, bool) {
    let cell = c.text(Field::Vat, false);
    let vat = if cell.is_empty() {
        None
    } else {
        match parse_amount(&cell, mapping.lenient_amounts) {
            Ok(v) if v.pence() < 0 && amount.is_some_and(|a| a.is_positive()) => {
                c.error(Field::Vat, format!("{cell:?} is negative on a spend line"));
                None
            }
            Ok(v) => Some(if v.pence() < 0 { v.negated() } else { v }),
            Err(e) => {
                c.error(Field::Vat, format!("{cell:?}: {e}"));
                None
            }
        }
    };
    let flag = c.text(Field::VatRecoverable, false);
    let recoverable = match flag.trim().to_ascii_lowercase().as_str() {
        "" => mapping.vat_recoverable_default,
        "true" | "yes" | "y" | "1" => true,
        "false" | "no" | "n" | "0" => false,
        _ => {
            c.error(Field::VatRecoverable, format!("{flag:?} is not true or false"));
            mapping.vat_recoverable_default
        }
    };
    (vat, recoverable)
}

/// A date cell as the mapping writes dates. Finance systems often add a time of day to a
/// date, always midnight: `2024-01-06 00:00:00`, `2024-01-06T00:00:00`, `06/01/2024 00:00`.
/// That time is read as the date alone; any other time is refused, since a payment's date
/// would then depend on how the time is rounded.
fn parse_line_date(cell: &str, format: &DateFormat) -> Result<NaiveDate, String> {
    let how = || match format {
        DateFormat::IsoOrUk => "YYYY-MM-DD or dd/mm/yyyy".to_owned(),
        DateFormat::Pattern(p) => format!("as {p:?}"),
    };
    if let Some(d) = date_as(cell, format) {
        return Ok(d);
    }
    let Some((date, time)) = split_time(cell) else {
        return Err(format!("{cell:?} is not a date written {}", how()));
    };
    match date_as(date, format) {
        None => Err(format!("{cell:?} is not a date written {}", how())),
        Some(_) if !is_midnight(time) => {
            Err(format!("{cell:?} has a time of day, {time}: only midnight (00:00:00) is read, as the date alone"))
        }
        Some(d) => Ok(d),
    }
}

fn date_as(cell: &str, format: &DateFormat) -> Option<NaiveDate> {
    match format {
        DateFormat::IsoOrUk => parse_date(cell).or_else(|| {
            let parts: Vec<&str> = cell.split('/').collect();
            let ok = parts.len() == 3
                && parts[0].len() <= 2
                && parts[1].len() <= 2
                && parts[2].len() == 4
                && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if !ok {
                return None;
            }
            NaiveDate::from_ymd_opt(parts[2].parse().ok()?, parts[1].parse().ok()?, parts[0].parse().ok()?)
        }),
        DateFormat::Pattern(p) => NaiveDate::parse_from_str(cell, p).ok(),
    }
}

/// A cell ending in a time of day, `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff` after one space
/// or a `T`: the date before it and the time.
fn split_time(cell: &str) -> Option<(&str, &str)> {
    let at = cell.rfind([' ', 'T'])?;
    let (date, time) = (&cell[..at], &cell[at + 1..]);
    let (clock, fraction) = match time.split_once('.') {
        Some((clock, f)) => (clock, Some(f)),
        None => (time, None),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    let two_digits = |p: &&str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    let shaped = matches!(parts.len(), 2 | 3)
        && parts.iter().all(two_digits)
        && fraction.is_none_or(|f| parts.len() == 3 && !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    (shaped && !date.is_empty()).then_some((date, time))
}

fn is_midnight(time: &str) -> bool {
    time.bytes().all(|b| matches!(b, b'0' | b':' | b'.'))
}

/// A signed amount as finance systems write it. Every layout reads a leading `-` or
/// brackets, `(120.00)`, for a credit, and thousands separators in their places
/// (`1,250.00`); lenient mappings also read `£` after the sign (`-£50`, `(£1,234.56)`).
/// Anything else is refused: `1,25,0.00`, `(120.00`, `-(5)`, `1.234,56`.
fn parse_amount(cell: &str, lenient: bool) -> Result<Money, String> {
    let (negative, rest) = match (cell.strip_prefix('('), cell.ends_with(')')) {
        (Some(inner), true) => (true, &inner[..inner.len() - 1]),
        (Some(_), false) => return Err("a bracket opened for a credit is never closed, as in (120.00)".into()),
        (None, true) => return Err("a bracket closes that never opened, as in (120.00)".into()),
        (None, false) => match cell.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, cell),
        },
    };
    let rest = if lenient { rest.strip_prefix('£').unwrap_or(rest) } else { rest };
    let (whole, frac) = match rest.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (rest, None),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_ok = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    if !grouped_ok {
        return Err("thousands separators must group three digits, as in 1,234.56".into());
    }
    let plain = match frac {
        Some(f) => format!("{}.{f}", groups.concat()),
        None => groups.concat(),
    };
    let m = Money::parse(&plain).map_err(|e| e.to_string())?;
    Ok(if negative { m.negated() } else { m })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEADER: &str = "date,grant,project,supplier,description,invoice_ref,amount,source_ref\n";

    fn generic(body: &str) -> Parsed {
        parse(format!("{HEADER}{body}").as_bytes(), &Mapping::generic())
    }

    fn errors(p: &Parsed) -> Vec<(u64, String)> {
        p.errors.iter().map(|e| (e.line, e.field.clone())).collect()
    }

    #[test]
    fn generic_lines_become_spend_and_refunds() {
        let p = generic(
            "2023-05-01,LDF,P1,Youth Trust,Sessions,INV-1,1500.00,FIN-1\n\
             \n\
             01/06/2023,LDF,P1,Youth Trust,Credit note,CN-1,-200,FIN-2\n",
        );
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.lines.len(), 2);
        assert_eq!(p.lines[0].line, 2);
        assert_eq!(p.lines[1].line, 4, "line numbers count the blank line");
        match &p.lines[1].op {
            ImportOp::Refund(r) => {
                assert_eq!(r.amount, Money::from_pence(20_000));
                assert_eq!(r.date, NaiveDate::from_ymd_opt(2023, 6, 1).unwrap());
                assert_eq!(r.source_ref.as_deref(), Some("FIN-2"));
            }
            other => panic!("expected a refund, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_field_is_named_with_its_line() {
        let p = generic(
            "2023-13-01,LDF,P1,S,D,I,10,A\n\
             2023-05-01,L D F,P1,,D,I,1.234,B\n\
             2023-05-01,LDF,,S,,I,0,C\n\
             2023-05-01,LDF,P1,S,D\n",
        );
        assert_eq!(
            errors(&p),
            vec![
                (2, "date".into()),
                (3, "amount".into()),
                (3, "supplier".into()),
                (3, "grant".into()),
                (4, "amount".into()),
                (4, "description".into()),
                (4, "project".into()),
                (5, "line".into()),
            ]
        );
        assert!(p.lines.is_empty());
    }

    #[test]
    fn hostile_files_get_one_clear_error() {
        let check = |bytes: Vec<u8>, line: u64, needle: &str| {
            let p = parse(&bytes, &Mapping::generic());
            assert!(p.unreadable && p.lines.is_empty());
            assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
            assert_eq!(p.errors[0].line, line, "{:?}", p.errors);
            assert!(p.errors[0].message.contains(needle), "{:?} should mention {needle:?}", p.errors[0].message);
        };
        check(Vec::new(), 1, "empty");
        check(b"\xEF\xBB\xBF \n\n".to_vec(), 1, "empty");
        let utf16: Vec<u8> = [0xFF, 0xFE].into_iter().chain(HEADER.encode_utf16().flat_map(u16::to_le_bytes)).collect();
        check(utf16, 1, "UTF-16");
        let utf16_no_bom: Vec<u8> = HEADER.encode_utf16().flat_map(u16::to_le_bytes).collect();
        check(utf16_no_bom, 1, "NUL");
        let mut latin1 = format!("{HEADER}2023-05-01,LDF,P1,Caf").into_bytes();
        latin1.extend_from_slice(b"\xE9,D,I,1,A\n");
        check(latin1, 2, "not UTF-8");
        check(
            format!("{HEADER}2023-05-01,LDF,P1,\"Open,D,I,1,A\n2023-05-01,LDF,P1,S,D,I,1,B\n").into_bytes(),
            2,
            "never closed",
        );
        check(format!("{HEADER}{}\n", "x".repeat(1_000_000)).into_bytes(), 2, "longer than");
        check(b"date,grant,project,supplier,description,invoice_ref,amount\n".to_vec(), 1, "source_ref");
    }

    #[test]
    fn extra_and_missing_columns_are_each_named() {
        let p = parse(
            b"date,grant,project,supplier,description,invoice_ref,amount,source_ref,vat_rate\n",
            &Mapping::generic(),
        );
        assert_eq!(errors(&p), vec![(1, "vat_rate".into())]);
        let p = parse(b"date,grant,project,supplier,invoice_ref,amount\n", &Mapping::generic());
        assert_eq!(errors(&p), vec![(1, "description".into()), (1, "source_ref".into())]);
    }

    /// Amounts as finance systems write them, and everything else still refused: each case
    /// with the layout (`lenient`: transparency and TOML, which also read `£`).
    #[test]
    fn amounts_read_separators_brackets_and_pounds_but_not_nonsense() {
        for (cell, lenient, want) in [
            ("1500", false, Some(150_000)),
            ("1500.5", false, Some(150_050)),
            ("-200", false, Some(-20_000)),
            ("1,250.00", false, Some(125_000)),
            ("1,234,567.89", false, Some(123_456_789)),
            ("(120.00)", false, Some(-12_000)),
            ("(1,250)", false, Some(-125_000)),
            ("£1,234.56", true, Some(123_456)),
            ("-£50", true, Some(-5_000)),
            ("(£1,250.00)", true, Some(-125_000)),
            ("1,25,0.00", false, None),
            ("1,23", false, None),
            (",123", false, None),
            ("1,2345.00", false, None),
            ("1.234,56", false, None),
            ("(120.00", false, None),
            ("120.00)", false, None),
            ("-(120.00)", false, None),
            ("(-120.00)", false, None),
            ("((120))", false, None),
            ("()", false, None),
            ("( 120.00 )", false, None),
            ("+120", false, None),
            ("£1", false, None),
            ("£", true, None),
            ("£-1", true, None),
            ("1.234", false, None),
            ("1e3", false, None),
            ("--1", false, None),
            ("12a", false, None),
        ] {
            let got = parse_amount(cell, lenient).map(Money::pence);
            match want {
                Some(pence) => assert_eq!(got, Ok(pence), "{cell:?} (lenient {lenient})"),
                None => assert!(got.is_err(), "{cell:?} (lenient {lenient}) should be refused, got {got:?}"),
            }
        }
    }

    /// Dates with a midnight time read as the date; any other time, or shape, is refused.
    #[test]
    fn dates_read_a_midnight_time_and_refuse_any_other() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 6).unwrap();
        let pattern = DateFormat::Pattern("%d-%b-%Y".into());
        for (cell, format, want) in [
            ("2024-01-06", &DateFormat::IsoOrUk, Some(day)),
            ("06/01/2024", &DateFormat::IsoOrUk, Some(day)),
            ("2024-01-06 00:00:00", &DateFormat::IsoOrUk, Some(day)),
            ("2024-01-06T00:00:00", &DateFormat::IsoOrUk, Some(day)),
            ("2024-01-06 00:00", &DateFormat::IsoOrUk, Some(day)),
            ("2024-01-06 00:00:00.000", &DateFormat::IsoOrUk, Some(day)),
            ("06/01/2024 00:00:00", &DateFormat::IsoOrUk, Some(day)),
            ("06-Jan-2024", &pattern, Some(day)),
            ("06-Jan-2024 00:00:00", &pattern, Some(day)),
            ("2024-01-06 09:30:00", &DateFormat::IsoOrUk, None),
            ("2024-01-06T00:00:01", &DateFormat::IsoOrUk, None),
            ("2024-01-06 00:00:00.5", &DateFormat::IsoOrUk, None),
            ("2024-01-06 24:00:00", &DateFormat::IsoOrUk, None),
            ("2024-01-06 0:00", &DateFormat::IsoOrUk, None),
            ("2024-01-06  00:00:00", &DateFormat::IsoOrUk, None),
            ("2024-01-06 00:00:00Z", &DateFormat::IsoOrUk, None),
            ("2024-01-06 00:00:00+01:00", &DateFormat::IsoOrUk, None),
            ("2024-01-06T", &DateFormat::IsoOrUk, None),
            (" 00:00:00", &DateFormat::IsoOrUk, None),
            ("2024-13-06 00:00:00", &DateFormat::IsoOrUk, None),
            ("06-01-2024", &DateFormat::IsoOrUk, None),
            ("2024-01-06 00:00:00", &pattern, None),
        ] {
            let got = parse_line_date(cell, format);
            match want {
                Some(d) => assert_eq!(got, Ok(d), "{cell:?}"),
                None => assert!(got.is_err(), "{cell:?} should be refused, got {got:?}"),
            }
        }
        let e = parse_line_date("2024-01-06 09:30:00", &DateFormat::IsoOrUk).unwrap_err();
        assert!(e.contains("time of day, 09:30:00"), "{e}");
    }

    /// Every malformed value is refused naming its line and column, in a whole file.
    #[test]
    fn finance_system_lines_parse_and_malformed_cells_are_named() {
        let p = generic(
            "2024-01-06 00:00:00,LDF,P1,S,D,I,\"1,250.00\",A\n\
             2024-01-06T00:00:00,LDF,P1,S,Credit,I,(120.00),B\n\
             2024-01-06 09:30:00,LDF,P1,S,D,I,1,C\n\
             2024-01-06,LDF,P1,S,D,I,\"1,25,0.00\",D\n\
             2024-01-06,LDF,P1,S,D,I,(120.00,E\n",
        );
        assert_eq!(errors(&p), vec![(4, "date".into()), (5, "amount".into()), (6, "amount".into())]);
        let ImportOp::Spend(s) = &p.lines[0].op else { panic!("{:?}", p.lines[0]) };
        assert_eq!((s.amount.pence(), s.date.to_string().as_str()), (125_000, "2024-01-06"));
        let ImportOp::Refund(r) = &p.lines[1].op else { panic!("a bracketed amount is a credit: {:?}", p.lines[1]) };
        assert_eq!(r.amount.pence(), 12_000);
    }

    #[test]
    fn transparency_lines_map_cost_centres_through_rules() {
        let mut m = Mapping::transparency().with_default_grant(Some("LDF".into()));
        m.rules.push(crate::csv::mapping::Rule {
            cost_centre: Some("CS100".into()),
            expense_code: None,
            project: "P1".into(),
            grant: Some("ASB-EI".into()),
        });
        let file = "Body name,Date,Transaction number,Amount,Supplier name,Expense area,Expense type,Expense code,Extended description\n\
                    Tamworth BC,01/05/2023,T-1,\"£1,500.00\",Youth Trust,CS100,Grants,5001,\n\
                    Tamworth BC,02/05/2023,T-2,600,Cafe,P2,Catering,5002,Lunch\n";
        let p = parse(file.as_bytes(), &m);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let ImportOp::Spend(a) = &p.lines[0].op else { panic!() };
        assert_eq!((a.grant.as_str(), a.project.as_str(), a.description.as_str()), ("ASB-EI", "P1", "Grants"));
        assert_eq!(a.source_ref.as_deref(), Some("T-1"));
        let ImportOp::Spend(b) = &p.lines[1].op else { panic!() };
        assert_eq!((b.grant.as_str(), b.project.as_str()), ("LDF", "P2"), "the cost centre is the project");
    }

    proptest! {
        /// Whatever the bytes, the parser answers with lines or errors, never a panic.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            let p = parse(&bytes, &Mapping::generic());
            prop_assert!(p.lines.is_empty() || p.errors.iter().all(|e| e.line > 1));
            let _ = parse(&bytes, &Mapping::transparency());
        }
    }

    /// What a generated line should parse to: a spend or, for a negative amount, a refund.
    #[derive(Debug, Clone)]
    struct Expected {
        date: NaiveDate,
        grant: String,
        project: String,
        supplier: String,
        description: String,
        invoice_ref: String,
        pence: i64,
        source_ref: Option<String>,
    }

    /// One generated line: its cells as written, and either what it parses to or the one
    /// field it must be refused on.
    #[derive(Debug, Clone)]
    struct GenLine {
        cells: Vec<String>,
        outcome: Result<Expected, &'static str>,
    }

    /// Writes a cell as a spreadsheet would: quoted when it holds a comma, quote or line end.
    fn csv_cell(value: &str) -> String {
        if value.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_owned()
        }
    }

    fn date_cell() -> impl Strategy<Value = (NaiveDate, String)> {
        (0i64..36_500, 0usize..6).prop_map(|(days, form)| {
            let d = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap() + chrono::Duration::days(days);
            let text = match form {
                0 | 1 => d.format("%Y-%m-%d").to_string(),
                2 => d.format("%d/%m/%Y").to_string(),
                3 => d.format("%-d/%-m/%Y").to_string(),
                4 => d.format("%Y-%m-%d 00:00:00").to_string(),
                _ => d.format("%d/%m/%YT00:00:00").to_string(),
            };
            (d, text)
        })
    }

    fn amount_cell() -> impl Strategy<Value = (i64, String)> {
        let pence = prop_oneof![1i64..100_000, 1i64..1_000_000_000, 1i64..=crate::domain::money::AMOUNT_PENCE_MAX];
        (pence, any::<bool>(), 0usize..4).prop_map(|(pence, credit, form)| {
            let plain = Money::from_pence(pence).to_string();
            let (whole, frac) = plain.split_once('.').unwrap();
            let grouped: Vec<String> =
                whole.as_bytes().rchunks(3).rev().map(|g| String::from_utf8(g.to_vec()).unwrap()).collect();
            let body = match form {
                0 => plain.clone(),
                1 => format!("{}.{frac}", grouped.join(",")),
                2 if frac == "00" => whole.to_owned(),
                _ => plain.trim_end_matches('0').trim_end_matches('.').to_owned(),
            };
            let text = match (credit, form % 2) {
                (false, _) => body,
                (true, 0) => format!("-{body}"),
                (true, _) => format!("({body})"),
            };
            (if credit { -pence } else { pence }, text)
        })
    }

    /// Text of one line: letters, digits, spaces and the punctuation suppliers' names carry,
    /// commas and quotes included; never blank and never padded (the parser trims).
    fn text_cell(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!("[A-Za-z0-9][A-Za-z0-9 ,.&'\"£-]{{0,{max}}}"))
            .unwrap()
            .prop_map(|t| t.trim_end().to_owned())
    }

    fn valid_line() -> impl Strategy<Value = GenLine> {
        (
            date_cell(),
            "[A-Z][A-Z0-9_-]{0,8}",
            "[A-Za-z0-9][A-Za-z0-9_-]{0,8}",
            text_cell(20),
            (text_cell(30), any::<bool>()),
            prop_oneof![Just(String::new()), "[A-Z]{2,4}-[0-9]{1,6}"],
            amount_cell(),
            prop_oneof![Just(String::new()), "FIN-[0-9]{1,8}"],
        )
            .prop_map(
                |(
                    (date, date_text),
                    grant,
                    project,
                    supplier,
                    (description, broken),
                    invoice_ref,
                    (pence, amount_text),
                    source_ref,
                )| {
                    // A description may run over two lines, as a quoted cell.
                    let description = if broken { format!("{description}\nsecond line") } else { description };
                    let cells = vec![
                        date_text,
                        grant.clone(),
                        project.clone(),
                        supplier.clone(),
                        description.clone(),
                        invoice_ref.clone(),
                        amount_text,
                        source_ref.clone(),
                    ];
                    let source_ref = Some(source_ref).filter(|s| !s.is_empty());
                    let outcome =
                        Ok(Expected { date, grant, project, supplier, description, invoice_ref, pence, source_ref });
                    GenLine { cells, outcome }
                },
            )
    }

    /// Malformed values of each column, with the field the parser must name.
    const BAD_CELLS: &[(usize, &str, &str)] = &[
        (0, "2023-13-01", "date"),
        (0, "31/02/2023", "date"),
        (0, "2024-01-06 09:30:00", "date"),
        (0, "2024-01-06T00:00:01", "date"),
        (0, "06-01-2024", "date"),
        (0, "", "date"),
        (1, "L D F", "grant"),
        (1, "", "grant"),
        (1, "-LDF", "grant"),
        (2, "P 1", "project"),
        (2, "", "project"),
        (3, "", "supplier"),
        (3, "Bell\u{7}Co", "supplier"),
        (4, "", "description"),
        (4, "bad\rline", "description"),
        (5, "INV\u{1}1", "invoice_ref"),
        (6, "0", "amount"),
        (6, "0.00", "amount"),
        (6, "1,25,0.00", "amount"),
        (6, "(120.00", "amount"),
        (6, "120.00)", "amount"),
        (6, "-(5)", "amount"),
        (6, "1.234", "amount"),
        (6, "1e3", "amount"),
        (6, "£5", "amount"),
        (6, "", "amount"),
        (6, "1000000000.01", "amount"),
        (7, "FIN\u{1b}1", "source_ref"),
    ];

    /// A valid line with one cell made bad, or with a cell missing.
    fn bad_line() -> impl Strategy<Value = GenLine> {
        (valid_line(), 0..BAD_CELLS.len() + 1).prop_map(|(mut l, pick)| {
            match BAD_CELLS.get(pick) {
                Some((column, value, field)) => {
                    l.cells[*column] = (*value).to_owned();
                    l.outcome = Err(field);
                }
                None => {
                    l.cells.pop();
                    l.outcome = Err("line");
                }
            }
            l
        })
    }

    /// A file of mostly valid lines with bad ones and blank lines mixed in, with LF or CRLF
    /// line ends.
    fn generated_file() -> impl Strategy<Value = (Vec<Option<GenLine>>, bool)> {
        let line = prop_oneof![6 => valid_line().prop_map(Some), 2 => bad_line().prop_map(Some), 1 => Just(None)];
        (proptest::collection::vec(line, 1..25), any::<bool>())
    }

    /// A file of generated lines: every valid line parses to exactly its values, every bad
    /// line is reported on its own line number naming the bad column, and nothing else is
    /// reported. The run counts what it exercised and fails if that was too little.
    #[test]
    fn generated_files_parse_every_valid_line_and_name_every_bad_cell() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        const CASES: u32 = 400;
        let (valid, bad) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(CASES));
        runner
            .run(&generated_file(), |(lines, crlf)| {
                let end = if crlf { "\r\n" } else { "\n" };
                let mut text = HEADER.replace('\n', end);
                // (line number, what it should give), counting the header and blank lines.
                let mut want: Vec<(u64, Result<Expected, &str>)> = Vec::new();
                let mut line = 2u64;
                for l in &lines {
                    let Some(l) = l else {
                        text.push_str(end);
                        line += 1;
                        continue;
                    };
                    let row: Vec<String> = l.cells.iter().map(|c| csv_cell(c)).collect();
                    let row = row.join(",");
                    want.push((line, l.outcome.clone()));
                    line += 1 + row.matches('\n').count() as u64;
                    text.push_str(&row);
                    text.push_str(end);
                }
                let p = parse(text.as_bytes(), &Mapping::generic());
                prop_assert!(!p.unreadable, "{:?}\n{text}", p.errors);
                let mut expected_errors = Vec::new();
                for (n, outcome) in &want {
                    let parsed = p.lines.iter().find(|l| l.line == *n);
                    match outcome {
                        Ok(e) => {
                            valid.fetch_add(1, Ordering::Relaxed);
                            let Some(got) = parsed else {
                                return Err(TestCaseError::fail(format!(
                                    "line {n} did not parse: {:?}\n{text}",
                                    p.errors
                                )));
                            };
                            let (date, grant, project, supplier, description, invoice_ref, pence, source_ref) =
                                match &got.op {
                                    ImportOp::Spend(s) => (
                                        s.date,
                                        &s.grant,
                                        &s.project,
                                        &s.supplier,
                                        &s.description,
                                        &s.invoice_ref,
                                        s.amount.pence(),
                                        &s.source_ref,
                                    ),
                                    ImportOp::Refund(r) => (
                                        r.date,
                                        &r.grant,
                                        &r.project,
                                        r.supplier.as_ref().unwrap(),
                                        &r.reason,
                                        &r.reference,
                                        -r.amount.pence(),
                                        &r.source_ref,
                                    ),
                                };
                            prop_assert_eq!(
                                (date, grant, project, supplier, description, invoice_ref, pence, source_ref),
                                (
                                    e.date,
                                    &e.grant,
                                    &e.project,
                                    &e.supplier,
                                    &e.description,
                                    &e.invoice_ref,
                                    e.pence,
                                    &e.source_ref
                                ),
                                "line {}\n{}",
                                n,
                                text
                            );
                            prop_assert_eq!(matches!(got.op, ImportOp::Refund(_)), e.pence < 0, "line {}", n);
                        }
                        Err(field) => {
                            bad.fetch_add(1, Ordering::Relaxed);
                            prop_assert!(parsed.is_none(), "bad line {} parsed\n{}", n, text);
                            expected_errors.push((*n, (*field).to_owned()));
                        }
                    }
                }
                prop_assert_eq!(p.lines.len(), want.iter().filter(|w| w.1.is_ok()).count());
                prop_assert_eq!(errors(&p), expected_errors, "{}", text);
                Ok(())
            })
            .unwrap();
        let (valid, bad) = (valid.into_inner(), bad.into_inner());
        // About two lines in three are valid, over 12 lines a file on average.
        assert!(valid >= CASES as usize * 4, "only {valid} valid lines were parsed in {CASES} files");
        assert!(bad >= CASES as usize, "only {bad} bad lines were checked in {CASES} files");
    }
}
