-- Named people who sign in to the pages with a password (docs/api.md, "Users and sessions").
-- Bearer tokens stay for machines and the command line.
create table users (
    id              integer primary key,
    username        text not null unique,                 -- case-folded, so `Alice` and `alice` are one person
    display_name    text not null,
    role            text not null check (role in ('admin', 'viewer', 'funder', 'finance', 'approver')),
    password_hash   text not null,                        -- an argon2id PHC string, never the password
    created_at      text not null,                        -- RFC 3339 UTC
    disabled_at     text,                                 -- set once; a disabled user cannot sign in
    password_set_at text not null                         -- RFC 3339 UTC, of the last set or reset
);

-- A session belongs to a token or to a user, never both. SQLite cannot drop a `not null`,
-- so the table is rebuilt with its rows.
create table sessions_new (
    id_hash      text primary key,                        -- hex SHA-256 of the cookie secret
    token_id     integer references tokens (id),          -- a token's session; a revoked token ends it
    user_id      integer references users (id),           -- a user's session; disabling or a reset ends it
    created_at   text not null,                           -- RFC 3339 UTC
    expires_at   text not null,                           -- RFC 3339 UTC: the maximum age
    last_seen_at text not null,                           -- RFC 3339 UTC: idle expiry counts from here
    check ((token_id is null) <> (user_id is null))
);
insert into sessions_new (id_hash, token_id, user_id, created_at, expires_at, last_seen_at)
    select id_hash, token_id, null, created_at, expires_at, created_at from sessions;
drop table sessions;
alter table sessions_new rename to sessions;
create index sessions_token on sessions (token_id);
-- ending a user's sessions when they are disabled or their password is reset
create index sessions_user on sessions (user_id);
