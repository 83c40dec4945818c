-- Locked quarters: once a quarter's return is filed, an admin may lock the quarter so no
-- entry dated in it is recorded any more; a correction goes into an open quarter, where the
-- next return shows it. One row per quarter ever locked, holding its current state; every
-- lock and unlock is also in the audit trail (entity 'quarter'). A quarter without a row is
-- open. (Numbered 0011: 0009 and 0010 are taken by other work on the same issue.)
create table quarter_locks (
    financial_year text not null references financial_years (code),
    quarter        integer not null check (quarter between 1 and 4),  -- 1 = April to June
    locked         integer not null check (locked in (0, 1)),         -- 1 = entries dated in it are refused
    reason         text not null,                                      -- why it was last locked or unlocked
    changed_by     text not null,                                      -- the token's name
    changed_at     text not null,                                      -- RFC 3339 UTC, taken under every award lock of the year
    primary key (financial_year, quarter)
);
