//! Controls: four-eyes virements, year end, closing and reopening years, locking quarters, the audit trail
//! and the settings that govern them.

use axum::Json;
use axum::extract::Path;
use chrono::NaiveDate;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::super::AppState;
use super::super::auth::Need;
use super::super::error::{AppError, FieldError};
use super::super::input::{Fields, Query, RawBody};
use super::super::openapi::{Code, IsoDate, PageQuery, Text};
use super::{Answer, Caller, Created, created};
use crate::domain::rag::RagRule;
use crate::domain::{AuditEntity, FinancialYear, Money, VirementStatus};
use crate::model::audit::{AuditFilter, AuditRecord};
use crate::model::controls::{
    CloseYearCmd, RejectVirementCmd, ReopenYearCmd, ReportingSettings, SettingsPatch, YearEndCmd, YearEndRecord,
};
use crate::model::fields::FromFields;
use crate::model::lists::VirementFilter;
use crate::model::open_data::OpenDataSettings;
use crate::model::page::{List, Page};
use crate::model::postings::VirementRecord;
use crate::model::quarters::{QuarterLockCmd, QuarterState, QuarterStates};
use crate::model::reference::FinancialYearRecord;
use crate::storage::open_data::{
    AREA_CODE_KEY, AREA_NAME_KEY, DATA_SOURCE_KEY, FUNDING_ORG_ID_KEY, FUNDING_ORG_NAME_KEY, GIVING_PREFIX_KEY,
};
use crate::storage::{audit, controls, quarter_locks};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_virement))
        .routes(routes!(approve))
        .routes(routes!(reject))
        .routes(routes!(close_year))
        .routes(routes!(reopen_year))
        .routes(routes!(list_quarters))
        .routes(routes!(lock_quarter))
        .routes(routes!(unlock_quarter))
        .routes(routes!(year_end))
        .routes(routes!(list_audit))
        .routes(routes!(get_settings, patch_settings))
}

pub(super) fn path_year(text: &str) -> Result<FinancialYear, AppError> {
    FinancialYear::parse(text).map_err(|e| AppError::field("fy", e.to_string()))
}

fn path_quarter(text: &str) -> Result<u8, AppError> {
    match text {
        "1" | "2" | "3" | "4" => Ok(text.as_bytes()[0] - b'0'),
        _ => Err(AppError::field("q", "must be a quarter: 1, 2, 3 or 4")),
    }
}

/// A body that may be empty (or JSON `null`): closing a year needs no fields.
fn optional_fields(body: &RawBody) -> Result<Fields, AppError> {
    let text = body.0.trim_ascii();
    Ok(if text.is_empty() || text == b"null" { Fields::parse(b"{}")? } else { Fields::parse(body)? })
}

/// The filters of the virements list: `GET /api/v1/virements` and the page `/virements`
/// read them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct VirementQuery {
    #[param(inline)]
    status: Option<VirementStatus>,
    financial_year: Option<crate::domain::FinancialYear>,
    #[param(value_type = Option<Code>)]
    grant: Option<String>,
    /// A project the virement moves money from or to.
    #[param(value_type = Option<Code>)]
    project: Option<String>,
    /// Inclusive, on the decision date (`approved_on`).
    #[param(value_type = Option<IsoDate>)]
    from: Option<NaiveDate>,
    #[param(value_type = Option<IsoDate>)]
    to: Option<NaiveDate>,
}

impl VirementQuery {
    pub(crate) fn read(q: &mut Query) -> Self {
        VirementQuery {
            status: q.word("status", VirementStatus::parse, &VirementStatus::WORDS),
            financial_year: q.year("financial_year"),
            grant: q.code("grant"),
            project: q.code("project"),
            from: q.date("from"),
            to: q.date("to"),
        }
    }

    pub(crate) fn filter(self) -> VirementFilter {
        let VirementQuery { status, financial_year, grant, project, from, to } = self;
        VirementFilter { status, financial_year, grant, project, from, to }
    }
}

