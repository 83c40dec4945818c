-- Grant agreements (issue 13, item 2). A commitment is a purchase order or a grant agreement
-- with a delivery partner. An agreement may run across financial years: its schedule gives
-- each year's part, and each part is committed in that year's award by a commitment entry of
-- that year carrying the agreement's id. A part with no such entry still waits for its award.
-- The commitment row holds the first part's year and the agreement's whole amount; the terms
-- are also in the first commitment entry's details, so the hash chain vouches for them.
alter table commitments add column kind text not null default 'purchase_order'
    check (kind in ('purchase_order', 'grant_agreement'));
alter table commitments add column recipient text references organisations (code);   -- agreements only
alter table commitments add column start_date text;                                   -- agreements only
alter table commitments add column end_date text;                                     -- agreements only
alter table commitments add column purpose text not null default '';

-- each year's part of an agreement; written once with the agreement
create table agreement_parts (
    commitment_id  bigint not null references commitments (id),
    financial_year text not null,
    amount_pence   bigint not null check (amount_pence > 0),
    primary key (commitment_id, financial_year)
);

-- the partner's evidence of spend against an agreement: append-only, audited
create table agreement_evidence (
    id               bigint generated always as identity primary key,
    commitment_id    bigint not null references commitments (id),
    evidence_date    text not null,
    amount_pence     bigint not null check (amount_pence >= 0),
    status           text not null check (status in ('satisfactory', 'partial', 'none')),
    note             text not null default '',
    created_by       text not null,
    created_at       text not null
);
create index agreement_evidence_commitment on agreement_evidence (commitment_id);

-- commitments are written once: what a spend draws on must not move under it
create trigger commitments_append_only before update or delete on commitments for each row execute function refuse_change();
create trigger agreement_parts_append_only before update or delete on agreement_parts for each row execute function refuse_change();
create trigger agreement_evidence_append_only before update or delete on agreement_evidence for each row execute function refuse_change();
