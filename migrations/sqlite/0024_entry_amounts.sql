-- Each entry's amount, the sum of its debits, as a typed column written with the entry
-- (`entry_columns`), so the entries list counts, totals and bounds entries without summing
-- each one's postings. Entries are inserted before their postings and never updated, so
-- the writer computes it from the postings it is about to insert; `verify` holds it to the
-- chained postings (docs/controls.md, "Entry columns").
alter table entries add column amount_pence integer not null default 0;

-- Existing entries: summed from their postings. The append-only trigger is lifted for this
-- one statement and restored as it was.
drop trigger entries_no_update;
update entries set amount_pence = debits.pence
from (select entry_id, sum(amount_pence) as pence from postings where amount_pence > 0 group by entry_id) as debits
where debits.entry_id = entries.id;
create trigger entries_no_update before update on entries begin select raise(abort, 'entries are append-only'); end;

-- The entries of each (year, grant, kind, date), counted and their amounts added up, so the
-- entries list's count and total under the filters of award, kind and dates alone (the
-- list as it opens) read a few rows a day instead of every entry. Kept by the trigger below
-- in the db_tx that inserts the entry, whichever code path inserts it, since entries are
-- append-only; `grant-ledger verify` re-derives every row from the entries' postings.
create table entry_day_totals (
    financial_year text not null,
    grant_code     text not null,
    kind           text not null,
    entry_date     text not null,
    entries        integer not null,
    amount_pence   integer not null,
    primary key (financial_year, grant_code, kind, entry_date)
);

insert into entry_day_totals (financial_year, grant_code, kind, entry_date, entries, amount_pence)
select financial_year, grant_code, kind, entry_date, count(*), sum(amount_pence)
from entries
group by financial_year, grant_code, kind, entry_date;

create trigger entries_day_total after insert on entries
begin
    insert into entry_day_totals (financial_year, grant_code, kind, entry_date, entries, amount_pence)
    values (new.financial_year, new.grant_code, new.kind, new.entry_date, 1, new.amount_pence)
    on conflict (financial_year, grant_code, kind, entry_date)
    do update set entries = entries + 1, amount_pence = amount_pence + excluded.amount_pence;
end;
