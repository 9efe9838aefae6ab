ALTER TABLE comments ALTER COLUMN content TYPE varchar(500);
