-- AlterTable
ALTER TABLE "Event" DROP COLUMN "horizon",
ALTER COLUMN "id" DROP DEFAULT;
DROP SEQUENCE "Event_id_seq";

-- CreateTable
CREATE TABLE "PendingEvent" (
    "id" BIGSERIAL NOT NULL,
    "workspaceId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "payload" JSONB NOT NULL DEFAULT '{}',
    "actor" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PendingEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "EventLogHead" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "position" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "EventLogHead_pkey" PRIMARY KEY ("id")
);

-- AddForeignKey
ALTER TABLE "PendingEvent" ADD CONSTRAINT "PendingEvent_workspaceId_fkey" FOREIGN KEY ("workspaceId") REFERENCES "Workspace"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- The log continues after the last position the old design handed out.
INSERT INTO "EventLogHead" ("id", "position") SELECT 1, coalesce(max("id"), 0) FROM "Event";

-- The sequencer (see src/events/sequencer.ts for the argument). Moves committed pending events
-- into the log, giving them the next positions, oldest pending id first; returns the new head
-- and how many it moved. VOLATILE and plpgsql:
-- every statement after the lock takes a fresh snapshot, so it sees everything committed by
-- the previous holder of the lock.
CREATE FUNCTION "swarmgraph_sequence_events"("batch" integer, OUT head bigint, OUT moved bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  moved := 0;
  IF NOT EXISTS (SELECT 1 FROM "PendingEvent") THEN
    SELECT "position" INTO head FROM "EventLogHead" WHERE "id" = 1;
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(7013904851);
  SELECT "position" INTO head FROM "EventLogHead" WHERE "id" = 1;
  WITH taken AS (
    DELETE FROM "PendingEvent"
    WHERE "id" IN (SELECT "id" FROM "PendingEvent" ORDER BY "id" LIMIT "batch")
    RETURNING *
  )
  INSERT INTO "Event" ("id", "workspaceId", "topic", "type", "entityId", "payload", "actor", "createdAt")
  SELECT head + row_number() OVER (ORDER BY "id"), "workspaceId", "topic", "type", "entityId", "payload", "actor", "createdAt"
  FROM taken;
  GET DIAGNOSTICS moved = ROW_COUNT;
  IF moved > 0 THEN
    head := head + moved;
    UPDATE "EventLogHead" SET "position" = head WHERE "id" = 1;
  END IF;
END
$$;
