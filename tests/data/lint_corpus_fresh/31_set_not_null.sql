-- set not null
ALTER TABLE accounts ALTER COLUMN name SET NOT NULL;
