BEGIN;
--
-- Add field merged_into to ticket
--
ALTER TABLE "tickets" ADD COLUMN "merged_into_id" bigint NULL CONSTRAINT "tickets_merged_into_id_6f1e2d3c_fk_tickets_id" REFERENCES "tickets"("id") DEFERRABLE INITIALLY DEFERRED; SET CONSTRAINTS "tickets_merged_into_id_6f1e2d3c_fk_tickets_id" IMMEDIATE;
CREATE INDEX "tickets_merged_into_id_6f1e2d3c" ON "tickets" ("merged_into_id");
COMMIT;
