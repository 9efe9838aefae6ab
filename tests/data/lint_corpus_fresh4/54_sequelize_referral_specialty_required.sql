-- Executing (default): sequelize db:migrate 20261126-referral-specialty-required.js
ALTER TABLE "Referrals" ALTER COLUMN "toSpecialty" SET NOT NULL;ALTER TABLE "Referrals" ALTER COLUMN "toSpecialty" DROP DEFAULT;ALTER TABLE "Referrals" ALTER COLUMN "toSpecialty" TYPE TEXT;