filtered_list! {
    /// List virements, posted, pending, approved or rejected.
    ///
    /// Roles: every role.
    pub list_virements: "/api/v1/virements", "controls", ReadLedger,
        VirementQuery, Virements => controls::search_virements => VirementRecord, VirementPage
}

record_route! {
    /// Get a virement.
    ///
    /// Roles: every role.
    get_virement: "/api/v1/virements/{id}", "controls", ReadLedger, id => controls::get_virement => VirementRecord,
        (status = 404, description = "No such virement (`not_found`).")
}

/// Approve a pending virement, which posts it. Not by its proposer.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/virements/{id}/approve", tag = "controls", params(("id" = i64, Path, minimum = 1)),
    responses((status = 201, body = VirementRecord), (status = 403, description = "Neither approver nor admin, or the proposer."),
        (status = 404, description = "No such virement (`not_found`)."),
        (status = 409, description = "Not pending, or refused by a ledger rule (`conflict`, `overspend`, `period_closed`).")))]
async fn approve(c: Caller, Path(id): Path<String>) -> Created<VirementRecord> {
    c.require(Need::Approver)?;
    let id = super::postings::path_id(&id, "id")?;
    let record = controls::approve_virement(c.store(), id, c.actor()).await?;
    created(record)
}

/// Reject a pending virement.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/virements/{id}/reject", tag = "controls", params(("id" = i64, Path, minimum = 1)),
    request_body = RejectVirementCmd,
    responses((status = 200, body = VirementRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such virement (`not_found`)."), (status = 409, description = "Not pending (`conflict`).")))]
async fn reject(c: Caller, Path(id): Path<String>, body: RawBody) -> Answer<VirementRecord> {
    c.require(Need::Approver)?;
    let id = super::postings::path_id(&id, "id")?;
    let cmd = body.cmd::<RejectVirementCmd>()?;
    Ok(Json(controls::reject_virement(c.store(), id, &cmd.reason, c.actor()).await?))
}

/// Close a financial year: no entry may then be dated in it. The body may be empty.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years/{fy}/close", tag = "controls",
    params(("fy" = crate::domain::FinancialYear, Path)), request_body(content = Option<CloseYearCmd>),
    responses((status = 200, body = FinancialYearRecord), (status = 403, description = "Not admin."),
        (status = 404, description = "No such year (`not_found`)."),
        (status = 409, description = "Something of the year is unresolved, or it is closed (`conflict`).")))]
async fn close_year(c: Caller, Path(fy): Path<String>, body: RawBody) -> Answer<FinancialYearRecord> {
    c.require(Need::Admin)?;
    let year = path_year(&fy)?;
    let cmd = CloseYearCmd::from_fields(optional_fields(&body)?)?;
    Ok(Json(controls::close_year(c.store(), year, &cmd.reason, c.actor()).await?))
}

/// Reopen a closed financial year.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years/{fy}/reopen", tag = "controls",
    params(("fy" = crate::domain::FinancialYear, Path)), request_body = ReopenYearCmd,
    responses((status = 200, body = FinancialYearRecord), (status = 403, description = "Not admin."),
        (status = 404, description = "No such year (`not_found`)."), (status = 409, description = "The year is open (`conflict`).")))]
async fn reopen_year(c: Caller, Path(fy): Path<String>, body: RawBody) -> Answer<FinancialYearRecord> {
    c.require(Need::Admin)?;
    let year = path_year(&fy)?;
    let cmd = body.cmd::<ReopenYearCmd>()?;
    Ok(Json(controls::reopen_year(c.store(), year, &cmd.reason, c.actor()).await?))
}

/// The four quarters of a financial year and which are locked, Q1 (April to June) first.
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/financial-years/{fy}/quarters", tag = "controls",
    params(("fy" = crate::domain::FinancialYear, Path)),
    responses((status = 200, body = QuarterStates), (status = 404, description = "No such year (`not_found`).")))]
