//! An organisation's identifiers: an org-id.guide identifier (its prefix a list of the
//! register, in that list's form where the ledger knows it), a charity number, a Companies
//! House number, a UK postcode, and an area as an ONS code with its 360Giving code type.
//! Nothing is looked up over a network: the org-id.guide register and the 360Giving codelist
//! of area types are compiled in from `standards/360giving/` (its README gives their sources).
//! Each pattern is also the OpenAPI schema's, so the document and the check cannot drift.

use std::sync::LazyLock;

use regex::Regex;

/// An org-id.guide identifier's shape, whatever its list: a list's code (a country code,
/// perhaps a subdivision `_XX`, a hyphen, the list's capitals, digits or `_`, perhaps one more
/// such part as in `CN-11-CR`), a hyphen, then the identifier within that list.
const ORG_ID_SHAPE: &str = r"^[A-Z]{2}(?:_[A-Z]{2})?-[A-Z0-9_]+(?:-[A-Z0-9_]+)?-[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$";
/// An identifier within a list whose form the ledger does not know.
const ANY_ID: &str = "[A-Za-z0-9][A-Za-z0-9._/-]{0,63}";
/// The charity numbers of England and Wales: six to eight digits, perhaps a `-N` subsidiary.
macro_rules! chc_number {
    () => {
        "[0-9]{6,8}(?:-[1-9][0-9]?)?"
    };
}
/// Companies House: eight characters, eight digits or two capitals (SC, NI, OC, R0 …) and six digits.
macro_rules! company_number {
    () => {
        "(?:[0-9]{8}|[A-Z]{2}[0-9]{6}|R0[0-9]{6})"
    };
}
/// The lists whose registers' forms the ledger knows: the list's code, the form of an id in
/// it, and that form in words.
const LIST_FORMS: [(&str, &str, &str); 4] = [
    (
        "GB-CHC",
        chc_number!(),
        "the charity number, six to eight digits, perhaps -N: GB-CHC-1123456 or GB-CHC-1099999-2",
    ),
    ("GB-SC", "SC[0-9]{6}", "the Scottish charity number with its SC: GB-SC-SC012345"),
    ("GB-NIC", "[0-9]{6}", "the Northern Irish charity number's six digits, without NIC: GB-NIC-100002"),
    ("GB-COH", company_number!(), "the eight-character company number: GB-COH-01234567 or GB-COH-SC123456"),
];

/// Every org-id the ledger takes, as one pattern, which the OpenAPI document states too: the
/// code of a list of the org-id.guide register that is not deprecated, a hyphen, then the id,
/// in the list's form where the ledger knows it. Built from the register, whose codes never
/// begin with another code and a hyphen (a test holds it to that), so an id names one list.
pub static ORG_ID_PATTERN: LazyLock<String> = LazyLock::new(|| {
    let known = LIST_FORMS.iter().map(|(list, form, _)| format!("{list}-{form}"));
    let others: Vec<&str> = REGISTER
        .iter()
        .filter(|(code, deprecated)| !deprecated && !LIST_FORMS.iter().any(|(list, _, _)| list == code))
        .map(|(code, _)| code.as_str())
        .collect();
    let mut alternatives: Vec<String> = known.collect();
    alternatives.push(format!("(?:{})-{ANY_ID}", others.join("|")));
    format!("^(?:{})$", alternatives.join("|"))
});
/// The registers' own forms: England and Wales (six to eight digits, perhaps a `-N`
/// subsidiary number), Scotland (`SC` and six digits), Northern Ireland (`NIC` and six digits).
pub const CHARITY_NUMBER_PATTERN: &str = concat!("^(?:", chc_number!(), "|SC[0-9]{6}|NIC[0-9]{6})$");
/// A Companies House number.
pub const COMPANY_NUMBER_PATTERN: &str = concat!("^", company_number!(), "$");
/// A 360Giving identifier prefix, registered with 360Giving: `360G-` then letters, digits and hyphens.
pub const GIVING_PREFIX_PATTERN: &str = r"^360G-[A-Za-z0-9-]+$";
/// A UK postcode: outward code (area, district) and inward code, with one space or none.
pub const POSTCODE_PATTERN: &str = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$";
/// An ONS (GSS) area code: the country's letter, the entity's two digits, six more digits.
pub const AREA_CODE_PATTERN: &str = r"^[EKNSW][0-9]{8}$";

fn matches(pattern: &'static LazyLock<Regex>, text: &str) -> bool {
    pattern.is_match(text)
}

