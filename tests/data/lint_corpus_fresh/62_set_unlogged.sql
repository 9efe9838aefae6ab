-- set unlogged
ALTER TABLE sessions SET UNLOGGED;
