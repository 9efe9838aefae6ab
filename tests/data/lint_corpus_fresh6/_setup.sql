-- the application schema every file of this sixth corpus migrates (run committed, with rows, in the schema the
-- files name as `public`): a fintech ledger and payments app (customers, accounts, a partitioned ledger, transfers,
-- cards, merchants, payouts, KYC documents, webhooks, idempotency keys), written blind, before reading lint's code
-- or the other corpora's migration files, as a project that went through Rails, Django, Alembic, Prisma, Knex and
-- TypeORM leaves it
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledger_app') THEN CREATE ROLE ledger_app NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ledger_readonly') THEN CREATE ROLE ledger_readonly NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'support_agent') THEN CREATE ROLE support_agent NOLOGIN; END IF;
END $$;
CREATE TYPE transfer_status AS ENUM ('pending', 'processing', 'settled', 'failed', 'reversed');
CREATE DOMAIN currency_code AS char(3);
CREATE SEQUENCE payout_reference_seq START 100000;
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
CREATE TABLE customers (id bigserial PRIMARY KEY, email varchar(255) NOT NULL, full_name varchar(120), country char(2),
                        legacy_ssn_last4 char(4), risk_level varchar(10) DEFAULT 'low',
                        created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp);
CREATE UNIQUE INDEX index_customers_on_email ON customers (email);
CREATE TABLE accounts (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                       currency currency_code NOT NULL, balance_minor bigint NOT NULL DEFAULT 0,
                       status varchar(20) NOT NULL DEFAULT 'open', overdraft_limit numeric(12,2),
                       opened_at timestamptz NOT NULL DEFAULT now(), closed_at timestamptz, updated_at timestamptz);
CREATE INDEX index_accounts_on_customer_id ON accounts (customer_id);
CREATE TABLE merchants (id serial PRIMARY KEY, name varchar(100) NOT NULL, mcc varchar(4), country char(2),
                        website varchar(200), payout_currency currency_code DEFAULT 'USD', created_at timestamptz DEFAULT now());
CREATE TABLE transfers (id bigserial PRIMARY KEY, from_account_id bigint NOT NULL REFERENCES accounts (id),
                        to_account_id bigint NOT NULL REFERENCES accounts (id), amount_minor integer NOT NULL,
                        currency currency_code NOT NULL, status transfer_status NOT NULL DEFAULT 'pending',
                        idempotency_key varchar(64), description varchar(140), created_at timestamp NOT NULL DEFAULT now(),
                        settled_at timestamptz);
CREATE INDEX index_transfers_on_from_account_id ON transfers (from_account_id);
CREATE TABLE ledger_entries (id bigint GENERATED ALWAYS AS IDENTITY, account_id bigint NOT NULL, transfer_id bigint,
                             amount_minor bigint NOT NULL, direction char(1) NOT NULL, currency char(3) NOT NULL,
                             posted_at timestamptz NOT NULL, memo text, PRIMARY KEY (id, posted_at))
    PARTITION BY RANGE (posted_at);
CREATE TABLE ledger_entries_2026_09 PARTITION OF ledger_entries FOR VALUES FROM ('2026-09-01') TO ('2026-10-01');
CREATE TABLE ledger_entries_2026_10 PARTITION OF ledger_entries FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE ledger_entries_2026_11 PARTITION OF ledger_entries FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE ledger_entries_2026_12 PARTITION OF ledger_entries FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE TABLE cards (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), account_id bigint NOT NULL REFERENCES accounts (id),
                    last4 char(4) NOT NULL, brand varchar(20), exp_month smallint, exp_year smallint, status varchar(16),
                    created_at timestamptz DEFAULT now());
