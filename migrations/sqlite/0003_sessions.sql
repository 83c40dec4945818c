-- Signed-in browsers of the HTML pages (reports dashboard).

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
