-- Signed-in browsers of the HTML pages (reports dashboard), and the index the reports sum through.

-- one row per signed-in browser; only a SHA-256 of the cookie's random secret is kept, so a
-- copy of the database cannot be replayed as a cookie; sign-out deletes the row
create table sessions (
    id_hash    text primary key,                         -- hex SHA-256 of the cookie secret: the lookup on every page
    token_id   integer not null references tokens (id),  -- whose role the session carries; a revoked token ends it
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
