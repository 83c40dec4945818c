-- Each account's net postings per calendar month of their dates, beside the quarters'
-- (0023). A figure as at a date inside a quarter is its whole quarters before it, the whole
-- months of its quarter before (or up to) its month, and at most half a month of postings,
-- rather than up to half a quarter's. The dashboard as at a date in a quarter reads it.
-- Kept by the trigger below in the db_tx that inserts the posting, whichever code path
-- inserts it, since postings are append-only; `grant-ledger verify` re-derives every row
-- from the postings.
create table month_balances (
    account     text not null references balances (account),
    month_start text not null,                           -- 'YYYY-MM-01'
    pence       bigint not null,
    primary key (account, month_start)
);

insert into month_balances (account, month_start, pence)
select account, substr(entry_date, 1, 8) || '01', sum(amount_pence)
from postings
group by account, substr(entry_date, 1, 8) || '01';

create function add_month_balance() returns trigger language plpgsql as $$
begin
    insert into month_balances (account, month_start, pence)
    values (new.account, substr(new.entry_date, 1, 8) || '01', new.amount_pence)
    on conflict (account, month_start) do update set pence = month_balances.pence + excluded.pence;
    return null;
end
$$;

create trigger postings_month_balance after insert on postings
    for each row execute function add_month_balance();
