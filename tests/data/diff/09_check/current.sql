CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name varchar(20), age int, status text DEFAULT 'new', legacy text);
INSERT INTO users SELECT g, 'u' || g || '@x.org', 'user ' || g, g % 90, 'new', 'l' FROM generate_series(1, 200) g;
CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint, total numeric(10,2), note text);
INSERT INTO orders SELECT g, g, g, 'n' || g FROM generate_series(1, 200) g;
CREATE INDEX users_name_idx ON users (name);
