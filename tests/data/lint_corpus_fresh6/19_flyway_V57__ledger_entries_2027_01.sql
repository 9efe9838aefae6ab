-- V57__ledger_entries_2027_01.sql
-- next month's ledger partition, created ahead by the monthly release
CREATE TABLE ledger_entries_2027_01 PARTITION OF ledger_entries
    FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');

ALTER TYPE transfer_status ADD VALUE IF NOT EXISTS 'on_hold' AFTER 'processing';
