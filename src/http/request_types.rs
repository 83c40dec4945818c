//! Every request type, held to its own schema (`model::fields::agrees`): the struct a route
//! documents is the struct it parses, field for field. A request type left off this list is
//! caught by `every_request_type_is_listed`.

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use crate::model::fields::agrees;

    /// Each type's schema against its reader, every failure named.
    macro_rules! check {
        ($($ty:ty),* $(,)?) => {{
            let mut failures = Vec::new();
            let mut count = 0;
            $(
                count += 1;
                if let Err(e) = agrees::<$ty>(&<$ty as PartialSchema>::schema()) {
                    failures.push(format!("{}: {e}", stringify!($ty)));
                }
            )*
            (count, failures)
        }};
    }

    fn listed() -> (usize, Vec<String>) {
        let (count, mut failures) = check!(
            crate::model::postings::AllocationCmd,
            crate::model::postings::VirementCmd,
            crate::model::postings::PurchaseOrderCmd,
            crate::model::postings::GrantAgreementCmd,
            crate::model::postings::ReleaseCmd,
            crate::model::postings::ReverseCmd,
            crate::model::postings::SpendCmd,
            crate::model::postings::RefundCmd,
            crate::model::agreements::AgreementPart,
            crate::model::agreements::PartCommitCmd,
            crate::model::agreements::EvidenceCmd,
            crate::model::agreements::EvidenceReverseCmd,
            crate::model::imports::ReverseImportCmd,
            crate::model::controls::RejectVirementCmd,
            crate::model::controls::CloseYearCmd,
            crate::model::controls::ReopenYearCmd,
            crate::model::controls::YearEndCmd,
            crate::model::controls::SettingsPatch,
            crate::model::quarters::QuarterLockCmd,
            crate::model::tokens::TokenCmd,
            crate::model::returns::FileReturnCmd,
            crate::model::reports::SpendProfileCmd,
            // reference data
            crate::model::reference::NewYear,
            crate::model::reference::NewFunder,
            crate::model::reference::NewPriority,
            crate::model::reference::NewGrant,
            crate::model::reference::NewAward,
            crate::model::reference::NewProject,
            crate::model::reference::ProjectPatch,
            crate::model::reference::NewOrganisation,
            crate::model::reference::OrganisationPatch,
            // the service's registry
            crate::model::partnerships::NewPartnership,
            crate::model::partnerships::NewAdmin,
            // cash
            crate::model::cash::NewInstalment,
            crate::model::cash::CashCmd,
            // funds
            crate::model::funds::FundCmd,
            crate::model::funds::ShareItem,
            crate::model::funds::ReallocationCmd,
            crate::model::funds::PaymentCmd,
            // monitoring
            crate::model::monitoring::ForecastCmd,
            crate::model::monitoring::WithdrawCmd,
            crate::model::monitoring::IndicatorCmd,
            crate::model::monitoring::IndicatorReturnCmd,
            // the pages' forms
            crate::http::pages::SignInFormFields,
            crate::http::pages::SignOutFields,
            crate::model::users::NewUserCmd,
            crate::http::pages::account::PasswordFields,
            crate::http::pages::account::ResetFields,
            crate::http::pages::schedule_pages::ScheduleForm,
        );
        // A commitment is one of two forms, chosen by `kind`.
        use crate::model::postings::{CommitmentRequest, GrantAgreementCmd, PurchaseOrderCmd};
        let forms = [
            (PurchaseOrderCmd::schema(), serde_json::json!({})),
            (GrantAgreementCmd::schema(), serde_json::json!({ "kind": "grant_agreement" })),
        ];
        if let Err(e) = crate::model::fields::agrees_in_forms::<CommitmentRequest>(&forms) {
            failures.push(format!("CommitmentRequest: {e}"));
        }
        (count + 1, failures)
    }

    #[test]
    fn every_request_type_reads_what_it_documents() {
        let (_, failures) = listed();
        assert!(failures.is_empty(), "{failures:#?}");
    }

    /// Counts `impl FromFields for` in the source, so a new request type cannot skip the check.
    #[test]
    fn every_request_type_is_listed() {
        fn count(dir: &std::path::Path) -> usize {
            let mut n = 0;
            for item in std::fs::read_dir(dir).expect("source directory") {
                let path = item.expect("entry").path();
                if path.is_dir() {
                    n += count(&path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).expect("source file");
                    n += text.matches(concat!("impl FromFields", " for ")).count();
                }
            }
            n
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        assert_eq!(listed().0, count(&root), "list every request type in `listed`");
    }
}
