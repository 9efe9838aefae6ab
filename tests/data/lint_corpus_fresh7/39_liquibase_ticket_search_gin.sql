--liquibase formatted sql

--changeset search-team:ticket-search-gin
--preconditions onFail:MARK_RAN
--precondition-sql-check expectedResult:0 SELECT count(*) FROM pg_indexes WHERE indexname = 'ticket_search_document_idx'
CREATE INDEX ticket_search_document_idx ON ticket_search USING gin (document);
--rollback DROP INDEX ticket_search_document_idx;
