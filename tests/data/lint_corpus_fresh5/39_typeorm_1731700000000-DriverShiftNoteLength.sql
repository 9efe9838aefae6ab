START TRANSACTION;
ALTER TABLE "driver_shift" DROP COLUMN "note";
ALTER TABLE "driver_shift" ADD "note" character varying(500);
COMMIT;
