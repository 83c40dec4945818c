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
    id         bigint generated always as identity primary key,
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
-- role belongs to. Sessions end, as on SQLite, where the tables are rebuilt.
delete from sessions;

alter table tokens drop constraint tokens_role_check;
alter table tokens add constraint tokens_role_check
    check (role in ('admin', 'viewer', 'funder', 'finance', 'approver', 'operator', 'funder_admin'));
alter table tokens add column funder text references funders (code); -- the funder of a `funder` or `funder_admin`
alter table tokens add check (funder is null or role in ('funder', 'funder_admin'));

alter table users drop constraint users_role_check;
alter table users add constraint users_role_check
    check (role in ('admin', 'viewer', 'funder', 'finance', 'approver', 'operator', 'funder_admin'));
alter table users add column funder text references funders (code); -- the funder of a `funder` or `funder_admin`
alter table users add check (funder is null or role in ('funder', 'funder_admin'));
