CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age int, status text DEFAULT 'new');
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2), note text);
CREATE INDEX users_name_idx ON users (name);
