-- Delivery partners: the organisations that receive the partnership's money (issue 13,
-- item 2). Reference data, audited as entity 'organisation'. Identifiers are checked for
-- shape by the API (domain::org); '' where not known.
create table organisations (
    code           text primary key,
    name           text not null,
    kind           text not null check (kind in ('vcse', 'public', 'private')),
    charity_number text not null default '',
    company_number text not null default '',
    org_id         text not null default '',                   -- org-id.guide, e.g. GB-CHC-1234567
    postcode       text not null default '',
    created_at     text not null,
    updated_at     text not null
);
