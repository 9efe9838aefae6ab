-- a nullable column, and a NOT NULL column with a default (existing rows get it: nothing to review)
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age int, status text DEFAULT 'new', legacy text,
                    nickname text, score bigint NOT NULL DEFAULT 0);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2), note text);
CREATE INDEX users_name_idx ON users (name);
