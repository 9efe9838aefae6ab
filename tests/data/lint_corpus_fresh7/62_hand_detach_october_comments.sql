\set ON_ERROR_STOP on
-- archive October's comments: detach the partition and keep it under an archive name until the export is checked
-- (DETACH ... CONCURRENTLY is refused while ticket_comments has a DEFAULT partition)
BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE ticket_comments DETACH PARTITION ticket_comments_2026_10;
ALTER TABLE ticket_comments_2026_10 RENAME TO ticket_comments_archive_2026_10;
REVOKE INSERT, UPDATE, DELETE ON ticket_comments_archive_2026_10 FROM helpdesk_app;
COMMIT;
