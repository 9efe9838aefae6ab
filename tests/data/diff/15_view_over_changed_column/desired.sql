-- the view reads age, whose type widens: liveshift's plan carries the view through the change
CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age bigint, status text DEFAULT 'new', legacy text);
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2), note text);
CREATE INDEX users_name_idx ON users (name);
CREATE VIEW adults AS SELECT id, email, age FROM users WHERE age >= 18;
