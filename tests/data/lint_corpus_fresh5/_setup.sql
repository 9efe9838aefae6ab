-- the application schema every file of this fifth corpus migrates (run committed, with rows, in the schema the
-- files name as `public`): a logistics app (warehouses, carriers, drivers, vehicles, customers, shipments,
-- parcels, tracking events partitioned by month, customs declarations by country, delivery attempts by hash,
-- inventory, routes, invoices), written blind, before reading lint's code or the other corpora's migration
-- files, as a project that went through Rails, Django, Alembic, Prisma, TypeORM, Sequelize and Hasura leaves it
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'logistics_app') THEN CREATE ROLE logistics_app NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reporting_ro') THEN CREATE ROLE reporting_ro NOLOGIN; END IF;
END $$;
CREATE TYPE shipment_status AS ENUM ('created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered', 'returned', 'lost');
CREATE TYPE parcel_size AS ENUM ('small', 'medium', 'large');
CREATE DOMAIN weight_grams AS integer CHECK (VALUE >= 0);
CREATE DOMAIN postal_code AS varchar(12);
CREATE DOMAIN iso_country AS char(2) CHECK (VALUE ~ '^[A-Z]{2}$');
CREATE SEQUENCE invoice_number_seq START 100000;
CREATE SEQUENCE tracking_code_seq START 1;
CREATE TABLE schema_migrations (version varchar PRIMARY KEY, inserted_at timestamp(0));
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
CREATE TABLE warehouses (id bigserial PRIMARY KEY, code varchar(10) NOT NULL UNIQUE, name varchar(120) NOT NULL,
                         country iso_country, city varchar(80), postal_code postal_code, capacity_m3 numeric(10,2),
                         timezone text DEFAULT 'UTC', opened_on date, created_at timestamp DEFAULT now(), updated_at timestamp);
CREATE TABLE carriers (id serial PRIMARY KEY, name varchar(100) NOT NULL, scac char(4), api_endpoint text,
                       active boolean DEFAULT true, created_at timestamptz DEFAULT now());
CREATE TABLE drivers (id bigserial PRIMARY KEY, carrier_id int REFERENCES carriers (id), full_name varchar(120) NOT NULL,
                      license_no varchar(30), phone varchar(20), hired_on date, status varchar(20) NOT NULL DEFAULT 'active',
                      rating real, created_at timestamptz DEFAULT now());
CREATE TABLE vehicles (id serial PRIMARY KEY, carrier_id int NOT NULL, plate varchar(15), capacity_kg int, kind varchar(20));
CREATE TABLE customers (id bigserial PRIMARY KEY, name text NOT NULL, email varchar(255), phone varchar(30),
                        billing_address text, tax_id varchar(20), created_at timestamptz DEFAULT now(), updated_at timestamptz);
CREATE TABLE shipments (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                        origin_warehouse_id bigint REFERENCES warehouses (id), carrier_id int REFERENCES carriers (id),
                        tracking_code varchar(32) NOT NULL, status shipment_status NOT NULL DEFAULT 'created',
                        declared_value numeric(10,2), weight_g weight_grams, service_level varchar(20),
                        ship_to_postal postal_code, ship_to_country char(2), promised_at timestamp, delivered_at timestamp,
                        created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp);
CREATE UNIQUE INDEX index_shipments_on_tracking_code ON shipments (tracking_code);
CREATE INDEX shipments_customer_id_idx ON shipments (customer_id);
CREATE TABLE parcels (id bigserial PRIMARY KEY, shipment_id bigint NOT NULL REFERENCES shipments (id) ON DELETE CASCADE,
                      barcode varchar(40) NOT NULL, size parcel_size, weight_g int, length_cm smallint, width_cm smallint,
                      height_cm smallint, contents text, created_at timestamptz DEFAULT now());
CREATE TABLE tracking_events (id bigint GENERATED ALWAYS AS IDENTITY, parcel_id bigint NOT NULL, shipment_id bigint,
                              event_code varchar(20) NOT NULL, location text, occurred_at timestamptz NOT NULL,
                              recorded_at timestamptz DEFAULT now(), payload jsonb, PRIMARY KEY (id, occurred_at))
    PARTITION BY RANGE (occurred_at);
CREATE TABLE tracking_events_2026_10 PARTITION OF tracking_events FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE tracking_events_2026_11 PARTITION OF tracking_events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE tracking_events_2026_12 PARTITION OF tracking_events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE TABLE tracking_events_default PARTITION OF tracking_events DEFAULT;
CREATE INDEX tracking_events_parcel_id_idx ON tracking_events (parcel_id);
-- September's events, detached last month to be archived, now to be attached back
CREATE TABLE tracking_events_2026_09 (id bigint NOT NULL, parcel_id bigint NOT NULL, shipment_id bigint,
                                      event_code varchar(20) NOT NULL, location text, occurred_at timestamptz NOT NULL,
                                      recorded_at timestamptz DEFAULT now(), payload jsonb);
