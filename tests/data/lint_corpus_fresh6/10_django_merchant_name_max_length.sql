--
-- python manage.py sqlmigrate payments 0043
--
BEGIN;
--
-- Alter field name on merchant
--
ALTER TABLE "merchants" ALTER COLUMN "name" TYPE varchar(200);
COMMIT;
