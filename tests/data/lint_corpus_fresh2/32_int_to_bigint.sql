ALTER TABLE comments ALTER COLUMN post_id TYPE bigint;
