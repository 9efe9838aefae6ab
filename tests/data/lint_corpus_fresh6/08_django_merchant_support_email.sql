--
-- python manage.py sqlmigrate payments 0042
--
BEGIN;
--
-- Add field support_email to merchant
--
ALTER TABLE "merchants" ADD COLUMN "support_email" varchar(254) DEFAULT '' NOT NULL;
ALTER TABLE "merchants" ALTER COLUMN "support_email" DROP DEFAULT;
COMMIT;
