-- CreateEnum
CREATE TYPE "FindingStatus" AS ENUM ('UNVERIFIED', 'VERIFIED', 'DISPUTED', 'RETRACTED');

-- CreateEnum
CREATE TYPE "FindingVerdict" AS ENUM ('VERIFY', 'DISPUTE');

-- CreateEnum
CREATE TYPE "ConflictStatus" AS ENUM ('OPEN', 'RESOLVED', 'DISMISSED');

-- CreateTable
CREATE TABLE "Finding" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "claim" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "position" TEXT NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "citations" TEXT[],
    "tags" TEXT[],
    "status" "FindingStatus" NOT NULL DEFAULT 'UNVERIFIED',
    "taskId" TEXT,
    "agentId" TEXT,
    "swarmId" TEXT,
    "postedBy" TEXT NOT NULL,
    "validationVerdict" "FindingVerdict",
    "validatedBy" TEXT,
    "validationReason" TEXT,
    "validatedAt" TIMESTAMPTZ(3),
    "retractedBy" TEXT,
    "retractionReason" TEXT,
    "retractedAt" TIMESTAMPTZ(3),
    -- Hand-edited, the one change to the generated SQL: PostgreSQL computes the column from claim.
    -- schema.prisma declares it Unsupported("tsvector")? @default(dbgenerated()), which the drift
    -- test accepts; PostgreSQL cannot turn an existing column into a generated one afterwards.
    "searchVector" tsvector GENERATED ALWAYS AS (to_tsvector('english', "claim")) STORED,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Finding_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Conflict" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "findingAId" TEXT NOT NULL,
    "findingBId" TEXT NOT NULL,
    "confidenceDelta" DOUBLE PRECISION NOT NULL,
    "escalationRecommended" BOOLEAN NOT NULL,
    "notes" TEXT NOT NULL,
    "status" "ConflictStatus" NOT NULL DEFAULT 'OPEN',
    "winningFindingId" TEXT,
    "resolutionNotes" TEXT,
    "resolvedBy" TEXT,
    "resolvedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Conflict_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Finding_workspaceId_subject_status_idx" ON "Finding"("workspaceId", "subject", "status");

-- CreateIndex
CREATE INDEX "Finding_workspaceId_createdAt_idx" ON "Finding"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "Finding_tags_idx" ON "Finding" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "Finding_searchVector_idx" ON "Finding" USING GIN ("searchVector");

-- CreateIndex
CREATE INDEX "Finding_taskId_idx" ON "Finding"("taskId");

-- CreateIndex
CREATE INDEX "Finding_agentId_idx" ON "Finding"("agentId");

-- CreateIndex
CREATE INDEX "Finding_swarmId_idx" ON "Finding"("swarmId");

-- CreateIndex
CREATE INDEX "Conflict_findingBId_idx" ON "Conflict"("findingBId");

-- CreateIndex
CREATE INDEX "Conflict_workspaceId_status_createdAt_idx" ON "Conflict"("workspaceId", "status", "createdAt");

-- CreateIndex
CREATE INDEX "Conflict_workspaceId_subject_idx" ON "Conflict"("workspaceId", "subject");

-- CreateIndex
CREATE UNIQUE INDEX "Conflict_findingAId_findingBId_key" ON "Conflict"("findingAId", "findingBId");

-- AddForeignKey
ALTER TABLE "Finding" ADD CONSTRAINT "Finding_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Finding" ADD CONSTRAINT "Finding_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Finding" ADD CONSTRAINT "Finding_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Finding" ADD CONSTRAINT "Finding_swarmId_fkey" FOREIGN KEY ("swarmId") REFERENCES "Swarm"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conflict" ADD CONSTRAINT "Conflict_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conflict" ADD CONSTRAINT "Conflict_findingAId_fkey" FOREIGN KEY ("findingAId") REFERENCES "Finding"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conflict" ADD CONSTRAINT "Conflict_findingBId_fkey" FOREIGN KEY ("findingBId") REFERENCES "Finding"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Conflict" ADD CONSTRAINT "Conflict_winningFindingId_fkey" FOREIGN KEY ("winningFindingId") REFERENCES "Finding"("id") ON DELETE SET NULL ON UPDATE CASCADE;
