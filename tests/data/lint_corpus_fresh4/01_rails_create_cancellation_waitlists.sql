-- == 20261101093000 CreateCancellationWaitlists: migrating =======================
BEGIN;
CREATE TABLE "cancellation_waitlists" ("id" bigserial primary key, "patient_id" bigint NOT NULL, "practitioner_id" bigint, "earliest" date, "latest" date, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL, CONSTRAINT "fk_rails_5c0d7e1a2b"
FOREIGN KEY ("patient_id")
  REFERENCES "patients" ("id")
, CONSTRAINT "fk_rails_9e8f7a6b5c"
FOREIGN KEY ("practitioner_id")
  REFERENCES "practitioners" ("id")
);
CREATE INDEX "index_cancellation_waitlists_on_patient_id" ON "cancellation_waitlists" ("patient_id");
CREATE INDEX "index_cancellation_waitlists_on_practitioner_id" ON "cancellation_waitlists" ("practitioner_id");
INSERT INTO "schema_migrations" ("version") VALUES ('20261101093000') RETURNING "version";
COMMIT;
