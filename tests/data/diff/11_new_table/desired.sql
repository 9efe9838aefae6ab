CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age int, status text DEFAULT 'new', legacy text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2), note text);
CREATE INDEX users_name_idx ON users (name);
CREATE TABLE items (
    id bigint PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders (id),
    sku varchar(20) NOT NULL,
    qty int NOT NULL DEFAULT 1
);
CREATE INDEX items_order_id_idx ON items (order_id);
