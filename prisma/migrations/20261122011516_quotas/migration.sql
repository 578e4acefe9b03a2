-- CreateEnum
CREATE TYPE "QuotaKind" AS ENUM ('CAPACITY', 'RATE');

-- CreateEnum
CREATE TYPE "HolderType" AS ENUM ('TASK', 'SWARM', 'AGENT', 'EXTERNAL');

-- CreateTable
CREATE TABLE "Quota" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "kind" "QuotaKind" NOT NULL,
    "limit" INTEGER NOT NULL,
    "windowSeconds" INTEGER,
    "allocated" INTEGER NOT NULL DEFAULT 0,
    "custom" BOOLEAN NOT NULL DEFAULT false,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Quota_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Allocation" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "quotaId" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "holderType" "HolderType" NOT NULL,
    "holderId" TEXT NOT NULL,
    "requested" INTEGER NOT NULL,
    "granted" INTEGER NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "releasedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Allocation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Quota_workspaceId_resource_key" ON "Quota"("workspaceId", "resource");

-- CreateIndex
CREATE INDEX "Allocation_quotaId_releasedAt_idx" ON "Allocation"("quotaId", "releasedAt");

-- CreateIndex
CREATE INDEX "Allocation_quotaId_createdAt_idx" ON "Allocation"("quotaId", "createdAt");

-- CreateIndex
CREATE INDEX "Allocation_workspaceId_holderType_holderId_idx" ON "Allocation"("workspaceId", "holderType", "holderId");

-- AddForeignKey
ALTER TABLE "Quota" ADD CONSTRAINT "Quota_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Allocation" ADD CONSTRAINT "Allocation_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Allocation" ADD CONSTRAINT "Allocation_quotaId_fkey" FOREIGN KEY ("quotaId") REFERENCES "Quota"("id") ON DELETE CASCADE ON UPDATE CASCADE;
