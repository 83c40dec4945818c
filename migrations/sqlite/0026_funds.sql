-- A funder's funds and the partnerships' shares of them (docs/api.md, "Funds"), money moved
-- between shares, and what the funder says it paid each partnership (docs/api.md,
-- "Reconciliation"). Every write is audited (entities `fund`, `fund_share`, `reallocation`,
-- `funder_payment`) and held to its records by `verify`. The home partnership's share is its
-- award, changed by entries of kind `share` and `reallocation` in the same db_tx. Grant and
-- year are codes, not references: a fund is the funder's, across the partnerships' ledgers.
-- The other backend's twin is numbered alike.

-- a funder's fund of one grant for one year; declared once
create table funds (
    grant_code     text not null,
    financial_year text not null,
    amount_pence   integer not null check (amount_pence > 0),
    funder         text not null references funders (code),
    created_by     text not null,
    created_at     text not null,                                  -- RFC 3339 UTC
    primary key (grant_code, financial_year)
);

-- each partnership's share of a fund: set anew whole, or moved by a reallocation
create table fund_shares (
    grant_code     text not null,
    financial_year text not null,
    partnership_id integer not null references partnerships (id),
    amount_pence   integer not null check (amount_pence >= 0),
    set_by         text not null,
    set_at         text not null,                                  -- RFC 3339 UTC
    primary key (grant_code, financial_year, partnership_id),
    foreign key (grant_code, financial_year) references funds (grant_code, financial_year)
);

-- money moved from one partnership's share to another's; entry_id is the home ledger's
-- entry of it, where the home partnership is a side
create table reallocations (
    id                  integer primary key,
    grant_code          text not null,
    financial_year      text not null,
    from_partnership_id integer not null references partnerships (id),
    to_partnership_id   integer not null references partnerships (id),
    amount_pence        integer not null check (amount_pence > 0),
    reallocated_on      text not null,                             -- the date it takes effect
    reason              text not null check (length(reason) > 0),
    entry_id            integer references entries (id),
    created_by          text not null,
    created_at          text not null,                             -- RFC 3339 UTC
    check (from_partnership_id <> to_partnership_id),
    foreign key (grant_code, financial_year) references funds (grant_code, financial_year)
);

-- a payment the funder made to a partnership against a grant and year; a reference once per
-- partnership
create table funder_payments (
    id             integer primary key,
    partnership_id integer not null references partnerships (id),
    grant_code     text not null,
    financial_year text not null,
    paid_on        text not null,
    amount_pence   integer not null check (amount_pence > 0),
    reference      text not null check (length(reference) > 0),
    created_by     text not null,
    created_at     text not null,                                  -- RFC 3339 UTC
    unique (partnership_id, reference)
);
create index funder_payments_year on funder_payments (financial_year, partnership_id, grant_code);

-- a fund, a reallocation and a payment are never edited: a share moves by a reallocation
create trigger funds_no_update before update on funds begin select raise(abort, 'funds are append-only'); end;
create trigger funds_no_delete before delete on funds begin select raise(abort, 'funds are append-only'); end;
create trigger reallocations_no_update before update on reallocations begin select raise(abort, 'reallocations are append-only'); end;
create trigger reallocations_no_delete before delete on reallocations begin select raise(abort, 'reallocations are append-only'); end;
create trigger funder_payments_no_update before update on funder_payments begin select raise(abort, 'funder payments are append-only'); end;
create trigger funder_payments_no_delete before delete on funder_payments begin select raise(abort, 'funder payments are append-only'); end;
