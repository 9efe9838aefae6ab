-- the application schema every file of this fourth corpus migrates (run committed, with rows, in the schema the
-- files name as `public`): a clinic scheduling and billing app (clinics, practitioners, patients, appointments,
-- invoices, lab results, reminders, audit events), written blind, before reading lint's code or the other corpora's
-- migration files, as a project that went through Rails, Django, Alembic, Prisma, TypeORM and Sequelize leaves it
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analytics_ro') THEN CREATE ROLE analytics_ro NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'clinic_app') THEN CREATE ROLE clinic_app NOLOGIN; END IF;
END $$;
CREATE TYPE appointment_status AS ENUM ('booked', 'checked_in', 'completed', 'no_show', 'cancelled');
CREATE TYPE visit_kind AS ENUM ('in_person', 'video');
CREATE DOMAIN npi_number AS varchar(10) CHECK (VALUE ~ '^[0-9]{10}$');
CREATE DOMAIN email_address AS text;
CREATE SEQUENCE invoice_number_seq START 5000;
CREATE TABLE schema_migrations (version varchar PRIMARY KEY, inserted_at timestamp(0));
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
CREATE TABLE clinics (id bigserial PRIMARY KEY, name varchar(150) NOT NULL, timezone varchar(64) NOT NULL DEFAULT 'UTC',
                      address text, phone varchar(20), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE practitioners (id bigserial PRIMARY KEY, clinic_id bigint NOT NULL REFERENCES clinics (id), npi npi_number,
                            first_name varchar(80) NOT NULL, last_name varchar(80) NOT NULL, specialty varchar(50),
                            email varchar(200), active boolean NOT NULL DEFAULT true, hourly_rate numeric(8,2),
                            created_at timestamptz DEFAULT now());
CREATE TABLE patients (id bigserial PRIMARY KEY, clinic_id bigint REFERENCES clinics (id), mrn varchar(20) NOT NULL,
                       first_name varchar(80), last_name varchar(80), date_of_birth date, sex char(1), email varchar(200),
                       phone varchar(20), preferred_language varchar(10), notes text, deleted_at timestamp,
                       created_at timestamp NOT NULL DEFAULT now(), updated_at timestamp);
CREATE UNIQUE INDEX index_patients_on_mrn ON patients (mrn);
CREATE TABLE rooms (id serial PRIMARY KEY, clinic_id bigint NOT NULL REFERENCES clinics (id), label varchar(30) NOT NULL,
                    capacity smallint DEFAULT 1);
CREATE TABLE appointments (id bigserial PRIMARY KEY, patient_id bigint NOT NULL REFERENCES patients (id),
                           practitioner_id bigint NOT NULL REFERENCES practitioners (id), room_id int,
                           starts_at timestamp NOT NULL, ends_at timestamp NOT NULL,
                           status appointment_status NOT NULL DEFAULT 'booked', kind visit_kind DEFAULT 'in_person',
                           reason varchar(255), cancelled_reason text, created_at timestamptz NOT NULL DEFAULT now(),
                           updated_at timestamptz);
CREATE INDEX index_appointments_on_practitioner_id ON appointments (practitioner_id);
CREATE INDEX appointments_starts_at_idx ON appointments (starts_at);
CREATE TABLE availability_slots (id bigserial PRIMARY KEY, practitioner_id bigint NOT NULL, starts_at timestamptz NOT NULL,
                                 duration_minutes int NOT NULL DEFAULT 30, booked boolean NOT NULL DEFAULT false);
CREATE TABLE insurance_policies (id serial PRIMARY KEY, patient_id bigint NOT NULL REFERENCES patients (id) ON DELETE CASCADE,
                                 payer varchar(100) NOT NULL, member_id varchar(40) NOT NULL, group_number varchar(40),
                                 valid_from date, valid_to date);
CREATE TABLE invoices (id bigserial PRIMARY KEY, appointment_id bigint REFERENCES appointments (id), patient_id bigint NOT NULL,
                       number bigint NOT NULL DEFAULT nextval('invoice_number_seq'), amount_cents integer NOT NULL,
                       currency char(3) NOT NULL DEFAULT 'USD', status varchar(20) NOT NULL DEFAULT 'draft',
                       issued_at timestamptz, paid_at timestamptz);
CREATE TABLE invoice_lines (id bigserial PRIMARY KEY, invoice_id bigint NOT NULL REFERENCES invoices (id), code varchar(10),
                            description text, quantity int NOT NULL DEFAULT 1, unit_cents int NOT NULL);
CREATE TABLE payments (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), invoice_id bigint NOT NULL, amount_cents int NOT NULL,
                       method varchar(20), received_at timestamptz NOT NULL DEFAULT now(), external_ref text);
