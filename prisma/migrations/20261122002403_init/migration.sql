-- CreateEnum
CREATE TYPE "AgentStatus" AS ENUM ('IDLE', 'BUSY', 'PAUSED', 'TERMINATED');

-- CreateEnum
CREATE TYPE "SwarmTopology" AS ENUM ('HIERARCHICAL', 'MESH', 'STAR', 'RING');

-- CreateEnum
CREATE TYPE "SwarmStatus" AS ENUM ('ACTIVE', 'PAUSED', 'ARCHIVED');

-- CreateEnum
CREATE TYPE "SwarmRole" AS ENUM ('COORDINATOR', 'WORKER', 'SPECIALIST', 'REVIEWER', 'OBSERVER');

-- CreateTable
CREATE TABLE "Workspace" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Workspace_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Agent" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "status" "AgentStatus" NOT NULL DEFAULT 'IDLE',
    "capabilities" TEXT[],
    "config" JSONB NOT NULL DEFAULT '{}',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "metrics" JSONB,
    "lastHeartbeatAt" TIMESTAMPTZ(3),
    "pausedFrom" "AgentStatus",
    "terminatedAt" TIMESTAMPTZ(3),
    "terminationReason" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Agent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Swarm" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "objective" TEXT NOT NULL,
    "topology" "SwarmTopology" NOT NULL,
    "status" "SwarmStatus" NOT NULL DEFAULT 'ACTIVE',
    "maxAgents" INTEGER,
    "config" JSONB NOT NULL DEFAULT '{}',
    "archivedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Swarm_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SwarmMember" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "swarmId" TEXT NOT NULL,
    "agentId" TEXT NOT NULL,
    "role" "SwarmRole" NOT NULL,
    "joinedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SwarmMember_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Event" (
    "id" BIGSERIAL NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "actor" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Event_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Agent_workspaceId_status_idx" ON "Agent"("workspaceId", "status");

-- CreateIndex
CREATE INDEX "Agent_workspaceId_createdAt_idx" ON "Agent"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "Agent_workspaceId_type_idx" ON "Agent"("workspaceId", "type");

-- CreateIndex
CREATE INDEX "Agent_capabilities_idx" ON "Agent" USING GIN ("capabilities");

-- CreateIndex
CREATE INDEX "Swarm_workspaceId_status_idx" ON "Swarm"("workspaceId", "status");

-- CreateIndex
CREATE INDEX "Swarm_workspaceId_createdAt_idx" ON "Swarm"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "SwarmMember_agentId_idx" ON "SwarmMember"("agentId");

-- CreateIndex
CREATE UNIQUE INDEX "SwarmMember_swarmId_agentId_key" ON "SwarmMember"("swarmId", "agentId");

-- CreateIndex
CREATE INDEX "Event_workspaceId_topic_id_idx" ON "Event"("workspaceId", "topic", "id");

-- CreateIndex
CREATE INDEX "Event_entityId_id_idx" ON "Event"("entityId", "id");

-- AddForeignKey
ALTER TABLE "Agent" ADD CONSTRAINT "Agent_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Swarm" ADD CONSTRAINT "Swarm_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SwarmMember" ADD CONSTRAINT "SwarmMember_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SwarmMember" ADD CONSTRAINT "SwarmMember_swarmId_fkey" FOREIGN KEY ("swarmId") REFERENCES "Swarm"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SwarmMember" ADD CONSTRAINT "SwarmMember_agentId_fkey" FOREIGN KEY ("agentId") REFERENCES "Agent"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Event" ADD CONSTRAINT "Event_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
