-- V58__attach_webhook_deliveries_2027_01.sql
-- January's deliveries were written to a staging table while the partition job was down
ALTER TABLE webhook_deliveries_2027_01
    ADD CONSTRAINT webhook_deliveries_2027_01_range
    CHECK (created_at >= '2027-01-01' AND created_at < '2027-02-01');

ALTER TABLE webhook_deliveries ATTACH PARTITION webhook_deliveries_2027_01
    FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');

ALTER TABLE webhook_deliveries_2027_01 DROP CONSTRAINT webhook_deliveries_2027_01_range;
