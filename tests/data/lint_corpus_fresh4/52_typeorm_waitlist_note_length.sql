-- typeorm migration:run  (1732436400000-WaitlistNoteLength)
START TRANSACTION;
ALTER TABLE "waitlist_entry" DROP COLUMN "note";
ALTER TABLE "waitlist_entry" ADD "note" character varying(500);
CREATE INDEX "IDX_2b6f0d8c4e1a3b5d7f9e0c2a4b" ON "waitlist_entry" ("createdAt") ;
INSERT INTO "schema_migrations"("version") VALUES ('1732436400000');
COMMIT;
