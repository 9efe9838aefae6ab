-- the application schema every file of this third corpus migrates (run committed, with rows, in the schema the
-- files name as `public`): a small shop with organizations, accounts, orders and shipments, written before
-- reading lint's rules or the other corpora's files, as a Rails/Django/Alembic/Prisma/Flyway project leaves it
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reporting') THEN CREATE ROLE reporting NOLOGIN; END IF;
END $$;
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE DOMAIN us_zip AS text CHECK (VALUE ~ '^[0-9]{5}$');
CREATE SEQUENCE order_ref_seq START 1000;
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
CREATE TABLE organizations (id bigserial PRIMARY KEY, name varchar(120) NOT NULL, slug varchar(60) NOT NULL,
                            plan text DEFAULT 'free', created_at timestamp NOT NULL DEFAULT now());
CREATE UNIQUE INDEX organizations_slug_key ON organizations (slug);
CREATE TABLE accounts (id serial PRIMARY KEY, organization_id bigint REFERENCES organizations (id),
                       email varchar(255) NOT NULL, full_name varchar(100), phone varchar(20), status smallint DEFAULT 0,
                       balance numeric(12,2) DEFAULT 0, settings json, created_at timestamptz NOT NULL DEFAULT now(),
                       updated_at timestamptz);
CREATE TABLE addresses (id serial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                        line1 text, city varchar(80), zip us_zip, country char(2) DEFAULT 'US');
CREATE TABLE products (id serial PRIMARY KEY, sku varchar(32) NOT NULL, title varchar(200) NOT NULL, description text,
                       price_cents integer NOT NULL, weight_grams int, tags text[], active boolean NOT NULL DEFAULT true);
CREATE TABLE orders (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts (id),
                     ref bigint DEFAULT nextval('order_ref_seq'), status order_status NOT NULL DEFAULT 'pending',
                     total_cents integer, currency varchar(3) DEFAULT 'USD', note text, placed_at timestamp,
                     shipped_at timestamp);
CREATE INDEX orders_account_id_idx ON orders (account_id);
CREATE TABLE order_items (id bigserial PRIMARY KEY, order_id bigint NOT NULL, product_id int NOT NULL,
                          quantity int NOT NULL DEFAULT 1, unit_price_cents int);
CREATE TABLE "LegacyCustomers" ("Id" int PRIMARY KEY, "FullName" text, "EmailAddress" text);
CREATE TABLE "Subscription" ("id" TEXT NOT NULL, "accountId" INTEGER NOT NULL, "plan" TEXT NOT NULL,
                             "legacyPlan" TEXT, "seats" INTEGER NOT NULL DEFAULT 1,
                             "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
                             CONSTRAINT "Subscription_pkey" PRIMARY KEY ("id"));
CREATE TABLE sessions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), account_id int, token text,
                       expires_at timestamptz);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE TABLE feature_flags (key text PRIMARY KEY, enabled boolean, rollout int);
CREATE TABLE audit_log (id bigserial, table_name text, row_id bigint, changed_at timestamptz DEFAULT now(), diff jsonb);
CREATE TABLE inventory (warehouse_id int NOT NULL, product_id int NOT NULL, qty int NOT NULL DEFAULT 0,
                        PRIMARY KEY (warehouse_id, product_id));
CREATE TABLE events (id bigint NOT NULL, kind text NOT NULL, payload jsonb, occurred_at timestamptz NOT NULL)
    PARTITION BY RANGE (occurred_at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027_staging (id bigint NOT NULL, kind text NOT NULL, payload jsonb, occurred_at timestamptz NOT NULL);
CREATE TABLE notifications (id bigint, channel text NOT NULL, body text) PARTITION BY LIST (channel);
CREATE TABLE notifications_email PARTITION OF notifications FOR VALUES IN ('email');
CREATE TABLE notifications_default PARTITION OF notifications DEFAULT;
CREATE TABLE notifications_sms_staging (id bigint, channel text NOT NULL, body text);
CREATE VIEW active_products AS SELECT id, sku, title, price_cents FROM products WHERE active;
CREATE MATERIALIZED VIEW daily_sales AS SELECT placed_at::date AS day, sum(total_cents) AS cents FROM orders GROUP BY 1;
CREATE UNIQUE INDEX daily_sales_day ON daily_sales (day);
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at = now(); RETURN NEW; END$$;
CREATE TRIGGER accounts_set_updated_at BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
INSERT INTO schema_migrations VALUES ('20250101000000'), ('20250201000000');
INSERT INTO alembic_version VALUES ('1a2b3c4d5e6f');
INSERT INTO organizations (name, slug) SELECT 'Org ' || g, 'org-' || g FROM generate_series(1, 10) g;
INSERT INTO accounts (organization_id, email, full_name, phone, status, balance, settings)
    SELECT g % 10 + 1, 'user' || g || '@example.com', 'User ' || g, '555-01' || g, g % 2, g * 1.5, '{"theme": "dark"}'
    FROM generate_series(1, 100) g;
INSERT INTO addresses (account_id, line1, city, zip) SELECT g, g || ' Main St', 'Springfield', lpad(g::text, 5, '0')
    FROM generate_series(1, 100) g;
INSERT INTO products (sku, title, description, price_cents, weight_grams, tags)
    SELECT 'SKU-' || g, 'Product ' || g, 'A fine product', g * 100, g * 10, ARRAY['new'] FROM generate_series(1, 100) g;
INSERT INTO orders (account_id, status, total_cents, currency, note, placed_at, shipped_at)
    SELECT g, (ARRAY['pending', 'paid', 'shipped', 'cancelled'])[g % 4 + 1]::order_status, g * 250,
           CASE WHEN g % 3 = 0 THEN NULL ELSE 'USD' END, NULL, now() - g * interval '1 day',
           CASE WHEN g % 4 = 2 THEN now() - g * interval '12 hours' END
    FROM generate_series(1, 100) g;
INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
    SELECT g % 100 + 1, g % 100 + 1, g % 3 + 1, g * 10 FROM generate_series(1, 200) g;
INSERT INTO "LegacyCustomers" SELECT g, 'Customer ' || g, 'c' || g || '@legacy.example' FROM generate_series(1, 20) g;
INSERT INTO "Subscription" ("id", "accountId", "plan", "legacyPlan", "seats")
    SELECT 'sub_' || g, g, 'pro', 'gold', g % 5 + 1 FROM generate_series(1, 30) g;
INSERT INTO sessions (account_id, token, expires_at)
    SELECT g, md5(g::text), now() + (g - 50) * interval '1 hour' FROM generate_series(1, 100) g;
INSERT INTO feature_flags VALUES ('checkout_v2', true, 50), ('dark_mode', false, NULL), ('gift_cards', true, NULL);
INSERT INTO audit_log (table_name, row_id, diff) SELECT 'accounts', g, '{}' FROM generate_series(1, 50) g;
INSERT INTO inventory SELECT g % 3 + 1, g, g * 2 FROM generate_series(1, 100) g;
INSERT INTO events SELECT g, 'page_view', '{}', '2025-03-01'::timestamptz + g * interval '5 days' FROM generate_series(1, 100) g;
INSERT INTO events_2027_staging SELECT g, 'page_view', '{}', '2027-02-01'::timestamptz + g * interval '1 day'
    FROM generate_series(1, 10) g;
INSERT INTO notifications VALUES (1, 'email', 'hi'), (2, 'push', 'yo'), (3, 'webhook', 'ping');
INSERT INTO notifications_sms_staging VALUES (4, 'sms', 'code 1234'), (5, 'sms', 'code 5678');
REFRESH MATERIALIZED VIEW daily_sales;
