BEGIN;
--
-- Alter field plate on vehicle
--
ALTER TABLE "vehicles" ADD CONSTRAINT "vehicles_plate_key" UNIQUE ("plate");
COMMIT;
