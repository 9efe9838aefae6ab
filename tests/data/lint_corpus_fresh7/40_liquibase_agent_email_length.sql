--liquibase formatted sql

--changeset aliu:agents-email-320
--comment: RFC 5321 allows 320 characters
ALTER TABLE agents ALTER COLUMN email TYPE VARCHAR(320);
--rollback ALTER TABLE agents ALTER COLUMN email TYPE VARCHAR(255);
