-- The entries list in date order (`sort=date`), and its `from`/`to` range without a grant:
-- entry date, then id, the order and the cursor's key (docs/api.md, "Finding things").
-- Supplier and memo are searched anywhere in the text, which no b-tree index serves; the
-- exact invoice reference has its index from 0019.
create index entries_by_date on entries (entry_date, id);
