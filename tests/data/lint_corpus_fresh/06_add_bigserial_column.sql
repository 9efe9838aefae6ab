-- add bigserial column
ALTER TABLE tags ADD COLUMN position bigserial;
