-- The funder's cash: each award's payment schedule, the instalments the funder has agreed to
-- pay, each due on a date and perhaps on a condition ("subject to evaluation"). Reference
-- data: a schedule is replaced whole (PUT), and every replacement is in the audit trail
-- (entity 'payment_schedule', key 'LDF/2023-24'). Receipts and repayments are entries on the
-- award's cash accounts (cash, received, owed, claimed; docs/cash.md), so they need no table.
create table payment_schedules (
    grant_code     text not null,
    financial_year text not null,
    line           integer not null check (line >= 1),            -- 1, 2, ... in due date order
    due_on         text not null,                                 -- ISO date
    amount_pence   bigint not null check (amount_pence > 0),
    condition      text not null default '',                      -- '' when unconditional
    primary key (grant_code, financial_year, line),
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year)
);
