-- archive 2025: detach without blocking writers, then keep the table for the exporter
ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY;
ALTER TABLE events_2025 RENAME TO events_2025_archive;
