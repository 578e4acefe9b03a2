-- CreateTable
CREATE TABLE "Replica" (
    "id" TEXT NOT NULL,
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeatAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Replica_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OpenSubscription" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "replicaId" TEXT NOT NULL,
    "openedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OpenSubscription_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "OpenSubscription_workspaceId_idx" ON "OpenSubscription"("workspaceId");

-- CreateIndex
CREATE INDEX "OpenSubscription_replicaId_idx" ON "OpenSubscription"("replicaId");

-- AddForeignKey
ALTER TABLE "OpenSubscription" ADD CONSTRAINT "OpenSubscription_replicaId_fkey" FOREIGN KEY ("replicaId") REFERENCES "Replica"("id") ON DELETE CASCADE ON UPDATE CASCADE;
