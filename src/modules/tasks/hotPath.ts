/**
 * The agent hot path: claim, start, progress, complete, fail and release in one SQL statement
 * each, sent straight through the driver (no Prisma interactive transaction, no round trip to
 * Node while a lock is held).
 *
 * Why. Through Prisma, a claim was ~14 statements in one interactive transaction, and the
 * workspace's `tasks.running` quota row (which every claim and completion locks) stayed locked
 * while its holder waited for Node to send the next statement: claims queued on that row, and
 * more agents made the whole workspace slower.
 *
 * How. Claims and completions are the plpgsql functions of migration `task_hot_path`
 * (`swarmgraph_claim_tasks`, `swarmgraph_complete_tasks`), failures and releases that of migration
 * `hot_path_fail_release` (`swarmgraph_give_back_task`); start and progress are single
 * data-modifying CTEs here. Each is one statement in its own (autocommit) transaction, so every
 * lock it takes is released at its commit. The quota row is the last thing each function locks,
 * so it is held only for the function's tail. The lock order is the general path's (task rows,
 * agent rows, quota rows last; claims take their agent first but wait for no task row, thanks
 * to SKIP LOCKED), so the two paths can run side by side without deadlocks.
 *
 * The guarantees, and where each lives:
 * - no double claim: candidates are locked with FOR UPDATE SKIP LOCKED, and a claim writes only
 *   rows it locked;
 * - fencing and leases: a claim bumps `fence` and sets a fresh secret `leaseToken` and expiry;
 *   start, progress and completion match on the token and an unexpired lease in the same
 *   statement that writes;
 * - quota exact: the quota row is updated with `allocated + n <= limit` in its WHERE clause, under
 *   its row lock, so concurrent claims can never exceed it;
 * - events: written to PendingEvent by the same statement, so they exist iff the change committed
 *   (the sequencer orders them; src/events/sequencer.ts);
 * - deadlock victims: a statement PostgreSQL aborted to break a deadlock runs again (`statement`).
 *
 * Claims, completions, failures and releases of one workspace go through a gate
 * (`quotaRowGate`): this process sends at most two of them at a time. They all lock the same
 * quota row, so they could not progress side by side anyway; the gate only moves the queue from
 * PostgreSQL's lock manager, where each commit wakes every waiter to race for the row again, to a
 * FIFO in Node.
 *
 * The fast path handles the common case only. Whenever something is out of the ordinary (an
 * agent that may not claim, a full quota, a lost lease, a task with dependents or a blackboard
 * correlation), it changes nothing and returns `null` (or leaves the task out); the caller then
 * takes the general path in service.ts, which decides the same case with full detail and the
 * precise typed error. A claim in a workspace without a tasks.running row yet (its first) says
 * so instead, and the caller creates the row and claims again.
 */
import pLimit, { type LimitFunction } from "p-limit";
import { retryAborted } from "../../db/client.ts";
import type { SqlRunner } from "../../db/sql.ts";
import type { Actor } from "../../events/eventLog.ts";
import type { Task } from "../../generated/prisma/client.ts";
import type { ClaimFilter } from "./service.ts";

/**
 * How many claim or completion statements of one workspace this process has in flight at most.
 * Each holds the workspace's tasks.running quota row from its counter update to its commit, so
 * one progresses at a time whatever the number sent. Measured with the SQL functions called
 * directly by 8 agents (2,000 cycles each run): all sent at once, 277–344 cycles/s at 4.2–4.6 ms
 * of database CPU per cycle (waiters woken by every commit, racing for the row again); two at a
 * time, 389–459 at 2.2–2.8 ms; one at a time, 352–369 at 1.8 ms (nothing overlaps the commit's
 * flush). Two also keep a statement stuck on another lock (an agent row a slow transaction holds)
 * from stopping the workspace's hot path in this process.
 */
export const QUOTA_ROW_STATEMENTS = 2;

/** Per database (the server's SqlRunner) and workspace: the limiter of its quota-row statements. */
const quotaRowGates = new WeakMap<SqlRunner, Map<string, LimitFunction>>();

function quotaRowGate<T>(sql: SqlRunner, workspaceId: string, fn: () => Promise<T>): Promise<T> {
  let byWorkspace = quotaRowGates.get(sql);
  if (!byWorkspace) quotaRowGates.set(sql, (byWorkspace = new Map()));
  let gate = byWorkspace.get(workspaceId);
  if (!gate) byWorkspace.set(workspaceId, (gate = pLimit(QUOTA_ROW_STATEMENTS)));
  const limiter = gate;
  return limiter(fn).finally(() => {
    if (limiter.activeCount === 0 && limiter.pendingCount === 0 && byWorkspace.get(workspaceId) === limiter) byWorkspace.delete(workspaceId);
  });
}

/** SQLSTATE the hot-path functions raise (changing nothing) to hand a case to the general path. */
const GENERAL_PATH = "SG001";
/** The claim function's message when the workspace has no tasks.running quota row yet (its first claim). */
const QUOTA_ROW_MISSING = "tasks.running quota row missing";

