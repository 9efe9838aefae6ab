BEGIN;

-- Running upgrade 7c2e9a41d0b3 -> 3a9c0e7b5d12

CREATE TABLE ticket_links (
    id SERIAL NOT NULL, 
    source_ticket_id BIGINT NOT NULL, 
    target_ticket_id BIGINT NOT NULL, 
    kind VARCHAR(20) NOT NULL, 
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(source_ticket_id) REFERENCES tickets (id) ON DELETE CASCADE, 
    FOREIGN KEY(target_ticket_id) REFERENCES tickets (id) ON DELETE CASCADE, 
    UNIQUE (source_ticket_id, target_ticket_id, kind)
);

CREATE INDEX ix_ticket_links_target_ticket_id ON ticket_links (target_ticket_id);

UPDATE alembic_version SET version_num='3a9c0e7b5d12' WHERE alembic_version.version_num = '7c2e9a41d0b3';

COMMIT;
