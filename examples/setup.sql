-- The tables the example migrations run against (`psql -f examples/setup.sql`).
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    name text
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    total_cents integer NOT NULL
);
INSERT INTO users (email, name) SELECT 'User' || g || '@Example.com', 'user ' || g FROM generate_series(1, 1000) g;
INSERT INTO orders (user_id, total_cents) SELECT 1 + g % 1000, g * 7 FROM generate_series(1, 2000) g;
