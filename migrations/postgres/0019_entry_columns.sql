-- What reports, exports, checks and imports read of an entry, as typed columns. Each is the
-- value of the same-named key of the entry's `details` (`refund_of` is `spend_entry_id`,
-- `vat_pence` is `vat` in pence), which stays as it was written: the hash chain covers
-- `details`, and `verify` holds every column to it (docs/controls.md, "Entry columns").
-- Null where the entry's details have no such value.
alter table entries add column project text;                -- the project an entry names
alter table entries add column supplier text;               -- who was paid (or refunds)
alter table entries add column invoice_ref text;            -- a spend's invoice reference
alter table entries add column reference text;              -- a refund's, commitment's or award's reference
alter table entries add column vat_pence bigint;            -- VAT, in pence; null without VAT
alter table entries add column vat_recoverable integer check (vat_recoverable in (0, 1)); -- null without VAT
alter table entries add column refund_of bigint references entries (id);    -- the spend a refund returns
alter table entries add column duplicate_of bigint references entries (id); -- the entry a confirmed second invoice repeats

-- Existing entries: filled from their details, the only place JSON is read. The
-- append-only trigger is lifted for this one statement and restored as it was.
drop trigger entries_append_only on entries;
update entries set
    project = case when jsonb_typeof(details::jsonb -> 'project') = 'string' then details::jsonb ->> 'project' end,
    supplier = case when jsonb_typeof(details::jsonb -> 'supplier') = 'string' then details::jsonb ->> 'supplier' end,
    invoice_ref = case when jsonb_typeof(details::jsonb -> 'invoice_ref') = 'string'
                       then details::jsonb ->> 'invoice_ref' end,
    reference = case when jsonb_typeof(details::jsonb -> 'reference') = 'string' then details::jsonb ->> 'reference' end,
    vat_pence = case when jsonb_typeof(details::jsonb -> 'vat') = 'string'
                     then round((details::jsonb ->> 'vat')::numeric * 100)::bigint end,
    vat_recoverable = case details::jsonb -> 'vat_recoverable' when 'true'::jsonb then 1 when 'false'::jsonb then 0 end,
    refund_of = case when jsonb_typeof(details::jsonb -> 'spend_entry_id') = 'number'
                     then (details::jsonb ->> 'spend_entry_id')::bigint end,
    duplicate_of = case when jsonb_typeof(details::jsonb -> 'duplicate_of') = 'number'
                        then (details::jsonb ->> 'duplicate_of')::bigint end;
create trigger entries_append_only before update or delete on entries for each row execute function refuse_change();

-- the refunds naming a spend; a supplier's entries; an invoice reference's entries
create index entries_refund_of on entries (refund_of);
create index entries_supplier on entries (supplier);
create index entries_invoice_ref on entries (invoice_ref);
