-- Controls an auditor expects: the tamper-evident chain of entries.

-- hash of the previous entry of the same award ('' for the first), and of this entry's
-- content with that previous hash; set once at insert, checked by `verify`
alter table entries add column prev_hash text not null default '';
alter table entries add column hash text not null default '';

-- the hash of the newest entry of the award: catches the removal of the last entry,
-- which leaves the rest of the chain consistent
alter table awards add column head_hash text not null default '';
