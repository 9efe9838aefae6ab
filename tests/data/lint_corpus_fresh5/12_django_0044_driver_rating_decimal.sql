BEGIN;
--
-- Alter field rating on driver
--
ALTER TABLE "drivers" ALTER COLUMN "rating" TYPE numeric(3, 2) USING "rating"::numeric(3, 2);
COMMIT;
