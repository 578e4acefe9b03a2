-- AlterEnum
ALTER TYPE "FindingStatus" ADD VALUE 'REJECTED';

-- AlterTable
ALTER TABLE "Task" ADD COLUMN     "workerCount" INTEGER;