static ORG_ID_SHAPED: LazyLock<Regex> = LazyLock::new(|| Regex::new(ORG_ID_SHAPE).expect("a valid pattern"));
static ORG_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(&ORG_ID_PATTERN).expect("a valid pattern"));
static CHARITY: LazyLock<Regex> = LazyLock::new(|| Regex::new(CHARITY_NUMBER_PATTERN).expect("a valid pattern"));
static COMPANY: LazyLock<Regex> = LazyLock::new(|| Regex::new(COMPANY_NUMBER_PATTERN).expect("a valid pattern"));
static GIVING_PREFIX: LazyLock<Regex> = LazyLock::new(|| Regex::new(GIVING_PREFIX_PATTERN).expect("a valid pattern"));
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(POSTCODE_PATTERN).expect("a valid pattern"));
static AREA_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(AREA_CODE_PATTERN).expect("a valid pattern"));

/// The org-id.guide register's lists: (code, deprecated), longest code first, so the first
/// whose code begins an identifier is the list it names.
static REGISTER: LazyLock<Vec<(String, bool)>> = LazyLock::new(|| {
    let text = include_str!("../../standards/360giving/org-id-lists.csv");
    let mut lists: Vec<(String, bool)> = csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.expect("the vendored register is CSV");
            (r[0].to_owned(), &r[3] == "True")
        })
        .collect();
    lists.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    lists
});

/// Why `text` cannot be an organisation's org-id.guide identifier, or `None` when it can:
/// `ORG_ID_PATTERN` decides; the reason says which part fails: the shape, no list of the
/// register, a deprecated list (it takes no new identifiers; its successor does), or not the
/// form of a list the ledger knows (`GB-CHC`, `GB-SC`, `GB-NIC`, `GB-COH`).
pub fn org_id_refusal(text: &str) -> Option<String> {
    if matches(&ORG_ID, text) {
        return None;
    }
    if !matches(&ORG_ID_SHAPED, text) {
        return Some(
            "must be an org-id.guide identifier: a list's code, a hyphen, then the id in that list, e.g. \
             GB-CHC-1123456"
                .into(),
        );
    }
    let Some((list, deprecated)) =
        REGISTER.iter().find(|(code, _)| text.len() > code.len() + 1 && text.starts_with(&format!("{code}-")))
    else {
        return Some(format!(
            "{text} begins with no list of the org-id.guide register; use a list's code, e.g. GB-CHC (charities in \
             England and Wales), GB-SC, GB-NIC, GB-COH (companies), GB-LAE (English local authorities) or GB-MPR"
        ));
    };
    if *deprecated {
        return Some(format!(
            "{list} is deprecated in the org-id.guide register and takes no new identifiers; use the list that \
             replaced it"
        ));
    }
    Some(match LIST_FORMS.iter().find(|(known, _, _)| known == list) {
        Some((_, _, form)) => format!("a {list} identifier is {form}"),
        None => format!("the id after {list}- must be letters, digits, '.', '_', '/' or '-', at most 64"),
    })
}

pub fn is_org_id(text: &str) -> bool {
    matches(&ORG_ID, text)
}

pub fn is_charity_number(text: &str) -> bool {
    matches(&CHARITY, text)
}

pub fn is_company_number(text: &str) -> bool {
    matches(&COMPANY, text)
}

pub fn is_giving_prefix(text: &str) -> bool {
    matches(&GIVING_PREFIX, text)
}

/// The org-id.guide identifier a charity number implies: England and Wales `GB-CHC-` (a
/// subsidiary keeps its `-N`), Scotland `GB-SC-` (the number keeps its `SC`), Northern Ireland
/// `GB-NIC-` (the digits, without `NIC`). `None` when it is not a charity number's form.
pub fn charity_org_id(number: &str) -> Option<String> {
    if !is_charity_number(number) {
        return None;
    }
    Some(if number.starts_with("SC") {
        format!("GB-SC-{number}")
    } else if let Some(digits) = number.strip_prefix("NIC") {
        format!("GB-NIC-{digits}")
    } else {
        format!("GB-CHC-{number}")
    })
}

/// The postcode written as the Royal Mail writes it (capitals, one space before the
/// inward code), or `None` when it is not the shape of a UK postcode.
pub fn postcode(text: &str) -> Option<String> {
    if !matches(&POSTCODE, text) {
        return None;
    }
    let compact: String = text.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
    let (outward, inward) = compact.split_at(compact.len() - 3);
    Some(format!("{outward} {inward}"))
}

/// The ISO 3166 country a UK-shaped postcode lies in: the Channel Islands and the Isle of Man
/// have their own codes; every other postcode area is the United Kingdom's, `GB`.
pub fn postcode_country(postcode: &str) -> &'static str {
    let area: String = postcode.chars().take_while(char::is_ascii_alphabetic).collect::<String>().to_ascii_uppercase();
    match area.as_str() {
        "JE" => "JE",
        "GY" => "GG",
        "IM" => "IM",
        _ => "GB",
    }
}

