BEGIN;

-- Running upgrade a41c7e2d9b10 -> 7e0a3b4c5d6f

CREATE TABLE driver_documents (
    id BIGSERIAL NOT NULL, 
    driver_id BIGINT NOT NULL, 
    kind VARCHAR(30) NOT NULL, 
    storage_key TEXT NOT NULL, 
    expires_on DATE, 
    uploaded_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
    PRIMARY KEY (id), 
    FOREIGN KEY(driver_id) REFERENCES drivers (id) ON DELETE CASCADE
);

CREATE INDEX ix_driver_documents_driver_id ON driver_documents (driver_id);

UPDATE alembic_version SET version_num='7e0a3b4c5d6f' WHERE alembic_version.version_num = 'a41c7e2d9b10';

COMMIT;
