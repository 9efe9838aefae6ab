-- migrations/20261117113000-change-webhooks-url.js
--   queryInterface.changeColumn('webhooks', 'url', { type: Sequelize.STRING(2048), allowNull: false })
ALTER TABLE "public"."webhooks" ALTER COLUMN "url" SET NOT NULL;ALTER TABLE "public"."webhooks" ALTER COLUMN "url" DROP DEFAULT;ALTER TABLE "public"."webhooks" ALTER COLUMN "url" TYPE VARCHAR(2048);
