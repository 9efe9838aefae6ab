-- prisma/migrations/20261109094500_webhook_event_enum/migration.sql
/*
  Warnings:

  - The `events` column on the `webhooks` table would be dropped and recreated. This will lead to data loss if there is data in the column.

*/
-- CreateEnum
CREATE TYPE "WebhookEvent" AS ENUM ('ticket_created', 'ticket_updated', 'ticket_solved', 'comment_created');

-- AlterTable
ALTER TABLE "webhooks" DROP COLUMN "events",
ADD COLUMN     "events" "WebhookEvent"[];
