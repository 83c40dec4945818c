-- Controls an auditor expects: an audit trail of reference data, and four-eyes virements.

-- every change to reference data (funders, priorities, grants, awards, projects, tokens,
-- financial years, settings): who, when, and the record before and after; append-only
create table audit_log (
    id         bigint generated always as identity primary key,
    at         text not null,                            -- UTC, RFC 3339
    actor      text not null,                            -- the token's person, or 'fixtures' / 'configuration'
    action     text not null,                            -- create, update, close, reopen, revoke, ...
    entity     text not null,                            -- funder, priority, grant, award, project, token, financial_year, setting
    entity_key text not null,                            -- the code, id or 'grant/year' that names the record
    before_json text,                                    -- JSON of the record before; null on create
    after_json  text,                                     -- JSON of the record after; null on delete
    reason     text not null default ''                  -- required for some actions, e.g. reopening a year
);
-- the audit listing filters by entity and key, newest first
create index audit_log_entity on audit_log (entity, entity_key, id);

create trigger audit_log_append_only before update or delete on audit_log for each row execute function refuse_change();

-- virements: above the approval threshold a virement waits here, pending, until a second
-- approver posts or rejects it; below it the row records the virement posted at once
create table virements (
    id              bigint generated always as identity primary key,
    grant_code      text not null,
    financial_year  text not null,
    from_project    text not null references projects (code),
    to_project      text not null references projects (code),
    amount_pence    bigint not null check (amount_pence > 0),
    approved_on     text not null,                       -- the decision date given by the proposer
    approval_ref    text not null,
    reason          text not null,
    status          text not null check (status in ('pending', 'approved', 'rejected', 'posted')),
    proposed_by     text not null,                       -- the proposer's person name
    proposed_at     text not null,
    decided_by      text,                                -- the second approver, never the proposer
    decided_at      text,
    decision_reason text not null default '',
    entry_id        bigint references entries (id),     -- set when posted
    foreign key (grant_code, financial_year) references awards (grant_code, financial_year),
    check (decided_by is null or decided_by <> proposed_by)
);
-- pending virements are listed and block closing their year
create index virements_status on virements (status, financial_year);
