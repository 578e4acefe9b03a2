/**
 * Correlations: the blackboard's workflows. A correlation is every artifact and task carrying
 * its id; it is ACTIVE while any of its tasks is unfinished, then COMPLETED, or FAILED when one
 * of its tasks failed for good or was cancelled.
 *
 * Exactly-once transitions. Whatever changes a correlation's work — a publish into it, one of its
 * tasks ending — locks its row first (`SELECT … FOR UPDATE`), then recounts its tasks and records
 * one `correlation.*` event in the same transaction. Under the lock the recount sees every
 * earlier change committed (READ COMMITTED takes a new snapshot per statement), so two tasks
 * finishing at once cannot both believe the other is still pending: the second records
 * COMPLETED. Lock order: task and agent rows, then correlation rows, then quota rows.
 *
 * The tasks service calls {@link settleTaskEnd} in the transaction of every task that ends, which
 * is why this file depends on nothing of the tasks module.
 */
import type { Db } from "../../db/client.ts";
import { NotFoundError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { CorrelationState, Task } from "../../generated/prisma/client.ts";

declare module "../../events/eventLog.ts" {
  interface EventTopics {
    artifact: true;
    correlation: true;
  }
}

/** A correlation as clients see it: NOT_FOUND until something was published into it. */
export type CorrelationStatus = CorrelationState | "NOT_FOUND";

export interface CorrelationWork {
  pendingTasks: number;
  failedTasks: number;
  completedTasks: number;
}

/** The state rule: pending work → ACTIVE; otherwise FAILED if any task failed or was cancelled; else COMPLETED. */
export function correlationStateOf(work: CorrelationWork): CorrelationState {
  if (work.pendingTasks > 0) return "ACTIVE";
  return work.failedTasks > 0 ? "FAILED" : "COMPLETED";
}

/** Task counts of many correlations, in one statement. */
export async function correlationWork(db: Db, workspaceId: string, ids: readonly string[]): Promise<Map<string, CorrelationWork>> {
  const rows = await db.$queryRaw<{ correlationId: string; pending: bigint; failed: bigint; completed: bigint }[]>`
    SELECT "correlationId",
           count(*) FILTER (WHERE status IN ('WAITING', 'PENDING', 'CLAIMED', 'RUNNING')) AS pending,
           count(*) FILTER (WHERE status IN ('FAILED', 'CANCELLED')) AS failed,
           count(*) FILTER (WHERE status = 'COMPLETED') AS completed
    FROM "Task" WHERE "workspaceId" = ${workspaceId} AND "correlationId" = ANY(${[...ids]}::text[])
    GROUP BY "correlationId"`;
  const result = new Map<string, CorrelationWork>(ids.map((id) => [id, { pendingTasks: 0, failedTasks: 0, completedTasks: 0 }]));
  for (const row of rows) result.set(row.correlationId, { pendingTasks: Number(row.pending), failedTasks: Number(row.failed), completedTasks: Number(row.completed) });
  return result;
}

/**
 * Creates the correlation if it is new and locks its row, before anything is published into it.
 * @throws NotFoundError when the id belongs to another workspace (nothing is stored)
 */
export async function lockCorrelation(tx: Db, actor: Actor, id: string): Promise<void> {
  await tx.correlation.createMany({ data: [{ id, workspaceId: actor.workspaceId }], skipDuplicates: true });
  const [row] = await tx.$queryRaw<{ workspaceId: string }[]>`SELECT "workspaceId" FROM "Correlation" WHERE id = ${id} FOR UPDATE`;
  if (row?.workspaceId !== actor.workspaceId) throw new NotFoundError("Correlation", id);
}

/**
 * Recounts the correlation's work under its row lock and records where it stands: a
 * `correlation.active|completed|failed` event when its state changed, `correlation.progress`
 * otherwise. Call once per transaction, after the changes.
 */
export async function settleCorrelation(tx: Db, actor: Actor, id: string): Promise<void> {
  const [row] = await tx.$queryRaw<{ state: CorrelationState | null }[]>`
    SELECT state::text AS state FROM "Correlation" WHERE id = ${id} AND "workspaceId" = ${actor.workspaceId} FOR UPDATE`;
  if (!row) return;
  const work = (await correlationWork(tx, actor.workspaceId, [id])).get(id)!;
  const to = correlationStateOf(work);
  const from: CorrelationStatus = row.state ?? "NOT_FOUND";
  await tx.correlation.update({ where: { id }, data: { state: to, lastActivityAt: new Date() } });
  await recordEvent(tx, actor, {
    topic: "correlation",
    type: from === to ? "correlation.progress" : `correlation.${to.toLowerCase()}`,
    entityId: id,
    payload: { from, to, ...work },
  });
}

/**
 * A task ended (COMPLETED, FAILED or CANCELLED), in its transaction: the artifacts it consumed
 * are marked consumed (when it completed) and its correlation is settled. Tasks outside the
 * blackboard cost nothing here.
 * @param settle false when the caller settles the correlation itself later in the transaction
 */
export async function settleTaskEnd(tx: Db, actor: Actor, task: Pick<Task, "id" | "status" | "correlationId">, settle = true): Promise<void> {
  if (!task.correlationId) return;
  if (task.status === "COMPLETED") {
    const consumed = await tx.$queryRaw<{ artifactId: string; agentId: string }[]>`
      UPDATE "ArtifactConsumption" SET "consumedAt" = now()
      WHERE "taskId" = ${task.id} AND "consumedAt" IS NULL
      RETURNING "artifactId", "agentId"`;
    for (const c of consumed) {
      await recordEvent(tx, actor, { topic: "artifact", type: "artifact.consumed", entityId: c.artifactId, payload: { agentId: c.agentId, taskId: task.id, correlationId: task.correlationId } });
    }
  }
  if (settle) await settleCorrelation(tx, actor, task.correlationId);
}
