CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age int, status text DEFAULT 'new', legacy text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2) CONSTRAINT orders_total_check CHECK (total >= 0), note text);
CREATE INDEX users_name_idx ON users (name);
