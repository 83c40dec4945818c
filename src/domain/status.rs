//! The closed sets of words the ledger stores beside entry and account kinds: statuses, a
//! grant's overspend rule, a token's role, commitment and return kinds. Each is declared with
//! `word_set!` (`domain::words`), which says what follows from the one list.

pub use super::words::UnknownValue;
use super::words::word_set;

word_set!(
    /// A grant's overspend rule: `stop` refuses, `warn` posts and flags.
    OnOverspend, "overspend rule", { Stop => "stop", Warn => "warn" }
);

word_set!(
    /// A project's status: a closed project takes no new money in.
    ProjectStatus, "project status", { Active => "active", Closed => "closed" }
);

word_set!(
    /// A financial year's status: a closed year accepts no entry.
    YearStatus, "financial year status", { Open => "open", Closed => "closed" }
);

word_set!(
    /// Where a virement stands: proposed, decided, or posted without four-eyes.
    VirementStatus, "virement status", {
        Pending => "pending", Approved => "approved", Rejected => "rejected", Posted => "posted",
    }
);

word_set!(
    /// What sort of body a delivery partner is: voluntary, community or social enterprise,
    /// public, or private (the Transparency Code publishes grants to the first).
    OrgKind, "organisation kind", { Vcse => "vcse", Public => "public", Private => "private" }
);

word_set!(
    /// What a token may do (docs/api.md, roles).
    Role, "role", {
        Admin => "admin", Viewer => "viewer", Funder => "funder", Finance => "finance", Approver => "approver",
        Operator => "operator", FunderAdmin => "funder_admin",
    }
);

/// A role a partnership's admin grants, as the token and user bodies' schema states it: the
/// words of `Role::GRANTED_BY_ADMIN`, so a client is told `operator` and `funder_admin` are
/// not its to give.
pub struct GrantedRole;

impl utoipa::PartialSchema for GrantedRole {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(Role::GRANTED_BY_ADMIN.map(Role::as_str)))
            .description(Some(
                "A role a partnership's admin grants: the service makes its operator and each funder's funder_admin.",
            ))
            .into()
    }
}

impl utoipa::ToSchema for GrantedRole {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("GrantedRole")
    }
}

impl Role {
    /// The roles a partnership's admin grants (tokens, users): the service's `operator` is
    /// made from its environment, and a `funder_admin` by the operator, for its funder.
    pub const GRANTED_BY_ADMIN: [Role; 5] = [Role::Admin, Role::Viewer, Role::Funder, Role::Finance, Role::Approver];

    /// Whether the role belongs to a funder, not a partnership: it names its funder.
    pub fn is_funders(self) -> bool {
        matches!(self, Role::Funder | Role::FunderAdmin)
    }
}

word_set!(
    /// An officer's rating of a project's progress, given with a forecast: worst is red.
    ProgressRag, "progress RAG", { Red => "red", Amber => "amber", Green => "green" }
);

impl ProgressRag {
    /// The worse of two ratings (red, then amber, then green): a subtotal shows its worst.
    pub fn worse(self, other: ProgressRag) -> ProgressRag {
        let rank = |r: ProgressRag| match r {
            ProgressRag::Red => 2,
            ProgressRag::Amber => 1,
            ProgressRag::Green => 0,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_round_trips_and_an_unknown_one_is_refused() {
        for s in ProjectStatus::ALL {
            assert_eq!(ProjectStatus::try_from(s.as_str().to_owned()), Ok(s));
        }
        for r in Role::ALL {
            assert_eq!(serde_json::to_value(r).unwrap(), serde_json::json!(r.as_str()));
        }
        let err = OnOverspend::try_from("sideways".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), "\"sideways\" is not a known overspend rule");
        assert!(VirementStatus::try_from("Pending".to_owned()).is_err(), "words are case-sensitive");
        assert!(YearStatus::try_from(String::new()).is_err());
    }

    #[test]
    fn the_worse_progress_rating_wins() {
        use ProgressRag::*;
        for (a, b, worse) in [(Green, Amber, Amber), (Red, Green, Red), (Amber, Red, Red), (Green, Green, Green)] {
            assert_eq!(a.worse(b), worse, "{a} and {b}");
            assert_eq!(b.worse(a), worse, "{b} and {a}");
        }
        assert!(ProgressRag::try_from("Red".to_owned()).is_err(), "words are case-sensitive");
    }
}

word_set!(
    /// What a filed return is: the Commissioner's quarterly return, or the monitoring return.
    ReturnKind, "return kind", {
        CommissionerReturn => "commissioner-return", MonitoringReturn => "monitoring-return",
    }
);

word_set!(
    /// What a commitment is: a purchase order from a supplier, or a grant agreement with a
    /// delivery partner, which may run across financial years (docs/agreements.md).
    CommitmentKind, "commitment kind", { PurchaseOrder => "purchase_order", GrantAgreement => "grant_agreement" }
);

word_set!(
    /// What a partner's evidence of spend showed: all it claims, some of it, or nothing.
    EvidenceStatus, "evidence status", { Satisfactory => "satisfactory", Partial => "partial", None => "none" }
);
