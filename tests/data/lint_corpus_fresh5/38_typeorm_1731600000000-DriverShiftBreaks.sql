-- query: START TRANSACTION
START TRANSACTION;
-- migration DriverShiftBreaks1731600000000 is being executed
ALTER TABLE "driver_shift" ADD "breakMinutes" integer NOT NULL DEFAULT '0';
ALTER TABLE "driver_shift" ADD CONSTRAINT "FK_9a7d2e4c6b1f3a5d8e0c2b4a6f8" FOREIGN KEY ("driverId") REFERENCES "drivers"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;
COMMIT;