CREATE TABLE customs_declarations (id bigint NOT NULL, shipment_id bigint NOT NULL, country_code char(2) NOT NULL,
                                   hs_code varchar(10), value_cents bigint, filed_at timestamptz)
    PARTITION BY LIST (country_code);
CREATE TABLE customs_us PARTITION OF customs_declarations FOR VALUES IN ('US');
CREATE TABLE customs_gb PARTITION OF customs_declarations FOR VALUES IN ('GB');
CREATE TABLE customs_eu PARTITION OF customs_declarations FOR VALUES IN ('DE', 'FR', 'NL', 'BE');
CREATE TABLE customs_other PARTITION OF customs_declarations DEFAULT;
CREATE TABLE delivery_attempts (id bigint NOT NULL, shipment_id bigint NOT NULL, driver_id bigint, attempted_at timestamptz NOT NULL,
                                outcome varchar(20)) PARTITION BY HASH (shipment_id);
CREATE TABLE delivery_attempts_p0 PARTITION OF delivery_attempts FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE delivery_attempts_p1 PARTITION OF delivery_attempts FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE delivery_attempts_p2 PARTITION OF delivery_attempts FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE delivery_attempts_p3 PARTITION OF delivery_attempts FOR VALUES WITH (MODULUS 4, REMAINDER 3);
CREATE TABLE inventory_items (id bigserial PRIMARY KEY, warehouse_id bigint NOT NULL REFERENCES warehouses (id),
                              sku varchar(40) NOT NULL, quantity int NOT NULL DEFAULT 0, reserved int DEFAULT 0,
                              bin_location varchar(20), updated_at timestamptz, UNIQUE (warehouse_id, sku));
CREATE TABLE stock_movements (id bigserial, inventory_item_id bigint, delta int NOT NULL, reason text,
                              moved_at timestamptz DEFAULT now());
CREATE TABLE routes (id bigserial PRIMARY KEY, driver_id bigint REFERENCES drivers (id), vehicle_id int, route_date date NOT NULL,
                     warehouse_id bigint, status varchar(20) DEFAULT 'planned', distance_km numeric(8,1),
                     started_at timestamptz, finished_at timestamptz);
CREATE TABLE route_stops (id bigserial PRIMARY KEY, route_id bigint NOT NULL REFERENCES routes (id), shipment_id bigint NOT NULL,
                          sequence smallint NOT NULL, eta timestamptz, arrived_at timestamptz, notes text);
ALTER TABLE route_stops ADD CONSTRAINT route_stops_shipment_id_fkey FOREIGN KEY (shipment_id) REFERENCES shipments (id) NOT VALID;
CREATE TABLE invoices (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers (id),
                       number bigint NOT NULL DEFAULT nextval('invoice_number_seq'), amount_cents integer NOT NULL,
                       currency char(3) NOT NULL DEFAULT 'EUR', status varchar(20) NOT NULL DEFAULT 'open',
                       issued_at timestamptz, due_at timestamptz, paid_at timestamptz);
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_nonnegative CHECK (amount_cents >= 0) NOT VALID;
CREATE TABLE invoice_lines (id bigserial PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices (id), shipment_id bigint,
                            description text, amount_cents int NOT NULL);
CREATE TABLE rate_cards (id serial PRIMARY KEY, carrier_id int NOT NULL, origin_country char(2), dest_country char(2),
                         weight_from_g int, weight_to_g int, price_cents int, valid_from date, valid_to date);
