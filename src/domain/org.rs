//! The shapes of an organisation's identifiers: an org-id.guide identifier, a charity
//! number, a Companies House number and a UK postcode. Shape only: nothing is looked up.
//! Each pattern is also the OpenAPI schema's, so the document and the check cannot drift.

use std::sync::LazyLock;

use regex::Regex;

/// org-id.guide: a registry prefix (a two-letter country or `XI`/`XM` code, a hyphen, a list
/// code of two to six capitals or digits, a hyphen) then the identifier within that list.
pub const ORG_ID_PATTERN: &str = r"^[A-Z]{2}-[A-Z0-9]{2,6}-[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$";
/// England and Wales (six to eight digits, perhaps a `-N` subsidiary), Scotland (`SC` and six
/// digits) or Northern Ireland (`NIC` and six digits, or `NI` and six digits).
pub const CHARITY_NUMBER_PATTERN: &str = r"^(?:[0-9]{6,8}(?:-[0-9]{1,2})?|SC[0-9]{6}|NIC?[0-9]{6})$";
/// Companies House: eight characters, eight digits or two capitals (SC, NI, OC, R0 …) and six digits.
pub const COMPANY_NUMBER_PATTERN: &str = r"^(?:[0-9]{8}|[A-Z]{2}[0-9]{6}|R0[0-9]{6})$";
/// A 360Giving identifier prefix, registered with 360Giving: `360G-` then letters, digits and hyphens.
pub const GIVING_PREFIX_PATTERN: &str = r"^360G-[A-Za-z0-9-]+$";
/// A UK postcode: outward code (area, district) and inward code, with one space or none.
pub const POSTCODE_PATTERN: &str = r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$";

fn matches(pattern: &'static LazyLock<Regex>, text: &str) -> bool {
    pattern.is_match(text)
}

static ORG_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(ORG_ID_PATTERN).expect("a valid pattern"));
static CHARITY: LazyLock<Regex> = LazyLock::new(|| Regex::new(CHARITY_NUMBER_PATTERN).expect("a valid pattern"));
static COMPANY: LazyLock<Regex> = LazyLock::new(|| Regex::new(COMPANY_NUMBER_PATTERN).expect("a valid pattern"));
static GIVING_PREFIX: LazyLock<Regex> = LazyLock::new(|| Regex::new(GIVING_PREFIX_PATTERN).expect("a valid pattern"));
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(POSTCODE_PATTERN).expect("a valid pattern"));

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

/// The org-id.guide identifier a charity number implies: England and Wales `GB-CHC-`,
/// Scotland `GB-SC-` (the number keeps its `SC`), Northern Ireland `GB-NIC-` (digits only).
/// `None` when it is not a charity number's shape.
pub fn charity_org_id(number: &str) -> Option<String> {
    if !is_charity_number(number) {
        return None;
    }
    Some(if number.starts_with("SC") {
        format!("GB-SC-{number}")
    } else if let Some(digits) = number.strip_prefix("NIC").or_else(|| number.strip_prefix("NI")) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_of_the_right_shape_pass_and_others_do_not() {
        for ok in ["GB-CHC-1234567", "GB-COH-01234567", "GB-SC-SC012345", "XI-GRID-grid.1234.5", "GB-LAE-TAW"] {
            assert!(is_org_id(ok), "{ok}");
        }
        for bad in ["GB-CHC-", "GBCHC1234567", "gb-chc-1", "GB-C-1", "GB-CHC-12 34", "GB-TOOLONGX-1", ""] {
            assert!(!is_org_id(bad), "{bad}");
        }
        for ok in ["1234567", "220949", "1123456-1", "SC012345", "NIC100002", "NI100002"] {
            assert!(is_charity_number(ok), "{ok}");
        }
        for bad in ["12345", "123456789", "SC12345", "CHC1234567", "1234567-123", " 1234567"] {
            assert!(!is_charity_number(bad), "{bad}");
        }
        for ok in ["01234567", "SC123456", "NI012345", "OC301234", "R0001234"] {
            assert!(is_company_number(ok), "{ok}");
        }
        for bad in ["1234567", "123456789", "S1234567", "sc123456", "SC12345A"] {
            assert!(!is_company_number(bad), "{bad}");
        }
    }

    #[test]
    fn giving_prefixes_and_charity_org_ids() {
        for ok in ["360G-tamworthcsp", "360G-a-b-1"] {
            assert!(is_giving_prefix(ok), "{ok}");
        }
        for bad in ["360G-", "360g-x", "GB-LAE-TAW", "360G-a b", "360G-a_b", " 360G-a"] {
            assert!(!is_giving_prefix(bad), "{bad}");
        }
        assert_eq!(charity_org_id("1123456").as_deref(), Some("GB-CHC-1123456"));
        assert_eq!(charity_org_id("SC012345").as_deref(), Some("GB-SC-SC012345"));
        assert_eq!(charity_org_id("NIC100002").as_deref(), Some("GB-NIC-100002"));
        assert_eq!(charity_org_id("NI100002").as_deref(), Some("GB-NIC-100002"));
        assert_eq!(charity_org_id("12"), None);
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
    }
}
