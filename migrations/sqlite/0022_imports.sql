-- Imports from the page (docs/interchange.md, "Imports with an id"): the uploaded file, the
-- layout it is read by and its line-by-line outcome, kept under an id from the dry run on.
-- Confirming runs the import again on these bytes; reversing reverses every entry it made.
-- Every write is audited (entity `import`); the other backend's twin is numbered alike.
create table imports (
    id             integer primary key,
    mapping        text not null,          -- the layout the file is read by (a mapping preset)
    file           blob not null,          -- the bytes uploaded
    file_sha256    text not null,          -- of file, lower-case hex
    outcome        text not null,          -- the latest run's line-by-line outcome, JSON
    created_by     text not null,
    created_at     text not null,          -- RFC 3339 UTC
    confirmed_by   text,                   -- set once, with confirmed_at, when its entries are recorded
    confirmed_at   text,
    reversed_by    text,                   -- set once, with reversed_at and reverse_reason
    reversed_at    text,
    reverse_reason text,
    check ((confirmed_by is null) = (confirmed_at is null)),
    check ((reversed_at is null) or (confirmed_at is not null))
);

-- The import an entry was made by: a value of its details (`import_id`), as the columns of
-- 0019 are, so the hash chain covers it and `verify` holds the column to it. Entries written
-- before it have none.
alter table entries add column import_id integer references imports (id);
create index entries_import on entries (import_id);