/// The 360Giving codelist of geographic code types: (ONS entity, e.g. `E07`; the type's code,
/// e.g. `NMD`), read from each row's documentation address, which ends with its entity.
static AREA_TYPES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let text = include_str!("../../standards/360giving/geoCodeType.csv");
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.expect("the vendored codelist is CSV");
            let entity = r[3].rsplit('/').next().unwrap_or_default().to_owned();
            (entity, r[0].to_owned())
        })
        .collect()
});

/// Whether `code` has an ONS area code's shape (`AREA_CODE_PATTERN`), e.g. `E07000199`.
pub fn is_area_code(code: &str) -> bool {
    matches(&AREA_CODE, code)
}

/// The 360Giving `geoCodeType` of an ONS area code, e.g. `NMD` for `E07000199` (Tamworth, a
/// non-metropolitan district), or why it cannot be published: not an ONS code's shape, or of
/// an entity the standard's codelist does not name.
pub fn area_type(code: &str) -> Result<&'static str, String> {
    if !is_area_code(code) {
        return Err("must be an ONS area code: a letter (E, W, S, N or K) and eight digits, e.g. E07000199".into());
    }
    let entity = &code[..3];
    AREA_TYPES.iter().find(|(e, _)| e == entity).map(|(_, t)| t.as_str()).ok_or_else(|| {
        format!(
            "{code} is of ONS entity {entity}, which 360Giving's codelist of geographic code types does not name; \
             use the code of an area of a type it names, e.g. a district (E07), a unitary authority (E06) or a \
             community safety partnership (E22)"
        )
    })
}

