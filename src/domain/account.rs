//! Account names, spelt as docs/design.md spells them: `spent:LDF:2023-24:P1`.

use std::fmt;

use super::words::word_set;
use super::year::FinancialYear;

word_set!(
    /// The stage of money an account holds: the first part of an account's name.
    AccountKind, "account kind", {
        Awarded => "awarded",
        Unallocated => "unallocated",
        Available => "available",
        Committed => "committed",
        Spent => "spent",
        Returned => "returned",
        Carried => "carried",
        /// The funder's money in hand for the award: receipts in, repayments out (debit).
        Cash => "cash",
        /// What the funder has paid against the award (credit).
        Received => "received",
        /// Returned money the funder is owed until it is repaid (credit).
        Owed => "owed",
        /// The funder's claim on the award's returned money, raised by the year end (debit).
        Claimed => "claimed",
    }
);

impl AccountKind {
    /// `'spent:%'`: an SQL `like` pattern matching every account of this kind.
    pub fn sql_like(self) -> String {
        format!("'{}:%'", self.as_str())
    }

    /// Whether `account`, an account's name, names an account of this kind.
    pub fn names(self, account: &str) -> bool {
        account.split(':').next() == Some(self.as_str())
    }

    /// Project accounts carry a project code; award accounts do not.
    pub fn is_per_project(self) -> bool {
        use AccountKind::*;
        match self {
            Available | Committed | Spent => true,
            Awarded | Unallocated | Returned | Carried | Cash | Received | Owed | Claimed => false,
        }
    }

    /// Debit-normal accounts hold their signed balance; every other holds it negated.
    pub fn is_debit_normal(self) -> bool {
        use AccountKind::*;
        match self {
            Awarded | Cash | Claimed => true,
            Unallocated | Available | Committed | Spent | Returned | Carried | Received | Owed => false,
        }
    }

    /// The cash side: what the funder paid and is owed, beside the budgetary accounts.
    pub fn is_cash_side(self) -> bool {
        use AccountKind::*;
        match self {
            Cash | Received | Owed | Claimed => true,
            Awarded | Unallocated | Available | Committed | Spent | Returned | Carried => false,
        }
    }
}

/// One account of one award, or of one project within an award.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Account {
    pub kind: AccountKind,
    pub grant: String,
    pub year: FinancialYear,
    pub project: Option<String>,
}

impl Account {
    pub fn award(kind: AccountKind, grant: &str, year: FinancialYear) -> Account {
        debug_assert!(!kind.is_per_project());
        Account { kind, grant: grant.to_owned(), year, project: None }
    }

    pub fn project(kind: AccountKind, grant: &str, year: FinancialYear, project: &str) -> Account {
        debug_assert!(kind.is_per_project());
        Account { kind, grant: grant.to_owned(), year, project: Some(project.to_owned()) }
    }

    pub fn parse(name: &str) -> Option<Account> {
        let mut parts = name.split(':');
        let kind = AccountKind::parse(parts.next()?)?;
        let grant = parts.next().filter(|g| is_valid_code(g))?.to_owned();
        let year = FinancialYear::parse(parts.next()?).ok()?;
        let project = parts.next().map(str::to_owned);
        if parts.next().is_some() || kind.is_per_project() != project.is_some() {
            return None;
        }
        if project.as_deref().is_some_and(|p| !is_valid_code(p)) {
            return None;
        }
        Some(Account { kind, grant, year, project })
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.kind.as_str(), self.grant, self.year)?;
        if let Some(p) = &self.project {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// The longest code accepted for a funder, grant, priority or project.
pub const CODE_LEN_MAX: usize = 32;

/// Codes become parts of account names, so they hold only letters, digits, `-` and `_`,
/// and start with a letter or digit.
pub fn is_valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= CODE_LEN_MAX
        && code.as_bytes()[0].is_ascii_alphanumeric()
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let fy = FinancialYear::parse("2023-24").unwrap();
        let a = Account::project(AccountKind::Spent, "LDF", fy, "P1");
        assert_eq!(a.to_string(), "spent:LDF:2023-24:P1");
        assert_eq!(Account::parse("spent:LDF:2023-24:P1"), Some(a));
        let u = Account::award(AccountKind::Unallocated, "ASB-EI", fy);
        assert_eq!(u.to_string(), "unallocated:ASB-EI:2023-24");
        assert_eq!(Account::parse(&u.to_string()), Some(u));
    }

    #[test]
    fn refuses_malformed_names() {
        for bad in [
            "spent:LDF:2023-24",
            "unallocated:LDF:2023-24:P1",
            "wasted:LDF:2023-24",
            "spent:LDF:2023-25:P1",
            "spent:L:DF:2023-24:P1",
            "spent::2023-24:P1",
            "spent:LDF:2023-24:P 1",
        ] {
            assert_eq!(Account::parse(bad), None, "{bad:?} should be refused");
        }
    }

    #[test]
    fn codes() {
        assert!(is_valid_code("ASB-EI"));
        assert!(is_valid_code("P_1"));
        assert!(!is_valid_code("-P1"));
        assert!(!is_valid_code("P:1"));
        assert!(!is_valid_code(""));
        assert!(!is_valid_code(&"X".repeat(33)));
    }
}