CREATE TABLE staff_users (id serial PRIMARY KEY, clinic_id bigint, username varchar(60) NOT NULL, email email_address,
                          password_digest text, role varchar(20) DEFAULT 'front_desk', last_login_at timestamp,
                          mfa_enabled boolean);
CREATE TABLE api_tokens (id bigserial PRIMARY KEY, staff_user_id int NOT NULL REFERENCES staff_users (id), token_hash bytea NOT NULL,
                         scopes text[], expires_at timestamptz, revoked boolean DEFAULT false);
CREATE TABLE reminders (id bigserial PRIMARY KEY, appointment_id bigint NOT NULL, channel text NOT NULL,
                        send_at timestamptz NOT NULL, sent_at timestamptz, body text);
CREATE TABLE appointment_reminder_log (appointment_id bigint, channel text, sent_at timestamptz, provider_response jsonb);
CREATE TABLE visit_notes (id bigserial PRIMARY KEY, appointment_id bigint NOT NULL, author_id bigint, clinic_id bigint,
                          body text, signed_at timestamptz);
CREATE TABLE medications (id serial PRIMARY KEY, name text NOT NULL, ndc_code varchar(11), controlled boolean DEFAULT false);
CREATE TABLE prescriptions (id bigserial PRIMARY KEY, patient_id bigint NOT NULL, practitioner_id bigint NOT NULL,
                            medication_id int NOT NULL, dosage varchar(50), refills smallint DEFAULT 0,
                            prescribed_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE fax_queue (id serial PRIMARY KEY, recipient varchar(30), payload bytea, queued_at timestamp DEFAULT now());
CREATE TABLE audit_events (id bigint GENERATED ALWAYS AS IDENTITY, actor_id bigint, action text NOT NULL, entity text,
                           entity_id bigint, occurred_at timestamptz NOT NULL DEFAULT now(), data jsonb)
    PARTITION BY RANGE (occurred_at);
CREATE TABLE audit_events_2026_10 PARTITION OF audit_events FOR VALUES FROM ('2026-10-01') TO ('2026-11-01');
CREATE TABLE audit_events_2026_11 PARTITION OF audit_events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE audit_events_2026_12 PARTITION OF audit_events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;
CREATE TABLE lab_results (id bigint NOT NULL, patient_id bigint NOT NULL, test_code varchar(20) NOT NULL, value numeric,
                          unit varchar(16), collected_at timestamptz NOT NULL) PARTITION BY RANGE (collected_at);
CREATE TABLE lab_results_2025 PARTITION OF lab_results FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE lab_results_2026 PARTITION OF lab_results FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX lab_results_patient_id_idx ON lab_results (patient_id);
CREATE TABLE lab_results_2027 (id bigint NOT NULL, patient_id bigint NOT NULL, test_code varchar(20) NOT NULL, value numeric,
                               unit varchar(16), collected_at timestamptz NOT NULL);
CREATE TABLE patient_documents (id bigint NOT NULL, patient_id bigint NOT NULL, kind text, storage_key text,
                                uploaded_at timestamptz DEFAULT now()) PARTITION BY HASH (patient_id);
CREATE TABLE patient_documents_p0 PARTITION OF patient_documents FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE patient_documents_p1 PARTITION OF patient_documents FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE patient_documents_p2 PARTITION OF patient_documents FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE patient_documents_p3 PARTITION OF patient_documents FOR VALUES WITH (MODULUS 4, REMAINDER 3);
-- Prisma-, Sequelize- and TypeORM-managed tables
CREATE TABLE "PortalAccount" ("id" TEXT NOT NULL, "patientId" INTEGER NOT NULL, "email" TEXT NOT NULL,
                              "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, "loginCount" INTEGER NOT NULL DEFAULT 0,
                              CONSTRAINT "PortalAccount_pkey" PRIMARY KEY ("id"));
CREATE UNIQUE INDEX "PortalAccount_email_key" ON "PortalAccount"("email");
CREATE TABLE "Referrals" ("id" SERIAL, "patientId" INTEGER, "toSpecialty" VARCHAR(255), "notes" TEXT,
                          "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL,
                          PRIMARY KEY ("id"));
CREATE TABLE "waitlist_entry" ("id" SERIAL NOT NULL, "patientId" integer NOT NULL, "note" character varying(200),
                               "priority" integer NOT NULL DEFAULT 0, "createdAt" TIMESTAMP NOT NULL DEFAULT now(),
                               CONSTRAINT "PK_waitlist_entry_id" PRIMARY KEY ("id"));
CREATE VIEW upcoming_appointments AS
    SELECT a.id, a.starts_at, a.status, p.last_name AS patient_last_name, pr.last_name AS practitioner_last_name
    FROM appointments a JOIN patients p ON p.id = a.patient_id JOIN practitioners pr ON pr.id = a.practitioner_id
    WHERE a.starts_at > now();
CREATE MATERIALIZED VIEW practitioner_utilization AS
    SELECT practitioner_id, date_trunc('week', starts_at) AS week, count(*) AS booked FROM appointments GROUP BY 1, 2;
CREATE UNIQUE INDEX practitioner_utilization_key ON practitioner_utilization (practitioner_id, week);
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at = now(); RETURN NEW; END$$;
CREATE TRIGGER patients_touch_updated_at BEFORE UPDATE ON patients FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER appointments_touch_updated_at BEFORE UPDATE ON appointments FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
-- rows
INSERT INTO schema_migrations VALUES ('20260901120000', '2026-09-01 12:00:00');
INSERT INTO alembic_version VALUES ('3f9c2a1b7d4e');
INSERT INTO clinics (name, timezone, address, phone)
    SELECT 'Clinic ' || g, 'America/New_York', g || ' Health Way', '555-020' || g FROM generate_series(1, 5) g;
INSERT INTO practitioners (clinic_id, npi, first_name, last_name, specialty, email, hourly_rate)
    SELECT g % 5 + 1, lpad((1000000000 + g)::text, 10, '0'), 'Doc' || g, 'Smith' || g, 'family', 
           CASE WHEN g % 4 = 0 THEN NULL ELSE 'doc' || g || '@clinic.example' END, 120 + g
    FROM generate_series(1, 20) g;
INSERT INTO patients (clinic_id, mrn, first_name, last_name, date_of_birth, sex, email, phone, preferred_language, notes)
    SELECT g % 5 + 1, 'MRN' || lpad(g::text, 6, '0'), 'Pat' || g, 'Jones' || g, date '1960-01-01' + g * 40,
           CASE WHEN g % 2 = 0 THEN 'F' ELSE 'M' END, 'p' || g || '@mail.example', '555-10' || g, 'en', NULL
    FROM generate_series(1, 200) g;
INSERT INTO rooms (clinic_id, label) SELECT g % 5 + 1, 'Room ' || g FROM generate_series(1, 10) g;
INSERT INTO appointments (patient_id, practitioner_id, room_id, starts_at, ends_at, status, reason)
    SELECT g % 200 + 1, g % 20 + 1, g % 10 + 1, timestamp '2026-11-01 08:00' + g * interval '1 hour',
           timestamp '2026-11-01 08:30' + g * interval '1 hour',
           (ARRAY['booked', 'checked_in', 'completed', 'no_show', 'cancelled'])[g % 5 + 1]::appointment_status, 'checkup'
    FROM generate_series(1, 300) g;
INSERT INTO availability_slots (practitioner_id, starts_at) SELECT g % 20 + 1, timestamptz '2026-12-01 09:00Z' + g * interval '30 minutes'
    FROM generate_series(1, 200) g;
INSERT INTO insurance_policies (patient_id, payer, member_id, group_number, valid_from)
    SELECT g, 'Payer ' || (g % 7), 'M' || g, 'G' || (g % 11), date '2026-01-01' FROM generate_series(1, 150) g;
INSERT INTO invoices (appointment_id, patient_id, amount_cents, status, issued_at)
    SELECT g, g % 200 + 1, g * 1000, (ARRAY['draft', 'issued', 'paid', 'void'])[g % 4 + 1], now() - g * interval '1 day'
    FROM generate_series(1, 200) g;
INSERT INTO invoice_lines (invoice_id, code, description, quantity, unit_cents)
    SELECT g % 200 + 1, '9921' || (g % 5), 'Office visit', g % 3 + 1, 5000 FROM generate_series(1, 400) g;
INSERT INTO payments (invoice_id, amount_cents, method, external_ref)
    SELECT g, g * 1000, 'card', CASE WHEN g % 3 = 0 THEN NULL ELSE gen_random_uuid()::text END FROM generate_series(1, 150) g;
INSERT INTO staff_users (clinic_id, username, email, role)
    SELECT g % 5 + 1, 'staff' || g, 'staff' || g || '@clinic.example', 'front_desk' FROM generate_series(1, 15) g;
INSERT INTO api_tokens (staff_user_id, token_hash, scopes, expires_at, revoked)
    SELECT g % 15 + 1, decode(md5(g::text), 'hex'), ARRAY['read'], now() + g * interval '1 day', g % 3 = 0
    FROM generate_series(1, 60) g;
INSERT INTO reminders (appointment_id, channel, send_at, body)
    SELECT g, CASE WHEN g % 2 = 0 THEN 'sms' ELSE 'email' END, now() + g * interval '1 hour', 'See you soon'
    FROM generate_series(1, 300) g;
INSERT INTO appointment_reminder_log SELECT g, 'sms', now() - g * interval '1 hour', '{"ok": true}' FROM generate_series(1, 100) g;
INSERT INTO visit_notes (appointment_id, author_id, clinic_id, body, signed_at)
    SELECT g, g % 20 + 1, g % 5 + 1, 'Patient doing well', now() FROM generate_series(1, 200) g;
INSERT INTO medications (name, ndc_code) SELECT 'Med ' || g, lpad(g::text, 11, '0') FROM generate_series(1, 30) g;
INSERT INTO prescriptions (patient_id, practitioner_id, medication_id, dosage)
    SELECT g % 200 + 1, g % 20 + 1, g % 30 + 1, '10mg' FROM generate_series(1, 100) g;
INSERT INTO fax_queue (recipient) SELECT '555-9' || g FROM generate_series(1, 10) g;
INSERT INTO audit_events (actor_id, action, entity, entity_id, occurred_at)
    SELECT g % 15 + 1, 'update', 'appointment', g, timestamptz '2026-09-15 00:00Z' + g * interval '12 hours'
    FROM generate_series(1, 200) g;
INSERT INTO lab_results SELECT g, g % 200 + 1, 'A1C', 5.5, '%', timestamptz '2025-02-01 00:00Z' + g * interval '3 days'
    FROM generate_series(1, 200) g;
INSERT INTO lab_results_2027 SELECT 1000 + g, g % 200 + 1, 'LDL', 100, 'mg/dL', timestamptz '2027-01-05 00:00Z' + g * interval '1 day'
    FROM generate_series(1, 30) g;
INSERT INTO patient_documents SELECT g, g % 200 + 1, 'intake_form', 'docs/' || g || '.pdf' FROM generate_series(1, 120) g;
INSERT INTO "PortalAccount" ("id", "patientId", "email") SELECT 'pa_' || g, g, 'p' || g || '@mail.example' FROM generate_series(1, 50) g;
INSERT INTO "Referrals" ("patientId", "toSpecialty", "createdAt", "updatedAt")
    SELECT g, 'cardiology', now(), now() FROM generate_series(1, 40) g;
INSERT INTO "waitlist_entry" ("patientId", "note") SELECT g, 'any morning' FROM generate_series(1, 40) g;
REFRESH MATERIALIZED VIEW practitioner_utilization;
