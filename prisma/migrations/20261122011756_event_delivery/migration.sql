-- AlterTable
ALTER TABLE "Event" ADD COLUMN     "horizon" BIGINT NOT NULL DEFAULT txid_snapshot_xmax(txid_current_snapshot());

-- CreateIndex
CREATE INDEX "Event_createdAt_idx" ON "Event"("createdAt");
