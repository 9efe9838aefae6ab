-- rails db:migrate (CreateRefunds), as the log shows it: one transaction per migration
BEGIN;
CREATE TABLE "refunds" ("id" bigserial primary key, "order_id" bigint NOT NULL, "amount_cents" integer NOT NULL, "reason" character varying, "created_at" timestamp(6) NOT NULL, "updated_at" timestamp(6) NOT NULL, CONSTRAINT "fk_rails_7a9b3c1d2e"
FOREIGN KEY ("order_id")
  REFERENCES "orders" ("id")
);
CREATE INDEX "index_refunds_on_order_id" ON "refunds" ("order_id");
INSERT INTO "schema_migrations" ("version") VALUES ('20250312101500') RETURNING "version";
COMMIT;
