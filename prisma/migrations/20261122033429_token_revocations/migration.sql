-- CreateTable
CREATE TABLE "TokenRevocation" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "tokenId" TEXT,
    "subject" TEXT,
    "reason" TEXT NOT NULL,
    "revokedBy" TEXT NOT NULL,
    "revokedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "TokenRevocation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "TokenRevocation_workspaceId_subject_idx" ON "TokenRevocation"("workspaceId", "subject");

-- CreateIndex
CREATE INDEX "TokenRevocation_workspaceId_revokedAt_idx" ON "TokenRevocation"("workspaceId", "revokedAt");

-- CreateIndex
CREATE UNIQUE INDEX "TokenRevocation_workspaceId_tokenId_key" ON "TokenRevocation"("workspaceId", "tokenId");

-- AddForeignKey
ALTER TABLE "TokenRevocation" ADD CONSTRAINT "TokenRevocation_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
