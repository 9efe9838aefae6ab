-- ops/2026-11-17-ledger-entries-account-index.sql
-- run with: psql "$LEDGER_DSN" -f ops/2026-11-17-ledger-entries-account-index.sql
\set ON_ERROR_STOP on
SET lock_timeout = '3s';

-- the parent's index first, invalid until every partition's index is attached
CREATE INDEX IF NOT EXISTS ledger_entries_account_posted_idx ON ONLY ledger_entries (account_id, posted_at);

CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_entries_2026_09_account_posted_idx ON ledger_entries_2026_09 (account_id, posted_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_entries_2026_10_account_posted_idx ON ledger_entries_2026_10 (account_id, posted_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_entries_2026_11_account_posted_idx ON ledger_entries_2026_11 (account_id, posted_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS ledger_entries_2026_12_account_posted_idx ON ledger_entries_2026_12 (account_id, posted_at);

ALTER INDEX ledger_entries_account_posted_idx ATTACH PARTITION ledger_entries_2026_09_account_posted_idx;
ALTER INDEX ledger_entries_account_posted_idx ATTACH PARTITION ledger_entries_2026_10_account_posted_idx;
ALTER INDEX ledger_entries_account_posted_idx ATTACH PARTITION ledger_entries_2026_11_account_posted_idx;
ALTER INDEX ledger_entries_account_posted_idx ATTACH PARTITION ledger_entries_2026_12_account_posted_idx;

\echo 'ledger_entries_account_posted_idx is valid now'
