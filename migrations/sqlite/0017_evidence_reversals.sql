-- Partners' evidence recorded in error is corrected by a reversal that names it, with a
-- reason (DESIGN.md rule 10): the evidence row is never edited, and once reversed it no
-- longer counts as evidenced. Each reversal is also an audit record (entity
-- `evidence_reversal`), whose chain verify holds every row to.
create table evidence_reversals (
    evidence_id   integer primary key references agreement_evidence (id), -- the evidence reversed; the key: reversed at most once
    commitment_id integer not null references commitments (id),          -- its agreement, so the agreement's view reads its reversals
    reversal_date text not null,                                         -- when it was corrected; never before the evidence's date
    reason        text not null check (reason <> ''),                    -- why it was recorded in error, shown beside it
    created_by    text not null,                                         -- who reversed it
    created_at    text not null                                          -- when, RFC 3339 UTC
);
-- an agreement's view and its figures read the reversals of its evidence
create index evidence_reversals_commitment on evidence_reversals (commitment_id);

-- a reversal is written once, like the evidence it names
create trigger evidence_reversals_no_update before update on evidence_reversals begin select raise(abort, 'evidence reversals are append-only'); end;
create trigger evidence_reversals_no_delete before delete on evidence_reversals begin select raise(abort, 'evidence reversals are append-only'); end;
