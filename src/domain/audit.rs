//! The words of an audit record: what kind of record changed (`AuditEntity`) and what was done
//! to it (`AuditAction`). Each record's hash covers its words, so a word, once stored, is
//! never respelt: the test below lists every word as stored.

use super::words::word_set;

word_set!(
    /// What kind of record an audit record is about.
    AuditEntity, "audited entity", {
        Funder => "funder",
        Priority => "priority",
        Grant => "grant",
        Award => "award",
        Project => "project",
        Organisation => "organisation",
        FinancialYear => "financial_year",
        Quarter => "quarter",
        Setting => "setting",
        Token => "token",
        Session => "session",
        User => "user",
        PaymentSchedule => "payment_schedule",
        SpendProfile => "spend_profile",
        Indicator => "indicator",
        IndicatorReturn => "indicator_return",
        IndicatorReturnWithdrawal => "indicator_return_withdrawal",
        Forecast => "forecast",
        ForecastWithdrawal => "forecast_withdrawal",
        Virement => "virement",
        AgreementEvidence => "agreement_evidence",
        EvidenceReversal => "evidence_reversal",
        Return => "return",
        Import => "import",
        Ledger => "ledger",
        Partnership => "partnership",
        /// A funder's fund of a grant for a year.
        Fund => "fund",
        /// One partnership's share of a fund.
        FundShare => "fund_share",
        /// Money moved between two partnerships' shares of a fund.
        Reallocation => "reallocation",
        /// A payment the funder records making to a partnership.
        FunderPayment => "funder_payment",
    }
);

word_set!(
    /// What an audit record says was done.
    AuditAction, "audited action", {
        Create => "create",
        Update => "update",
        Approve => "approve",
        Reject => "reject",
        Revoke => "revoke",
        Close => "close",
        Reopen => "reopen",
        Lock => "lock",
        Unlock => "unlock",
        Reverse => "reverse",
        File => "file",
        SignIn => "sign_in",
        Disable => "disable",
        ResetPassword => "reset_password",
        ChangePassword => "change_password",
        Baseline => "baseline",
        Upgrade => "upgrade",
        Confirm => "confirm",
    }
);

impl AuditEntity {
    /// Whether only admin reads its records: tokens, and the sign-ins made with them
    /// (docs/api.md, roles). Every entity is named, so a new one must be placed.
    pub fn admin_only(self) -> bool {
        use AuditEntity::*;
        match self {
            Token | Session => true,
            Funder
            | Priority
            | Grant
            | Award
            | Project
            | Organisation
            | FinancialYear
            | Quarter
            | Setting
            | User
            | PaymentSchedule
            | SpendProfile
            | Indicator
            | IndicatorReturn
            | IndicatorReturnWithdrawal
            | Forecast
            | ForecastWithdrawal
            | Virement
            | AgreementEvidence
            | EvidenceReversal
            | Return
            | Import
            | Ledger
            | Partnership
            | Fund
            | FundShare
            | Reallocation
            | FunderPayment => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words as stored in audit records already written: respelling one would break the
    /// hash of every record holding it, so this list changes only by adding.
    #[test]
    fn every_word_is_spelt_as_stored() {
        let entities: Vec<(AuditEntity, &str)> = vec![
            (AuditEntity::Funder, "funder"),
            (AuditEntity::Priority, "priority"),
            (AuditEntity::Grant, "grant"),
            (AuditEntity::Award, "award"),
            (AuditEntity::Project, "project"),
            (AuditEntity::Organisation, "organisation"),
            (AuditEntity::FinancialYear, "financial_year"),
            (AuditEntity::Quarter, "quarter"),
            (AuditEntity::Setting, "setting"),
            (AuditEntity::Token, "token"),
            (AuditEntity::Session, "session"),
            (AuditEntity::User, "user"),
            (AuditEntity::PaymentSchedule, "payment_schedule"),
            (AuditEntity::SpendProfile, "spend_profile"),
            (AuditEntity::Indicator, "indicator"),
            (AuditEntity::IndicatorReturn, "indicator_return"),
            (AuditEntity::IndicatorReturnWithdrawal, "indicator_return_withdrawal"),
            (AuditEntity::Forecast, "forecast"),
            (AuditEntity::ForecastWithdrawal, "forecast_withdrawal"),
            (AuditEntity::Virement, "virement"),
            (AuditEntity::AgreementEvidence, "agreement_evidence"),
            (AuditEntity::EvidenceReversal, "evidence_reversal"),
            (AuditEntity::Return, "return"),
            (AuditEntity::Import, "import"),
            (AuditEntity::Ledger, "ledger"),
            (AuditEntity::Partnership, "partnership"),
            (AuditEntity::Fund, "fund"),
            (AuditEntity::FundShare, "fund_share"),
            (AuditEntity::Reallocation, "reallocation"),
            (AuditEntity::FunderPayment, "funder_payment"),
        ];
        assert_eq!(entities.len(), AuditEntity::ALL.len(), "an entity is missing from this list");
        for (entity, word) in entities {
            assert_eq!(entity.as_str(), word);
            assert_eq!(serde_json::to_value(entity).unwrap(), serde_json::json!(word));
            assert_eq!(AuditEntity::parse(word), Some(entity));
        }
        let actions: Vec<(AuditAction, &str)> = vec![
            (AuditAction::Create, "create"),
            (AuditAction::Update, "update"),
            (AuditAction::Approve, "approve"),
            (AuditAction::Reject, "reject"),
            (AuditAction::Revoke, "revoke"),
            (AuditAction::Close, "close"),
            (AuditAction::Reopen, "reopen"),
            (AuditAction::Lock, "lock"),
            (AuditAction::Unlock, "unlock"),
            (AuditAction::Reverse, "reverse"),
            (AuditAction::File, "file"),
            (AuditAction::SignIn, "sign_in"),
            (AuditAction::Disable, "disable"),
            (AuditAction::ResetPassword, "reset_password"),
            (AuditAction::ChangePassword, "change_password"),
            (AuditAction::Baseline, "baseline"),
            (AuditAction::Upgrade, "upgrade"),
            (AuditAction::Confirm, "confirm"),
        ];
        assert_eq!(actions.len(), AuditAction::ALL.len(), "an action is missing from this list");
        for (action, word) in actions {
            assert_eq!(action.as_str(), word);
            assert_eq!(AuditAction::parse(word), Some(action));
        }
        assert_eq!(AuditEntity::Return.sql(), "'return'");
    }

    #[test]
    fn only_tokens_and_sign_ins_are_admin_only() {
        let admin: Vec<AuditEntity> = AuditEntity::ALL.into_iter().filter(|e| e.admin_only()).collect();
        assert_eq!(admin, [AuditEntity::Token, AuditEntity::Session]);
    }
}