/// A web address: `http` or `https`, a host, perhaps a port, then a path of printable ASCII
/// (no space, no control). Also the OpenAPI schema's.
pub const WEB_ADDRESS_PATTERN: &str = r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[!-~]*)?$";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_name_a_current_list_of_the_register_in_its_form() {
        for ok in [
            "GB-CHC-1234567",
            "GB-CHC-220949",
            "GB-CHC-1099999-2",
            "GB-COH-01234567",
            "GB-COH-SC123456",
            "GB-SC-SC012345",
            "GB-NIC-100002",
            "GB-LAE-TAW",
            "GB-MPR-12345R",
            "GB-SCOTEDU-5500001",
            "XI-ROR-02wnqcb97",
            "XI-WIKIDATA-Q42",
            "CA_AB-ABT-1",
            "CN-11-CR-110000",
        ] {
            assert_eq!(org_id_refusal(ok), None, "{ok}");
            assert!(is_org_id(ok), "{ok}");
        }
        let refused = |text: &str, why: &str| {
            let got = org_id_refusal(text).unwrap_or_else(|| panic!("{text} was accepted"));
            assert!(got.contains(why), "{text}: {got}");
        };
        for bad in ["GB-CHC-", "GBCHC1234567", "gb-chc-1", "GB-CHC-12 34", "", "GB-CHC-1\n"] {
            refused(bad, "must be an org-id.guide identifier");
        }
        for unknown in ["ZZ-NOPE-1", "GB-CHARITY-1123456", "GB-C-1", "XX-LAE-TAW", "GB-TOOLONGX-1"] {
            refused(unknown, "begins with no list of the org-id.guide register");
        }
        refused("GB-GOVUK-D1", "GB-GOVUK is deprecated");
        refused("XI-GRID-grid.1234.5", "XI-GRID is deprecated");
        for (text, list) in [
            ("GB-CHC-SC012345", "GB-CHC"),
            ("GB-CHC-12345", "GB-CHC"),
            ("GB-CHC-1099999-02", "GB-CHC"),
            ("GB-SC-012345", "GB-SC"),
            ("GB-NIC-NIC100002", "GB-NIC"),
            ("GB-NIC-1000020", "GB-NIC"),
            ("GB-COH-1234567", "GB-COH"),
        ] {
            refused(text, &format!("a {list} identifier is"));
        }
    }

    /// Every list of the register makes an identifier of the shape; no list's code and a
    /// hyphen begin another's, so the one pattern reads an id as the one list it names; and
    /// the pattern takes exactly what `org_id_refusal` gives no reason to refuse.
    #[test]
    fn the_pattern_is_the_register_and_agrees_with_the_reasons() {
        assert!(REGISTER.len() > 800, "the vendored register: {} lists", REGISTER.len());
        for (code, deprecated) in REGISTER.iter() {
            assert!(matches(&ORG_ID_SHAPED, &format!("{code}-1")), "{code}");
            for (other, _) in REGISTER.iter() {
                assert!(!other.starts_with(&format!("{code}-")), "{code} begins {other}");
            }
            let plain = format!("{code}-X1");
            let form_known = LIST_FORMS.iter().any(|(list, _, _)| list == code);
            assert_eq!(is_org_id(&plain), !deprecated && !form_known, "{plain}");
            assert_eq!(org_id_refusal(&plain).is_none(), is_org_id(&plain), "{plain}");
        }
        for text in
            ["GB-CHC-1123456", "GB-CHC-SC012345", "GB-NIC-100002", "GB-COH-SC123456", "ZZ-NOPE-1", "GB-LAE-", ""]
        {
            assert_eq!(org_id_refusal(text).is_none(), is_org_id(text), "{text}");
        }
        assert!(ORG_ID_PATTERN.contains("GB-LAE") && !ORG_ID_PATTERN.contains("GB-GOVUK"));
    }

    /// The registers' forms, each number with the org-id it implies; and numbers of no register.
    #[test]
    fn charity_numbers_take_the_registers_forms() {
        for (number, org_id) in [
            ("1123456", "GB-CHC-1123456"),
            ("220949", "GB-CHC-220949"),
            ("12345678", "GB-CHC-12345678"),
            ("1099999-2", "GB-CHC-1099999-2"),
            ("1099999-12", "GB-CHC-1099999-12"),
            ("SC012345", "GB-SC-SC012345"),
            ("NIC100002", "GB-NIC-100002"),
            // Six bare digits are the older numbers of England and Wales, not Northern Ireland's.
            ("100002", "GB-CHC-100002"),
        ] {
            assert!(is_charity_number(number), "{number}");
            assert_eq!(charity_org_id(number).as_deref(), Some(org_id), "{number}");
            assert!(is_org_id(org_id), "{org_id}");
        }
        for bad in [
            "12345",
            "123456789",
            "1099999-",
            "1099999-0",
            "1099999-123",
            "SC12345",
            "SC0123456",
            "sc012345",
            "NIC10002",
            "NIC1000020",
            "NI100002",
            "CHC1234567",
            "GB-CHC-1123456",
            " 1234567",
            "1234567 ",
            "",
        ] {
            assert!(!is_charity_number(bad), "{bad}");
            assert_eq!(charity_org_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn company_numbers_and_giving_prefixes() {
        for ok in ["01234567", "SC123456", "NI012345", "OC301234", "R0001234"] {
            assert!(is_company_number(ok), "{ok}");
        }
        for bad in ["1234567", "123456789", "S1234567", "sc123456", "SC12345A"] {
            assert!(!is_company_number(bad), "{bad}");
        }
        for ok in ["360G-tamworthcsp", "360G-a-b-1"] {
            assert!(is_giving_prefix(ok), "{ok}");
        }
        for bad in ["360G-", "360g-x", "GB-LAE-TAW", "360G-a b", "360G-a_b", " 360G-a"] {
            assert!(!is_giving_prefix(bad), "{bad}");
        }
    }

    #[test]
    fn postcodes_are_checked_for_shape_and_written_the_royal_mail_way() {
        assert_eq!(postcode("b79 7bz").as_deref(), Some("B79 7BZ"));
        assert_eq!(postcode("SW1A1AA").as_deref(), Some("SW1A 1AA"));
        assert_eq!(postcode("M1 1AE").as_deref(), Some("M1 1AE"));
        assert_eq!(postcode("EC1A 1BB").as_deref(), Some("EC1A 1BB"));
        for bad in ["B79", "1B7 7BZ", "B79  7BZ", "B79 7B", "B79 77Z", "BBB9 7BZ", ""] {
            assert_eq!(postcode(bad), None, "{bad}");
        }
        for (code, country) in
            [("B79 7BZ", "GB"), ("BT1 5GS", "GB"), ("JE2 3AB", "JE"), ("GY1 1AA", "GG"), ("IM1 1AA", "IM")]
        {
            assert_eq!(postcode_country(code), country, "{code}");
        }
    }

    #[test]
    fn an_area_code_has_the_type_the_codelist_gives_its_entity() {
        for (code, kind) in [("E07000199", "NMD"), ("E22000123", "CSP"), ("E06000001", "UA"), ("S01000001", "DZ")] {
            assert_eq!(area_type(code), Ok(kind), "{code}");
        }
        for bad in ["E0700019", "E070001999", "e07000199", "X07000199", "Tamworth", ""] {
            assert!(area_type(bad).unwrap_err().starts_with("must be an ONS area code"), "{bad}");
        }
        assert_eq!(area_type("W06000015"), Ok("UA"), "Cardiff");
        let why = area_type("E92000001").unwrap_err();
        assert!(why.contains("entity E92") && why.contains("does not name"), "{why}");
    }
}
