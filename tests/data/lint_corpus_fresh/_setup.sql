-- the application schema every file of this corpus migrates (run committed, in a schema of its own, with rows)
CREATE TABLE accounts (id bigserial PRIMARY KEY, email varchar(120) NOT NULL, name text, plan text DEFAULT 'free',
                       created_at timestamp NOT NULL DEFAULT now(), balance numeric(12,2) DEFAULT 0, age int,
                       legacy_flag boolean, country char(2));
CREATE TABLE orders (id bigserial PRIMARY KEY, account_id bigint NOT NULL, status varchar(20) NOT NULL DEFAULT 'new',
                     total numeric(10,2), placed_at timestamptz DEFAULT now(), note text, coupon text);
CREATE TABLE order_items (id bigserial PRIMARY KEY, order_id bigint NOT NULL, sku varchar(40), qty int NOT NULL DEFAULT 1,
                          price numeric(10,2));
CREATE TABLE events (id bigint, at date NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE TABLE events_2025 (id bigint, at date NOT NULL, kind text);
CREATE TABLE tags (id serial PRIMARY KEY, label text);
CREATE TABLE sessions (token text, account_id bigint, expires_at timestamptz);
CREATE INDEX orders_account_idx ON orders (account_id);
CREATE INDEX accounts_email_idx ON accounts (email);
CREATE UNIQUE INDEX sessions_token_idx ON sessions (token);
CREATE MATERIALIZED VIEW order_totals AS SELECT account_id, sum(total) AS total FROM orders GROUP BY account_id;
CREATE UNIQUE INDEX order_totals_account ON order_totals (account_id);
CREATE VIEW active_accounts AS SELECT id, email FROM accounts WHERE plan <> 'closed';
ALTER TABLE order_items ADD CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
INSERT INTO accounts (email, name, age, country) SELECT 'a' || g || '@x.org', 'n' || g, 20 + g % 50, 'FR' FROM generate_series(1, 100) g;
INSERT INTO orders (account_id, total) SELECT g, g FROM generate_series(1, 100) g;
INSERT INTO order_items (order_id, sku, price) SELECT g, 's' || g, g FROM generate_series(1, 100) g;
INSERT INTO events VALUES (1, '2024-03-01', 'a'), (2, '2026-01-01', 'b');
INSERT INTO events_2025 VALUES (3, '2025-02-01', 'c');
INSERT INTO tags (label) SELECT 't' || g FROM generate_series(1, 20) g;
INSERT INTO sessions SELECT 'tok' || g, g, now() FROM generate_series(1, 50) g;
