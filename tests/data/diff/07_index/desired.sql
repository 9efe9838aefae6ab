CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age int, status text DEFAULT 'new', legacy text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2), note text);
CREATE INDEX users_adult_age_idx ON users (age) WHERE age >= 18;
CREATE INDEX orders_user_id_idx ON orders USING hash (user_id);
