BEGIN;
--
-- Alter field first_name on practitioner
--
ALTER TABLE "practitioners" ALTER COLUMN "first_name" TYPE varchar(120);
COMMIT;
