-- CreateEnum
CREATE TYPE "ArtifactVisibility" AS ENUM ('PUBLIC', 'PRIVATE', 'LABELLED', 'AFTER');

-- CreateEnum
CREATE TYPE "CorrelationState" AS ENUM ('ACTIVE', 'COMPLETED', 'FAILED');

-- AlterTable
ALTER TABLE "Agent" ADD COLUMN IF NOT EXISTS "registeredBy" TEXT;

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "correlationId" TEXT,
ADD COLUMN     "reservedForId" TEXT;

-- CreateTable
CREATE TABLE "Artifact" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "producerAgentId" TEXT,
    "publishedBy" TEXT NOT NULL,
    "correlationId" TEXT NOT NULL,
    "partitionKey" TEXT,
    "tags" TEXT[],
    "visibility" "ArtifactVisibility" NOT NULL DEFAULT 'PUBLIC',
    "readerAgentIds" TEXT[],
    "label" TEXT,
    "visibleFrom" TIMESTAMPTZ(3),
    "version" INTEGER NOT NULL DEFAULT 1,
    "sourceTaskId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Artifact_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ArtifactConsumption" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "artifactId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "taskId" TEXT NOT NULL,
    "correlationId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "consumedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ArtifactConsumption_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ArtifactIdempotencyKey" (
    "workspaceId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "requestHash" TEXT NOT NULL,
    "artifactId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ArtifactIdempotencyKey_pkey" PRIMARY KEY ("workspaceId","key")
);

-- CreateTable
CREATE TABLE "AgentArtifactProfile" (
    "agentId" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "consumes" JSONB NOT NULL DEFAULT '[]',
    "consumedTypes" TEXT[],
    "produces" TEXT[],
    "labels" TEXT[],
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "AgentArtifactProfile_pkey" PRIMARY KEY ("agentId")
);

-- CreateTable
CREATE TABLE "Correlation" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "state" "CorrelationState",
    "startedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastActivityAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Correlation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Artifact_workspaceId_createdAt_idx" ON "Artifact"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "Artifact_workspaceId_correlationId_createdAt_idx" ON "Artifact"("workspaceId", "correlationId", "createdAt");

-- CreateIndex
CREATE INDEX "Artifact_workspaceId_type_createdAt_idx" ON "Artifact"("workspaceId", "type", "createdAt");

-- CreateIndex
CREATE INDEX "Artifact_producerAgentId_createdAt_idx" ON "Artifact"("producerAgentId", "createdAt");

-- CreateIndex
CREATE INDEX "Artifact_sourceTaskId_idx" ON "Artifact"("sourceTaskId");

-- CreateIndex
CREATE INDEX "Artifact_tags_idx" ON "Artifact" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "ArtifactConsumption_artifactId_idx" ON "ArtifactConsumption"("artifactId");

-- CreateIndex
CREATE INDEX "ArtifactConsumption_agentId_createdAt_idx" ON "ArtifactConsumption"("agentId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "ArtifactConsumption_taskId_artifactId_key" ON "ArtifactConsumption"("taskId", "artifactId");

-- CreateIndex
CREATE INDEX "AgentArtifactProfile_workspaceId_idx" ON "AgentArtifactProfile"("workspaceId");

-- CreateIndex
CREATE INDEX "AgentArtifactProfile_consumedTypes_idx" ON "AgentArtifactProfile" USING GIN ("consumedTypes");

-- CreateIndex
CREATE INDEX "Correlation_workspaceId_startedAt_idx" ON "Correlation"("workspaceId", "startedAt");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "Agent_workspaceId_registeredBy_idx" ON "Agent"("workspaceId", "registeredBy");

-- CreateIndex
CREATE INDEX "Task_correlationId_idx" ON "Task"("correlationId");

-- CreateIndex
CREATE INDEX "Task_reservedForId_idx" ON "Task"("reservedForId");

-- AddForeignKey
ALTER TABLE "Task" ADD CONSTRAINT "Task_reservedForId_fkey" FOREIGN KEY ("reservedForId") REFERENCES "Agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_producerAgentId_fkey" FOREIGN KEY ("producerAgentId") REFERENCES "Agent"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Artifact" ADD CONSTRAINT "Artifact_sourceTaskId_fkey" FOREIGN KEY ("sourceTaskId") REFERENCES "Task"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactConsumption" ADD CONSTRAINT "ArtifactConsumption_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactConsumption" ADD CONSTRAINT "ArtifactConsumption_artifactId_fkey" FOREIGN KEY ("artifactId") REFERENCES "Artifact"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactConsumption" ADD CONSTRAINT "ArtifactConsumption_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactConsumption" ADD CONSTRAINT "ArtifactConsumption_taskId_fkey" FOREIGN KEY ("taskId") REFERENCES "Task"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ArtifactIdempotencyKey" ADD CONSTRAINT "ArtifactIdempotencyKey_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgentArtifactProfile" ADD CONSTRAINT "AgentArtifactProfile_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AgentArtifactProfile" ADD CONSTRAINT "AgentArtifactProfile_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Correlation" ADD CONSTRAINT "Correlation_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
