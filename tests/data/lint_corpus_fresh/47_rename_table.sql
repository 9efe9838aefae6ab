-- rename table
ALTER TABLE tags RENAME TO labels;
