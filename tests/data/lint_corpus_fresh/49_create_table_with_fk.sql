-- create table with fk
CREATE TABLE payments (id bigserial PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), amount numeric(10,2) NOT NULL);
CREATE INDEX payments_order_idx ON payments (order_id);
