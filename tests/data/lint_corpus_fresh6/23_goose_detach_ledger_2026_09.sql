-- 20261201060000_archive_ledger_2026_09.sql
-- +goose NO TRANSACTION
-- +goose Up
ALTER TABLE ledger_entries DETACH PARTITION ledger_entries_2026_09 CONCURRENTLY;
ALTER TABLE ledger_entries_2026_09 RENAME TO ledger_entries_2026_09_archived;

-- +goose Down
-- irreversible: the archived month is re-attached by hand (runbook LEDGER-7) if it is ever needed
SELECT 'down migration not supported';
