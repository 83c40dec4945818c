-- Tamper evidence, second version: every stored field hashed, an optional keyed chain, and
-- a chain over the audit trail. The other backend's twin is numbered alike.

-- how the entry's hash was made, so each link is recomputed the way it was written:
-- 1 = SHA-256 over the v1 content (every entry written before this migration; posting
-- dates and lines were not covered), 2 = SHA-256 over every stored field of the entry and
-- its postings, 3 = the same as 2 keyed with HMAC-SHA256 by the chain key
alter table entries add column hash_version integer not null default 1;

-- a MAC with the chain key over the award's head_hash ('' when written without a key):
-- with a key set, verify requires it, so a chain rebuilt without the key cannot pass
alter table awards add column head_seal text not null default '';

-- the audit trail's own chain, as entries have theirs
alter table audit_log add column prev_hash text not null default '';      -- the previous chained record's hash; '' for the first
alter table audit_log add column hash text not null default '';           -- this record's link
alter table audit_log add column hash_version integer not null default 0;  -- 0 = written before this migration, not chained; 1 = SHA-256; 2 = HMAC-SHA256 with the chain key

-- the head of the audit chain, one row: every audit record updates it first, which takes
-- its lock, so two db_txs never chain onto the same record
create table audit_head (
    id        integer primary key check (id = 1),  -- one row only
    hash      text not null,                        -- the newest chained record's hash
    head_seal text not null default '',             -- MAC with the chain key over hash; '' without a key
    write_seq integer not null default 0             -- bumped first thing, to take the row's lock
);
insert into audit_head (id, hash) values (1, '');

-- (PostgreSQL's twin lets inserts give an entry's id, which is hashed; SQLite always has.)
