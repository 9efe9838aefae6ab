-- drop table
DROP TABLE sessions;
