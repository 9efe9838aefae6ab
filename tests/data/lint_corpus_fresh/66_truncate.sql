-- truncate
TRUNCATE tags;
