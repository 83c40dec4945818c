//! What the open-data exports (docs/open-data.md) read out of storage: the grant agreements
//! awarded in a year with their recipients, and the settings that name the funder.

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::{FinancialYear, Money};
use crate::model::reference::Organisation;

/// One grant agreement as the open-data exports publish it.
#[derive(Debug, Clone)]
pub struct PublishedAgreement {
    /// The agreement's id: its commitment's id.
    pub id: i64,
    pub grant: String,
    pub grant_name: String,
    pub project: String,
    pub project_name: String,
    pub purpose: String,
    /// When the grant was awarded: the agreement's commitment date.
    pub award_date: NaiveDate,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The whole amount, across every year.
    pub amount: Money,
    /// Each year's part, in year order.
    pub parts: Vec<(FinancialYear, Money)>,
    /// The recipient as the ledger holds it now.
    pub recipient: Organisation,
    /// When what is published of the agreement last changed: the latest of when it was
    /// recorded, when its project last changed and when its recipient last changed.
    pub modified: DateTime<Utc>,
}

impl PublishedAgreement {
    /// The part falling in `year`; zero when the agreement has none there.
    pub fn part_in(&self, year: FinancialYear) -> Money {
        self.parts.iter().find(|(y, _)| *y == year).map_or(Money::ZERO, |(_, m)| *m)
    }
}

/// The settings that say who publishes: each `None` while unset. Also a patch of them,
/// where `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct OpenDataSettings {
    /// The 360Giving identifier prefix, e.g. `360G-tamworthcsp`.
    pub giving_prefix: Option<String>,
    /// The funder's org-id.guide identifier, e.g. `GB-LAE-TAW`.
    pub funding_org_id: Option<String>,
    /// The funder's name, e.g. `Tamworth Borough Council`.
    pub funding_org_name: Option<String>,
    /// The ONS code of the area the partnership serves, e.g. `E07000199` (Tamworth).
    pub area_code: Option<String>,
    /// That area's name, e.g. `Tamworth`.
    pub area_name: Option<String>,
    /// Where the 360Giving data is published, or the publisher's website.
    pub data_source: Option<String>,
}
