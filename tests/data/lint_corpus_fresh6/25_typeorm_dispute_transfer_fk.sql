-- src/migrations/1763115000000-DisputeTransferRelation.ts (typeorm migration:run, logging: true)
START TRANSACTION;
ALTER TABLE "dispute" ADD "resolvedAt" TIMESTAMP;
CREATE INDEX "IDX_4b2a7f1c9e0d3a6b8c5e2f1d7a" ON "dispute" ("transferId");
ALTER TABLE "dispute" ADD CONSTRAINT "FK_4b2a7f1c9e0d3a6b8c5e2f1d7a9" FOREIGN KEY ("transferId") REFERENCES "transfers"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;
COMMIT;
