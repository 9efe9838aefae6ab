-- typeorm migration:run  (1732350000000-WaitlistPractitioner)
START TRANSACTION;
ALTER TABLE "waitlist_entry" ADD "practitionerId" integer;
ALTER TABLE "waitlist_entry" ADD CONSTRAINT "FK_8c1f4d5e0b7a9f2e3d6c1b0a9e8" FOREIGN KEY ("practitionerId") REFERENCES "practitioners"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;
INSERT INTO "schema_migrations"("version") VALUES ('1732350000000');
COMMIT;
