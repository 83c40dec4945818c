-- Reports: per-project quarterly spend plans, which the RAG rule measures drift from.
-- (0003 is applied on main and must not change, so this is its own migration.)

-- a project's planned spend per quarter of one award, in whole percent of its budget; the
-- RAG rule measures drift from it. Without a row the profile is straight-line (25 a quarter).
create table spend_profiles (
    grant_code     text not null,
    financial_year text not null,
    project_code   text not null references projects (code),
    q1_pct         integer not null check (q1_pct between 0 and 100), -- April to June
    q2_pct         integer not null check (q2_pct between 0 and 100), -- July to September
    q3_pct         integer not null check (q3_pct between 0 and 100), -- October to December
    q4_pct         integer not null check (q4_pct between 0 and 100), -- January to March
    set_by         text not null,                        -- the token's name, for audit
    set_at         text not null,                        -- RFC 3339 UTC
    primary key (grant_code, financial_year, project_code),
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year),
    check (q1_pct + q2_pct + q3_pct + q4_pct = 100)       -- a profile plans the whole budget
);
