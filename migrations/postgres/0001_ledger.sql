-- The ledger schema for PostgreSQL. SQLite's twin is migrations/sqlite/0001_ledger.sql;
-- the two are numbered alike and must stay alike in meaning.

-- free-form settings of this deployment, e.g. the partnership's name on returns
create table settings (
    key   text primary key,
    value text not null
);

-- financial years the ledger accepts entries in; a closed year accepts nothing (rule 5)
create table financial_years (
    code       text primary key,                         -- '2023-24'
    start_date text not null,                            -- 1 April, YYYY-MM-DD
    end_date   text not null,                            -- 31 March, YYYY-MM-DD
    status     text not null check (status in ('open', 'closed'))
);

-- who pays, e.g. SCO
create table funders (
    code text primary key,
    name text not null
);

-- the partnership plan's priorities
create table priorities (
    code        text primary key,
    name        text not null,
    description text not null default ''
);

-- funding streams; restricted_to_priority enforces rule 3, on_overspend selects rule 4's mode
create table grants (
    code                   text primary key,
    name                   text not null,
    funder                 text not null references funders (code),
    restricted_to_priority text references priorities (code),
    on_overspend           text not null check (on_overspend in ('stop', 'warn'))
);

-- one award per grant and year; write_seq is bumped first thing in every db_tx that posts
-- to the award, which takes the write lock up front (rule 7)
create table awards (
    grant_code     text not null references grants (code),
    financial_year text not null references financial_years (code),
    awarded_on     text not null,                        -- the funder's decision date, may precede the year
    reference      text not null default '',
    created_at     text not null,
    write_seq      bigint not null default 0,
    primary key (grant_code, financial_year)
);

-- projects under one priority each
create table projects (
    code              text primary key,
    name              text not null,
    priority          text not null references priorities (code),
    lead_organisation text not null default '',
    description       text not null default '',
    status            text not null check (status in ('active', 'closed')),
    created_at        text not null,
    updated_at        text not null
);

-- bearer tokens; only a SHA-256 of the secret is kept
create table tokens (
    id          bigint generated always as identity primary key,
    name        text not null,
    role        text not null check (role in ('admin', 'viewer', 'funder', 'finance', 'approver')),
    secret_hash text not null unique,                    -- unique: lookup by hash on every request
    created_at  text not null,
    revoked_at  text                                     -- set once; a revoked token is refused
);

-- commitments: purchase orders and grant agreements; what is outstanding is derived from postings
create table commitments (
    id              bigint generated always as identity primary key,
    grant_code      text not null,
    financial_year  text not null,
    project_code    text not null references projects (code),
    supplier        text not null,
    reference       text not null default '',
    amount_pence    bigint not null check (amount_pence > 0),
    commitment_date text not null,
    memo            text not null default '',
    created_at      text not null,
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year)
);

-- current balance of every account, updated in the same db_tx as the postings
create table balances (
    account        text primary key,                     -- 'spent:LDF:2023-24:P1'
    kind           text not null,
    grant_code     text not null,
    financial_year text not null,
    project_code   text references projects (code),
    balance_pence  bigint not null,                     -- signed: debit positive
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year)
);
-- account listings filter by award and project
create index balances_award on balances (grant_code, financial_year, project_code);

-- journal entries: append-only (triggers below)
create table entries (
    id             bigint generated always as identity primary key,
    kind           text not null,
    entry_date     text not null,
    financial_year text not null,
    grant_code     text not null,
    memo           text not null default '',
    details        text not null default '{}',           -- the operation's own fields, as JSON
    created_by     text not null,                        -- the token's name
    created_at     text not null,
    reverses       bigint unique references entries (id), -- unique: an entry is reversed at most once (rule 6)
    commitment_id  bigint references commitments (id),
    source_ref     text unique,                          -- unique: an imported line posts once
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year)
);
-- listings filter by award, kind and date
create index entries_award_date on entries (grant_code, financial_year, entry_date);
-- outstanding commitment sums the entries of one commitment
create index entries_commitment on entries (commitment_id);

-- postings: signed pence, never zero; append-only
create table postings (
    entry_id     bigint not null references entries (id),
    line         bigint not null,
    account      text not null references balances (account),
    amount_pence bigint not null check (amount_pence <> 0),
    entry_date   text not null,                          -- copied from the entry for as-at sums
    primary key (entry_id, line)
);
-- as-at reports sum one account's postings up to a date
create index postings_account_date on postings (account, entry_date);

-- the first response to each (token, Idempotency-Key), replayed on reuse
create table idempotency_keys (
    token_id     bigint not null references tokens (id),
    idem_key     text not null,
    request_hash text not null,                          -- method, path, query and body
    status       bigint not null,
    body         text not null,
    created_at   text not null,
    primary key (token_id, idem_key)
);

-- rule 6: entries and postings are never updated or deleted
create function refuse_change() returns trigger language plpgsql as $$
begin
    raise exception '% is append-only', tg_table_name;
end;
$$;
create trigger entries_append_only before update or delete on entries for each row execute function refuse_change();
create trigger postings_append_only before update or delete on postings for each row execute function refuse_change();