async fn list_quarters(c: Caller, Path(fy): Path<String>) -> Answer<QuarterStates> {
    c.require(Need::ReadReference)?;
    let year = path_year(&fy)?;
    Ok(Json(QuarterStates(quarter_locks::quarter_states(c.store(), year).await?)))
}

/// Locks (`lock`) or unlocks a quarter: what both routes share.
async fn change_quarter(c: Caller, (fy, q): (&str, &str), body: &RawBody, lock: bool) -> Answer<QuarterState> {
    c.require(Need::Admin)?;
    let (year, quarter) = (path_year(fy)?, path_quarter(q)?);
    let cmd = body.cmd::<QuarterLockCmd>()?;
    Ok(Json(quarter_locks::set_locked(c.store(), year, quarter, lock, &cmd.reason, c.actor()).await?))
}

/// Lock a quarter: no entry dated in it is recorded from now on (409 `period_closed`, naming
/// the quarter); a correction is recorded in an open quarter instead.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years/{fy}/quarters/{q}/lock", tag = "controls",
    params(("fy" = crate::domain::FinancialYear, Path), ("q" = u8, Path, minimum = 1, maximum = 4)),
    request_body = QuarterLockCmd,
    responses((status = 200, body = QuarterState), (status = 403, description = "Not admin."),
        (status = 404, description = "No such year (`not_found`)."),
        (status = 409, description = "The quarter is locked already, or an earlier quarter of its year is open (`conflict`, naming it).")))]
async fn lock_quarter(c: Caller, Path((fy, q)): Path<(String, String)>, body: RawBody) -> Answer<QuarterState> {
    change_quarter(c, (&fy, &q), &body, true).await
}

/// Unlock a locked quarter, with a reason.
///
/// Roles: admin.
#[utoipa::path(post, path = "/api/v1/financial-years/{fy}/quarters/{q}/unlock", tag = "controls",
    params(("fy" = crate::domain::FinancialYear, Path), ("q" = u8, Path, minimum = 1, maximum = 4)),
    request_body = QuarterLockCmd,
    responses((status = 200, body = QuarterState), (status = 403, description = "Not admin."),
        (status = 404, description = "No such year (`not_found`)."),
        (status = 409, description = "The quarter is not locked, or a later quarter of its year is locked (`conflict`, naming it).")))]
async fn unlock_quarter(c: Caller, Path((fy, q)): Path<(String, String)>, body: RawBody) -> Answer<QuarterState> {
    change_quarter(c, (&fy, &q), &body, false).await
}

/// Resolve an award's unspent money at year end: carried forward, returned, or both.
///
/// Roles: approver, admin.
#[utoipa::path(post, path = "/api/v1/grants/{grant}/awards/{fy}/year-end", tag = "controls",
    params(("grant" = Code, Path), ("fy" = crate::domain::FinancialYear, Path)), request_body = YearEndCmd,
    responses((status = 201, body = YearEndRecord), (status = 403, description = "Neither approver nor admin."),
        (status = 404, description = "No such award, or no next year's award to carry into (`not_found`)."),
        (status = 409, description = "The split does not account for the unspent money, or the year is closed (`conflict`, `period_closed`).")))]
async fn year_end(c: Caller, Path((grant, fy)): Path<(String, String)>, body: RawBody) -> Created<YearEndRecord> {
    c.require(Need::Approver)?;
    let year = super::cash::award_path(&grant, &fy)?;
    let cmd = YearEndCmd { grant, year, ..body.cmd::<YearEndCmd>()? };
    let record = controls::year_end(c.store(), cmd, c.actor()).await?;
    created(record)
}

/// The filters of `GET /audit`, as `AuditFilter` takes them.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    #[param(inline, value_type = Option<AuditEntity>)]
    entity: Option<AuditEntity>,
    #[param(value_type = Option<Text>)]
    key: Option<String>,
    #[param(value_type = Option<Text>)]
    actor: Option<String>,
    #[param(value_type = Option<Text>)]
    action: Option<String>,
    #[param(value_type = Option<IsoDate>)]
    from: Option<NaiveDate>,
    #[param(value_type = Option<IsoDate>)]
    to: Option<NaiveDate>,
}

