ALTER TABLE comments ALTER COLUMN content SET STORAGE EXTERNAL;
ALTER TABLE comments SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02);
