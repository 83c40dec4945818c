-- The quarterly monitoring cycle (issue 12): officers' forecasts, indicators (outputs and
-- outcomes) and their quarterly returns. Forecasts and returns are append-only: a later one
-- for the same quarter supersedes an earlier one, and both stay.

-- an officer's forecast of a project's year-end outturn on one award, made in a quarter
create table forecasts (
    id               bigint generated always as identity primary key,
    grant_code       text not null,
    financial_year   text not null,
    quarter          integer not null check (quarter between 1 and 4), -- the quarter it was made in
    project_code     text not null references projects (code),
    forecast_pence   bigint not null check (forecast_pence >= 0),        -- the year-end outturn, whole pence
    explanation      text not null,                                    -- why it differs from budget
    progress_rag     text not null check (progress_rag in ('red', 'amber', 'green')),
    rag_reason       text not null,                                    -- why that rating
    made_on          text not null,                                    -- YYYY-MM-DD, within its quarter; as_at picks by it
    made_by          text not null,                                    -- the token's name
    made_at          text not null,                                    -- RFC 3339 UTC, when recorded ("as known at")
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year)
);
-- the report's read: the latest forecast of each (grant, project) for one year and quarter
create index forecasts_by_quarter on forecasts (financial_year, quarter, grant_code, project_code, made_on, id);

-- a project's indicator for one financial year; quantities are decimal text, never money
create table indicators (
    project_code     text not null references projects (code),
    code             text not null,
    financial_year   text not null references financial_years (code),
    name             text not null,
    unit             text not null,                                    -- sessions, people, referrals
    baseline         text not null,                                    -- a quantity (domain::Quantity)
    target           text not null,                                    -- for the whole year
    q1_target        text not null,                                    -- April to June
    q2_target        text not null,                                    -- July to September
    q3_target        text not null,                                    -- October to December
    q4_target        text not null,                                    -- January to March
    created_by       text not null,
    created_at       text not null,                                    -- RFC 3339 UTC
    primary key (project_code, code, financial_year)
);

-- what one quarter of an indicator achieved; the latest return of a quarter counts
create table indicator_returns (
    id               bigint generated always as identity primary key,
    project_code     text not null,
    indicator_code   text not null,
    financial_year   text not null,
    quarter          integer not null check (quarter between 1 and 4),
    actual           text not null,                                    -- a quantity, this quarter only
    evidence_ref     text not null,                                    -- where the evidence is kept
    note             text not null,
    recorded_by      text not null,
    recorded_at      text not null,                                    -- RFC 3339 UTC, when recorded
    foreign key (project_code, indicator_code, financial_year)
        references indicators (project_code, code, financial_year)
);
-- a project's returns of one year, read with its indicators
create index indicator_returns_by_project on indicator_returns (project_code, financial_year, indicator_code, quarter, id);

-- forecasts and returns are never updated or deleted: a correction is a later one
-- refuse_change() is 0001's: it names the table.
create trigger forecasts_append_only before update or delete on forecasts for each row execute function refuse_change();
create trigger indicator_returns_append_only before update or delete on indicator_returns for each row execute function refuse_change();