impl AuditQuery {
    pub(crate) fn read(q: &mut Query) -> Self {
        AuditQuery {
            entity: q.word("entity", AuditEntity::parse, &AuditEntity::WORDS),
            key: q.text("key"),
            actor: q.text("actor"),
            action: q.text("action"),
            from: q.date("from"),
            to: q.date("to"),
        }
    }

    pub(crate) fn filter(self, with_tokens: bool) -> AuditFilter {
        let AuditQuery { entity, key, actor, action, from, to } = self;
        AuditFilter { entity, key, actor, action, from, to, with_tokens }
    }
}

/// The audit trail of reference data, oldest first.
///
/// Roles: every role but funder; token and sign-in (session) records for admin only.
#[utoipa::path(get, path = "/api/v1/audit", tag = "controls", params(AuditQuery, PageQuery),
    responses((status = 200, body = super::super::openapi::AuditPage), (status = 403, description = "A funder, or token or session records asked for by another role.")))]
async fn list_audit(c: Caller, mut q: Query) -> Answer<Page<AuditRecord>> {
    c.require(Need::ReadAudit)?;
    let with_tokens = Need::Admin.allows(c.auth.0.role);
    let filter = AuditQuery::read(&mut q).filter(with_tokens);
    let page = q.page(List::Audit);
    q.finish()?;
    // Viewers read everything but tokens and sign-ins: asking for them is refused, not answered empty.
    if filter.entity.is_some_and(AuditEntity::admin_only) && !with_tokens {
        return Err(AppError::Forbidden);
    }
    Ok(Json(audit::list(c.store(), &filter, page.after_id(), page.limit).await?))
}

#[derive(serde::Serialize, ToSchema)]
struct Settings {
    /// A virement above this needs a second approver.
    virement_approval_threshold: Money,
    /// Percentage points of drift from the spend profile that rate a project amber.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$")]
    rag_amber_pct: String,
    /// Percentage points of drift that rate a project red.
    #[schema(pattern = r"^[0-9]+(\.[0-9]+)?$")]
    rag_red_pct: String,
    /// The cash position flags an award whose unallocated underspend is above this.
    clawback_threshold: Money,
    partnership: Option<String>,
    /// The 360Giving identifier prefix of the open-data exports; null while unset.
    giving_prefix: Option<String>,
    /// The funder's org-id.guide identifier in the 360Giving export; null while unset.
    funding_org_id: Option<String>,
    /// The funder's name: the 360Giving funding organisation and the VCSE grants file's
    /// awarding department; null while unset.
    funding_org_name: Option<String>,
    /// The ONS code of the area the partnership serves (360Giving's beneficiary location); null while unset.
    area_code: Option<String>,
    /// That area's name; null while unset.
    area_name: Option<String>,
    /// The 360Giving data source: where the file is published, or the publisher's website; null while unset.
    data_source: Option<String>,
    /// Days after a quarter's end by which the funder wants its return (default 30).
    return_due_days: u16,
    /// The partnership's code in the funder's reports (default `TAM`).
    #[schema(value_type = Code)]
    partnership_code: String,
}

async fn settings(store: &crate::storage::Store) -> Result<Settings, AppError> {
    let rag = crate::storage::reports::rag_rule(store).await?;
    let open_data = crate::storage::open_data::settings(store).await?;
    Ok(Settings {
        virement_approval_threshold: controls::virement_threshold(store).await?,
        rag_amber_pct: rag.amber_pct.to_string(),
        rag_red_pct: rag.red_pct.to_string(),
        clawback_threshold: crate::storage::cash::clawback_threshold(store).await?,
        partnership: crate::storage::reference::setting(store, "partnership").await?,
        giving_prefix: open_data.giving_prefix,
        funding_org_id: open_data.funding_org_id,
        funding_org_name: open_data.funding_org_name,
        area_code: open_data.area_code,
        area_name: open_data.area_name,
        data_source: open_data.data_source,
        return_due_days: crate::storage::reference::return_due_days(store).await?,
        partnership_code: crate::storage::reference::partnership_code(store).await?,
    })
}