CREATE TABLE proof_of_delivery (id bigserial PRIMARY KEY, shipment_id bigint, signature bytea, photo_url text, captured_at timestamptz);
CREATE TABLE webhook_deliveries (id bigserial PRIMARY KEY, customer_id bigint, url text NOT NULL, body jsonb,
                                 status_code int, attempted_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE driver_locations (id bigserial PRIMARY KEY, driver_id bigint NOT NULL, lat double precision, lng double precision,
                               recorded_at timestamptz NOT NULL DEFAULT now());
-- Prisma-, TypeORM- and Sequelize-managed tables
CREATE TABLE "Depot" ("id" TEXT NOT NULL, "name" TEXT, "city" TEXT, "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
                      CONSTRAINT "Depot_pkey" PRIMARY KEY ("id"));
CREATE TABLE "driver_shift" ("id" SERIAL NOT NULL, "driverId" integer NOT NULL, "startsAt" TIMESTAMP NOT NULL,
                             "endsAt" TIMESTAMP, "note" character varying(200),
                             CONSTRAINT "PK_3b1e0c2a7f5d4e6b9a8c1d2e3f4" PRIMARY KEY ("id"));
CREATE TABLE "Notifications" ("id" SERIAL, "shipmentId" INTEGER, "channel" VARCHAR(255), "recipient" VARCHAR(255),
                              "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL,
                              PRIMARY KEY ("id"));
CREATE VIEW active_shipments AS
    SELECT s.id, s.tracking_code, s.status, c.name AS customer_name, s.promised_at
    FROM shipments s JOIN customers c ON c.id = s.customer_id
    WHERE s.status NOT IN ('delivered', 'returned', 'lost');
CREATE MATERIALIZED VIEW daily_warehouse_throughput AS
    SELECT origin_warehouse_id AS warehouse_id, created_at::date AS day, count(*) AS shipments
    FROM shipments GROUP BY 1, 2;
CREATE UNIQUE INDEX daily_warehouse_throughput_key ON daily_warehouse_throughput (warehouse_id, day);
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at = now(); RETURN NEW; END$$;
CREATE TRIGGER shipments_set_updated_at BEFORE UPDATE ON shipments FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER customers_set_updated_at BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- rows
INSERT INTO schema_migrations VALUES ('20261001090000', '2026-10-01 09:00:00');
INSERT INTO alembic_version VALUES ('a41c7e2d9b10');
INSERT INTO warehouses (code, name, country, city, postal_code, capacity_m3, opened_on)
    SELECT 'WH' || g, 'Warehouse ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'DE' END, 'City ' || g, '1011' || g, 5000 + g,
           date '2020-01-01' + g * 30
    FROM generate_series(1, 12) g;
INSERT INTO carriers (name, scac, api_endpoint) SELECT 'Carrier ' || g, 'CR' || lpad(g::text, 2, '0'), 'https://api' || g || '.example'
    FROM generate_series(1, 8) g;
INSERT INTO drivers (carrier_id, full_name, license_no, phone, hired_on, rating)
    SELECT g % 8 + 1, 'Driver ' || g, 'L' || g, CASE WHEN g % 5 = 0 THEN NULL ELSE '555-30' || g END, date '2023-03-01' + g,
           1 + (g % 40) / 10.0
    FROM generate_series(1, 60) g;
INSERT INTO vehicles (carrier_id, plate, capacity_kg, kind) SELECT g % 8 + 1, 'B-LX ' || g, 1200 + g * 10, 'van' FROM generate_series(1, 40) g;
INSERT INTO customers (name, email, phone, billing_address, tax_id)
    SELECT 'Customer ' || g, 'ops' || g || '@shipper.example', '555-40' || g, g || ' Dock Street', 'DE' || (100000 + g)
    FROM generate_series(1, 150) g;
INSERT INTO shipments (customer_id, origin_warehouse_id, carrier_id, tracking_code, status, declared_value, weight_g,
                       service_level, ship_to_postal, ship_to_country, promised_at, created_at)
    SELECT g % 150 + 1, g % 12 + 1, g % 8 + 1, 'LX' || lpad(g::text, 10, '0'),
           (ARRAY['created', 'picked_up', 'in_transit', 'out_for_delivery', 'delivered'])[g % 5 + 1]::shipment_status,
           10 + g % 500, 500 + g * 3, CASE WHEN g % 4 = 0 THEN NULL ELSE 'express' END, '20' || (g % 900 + 100), 'DE',
           timestamp '2026-11-01 12:00' + g * interval '2 hours', timestamp '2026-10-01 08:00' + g * interval '1 hour'
    FROM generate_series(1, 400) g;
INSERT INTO parcels (shipment_id, barcode, size, weight_g, length_cm, width_cm, height_cm, contents)
    SELECT g % 400 + 1, 'P' || lpad(g::text, 12, '0'), (ARRAY['small', 'medium', 'large'])[g % 3 + 1]::parcel_size,
           200 + g, 10 + g % 50, 10 + g % 30, 5 + g % 20, 'goods'
    FROM generate_series(1, 600) g;
INSERT INTO tracking_events (parcel_id, shipment_id, event_code, location, occurred_at, payload)
    SELECT g % 600 + 1, g % 400 + 1, (ARRAY['SCAN', 'DEPART', 'ARRIVE', 'DELIVER'])[g % 4 + 1], 'Hub ' || (g % 12),
           timestamptz '2026-10-02 00:00Z' + g * interval '3 hours', '{"src": "scanner"}'
    FROM generate_series(1, 700) g;
INSERT INTO tracking_events (parcel_id, shipment_id, event_code, occurred_at)
    SELECT g, g, 'SCAN', timestamptz '2027-03-01 00:00Z' + g * interval '1 day' FROM generate_series(1, 20) g;
INSERT INTO tracking_events_2026_09 SELECT 5000 + g, g % 600 + 1, g % 400 + 1, 'SCAN', 'Hub 1',
           timestamptz '2026-09-01 00:00Z' + g * interval '5 hours', now(), NULL
    FROM generate_series(1, 100) g;
INSERT INTO customs_declarations SELECT g, g % 400 + 1, (ARRAY['US', 'GB', 'DE', 'FR', 'JP', 'AU'])[g % 6 + 1], '8471.30', g * 1000, now()
    FROM generate_series(1, 240) g;
INSERT INTO delivery_attempts SELECT g, g % 400 + 1, g % 60 + 1, timestamptz '2026-11-01 09:00Z' + g * interval '1 hour',
           CASE WHEN g % 7 = 0 THEN 'no_one_home' ELSE 'delivered' END
    FROM generate_series(1, 300) g;
INSERT INTO inventory_items (warehouse_id, sku, quantity, reserved, bin_location)
    SELECT g % 12 + 1, 'SKU-' || g, 100 + g % 50, CASE WHEN g % 9 = 0 THEN NULL ELSE g % 20 END, 'A' || (g % 30)
    FROM generate_series(1, 500) g;
INSERT INTO stock_movements (inventory_item_id, delta, reason) SELECT g % 500 + 1, (g % 11) - 5, 'pick' FROM generate_series(1, 800) g;
INSERT INTO routes (driver_id, vehicle_id, route_date, warehouse_id, distance_km)
    SELECT g % 60 + 1, g % 40 + 1, date '2026-11-01' + g % 30, g % 12 + 1, 40 + g % 200 FROM generate_series(1, 120) g;
INSERT INTO route_stops (route_id, shipment_id, sequence, eta)
    SELECT g % 120 + 1, g % 400 + 1, g % 25 + 1, timestamptz '2026-11-01 09:00Z' + g * interval '10 minutes'
    FROM generate_series(1, 500) g;
INSERT INTO invoices (customer_id, amount_cents, status, issued_at, due_at)
    SELECT g % 150 + 1, g * 2500, (ARRAY['open', 'paid', 'overdue'])[g % 3 + 1], now() - g * interval '1 day', now() + interval '30 days'
    FROM generate_series(1, 200) g;
INSERT INTO invoice_lines (invoice_id, shipment_id, description, amount_cents)
    SELECT g % 200 + 1, g % 400 + 1, 'Freight', 1200 FROM generate_series(1, 400) g;
INSERT INTO rate_cards (carrier_id, origin_country, dest_country, weight_from_g, weight_to_g, price_cents, valid_from)
    SELECT g % 8 + 1, 'DE', (ARRAY['DE', 'FR', 'NL', 'AT', 'PL'])[g % 5 + 1], (g / 40) * 1000, (g / 40 + 1) * 1000, 500 + g,
           date '2026-01-01'
    FROM generate_series(1, 200) g;
INSERT INTO proof_of_delivery (shipment_id, photo_url, captured_at) SELECT g, 'pod/' || g || '.jpg', now() FROM generate_series(1, 80) g;
INSERT INTO webhook_deliveries (customer_id, url, body, status_code, attempted_at)
    SELECT g % 150 + 1, 'https://hooks.example/' || g, '{"event": "shipment.updated"}', 200, now() - g * interval '1 day'
    FROM generate_series(1, 300) g;
INSERT INTO driver_locations (driver_id, lat, lng) SELECT g % 60 + 1, 52.5 + g / 1000.0, 13.4 + g / 1000.0 FROM generate_series(1, 500) g;
INSERT INTO "Depot" ("id", "name", "city") SELECT 'dep_' || g, 'Depot ' || g, 'Berlin' FROM generate_series(1, 20) g;
INSERT INTO "driver_shift" ("driverId", "startsAt", "endsAt")
    SELECT g % 60 + 1, timestamp '2026-11-01 06:00' + g * interval '1 day', timestamp '2026-11-01 14:00' + g * interval '1 day'
    FROM generate_series(1, 90) g;
INSERT INTO "Notifications" ("shipmentId", "channel", "recipient", "createdAt", "updatedAt")
    SELECT g, 'email', 'r' || g || '@mail.example', now(), now() FROM generate_series(1, 100) g;
REFRESH MATERIALIZED VIEW daily_warehouse_throughput;
