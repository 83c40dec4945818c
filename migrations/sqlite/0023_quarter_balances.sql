-- Each account's net postings per calendar quarter of their dates (the financial year's
-- quarters start on 1 April, 1 July, 1 October and 1 January, so they are calendar quarters).
-- A figure as at a quarter's end is then a sum of a few rows instead of a scan of the
-- postings: the quarterly report and the dashboard's "changed since last quarter" read it.
-- Kept by the trigger below in the db_tx that inserts the posting, whichever code path
-- inserts it, since postings are append-only; `grant-ledger verify` re-derives every row
-- from the postings.
create table quarter_balances (
    account       text not null references balances (account),
    quarter_start text not null,                         -- 'YYYY-01-01', '-04-01', '-07-01', '-10-01'
    pence         bigint not null,
    primary key (account, quarter_start)
);

insert into quarter_balances (account, quarter_start, pence)
select account,
       substr(entry_date, 1, 5) || case when substr(entry_date, 6, 2) < '04' then '01'
                                        when substr(entry_date, 6, 2) < '07' then '04'
                                        when substr(entry_date, 6, 2) < '10' then '07'
                                        else '10' end || '-01',
       sum(amount_pence)
from postings
group by 1, 2;

create trigger postings_quarter_balance after insert on postings
begin
    insert into quarter_balances (account, quarter_start, pence)
    values (new.account,
            substr(new.entry_date, 1, 5) || case when substr(new.entry_date, 6, 2) < '04' then '01'
                                                 when substr(new.entry_date, 6, 2) < '07' then '04'
                                                 when substr(new.entry_date, 6, 2) < '10' then '07'
                                                 else '10' end || '-01',
            new.amount_pence)
    on conflict (account, quarter_start) do update set pence = pence + excluded.pence;
end;