/// The RAG thresholds after a patch of either or both, each checked and named on its own.
fn patched_rag(current: RagRule, amber: Option<String>, red: Option<String>) -> Result<RagRule, AppError> {
    // Out of order is the fault of the value patched: amber when given, else red.
    let order_field = if amber.is_some() { "rag_amber_pct" } else { "rag_red_pct" };
    let amber = amber.unwrap_or_else(|| current.amber_pct.to_string());
    let red = red.unwrap_or_else(|| current.red_pct.to_string());
    let mut errors = Vec::new();
    if let Err(e) = RagRule::parse(&amber, "100") {
        errors.push(FieldError { field: "rag_amber_pct".into(), message: e });
    }
    if let Err(e) = RagRule::parse("0", &red) {
        errors.push(FieldError { field: "rag_red_pct".into(), message: e });
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    RagRule::parse(&amber, &red).map_err(|e| AppError::field(order_field, e))
}

/// The settings: the virement approval threshold, the RAG thresholds, the clawback threshold,
/// the partnership's name, and who publishes the open-data exports (prefix, funder's org-id and name).
///
/// Roles: every role.
#[utoipa::path(get, path = "/api/v1/settings", tag = "controls", responses((status = 200, body = Settings)))]
async fn get_settings(c: Caller) -> Answer<Settings> {
    c.require(Need::ReadReference)?;
    Ok(Json(settings(c.store()).await?))
}

/// The open-data settings of a patch, each value outside its shape refused on `f`, naming it.
fn open_data_settings(f: &mut Fields, patch: &SettingsPatch) -> OpenDataSettings {
    let mut check = |key: &str, value: &Option<String>| {
        if let Some(value) = value
            && !value.trim().is_empty()
            && let Some(why) = crate::storage::open_data::refusal(key, value)
        {
            f.refuse(key, why);
        }
        value.clone()
    };
    OpenDataSettings {
        giving_prefix: check(GIVING_PREFIX_KEY, &patch.giving_prefix),
        funding_org_id: check(FUNDING_ORG_ID_KEY, &patch.funding_org_id),
        funding_org_name: check(FUNDING_ORG_NAME_KEY, &patch.funding_org_name),
        area_code: check(AREA_CODE_KEY, &patch.area_code),
        area_name: check(AREA_NAME_KEY, &patch.area_name),
        data_source: check(DATA_SOURCE_KEY, &patch.data_source),
    }
}

/// Change settings; each field is optional.
///
/// Roles: admin.
#[utoipa::path(patch, path = "/api/v1/settings", tag = "controls", request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 403, description = "Not admin.")))]
async fn patch_settings(c: Caller, body: RawBody) -> Answer<Settings> {
    c.require(Need::Admin)?;
    // Read, not `from_fields`: the open-data shapes are checked before the request is finished.
    let mut f = Fields::parse(&body)?;
    let patch = SettingsPatch::read(&mut f);
    let open_data = open_data_settings(&mut f, &patch);
    f.finish()?;
    let SettingsPatch {
        virement_approval_threshold,
        rag_amber_pct,
        rag_red_pct,
        clawback_threshold,
        return_due_days,
        partnership_code,
        ..
    } = patch;
    let reporting = ReportingSettings { return_due_days, partnership_code };
    let rag = if rag_amber_pct.is_some() || rag_red_pct.is_some() {
        Some(patched_rag(crate::storage::reports::rag_rule(c.store()).await?, rag_amber_pct, rag_red_pct)?)
    } else {
        None
    };
    let (threshold, clawback) = (virement_approval_threshold, clawback_threshold);
    controls::set_settings(c.store(), threshold, rag, clawback, &open_data, &reporting, c.name()).await?;
    Ok(Json(settings(c.store()).await?))
}
