-- AlterTable
ALTER TABLE "Depot" ADD COLUMN     "warehouseId" BIGINT;

-- CreateIndex
CREATE INDEX "Depot_warehouseId_idx" ON "Depot"("warehouseId");

-- AddForeignKey
ALTER TABLE "Depot" ADD CONSTRAINT "Depot_warehouseId_fkey" FOREIGN KEY ("warehouseId") REFERENCES "warehouses"("id") ON DELETE SET NULL ON UPDATE CASCADE;
