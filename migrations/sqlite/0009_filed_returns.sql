-- Filed returns: what was sent to a funder, byte for byte, with who filed it, when, and the
-- ledger position it was generated at. Append-only, like entries. The other backend's twin
-- is numbered alike.
create table filed_returns (
    id             integer primary key,
    kind           text not null check (kind in ('commissioner-return', 'monitoring-return')),
    financial_year text not null references financial_years (code),
    quarter        integer not null check (quarter between 1 and 4),
    filed_at       text not null,          -- UTC, RFC 3339 to the microsecond
    filed_by       text not null,          -- the token's person
    file_name      text not null,          -- as the download names it
    content_type   text not null,
    body           blob not null,          -- the exact bytes sent
    sha256         text not null,          -- of body, lower-case hex
    anchors        text not null           -- the ledger position: one anchor line per chain head (domain::anchor)
);
create index filed_returns_year on filed_returns (financial_year, kind, id);
create trigger filed_returns_no_update before update on filed_returns begin select raise(abort, 'filed returns are append-only'); end;
create trigger filed_returns_no_delete before delete on filed_returns begin select raise(abort, 'filed returns are append-only'); end;