/** Task columns as the driver returns them, in Prisma's shape. */
type TaskRow = Task;

// The hot path's statements that run outside the SQL functions. Their lookups by id must stay
// primary-key probes whatever the planner knows (see migration hot_path_history): the workspace
// check is written `IS NOT DISTINCT FROM`, which no index serves, and a batch probes its tasks one
// by one (LATERAL … OFFSET 0). test/hotPath.history.test.ts counts the rows each one reads.

/** startTask: $1 task id, $2 workspace, $3 lease token, $4 lease seconds, $5 actor. */
export const START_TASK_SQL = `WITH started AS (
       UPDATE "Task" SET status = 'RUNNING', "startedAt" = now(), "leaseExpiresAt" = now() + make_interval(secs => $4), "updatedAt" = now()
       WHERE id = $1 AND "workspaceId" IS NOT DISTINCT FROM $2 AND "leaseToken" = $3 AND status = 'CLAIMED' AND "leaseExpiresAt" > now()
       RETURNING *
     ), event AS (
       INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
       SELECT $2, 'task', 'task.started', id, jsonb_build_object('agentId', "assigneeId"), $5, now() FROM started
     )
     SELECT * FROM started`;

/** reportProgress: $1 task id, $2 workspace, $3 lease token, $4 progress, $5 partial result (jsonb), $6 lease seconds, $7 actor. */
export const REPORT_PROGRESS_SQL = `WITH reported AS (
       UPDATE "Task" SET status = 'RUNNING', "startedAt" = COALESCE("startedAt", now()), progress = $4,
         "partialResult" = COALESCE($5::jsonb, "partialResult"), "leaseExpiresAt" = now() + make_interval(secs => $6), "updatedAt" = now()
       WHERE id = $1 AND "workspaceId" IS NOT DISTINCT FROM $2 AND "leaseToken" = $3 AND status IN ('CLAIMED', 'RUNNING') AND "leaseExpiresAt" > now()
       RETURNING *
     ), event AS (
       INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
       SELECT $2, 'task', 'task.progress', id, jsonb_build_object('progress', $4::float8, 'partialResult', $5::jsonb), $7, now() FROM reported
     )
     SELECT * FROM reported`;

/** reportProgresses: $1 task ids, $2 lease tokens, $3 progresses, $4 partial results (jsonb), $5 workspace, $6 lease seconds, $7 actor. */
export const REPORT_PROGRESSES_SQL = `WITH input AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::jsonb[]) WITH ORDINALITY AS k(id, token, progress, partial, ord)
     ), held AS (
       SELECT t.id FROM (SELECT id, token FROM input ORDER BY id) k CROSS JOIN LATERAL (
         SELECT t.id FROM "Task" t
         WHERE t.id = k.id AND t."workspaceId" IS NOT DISTINCT FROM $5 AND t."leaseToken" = k.token
           AND t.status IN ('CLAIMED', 'RUNNING') AND t."leaseExpiresAt" > now()
         OFFSET 0 FOR NO KEY UPDATE OF t
       ) t
     ), reported AS (
       UPDATE "Task" t SET status = 'RUNNING', "startedAt" = COALESCE(t."startedAt", now()), progress = k.progress,
         "partialResult" = COALESCE(k.partial, t."partialResult"), "leaseExpiresAt" = now() + make_interval(secs => $6), "updatedAt" = now()
       FROM input k JOIN held h ON h.id = k.id
       WHERE t.id = h.id
       RETURNING t.*, k.ord AS "reportOrder", k.partial AS "reportedPartial"
     ), event AS (
       INSERT INTO "PendingEvent" ("workspaceId", topic, type, "entityId", payload, actor, "createdAt")
       SELECT $5, 'task', 'task.progress', id, jsonb_build_object('progress', progress, 'partialResult', "reportedPartial"), $7, now()
       FROM reported ORDER BY "reportOrder"
     )
     SELECT * FROM reported`;

/**
 * Claims up to `tokens.length` tasks for the agent, each with the lease token at its index.
 * @returns the claimed tasks in claim order ([] when nothing is claimable); "quota row missing"
 *   when the workspace has no tasks.running quota row yet (the caller creates it and claims
 *   again); null when the general path must decide
 */
export async function claimTasks(sql: SqlRunner, actor: Actor, agentId: string, filter: ClaimFilter, leaseSeconds: number, tokens: string[]): Promise<Task[] | "quota row missing" | null> {
  try {
    return await quotaRowGate(sql, actor.workspaceId, () => statement<TaskRow>(sql, `SELECT * FROM "swarmgraph_claim_tasks"($1, $2, $3, $4, $5::text[], $6, $7, $8::text[])`, [
      actor.workspaceId,
      actor.subject,
      agentId,
      filter.swarmId ?? null,
      filter.types ?? null,
      tokens.length,
      leaseSeconds,
      tokens,
    ]));
  } catch (error) {
    if (!isGeneralPathSignal(error)) throw error;
    return (error as Error).message === QUOTA_ROW_MISSING ? "quota row missing" : null;
  }
}

