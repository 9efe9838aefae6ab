-- type int to bigint
ALTER TABLE accounts ALTER COLUMN age TYPE bigint;
