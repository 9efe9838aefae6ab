--liquibase formatted sql

--changeset bob:36 labels:inventory
CREATE TABLE warehouses (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code varchar(8) NOT NULL UNIQUE,
    name text NOT NULL,
    zip us_zip
);
COMMENT ON TABLE warehouses IS 'Physical stock locations';
COMMENT ON COLUMN warehouses.code IS 'Short code printed on labels';
--rollback DROP TABLE warehouses;