export interface Completion {
  taskId: string;
  leaseToken: string;
  result: Record<string, unknown> | null;
}

/**
 * Completes the held tasks among `completions`.
 * @returns the completed tasks by id; a task missing from it was left untouched for the general path
 */
export async function completeTasks(sql: SqlRunner, actor: Actor, completions: readonly Completion[]): Promise<Map<string, Task>> {
  const rows = await quotaRowGate(sql, actor.workspaceId, () =>
    statement<TaskRow>(sql, `SELECT * FROM "swarmgraph_complete_tasks"($1, $2, $3::text[], $4::text[], $5::jsonb[])`, [
      actor.workspaceId,
      actor.subject,
      completions.map((c) => c.taskId),
      completions.map((c) => c.leaseToken),
      completions.map((c) => (c.result == null ? null : JSON.stringify(c.result))),
    ]),
  );
  return new Map(rows.map((row) => [row.id, row]));
}

/**
 * The holder gives a task back: `FAILED` (failTask: re-queued after its backoff, or failed for
 * good) or `RELEASED` (releaseTask: pending again at once, the attempt not counted). One call of
 * migration hot_path_fail_release's function.
 * @returns the task as it is now; null when the general path must decide (the lease is not held,
 *   or a final failure has dependents or a blackboard correlation to settle)
 */
export async function giveBackTask(
  sql: SqlRunner,
  actor: Actor,
  taskId: string,
  leaseToken: string,
  outcome: { kind: "FAILED"; error: Record<string, unknown>; retryable: boolean; retryBaseSeconds: number } | { kind: "RELEASED" },
): Promise<Task | null> {
  const failed = outcome.kind === "FAILED" ? outcome : undefined;
  const [row] = await quotaRowGate(sql, actor.workspaceId, () =>
    statement<TaskRow>(sql, `SELECT * FROM "swarmgraph_give_back_task"($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`, [
      actor.workspaceId,
      actor.subject,
      taskId,
      leaseToken,
      outcome.kind,
      failed ? JSON.stringify(failed.error) : null,
      failed?.retryable ?? false,
      failed?.retryBaseSeconds ?? 0,
    ]),
  );
  return row ?? null;
}

/** CLAIMED → RUNNING with the lease extended; null when the general path must decide. */
export async function startTask(sql: SqlRunner, actor: Actor, taskId: string, leaseToken: string, leaseSeconds: number): Promise<Task | null> {
  const [row] = await statement<TaskRow>(
    sql,
    START_TASK_SQL,
    [taskId, actor.workspaceId, leaseToken, leaseSeconds, actor.subject],
  );
  return row ?? null;
}

/** Records progress (starting the task if needed) with the lease extended; null when the general path must decide. */
export async function reportProgress(
  sql: SqlRunner,
  actor: Actor,
  taskId: string,
  leaseToken: string,
  progress: number,
  partialResult: Record<string, unknown> | null | undefined,
  leaseSeconds: number,
): Promise<Task | null> {
  const partial = partialResult == null ? null : JSON.stringify(partialResult);
  const [row] = await statement<TaskRow>(
    sql,
    REPORT_PROGRESS_SQL,
    [taskId, actor.workspaceId, leaseToken, progress, partial, leaseSeconds, actor.subject],
  );
  return row ?? null;
}

export interface ProgressReport {
  taskId: string;
  leaseToken: string;
  progress: number;
  partialResult?: Record<string, unknown> | null;
}

/**
 * Records the progress of several held tasks in one statement (each starting if needed, its lease
 * extended), with one task.progress event each, written in input order. The reports must name
 * distinct tasks. Rows are locked in id order first, so two batches over the same tasks queue
 * instead of deadlocking.
 * @returns the reported tasks by id; a task missing from it was left untouched for the general path
 */
export async function reportProgresses(sql: SqlRunner, actor: Actor, reports: readonly ProgressReport[], leaseSeconds: number): Promise<Map<string, Task>> {
  const rows = await statement<TaskRow & { reportOrder: string; reportedPartial: unknown }>(
    sql,
    REPORT_PROGRESSES_SQL,
    [
      reports.map((r) => r.taskId),
      reports.map((r) => r.leaseToken),
      reports.map((r) => r.progress),
      reports.map((r) => (r.partialResult == null ? null : JSON.stringify(r.partialResult))),
      actor.workspaceId,
      leaseSeconds,
      actor.subject,
    ],
  );
  return new Map(rows.map(({ reportOrder: _order, reportedPartial: _partial, ...row }) => [row.id, row]));
}

/**
 * Runs one hot-path statement, again when PostgreSQL aborted it as a deadlock or serialization
 * victim (retryAborted): it is a transaction of its own, so nothing of it was applied.
 */
function statement<Row>(sql: Pick<SqlRunner, "query">, text: string, params: unknown[]): Promise<Row[]> {
  return retryAborted(() => sql.query<Row>(text, params));
}

function isGeneralPathSignal(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === GENERAL_PATH;
}
