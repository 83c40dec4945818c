-- Forecasts and indicator returns recorded in error (DESIGN.md rule 10): never edited, a
-- later one for the quarter supersedes, or a withdrawal names one with a reason. The
-- withdrawn record stays and is listed with its withdrawal; it counts in no report known
-- at or after `withdrawn_at`, and in every report known before.

-- an officer's forecast withdrawn, at most once
create table forecast_withdrawals (
    id               integer primary key,
    forecast_id      integer not null unique references forecasts (id), -- unique: withdrawn at most once
    reason           text not null check (length(reason) > 0),          -- why: shown beside the forecast
    withdrawn_by     text not null,                                     -- the token's name
    withdrawn_at     text not null                                      -- RFC 3339 UTC to the microsecond ("as known at")
);

-- an indicator return withdrawn, at most once
create table indicator_return_withdrawals (
    id                   integer primary key,
    indicator_return_id  integer not null unique references indicator_returns (id), -- unique: withdrawn at most once
    reason               text not null check (length(reason) > 0),      -- why: shown beside the return
    withdrawn_by         text not null,                                 -- the token's name
    withdrawn_at         text not null                                  -- RFC 3339 UTC to the microsecond ("as known at")
);

-- withdrawals are never updated or deleted, like what they withdraw
create trigger forecast_withdrawals_no_update before update on forecast_withdrawals begin select raise(abort, 'forecast withdrawals are append-only'); end;
create trigger forecast_withdrawals_no_delete before delete on forecast_withdrawals begin select raise(abort, 'forecast withdrawals are append-only'); end;
create trigger indicator_return_withdrawals_no_update before update on indicator_return_withdrawals begin select raise(abort, 'indicator return withdrawals are append-only'); end;
create trigger indicator_return_withdrawals_no_delete before delete on indicator_return_withdrawals begin select raise(abort, 'indicator return withdrawals are append-only'); end;
