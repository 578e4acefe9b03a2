-- AlterTable
ALTER TABLE "Swarm" ADD COLUMN     "desiredAgents" JSONB NOT NULL DEFAULT '{}';
