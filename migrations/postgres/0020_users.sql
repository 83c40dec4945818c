-- Named people who sign in to the pages with a password (docs/api.md, "Users and sessions").
-- Bearer tokens stay for machines and the command line.
create table users (
    id              bigint generated always as identity primary key,
    username        text not null unique,                 -- case-folded, so `Alice` and `alice` are one person
    display_name    text not null,
    role            text not null check (role in ('admin', 'viewer', 'funder', 'finance', 'approver')),
    password_hash   text not null,                        -- an argon2id PHC string, never the password
    created_at      text not null,                        -- RFC 3339 UTC
    disabled_at     text,                                 -- set once; a disabled user cannot sign in
    password_set_at text not null                         -- RFC 3339 UTC, of the last set or reset
);

-- A session belongs to a token or to a user, never both.
alter table sessions alter column token_id drop not null;
alter table sessions add column user_id bigint references users (id);
alter table sessions add column last_seen_at text;
update sessions set last_seen_at = created_at;
alter table sessions alter column last_seen_at set not null;
alter table sessions add check ((token_id is null) <> (user_id is null));
-- ending a user's sessions when they are disabled or their password is reset
create index sessions_user on sessions (user_id);
