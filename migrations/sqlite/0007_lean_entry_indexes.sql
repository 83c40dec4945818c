-- Import speed: every imported line pays for each index on entries, so each index must earn
-- its keep.
--
-- entries_award_date (grant, year, date) served no query: listings filter with optional
-- parameters and walk the primary key, verify orders by id within award, and the
-- transparency export ranges over dates across grants. The one lookup by award, the award
-- entry itself, gets a partial index that only award entries pay for.
drop index entries_award_date;
create index entries_award_entry on entries (grant_code, financial_year) where kind = 'award';

-- Only commitment, spend-against-commitment and release entries carry a commitment; the
-- lookups are all `commitment_id = ?`, which a partial index answers. Plain spends from an
-- import no longer add a null key each.
drop index entries_commitment;
create index entries_commitment on entries (commitment_id) where commitment_id is not null;
