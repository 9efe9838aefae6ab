/*
  Warnings:

  - Made the column `name` on table `Depot` required. This step will fail if there are existing NULL values in that column.

*/
-- AlterTable
ALTER TABLE "Depot" ALTER COLUMN "name" SET NOT NULL,
ALTER COLUMN "city" SET DEFAULT 'Berlin';
