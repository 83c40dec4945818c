-- What reports, exports, checks and imports read of an entry, as typed columns. Each is the
-- value of the same-named key of the entry's `details` (`refund_of` is `spend_entry_id`,
-- `vat_pence` is `vat` in pence), which stays as it was written: the hash chain covers
-- `details`, and `verify` holds every column to it (docs/controls.md, "Entry columns").
-- Null where the entry's details have no such value.
alter table entries add column project text;                -- the project an entry names
alter table entries add column supplier text;               -- who was paid (or refunds)
alter table entries add column invoice_ref text;            -- a spend's invoice reference
alter table entries add column reference text;              -- a refund's, commitment's or award's reference
alter table entries add column vat_pence integer;           -- VAT, in pence; null without VAT
alter table entries add column vat_recoverable integer check (vat_recoverable in (0, 1)); -- null without VAT
alter table entries add column refund_of integer references entries (id);    -- the spend a refund returns
alter table entries add column duplicate_of integer references entries (id); -- the entry a confirmed second invoice repeats

-- Existing entries: filled from their details, the only place JSON is read. The
-- append-only trigger is lifted for this one statement and restored as it was.
drop trigger entries_no_update;
update entries set
    project = case when json_type(details, '$.project') = 'text' then json_extract(details, '$.project') end,
    supplier = case when json_type(details, '$.supplier') = 'text' then json_extract(details, '$.supplier') end,
    invoice_ref = case when json_type(details, '$.invoice_ref') = 'text' then json_extract(details, '$.invoice_ref') end,
    reference = case when json_type(details, '$.reference') = 'text' then json_extract(details, '$.reference') end,
    vat_pence = case when json_type(details, '$.vat') = 'text'
                     then cast(round(cast(json_extract(details, '$.vat') as real) * 100) as integer) end,
    vat_recoverable = case json_type(details, '$.vat_recoverable') when 'true' then 1 when 'false' then 0 end,
    refund_of = case when json_type(details, '$.spend_entry_id') = 'integer'
                     then json_extract(details, '$.spend_entry_id') end,
    duplicate_of = case when json_type(details, '$.duplicate_of') = 'integer'
                        then json_extract(details, '$.duplicate_of') end;
create trigger entries_no_update before update on entries begin select raise(abort, 'entries are append-only'); end;

-- the refunds naming a spend; a supplier's entries; an invoice reference's entries
create index entries_refund_of on entries (refund_of);
create index entries_supplier on entries (supplier);
create index entries_invoice_ref on entries (invoice_ref);
