-- Reports: signed-in browsers of the HTML pages, the index the reports sum through, and
-- per-project quarterly spend profiles.

-- one row per signed-in browser; only a SHA-256 of the cookie's random secret is kept, so a
-- copy of the database cannot be replayed as a cookie; sign-out deletes the row
create table sessions (
    id_hash    text primary key,                         -- hex SHA-256 of the cookie secret: the lookup on every page
    token_id   bigint not null references tokens (id),  -- whose role the session carries; a revoked token ends it
    created_at text not null,                            -- RFC 3339 UTC, for audit
    expires_at text not null                             -- RFC 3339 UTC; a session is refused after this
);
-- finding the sessions of a token, e.g. to end them with it
create index sessions_token on sessions (token_id);

-- as-at reports and quarterly spend sum one account's postings over a date range; with the
-- amount in the index those sums never touch the table. It serves every query the
-- (account, entry_date) index of 0001 served, so that one is dropped rather than kept twice.
create index postings_account_date_amount on postings (account, entry_date, amount_pence);
drop index postings_account_date;

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
