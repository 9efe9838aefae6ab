-- every product gets a code from a new sequence
CREATE SEQUENCE product_code_seq;
ALTER TABLE products ADD COLUMN code bigint DEFAULT nextval('product_code_seq');