CREATE TABLE card_authorizations (id bigserial PRIMARY KEY, card_id uuid NOT NULL, merchant_id int, amount_minor integer NOT NULL,
                                  currency char(3), approved boolean, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE payouts (id bigserial PRIMARY KEY, merchant_id int NOT NULL REFERENCES merchants (id), amount_minor bigint NOT NULL,
                      currency currency_code NOT NULL, status varchar(20) NOT NULL DEFAULT 'pending',
                      reference bigint NOT NULL DEFAULT nextval('payout_reference_seq'), scheduled_for date, paid_at timestamptz);
CREATE TABLE kyc_documents (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                            doc_type varchar(30) NOT NULL, storage_key text NOT NULL, status varchar(20) NOT NULL DEFAULT 'submitted',
                            reviewed_by int, submitted_at timestamp DEFAULT now(), reviewed_at timestamp);
CREATE TABLE webhook_endpoints (id serial PRIMARY KEY, merchant_id int NOT NULL REFERENCES merchants (id), url varchar(255) NOT NULL,
                                secret text, enabled boolean NOT NULL DEFAULT true, created_at timestamptz DEFAULT now());
CREATE TABLE webhook_deliveries (id bigint NOT NULL, endpoint_id int NOT NULL, event_type text NOT NULL, payload jsonb,
                                 status varchar(16) NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0,
                                 created_at timestamptz NOT NULL) PARTITION BY RANGE (created_at);
CREATE TABLE webhook_deliveries_2026_11 PARTITION OF webhook_deliveries FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE webhook_deliveries_2026_12 PARTITION OF webhook_deliveries FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE TABLE webhook_deliveries_default PARTITION OF webhook_deliveries DEFAULT;
CREATE TABLE webhook_deliveries_2027_01 (id bigint NOT NULL, endpoint_id int NOT NULL, event_type text NOT NULL, payload jsonb,
                                         status varchar(16) NOT NULL DEFAULT 'pending', attempts int NOT NULL DEFAULT 0,
                                         created_at timestamptz NOT NULL);
CREATE TABLE idempotency_keys (merchant_id int, key varchar(64), request_hash bytea, response_code smallint, response_body jsonb,
                               created_at timestamptz DEFAULT now(), locked_at timestamptz);
CREATE UNIQUE INDEX idempotency_keys_merchant_key_idx ON idempotency_keys (merchant_id, key);
CREATE TABLE fx_rates (base char(3) NOT NULL, quote char(3) NOT NULL, rate numeric(18,8) NOT NULL, as_of date NOT NULL);
-- Knex-, Prisma- and TypeORM-managed tables
CREATE TABLE refunds (id serial PRIMARY KEY, transfer_id integer NOT NULL, amount integer NOT NULL,
                      reason varchar(255) NOT NULL DEFAULT 'requested_by_customer', created_at timestamptz DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE "ApiKey" ("id" TEXT NOT NULL, "merchantId" INTEGER, "prefix" TEXT NOT NULL, "hashedKey" TEXT NOT NULL,
                       "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "revokedAt" TIMESTAMP(3),
                       CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "ApiKey_prefix_key" ON "ApiKey"("prefix");
CREATE TABLE "dispute" ("id" SERIAL NOT NULL, "transferId" integer, "reason" character varying(100) NOT NULL,
                        "status" character varying NOT NULL DEFAULT 'open', "openedAt" TIMESTAMP NOT NULL DEFAULT now(),
                        CONSTRAINT "PK_8e5b7c2a9d1f3e4b6a0c2d8f1e3" PRIMARY KEY ("id"));
CREATE VIEW account_balances AS
    SELECT a.id AS account_id, c.full_name, a.currency, a.balance_minor, a.status
    FROM accounts a JOIN customers c ON c.id = a.customer_id;
CREATE MATERIALIZED VIEW merchant_daily_volume AS
    SELECT merchant_id, date_trunc('day', created_at) AS day, count(*) AS authorizations, sum(amount_minor) AS volume_minor
    FROM card_authorizations WHERE approved GROUP BY 1, 2;
CREATE UNIQUE INDEX merchant_daily_volume_key ON merchant_daily_volume (merchant_id, day);
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at = now(); RETURN NEW; END$$;
CREATE TRIGGER accounts_set_updated_at BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION set_updated_at();
GRANT SELECT ON account_balances TO ledger_readonly;
-- rows
INSERT INTO schema_migrations VALUES ('20261101090000');
INSERT INTO alembic_version VALUES ('a41c9e2f7b13');
INSERT INTO customers (email, full_name, country, legacy_ssn_last4, risk_level)
    SELECT 'c' || g || '@mail.example', 'Customer ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'US' END,
           lpad((g % 10000)::text, 4, '0'), (ARRAY['low', 'medium', 'high'])[g % 3 + 1]
    FROM generate_series(1, 300) g;
INSERT INTO accounts (customer_id, currency, balance_minor, status, overdraft_limit)
    SELECT g % 300 + 1, (ARRAY['USD', 'EUR', 'GBP'])[g % 3 + 1], g * 1000, CASE WHEN g % 9 = 0 THEN 'frozen' ELSE 'open' END, 500
    FROM generate_series(1, 400) g;
INSERT INTO merchants (name, mcc, country, website)
    SELECT 'Merchant ' || g, (5411 + g % 20)::text, 'US', 'https://m' || g || '.example' FROM generate_series(1, 40) g;
INSERT INTO transfers (from_account_id, to_account_id, amount_minor, currency, status, idempotency_key, description, created_at)
    SELECT g % 400 + 1, (g * 7) % 400 + 1, g * 250, 'USD',
           (ARRAY['pending', 'processing', 'settled', 'failed'])[g % 4 + 1]::transfer_status, md5(g::text), 'transfer ' || g,
           timestamp '2026-11-01 00:00' + g * interval '1 hour'
    FROM generate_series(1, 600) g;
INSERT INTO ledger_entries (account_id, transfer_id, amount_minor, direction, currency, posted_at, memo)
    SELECT g % 400 + 1, g % 600 + 1, g * 125, CASE WHEN g % 2 = 0 THEN 'D' ELSE 'C' END, 'USD',
           timestamptz '2026-09-01 00:00Z' + g * interval '2 hours', 'entry ' || g
    FROM generate_series(1, 1400) g;
INSERT INTO cards (account_id, last4, brand, exp_month, exp_year, status)
    SELECT g % 400 + 1, lpad((g % 10000)::text, 4, '0'), (ARRAY['visa', 'mastercard', 'amex'])[g % 3 + 1], g % 12 + 1, 2028,
           CASE WHEN g % 5 = 0 THEN NULL ELSE 'active' END
    FROM generate_series(1, 300) g;
INSERT INTO card_authorizations (card_id, merchant_id, amount_minor, currency, approved, created_at)
    SELECT (SELECT id FROM cards ORDER BY id OFFSET g % 300 LIMIT 1), g % 40 + 1, g * 99, 'USD', g % 7 <> 0,
           timestamptz '2026-11-20 00:00Z' + g * interval '1 hour'
    FROM generate_series(1, 500) g;
INSERT INTO payouts (merchant_id, amount_minor, currency, status, scheduled_for)
    SELECT g % 40 + 1, g * 10000, 'USD', (ARRAY['pending', 'in_transit', 'paid', 'failed'])[g % 4 + 1], date '2026-11-01' + g
    FROM generate_series(1, 150) g;
INSERT INTO kyc_documents (customer_id, doc_type, storage_key, status)
    SELECT g % 300 + 1, (ARRAY['passport', 'drivers_license', 'utility_bill'])[g % 3 + 1], 'kyc/' || g || '.pdf',
           (ARRAY['submitted', 'approved', 'rejected'])[g % 3 + 1]
    FROM generate_series(1, 250) g;
INSERT INTO webhook_endpoints (merchant_id, url, secret) SELECT g, 'https://m' || g || '.example/hooks', md5(g::text)
    FROM generate_series(1, 40) g;
INSERT INTO webhook_deliveries (id, endpoint_id, event_type, payload, status, attempts, created_at)
    SELECT g, g % 40 + 1, 'transfer.settled', jsonb_build_object('transfer', g), 'delivered', 1,
           timestamptz '2026-10-15 00:00Z' + g * interval '4 hours'
    FROM generate_series(1, 300) g;
INSERT INTO webhook_deliveries_2027_01 (id, endpoint_id, event_type, created_at)
    SELECT 1000 + g, g % 40 + 1, 'payout.paid', timestamptz '2027-01-02 00:00Z' + g * interval '1 day' FROM generate_series(1, 25) g;
INSERT INTO idempotency_keys (merchant_id, key, request_hash, response_code)
    SELECT g % 40 + 1, 'idem_' || g, decode(md5(g::text), 'hex'), 201 FROM generate_series(1, 200) g;
INSERT INTO fx_rates SELECT 'USD', q, 1.1 + g / 1000.0, date '2026-11-01' + g
    FROM generate_series(1, 40) g, unnest(ARRAY['EUR', 'GBP']) q;
INSERT INTO refunds (transfer_id, amount) SELECT g * 3, g * 100 FROM generate_series(1, 50) g;
INSERT INTO "ApiKey" ("id", "merchantId", "prefix", "hashedKey") SELECT 'key_' || g, g % 40 + 1, 'pk_' || g, md5(g::text)
    FROM generate_series(1, 60) g;
INSERT INTO "dispute" ("transferId", "reason") SELECT g * 5, 'fraudulent' FROM generate_series(1, 30) g;
REFRESH MATERIALIZED VIEW merchant_daily_volume;
