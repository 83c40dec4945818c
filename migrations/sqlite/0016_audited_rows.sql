-- Every record the ledger trusts is held by `verify` to its history. From here on virements,
-- forecasts, indicator returns and sign-ins are written with an audit record, and a token's
-- audit record holds its secret's SHA-256 (never the secret). Rows written before this are
-- recorded once, as they stand, by the ledger when it next opens (`storage::upgrade`), in
-- the same chained trail. The other backend's twin is numbered alike.

-- A session row now needs the audit record of the sign-in that made it, and none written
-- before this has one: every browser signs in again. (Sessions last 12 hours at most.)
delete from sessions;
