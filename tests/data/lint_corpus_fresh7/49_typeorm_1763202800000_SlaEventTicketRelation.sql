-- src/migrations/1763202800000-SlaEventTicketRelation.ts
START TRANSACTION;
CREATE INDEX "IDX_5f2c8e1b7a4d3c9e0f6a2b1d8c" ON "sla_events" ("ticket_id") ;
ALTER TABLE "sla_events" ADD CONSTRAINT "FK_9d3a7c2e5b1f4a8e6c0d2b7f1a3" FOREIGN KEY ("ticket_id") REFERENCES "tickets"("id") ON DELETE CASCADE ON UPDATE NO ACTION;
INSERT INTO "migrations"("timestamp", "name") VALUES (1763202800000, 'SlaEventTicketRelation1763202800000');
COMMIT;
