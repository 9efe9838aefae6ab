--liquibase formatted sql
--changeset dave:37
ALTER TABLE accounts ALTER COLUMN status TYPE integer;
--rollback ALTER TABLE accounts ALTER COLUMN status TYPE smallint;
