-- CreateEnum
CREATE TYPE "MemoryAccessLevel" AS ENUM ('WORKSPACE', 'SWARM', 'PRIVATE');

-- CreateEnum
CREATE TYPE "ContextScope" AS ENUM ('WORKSPACE', 'SWARMS');

-- CreateEnum
CREATE TYPE "ContextAction" AS ENUM ('PUBLISHED', 'UPDATED', 'READ', 'SHARED');

-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('OPEN', 'CLOSED');

-- CreateEnum
CREATE TYPE "MessageRole" AS ENUM ('SYSTEM', 'USER', 'ASSISTANT', 'TOOL');

-- AlterTable
-- Hand-edited: IF NOT EXISTS, because the artifacts migration adds the same column and index
-- (whichever of the two runs first creates them).
ALTER TABLE "Agent" ADD COLUMN IF NOT EXISTS "registeredBy" TEXT;

-- CreateTable
CREATE TABLE "MemoryEntry" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "namespace" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" JSONB NOT NULL,
    "bytes" INTEGER NOT NULL,
    "tags" TEXT[],
    "accessLevel" "MemoryAccessLevel" NOT NULL DEFAULT 'WORKSPACE',
    "swarmId" TEXT,
    "ownerSubject" TEXT NOT NULL,
    "agentId" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "accessCount" INTEGER NOT NULL DEFAULT 0,
    "lastAccessedAt" TIMESTAMPTZ(3),
    "expiresAt" TIMESTAMPTZ(3),
    "updatedBy" TEXT NOT NULL,
    "searchText" TEXT NOT NULL,
    -- Hand-edited, as in the findings migration: PostgreSQL computes the column (schema.prisma
    -- declares it Unsupported("tsvector")? @default(dbgenerated()), which the drift test accepts).
    "searchVector" tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', "namespace" || ' ' || "key"), 'A') ||
        setweight(to_tsvector('english', "searchText"), 'B')) STORED,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "MemoryEntry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MemoryVersion" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "entryId" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "value" JSONB NOT NULL,
    "bytes" INTEGER NOT NULL,
    "tags" TEXT[],
    "merged" BOOLEAN NOT NULL,
    "writtenBy" TEXT NOT NULL,
    "agentId" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MemoryVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContextItem" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "scope" "ContextScope" NOT NULL,
    "swarmIds" TEXT[],
    "data" JSONB NOT NULL,
    "bytes" INTEGER NOT NULL,
    "createdBy" TEXT NOT NULL,
    "agentId" TEXT,
    "expiresAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "ContextItem_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ContextCustody" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "itemId" TEXT NOT NULL,
    "action" "ContextAction" NOT NULL,
    "actor" TEXT NOT NULL,
    "agentId" TEXT,
    "swarmIds" TEXT[],
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ContextCustody_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "swarmId" TEXT,
    "status" "SessionStatus" NOT NULL DEFAULT 'OPEN',
    "createdBy" TEXT NOT NULL,
    "messageCount" INTEGER NOT NULL DEFAULT 0,
    "lastMessageAt" TIMESTAMPTZ(3),
    "ttlSeconds" INTEGER,
    "expiresAt" TIMESTAMPTZ(3),
    "closedAt" TIMESTAMPTZ(3),
    "closedBy" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SessionMessage" (
    "id" TEXT NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "sessionId" TEXT NOT NULL,
    "seq" INTEGER NOT NULL,
    "role" "MessageRole" NOT NULL,
    "content" TEXT NOT NULL,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "author" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SessionMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MemoryEntry_expiresAt_idx" ON "MemoryEntry"("expiresAt");

-- CreateIndex
CREATE INDEX "MemoryEntry_tags_idx" ON "MemoryEntry" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "MemoryEntry_searchVector_idx" ON "MemoryEntry" USING GIN ("searchVector");

-- CreateIndex
CREATE UNIQUE INDEX "MemoryEntry_workspaceId_namespace_key_key" ON "MemoryEntry"("workspaceId", "namespace", "key");

-- CreateIndex
CREATE UNIQUE INDEX "MemoryVersion_entryId_version_key" ON "MemoryVersion"("entryId", "version");

-- CreateIndex
CREATE INDEX "ContextItem_expiresAt_idx" ON "ContextItem"("expiresAt");

-- CreateIndex
CREATE INDEX "ContextItem_swarmIds_idx" ON "ContextItem" USING GIN ("swarmIds");

-- CreateIndex
CREATE UNIQUE INDEX "ContextItem_workspaceId_name_key" ON "ContextItem"("workspaceId", "name");

-- CreateIndex
CREATE INDEX "ContextCustody_itemId_at_idx" ON "ContextCustody"("itemId", "at");

-- CreateIndex
CREATE INDEX "Session_workspaceId_createdAt_idx" ON "Session"("workspaceId", "createdAt");

-- CreateIndex
CREATE INDEX "Session_expiresAt_idx" ON "Session"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "SessionMessage_sessionId_seq_key" ON "SessionMessage"("sessionId", "seq");

-- CreateIndex
CREATE INDEX IF NOT EXISTS "Agent_workspaceId_registeredBy_idx" ON "Agent"("workspaceId", "registeredBy");

-- AddForeignKey
ALTER TABLE "MemoryEntry" ADD CONSTRAINT "MemoryEntry_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MemoryVersion" ADD CONSTRAINT "MemoryVersion_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MemoryVersion" ADD CONSTRAINT "MemoryVersion_entryId_fkey" FOREIGN KEY ("entryId") REFERENCES "MemoryEntry"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContextItem" ADD CONSTRAINT "ContextItem_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContextCustody" ADD CONSTRAINT "ContextCustody_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ContextCustody" ADD CONSTRAINT "ContextCustody_itemId_fkey" FOREIGN KEY ("itemId") REFERENCES "ContextItem"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_swarmId_fkey" FOREIGN KEY ("swarmId") REFERENCES "Swarm"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SessionMessage" ADD CONSTRAINT "SessionMessage_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SessionMessage" ADD CONSTRAINT "SessionMessage_sessionId_fkey" FOREIGN KEY ("sessionId") REFERENCES "Session"("id") ON DELETE CASCADE ON UPDATE CASCADE;
