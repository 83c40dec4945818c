-- The service's partnerships and what each funder asks of them (docs/api.md, "The county";
-- ARCHITECTURE.md, "Partnerships and funders"). The ledger tables hold one partnership's
-- ledger, the home partnership's, until they gain `partnership_id`.

-- What a funder allows over its awards, and when it wants each quarter's return.
alter table funders add column over_programming_percent integer not null default 0
    check (over_programming_percent between 0 and 100);
alter table funders add column return_due_days integer not null default 30
    check (return_due_days between 0 and 365);

-- The home partnership row is written at start (`storage::partnerships::ensure_home`), from
-- the ledger it adopts.
create table partnerships (
    id         integer primary key,
    code       text not null unique,
    name       text not null,
    funder     text not null references funders (code),
    area_code  text not null,                            -- an ONS code, e.g. E07000199
    home       integer not null default 0 check (home in (0, 1)), -- 1: the ledger's tables are its
    created_at text not null                             -- RFC 3339 UTC
);
-- at most one home partnership
create unique index partnerships_home on partnerships (home) where home = 1;

-- Tokens and users gain the roles `operator` and `funder_admin`, and the funder a funder's
-- role belongs to. SQLite cannot change a check, so both tables are rebuilt with their rows.
-- Their sessions end first (people sign in again, as at 0016): a session row would hold the
-- old table, which cannot then be dropped.
delete from sessions;

create table tokens_new (
    id          integer primary key,
    name        text not null,
    role        text not null check (role in ('admin', 'viewer', 'funder', 'finance', 'approver', 'operator', 'funder_admin')),
    secret_hash text not null unique,                    -- unique: lookup by hash on every request
    created_at  text not null,
    revoked_at  text,                                    -- set once; a revoked token is refused
    funder      text references funders (code),          -- the funder of a `funder` or `funder_admin`
    check (funder is null or role in ('funder', 'funder_admin'))
);
insert into tokens_new (id, name, role, secret_hash, created_at, revoked_at, funder)
    select id, name, role, secret_hash, created_at, revoked_at, null from tokens;
drop table tokens;
alter table tokens_new rename to tokens;

create table users_new (
    id              integer primary key,
    username        text not null unique,                 -- case-folded, so `Alice` and `alice` are one person
    display_name    text not null,
    role            text not null check (role in ('admin', 'viewer', 'funder', 'finance', 'approver', 'operator', 'funder_admin')),
    password_hash   text not null,                        -- an argon2id PHC string, never the password
    created_at      text not null,                        -- RFC 3339 UTC
    disabled_at     text,                                 -- set once; a disabled user cannot sign in
    password_set_at text not null,                        -- RFC 3339 UTC, of the last set or reset
    funder          text references funders (code),       -- the funder of a `funder` or `funder_admin`
    check (funder is null or role in ('funder', 'funder_admin'))
);
insert into users_new (id, username, display_name, role, password_hash, created_at, disabled_at, password_set_at, funder)
    select id, username, display_name, role, password_hash, created_at, disabled_at, password_set_at, null from users;
drop table users;
alter table users_new rename to users;
