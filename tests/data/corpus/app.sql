-- An application schema with many objects outside its tables: views (over views too), SQL-standard and PL/pgSQL
-- functions, policies, a trigger, a materialized view, grants, and rows.
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text,
    score integer NOT NULL DEFAULT 0,
    legacy text,
    created_at timestamptz NOT NULL DEFAULT '2024-01-01'
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    total integer NOT NULL,
    status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped')),
    note varchar(200)
);
CREATE INDEX orders_user_idx ON orders (user_id);
CREATE INDEX orders_note_idx ON orders (note varchar_pattern_ops) WITH (fillfactor = 70);
CREATE TABLE audit (id bigserial PRIMARY KEY, what text NOT NULL, at timestamptz NOT NULL DEFAULT '2024-01-01');

CREATE VIEW active_users AS SELECT id, email, name, score FROM users WHERE score >= 0;
CREATE VIEW top_users AS SELECT id, email, score FROM active_users WHERE score > 100;
CREATE VIEW user_names AS SELECT id, name FROM users;
CREATE VIEW legacy_view AS SELECT id, legacy FROM users;
CREATE VIEW order_totals AS SELECT user_id, sum(total) AS total, count(*) AS orders FROM orders GROUP BY user_id;
CREATE VIEW order_notes AS SELECT id, note FROM orders WHERE note IS NOT NULL;
CREATE MATERIALIZED VIEW paid_totals AS SELECT user_id, sum(total) AS total FROM orders WHERE status = 'paid'
GROUP BY user_id;

CREATE FUNCTION score_of(p_id bigint) RETURNS integer LANGUAGE sql STABLE
BEGIN ATOMIC SELECT score FROM users WHERE id = p_id; END;
CREATE FUNCTION email_domain(e text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT split_part(e, '@', 2) $$;
CREATE FUNCTION orders_of(p_user bigint) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN RETURN (SELECT count(*) FROM orders WHERE user_id = p_user); END $$;
CREATE FUNCTION log_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit (what) VALUES ('order ' || NEW.id); RETURN NEW; END $$;
CREATE TRIGGER orders_audit AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION log_order();

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_visible ON users USING (score >= 0);
CREATE POLICY users_small ON users FOR UPDATE USING (true) WITH CHECK (score < 1000000);
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY orders_visible ON orders USING (status <> 'shipped' OR total > 0);

GRANT SELECT ON users, orders TO PUBLIC;
GRANT SELECT ON active_users TO PUBLIC;

-- rows
INSERT INTO users (email, name, score, legacy)
SELECT 'user' || g || '@example.org', 'User ' || g, g % 500, CASE WHEN g % 3 = 0 THEN 'old' || g END
FROM generate_series(1, 1000) g;
INSERT INTO orders (user_id, total, status, note)
SELECT 1 + g % 1000, g * 3, (ARRAY['new', 'paid', 'shipped'])[1 + g % 3], CASE WHEN g % 2 = 0 THEN 'note ' || g END
FROM generate_series(1, 2000) g;
REFRESH MATERIALIZED VIEW paid_totals;
