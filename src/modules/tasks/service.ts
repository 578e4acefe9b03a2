/**
 * Task rules: creation, atomic claims with leases, the holder's calls (start, progress, complete,
 * fail, release), retries with backoff, and the lease sweeper.
 *
 * Vocabulary
 * - claim:   an agent takes a PENDING task. One SQL statement (`UPDATE … WHERE id = (SELECT …
 *            FOR UPDATE SKIP LOCKED LIMIT 1)`), so two claimers can never get the same task.
 * - lease:   the claim's validity: a secret `leaseToken` and an expiry. Every call of the holder
 *            presents the token and extends the expiry; an expired lease is swept back to PENDING.
 * - fence:   a counter bumped by every claim; attempts record it, so late writes are attributable.
 * - attempt: one claim of the task by one agent, kept with its outcome.
 *
 * Two paths. Claims, start, progress, completion, failure and release first try the hot path
 * (hotPath.ts: one SQL statement each, straight through the driver); whatever it hands back
 * (errors, dependents, blackboard work, a full quota) is decided here, in Prisma transactions. A
 * workspace's first claim finds no tasks.running row: it is created here, and the claim goes back
 * to the hot path.
 *
 * Lock order, in every transaction here: task rows and the agent row first, the workspace's
 * quota rows last. Quota rows are shared by every claim of a workspace, so taking them last
 * holds them only until the commit right after — and one order everywhere means a claim and a
 * completion of the same agent cannot deadlock.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { lockRow } from "../../db/locks.ts";
import type { SqlRunner } from "../../db/sql.ts";
import { CapabilityMismatchError, DomainError, IllegalTransitionError, InvalidInputError, LeaseLostError, NotFoundError, QuotaExceededError } from "../../errors.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import type { AttemptOutcome, Prisma, Task, TaskPriority, TaskStatus } from "../../generated/prisma/client.ts";
import { jsonObjectRule, optionalJsonObjectRule, optionalTextRule, parseInput } from "../../validation.ts";
import { lockAgent } from "../agents/service.ts";
import { settleTaskEnd } from "../artifacts/workflow.ts";
import * as quotas from "../quotas/service.ts";
import * as hotPath from "./hotPath.ts";

export const PRIORITY_RANK: Record<TaskPriority, number> = { LOW: 0, MEDIUM: 1, HIGH: 2, CRITICAL: 3 };

/** Statuses in which a task is held by an agent. */
const HELD: readonly TaskStatus[] = ["CLAIMED", "RUNNING"];
/** Statuses from which a task can still change (update, cancel). */
const UNFINISHED: readonly TaskStatus[] = ["WAITING", "PENDING", "CLAIMED", "RUNNING"];

export interface LeaseSettings {
  /** How long a claim (and each extension) lasts. */
  leaseSeconds: number;
  /** First retry delay; doubles with every attempt, capped at 64× this. */
  retryBaseSeconds: number;
}

export interface Claim {
  task: Task;
  leaseToken: string;
  leaseExpiresAt: Date;
}

export interface ClaimFilter {
  types?: string[] | null;
  swarmId?: string | null;
}

/** Most tasks one `claimNextTasks` call may claim. */
export const MAX_CLAIM_BATCH = 100;

/**
 * Claims the best claimable task for the agent: PENDING, past its retry delay, requiring no
 * capability the agent lacks, matching the filter; highest priority first, then oldest.
 * @returns the claim, or null when nothing is claimable
 */
export async function claimNextTask(db: PrismaClient, sql: SqlRunner, actor: Actor, agentId: string, filter: ClaimFilter, lease: LeaseSettings): Promise<Claim | null> {
  return (await claimNextTasks(db, sql, actor, agentId, filter, 1, lease))[0] ?? null;
}

/**
 * Claims up to `max` tasks for the agent at once, in claim order (see claimNextTask), as many as
 * the tasks.running quota has room for.
 * @returns the claims; [] when nothing is claimable
 * @throws QuotaExceededError when work is claimable but the quota has no room at all
 */
export async function claimNextTasks(db: PrismaClient, sql: SqlRunner, actor: Actor, agentId: string, filter: ClaimFilter, max: number, lease: LeaseSettings): Promise<Claim[]> {
  const tokens = Array.from({ length: max }, newLeaseToken);
  let fast = await hotPath.claimTasks(sql, actor, agentId, filter, lease.leaseSeconds, tokens);
  if (fast === "quota row missing") {
    // The workspace's first claim: its tasks.running row gets the default limit, as the general
    // path would give it, and the claim stays on the hot path.
    await quotas.createDefaultQuota(db, actor.workspaceId, "tasks.running");
    fast = await hotPath.claimTasks(sql, actor, agentId, filter, lease.leaseSeconds, tokens);
  }
  if (Array.isArray(fast)) return fast.map(asClaim);
  // The general path: one claim per transaction, stopping at the first empty or refused one
  // (a refusal after a successful claim is not an error of this call: it got what fitted).
  const claims: Claim[] = [];
  while (claims.length < max) {
    try {
      const claim = await claimNextTaskGeneral(db, actor, agentId, filter, lease);
      if (!claim) break;
      claims.push(claim);
    } catch (error) {
      if (claims.length > 0 && error instanceof QuotaExceededError) break;
      throw error;
    }
  }
  return claims;
}

async function claimNextTaskGeneral(db: PrismaClient, actor: Actor, agentId: string, filter: ClaimFilter, lease: LeaseSettings): Promise<Claim | null> {
  return quotas.recordingRefusals(db, actor, { type: "AGENT", id: agentId }, () => db.$transaction(async (tx) => {
    const capabilities = await claimingAgentCapabilities(tx, actor, agentId);
    const token = newLeaseToken();
    const rows = await tx.$queryRaw<{ id: string }[]>`
      UPDATE "Task" SET status = 'CLAIMED', "assigneeId" = ${agentId}, "leaseToken" = ${token},
        "leaseExpiresAt" = now() + make_interval(secs => ${lease.leaseSeconds}), fence = fence + 1,
        "attemptCount" = "attemptCount" + 1, "claimedAt" = now(), "updatedAt" = now()
      WHERE id = (
        SELECT id FROM "Task"
        WHERE "workspaceId" = ${actor.workspaceId} AND status = 'PENDING' AND "availableAt" <= now()
          AND "requiredCapabilities" <@ ${capabilities}::text[]
          AND ("reservedForId" IS NULL OR "reservedForId" = ${agentId})
          AND (${filter.swarmId ?? null}::text IS NULL OR "swarmId" = ${filter.swarmId ?? null})
          AND (${filter.types ?? null}::text[] IS NULL OR type = ANY(${filter.types ?? null}::text[]))
          AND ("swarmId" IS NULL OR NOT EXISTS (SELECT 1 FROM "Swarm" s WHERE s.id = "Task"."swarmId" AND s.status = 'PAUSED'))
        ORDER BY "priorityRank" DESC, "createdAt" ASC, id ASC
        FOR UPDATE SKIP LOCKED
        LIMIT 1)
      RETURNING id`;
    if (rows.length === 0) return null;
    return recordClaim(tx, actor, rows[0]!.id, agentId, token);
  }));
}

/**
 * Claims one given task for the agent.
 * @param assigned set by assignTask: the claim is made on the agent's behalf, and its task.claimed
 *   event says so (`assignedBy`), which is what pushes it to the agent's `agentWork` subscription
 */
export async function claimTask(db: PrismaClient, actor: Actor, taskId: string, agentId: string, lease: LeaseSettings, assigned = false): Promise<Claim> {
  return quotas.recordingRefusals(db, actor, { type: "AGENT", id: agentId }, () => db.$transaction(async (tx) => {
    const capabilities = await claimingAgentCapabilities(tx, actor, agentId);
    const task = await lockTask(tx, actor, taskId);
    if (task.status !== "PENDING") throw new IllegalTransitionError("Task", taskId, task.status, "claim", ["PENDING"]);
    await refuseClaimsInPausedSwarm(tx, task);
    // A reserved task (blackboard work) requires being that agent, like an implicit capability.
    const missing = [...task.requiredCapabilities.filter((c) => !capabilities.includes(c)), ...(task.reservedForId && task.reservedForId !== agentId ? [`agent:${task.reservedForId}`] : [])];
    if (missing.length > 0) throw new CapabilityMismatchError(taskId, agentId, missing);
    const token = newLeaseToken();
    await tx.task.update({
      where: { id: taskId },
      data: {
        status: "CLAIMED",
        assigneeId: agentId,
        leaseToken: token,
        leaseExpiresAt: leaseExpiry(lease),
        fence: { increment: 1 },
        attemptCount: { increment: 1 },
        claimedAt: new Date(),
        availableAt: new Date(),
      },
    });
    return recordClaim(tx, actor, taskId, agentId, token, assigned ? { assignedBy: actor.subject } : {});
  }));
}

/** CLAIMED → RUNNING; extends the lease. */
export async function startTask(db: PrismaClient, sql: SqlRunner, actor: Actor, taskId: string, leaseToken: string, lease: LeaseSettings): Promise<Task> {
  const fast = await hotPath.startTask(sql, actor, taskId, leaseToken, lease.leaseSeconds);
  if (fast) return fast;
  return db.$transaction(async (tx) => {
    const task = await holdLease(tx, actor, taskId, leaseToken);
    if (task.status !== "CLAIMED") throw new IllegalTransitionError("Task", taskId, task.status, "start", ["CLAIMED"]);
    const updated = await tx.task.update({ where: { id: taskId }, data: { status: "RUNNING", startedAt: new Date(), leaseExpiresAt: leaseExpiry(lease) } });
    await recordEvent(tx, actor, { topic: "task", type: "task.started", entityId: taskId, payload: { agentId: task.assigneeId } });
    return updated;
  });
}

const progressSchema = z.object({
  progress: z.number().min(0, "must be between 0 and 1").max(1, "must be between 0 and 1"),
  partialResult: jsonObjectRule.nullish(),
});

/** Records progress (0..1) and an optional partial result; starts the task if needed and extends the lease. */
export async function reportProgress(
  db: PrismaClient,
  sql: SqlRunner,
  actor: Actor,
  taskId: string,
  leaseToken: string,
  input: z.input<typeof progressSchema>,
  lease: LeaseSettings,
): Promise<Task> {
  const valid = parseInput(progressSchema, input);
  const fast = await hotPath.reportProgress(sql, actor, taskId, leaseToken, valid.progress, valid.partialResult, lease.leaseSeconds);
  return fast ?? reportProgressGeneral(db, actor, { taskId, leaseToken, ...valid }, lease);
}

export interface ProgressInput {
  taskId: string;
  leaseToken: string;
  progress: number;
  partialResult?: unknown;
}

/** What became of one report of a batch: the task with its new progress, or why it was refused. */
export type ProgressOutcome = CompletionOutcome;

/**
 * Records the progress of many held tasks (a worker's batch, or its lease renewals), each on its
 * own: one refused report (lost lease, unknown task, invalid progress) does not stop the others.
 * The ordinary ones are recorded together in one statement, with one task.progress event each.
 * @returns one outcome per input, in input order
 */
export async function reportProgresses(db: PrismaClient, sql: SqlRunner, actor: Actor, inputs: readonly ProgressInput[], lease: LeaseSettings): Promise<ProgressOutcome[]> {
  const outcomes: (ProgressOutcome | undefined)[] = new Array(inputs.length);
  const parsed = inputs.map((input, i): hotPath.ProgressReport | null => {
    try {
      const valid = parseInput(progressSchema, { progress: input.progress, partialResult: input.partialResult }, `input.reports.${i}`);
      return { taskId: input.taskId, leaseToken: input.leaseToken, ...valid };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes[i] = { error };
      return null;
    }
  });
  // A task named twice goes to the hot path once; the repeats are recorded after it, one by one.
  const first = new Map<string, number>();
  parsed.forEach((report, i) => report && !first.has(report.taskId) && first.set(report.taskId, i));
  const done = first.size > 0 ? await hotPath.reportProgresses(sql, actor, [...first.values()].map((i) => parsed[i]!), lease.leaseSeconds) : new Map<string, Task>();
  for (const [i, report] of parsed.entries()) {
    if (!report) continue;
    const task = first.get(report.taskId) === i ? done.get(report.taskId) : undefined;
    if (task) {
      outcomes[i] = { task };
      continue;
    }
    try {
      outcomes[i] = { task: await reportProgressGeneral(db, actor, report, lease) };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes[i] = { error };
    }
  }
  return outcomes as ProgressOutcome[];
}

/** The general path of a progress report: every case, with the precise typed refusal. */
async function reportProgressGeneral(db: PrismaClient, actor: Actor, report: hotPath.ProgressReport, lease: LeaseSettings): Promise<Task> {
  const partialResult = (report.partialResult as Prisma.InputJsonObject | null | undefined) ?? undefined;
  return db.$transaction(async (tx) => {
    const task = await holdLease(tx, actor, report.taskId, report.leaseToken);
    const updated = await tx.task.update({
      where: { id: report.taskId },
      data: { status: "RUNNING", startedAt: task.startedAt ?? new Date(), progress: report.progress, partialResult, leaseExpiresAt: leaseExpiry(lease) },
    });
    await recordEvent(tx, actor, { topic: "task", type: "task.progress", entityId: report.taskId, payload: { progress: report.progress, partialResult: partialResult ?? null } });
    return updated;
  });
}

/**
 * Finishes the task with its result. A stale lease is refused, so a task completes once.
 * @param withinTransaction runs in the completion's transaction with the task as it was held
 *   (the blackboard publishes the holder's output artifacts there, so they exist iff it completed)
 */
export async function completeTask(
  db: PrismaClient,
  sql: SqlRunner,
  actor: Actor,
  taskId: string,
  leaseToken: string,
  resultInput: unknown,
  withinTransaction?: (tx: Db, held: Task) => Promise<void>,
): Promise<Task> {
  const result = parseInput(optionalJsonObjectRule, resultInput, "input.result") ?? null;
  if (!withinTransaction) {
    const done = (await hotPath.completeTasks(sql, actor, [{ taskId, leaseToken, result }])).get(taskId);
    if (done) return done;
  }
  return completeTaskGeneral(db, actor, taskId, leaseToken, result, withinTransaction);
}

export interface CompletionInput {
  taskId: string;
  leaseToken: string;
  result?: unknown;
}

/** What became of one completion of a batch: the completed task, or why it was refused. */
export type CompletionOutcome = { task: Task; error?: never } | { task?: never; error: DomainError };

/**
 * Completes many held tasks (a worker's batch), each on its own: one refused completion (lost
 * lease, unknown task, invalid result) does not stop the others. The ordinary ones complete
 * together in one statement.
 * @returns one outcome per input, in input order
 */
export async function completeTasks(db: PrismaClient, sql: SqlRunner, actor: Actor, inputs: readonly CompletionInput[]): Promise<CompletionOutcome[]> {
  const outcomes: (CompletionOutcome | undefined)[] = new Array(inputs.length);
  const parsed = inputs.map((input, i): hotPath.Completion | null => {
    try {
      return { taskId: input.taskId, leaseToken: input.leaseToken, result: parseInput(optionalJsonObjectRule, input.result, `input.completions.${i}.result`) ?? null };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes[i] = { error };
      return null;
    }
  });
  // A task named twice goes to the hot path once; the repeats are decided (refused) by the general path.
  const first = new Map<string, number>();
  parsed.forEach((completion, i) => completion && !first.has(completion.taskId) && first.set(completion.taskId, i));
  const done = first.size > 0 ? await hotPath.completeTasks(sql, actor, [...first.values()].map((i) => parsed[i]!)) : new Map<string, Task>();
  for (const [i, completion] of parsed.entries()) {
    if (!completion) continue;
    const task = first.get(completion.taskId) === i ? done.get(completion.taskId) : undefined;
    if (task) {
      outcomes[i] = { task };
      continue;
    }
    try {
      outcomes[i] = { task: await completeTaskGeneral(db, actor, completion.taskId, completion.leaseToken, completion.result) };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      outcomes[i] = { error };
    }
  }
  return outcomes as CompletionOutcome[];
}

async function completeTaskGeneral(
  db: PrismaClient,
  actor: Actor,
  taskId: string,
  leaseToken: string,
  result: Record<string, unknown> | null,
  withinTransaction?: (tx: Db, held: Task) => Promise<void>,
): Promise<Task> {
  return db.$transaction(async (tx) => {
    const task = await holdLease(tx, actor, taskId, leaseToken);
    const now = new Date();
    const updated = await tx.task.update({
      where: { id: taskId },
      data: { status: "COMPLETED", progress: 1, result: (result as Prisma.InputJsonObject | null) ?? undefined, completedAt: now, startedAt: task.startedAt ?? now, ...releasedLease() },
    });
    await endAttempt(tx, task, "COMPLETED", null);
    await recordEvent(tx, actor, { topic: "task", type: "task.completed", entityId: taskId, payload: { agentId: task.assigneeId } });
    await settleAgent(tx, actor, task.assigneeId!);
    await withinTransaction?.(tx, task);
    await settleTaskEnd(tx, actor, updated);
    await releaseDependents(tx, actor, taskId);
    await quotas.release(tx, actor, { type: "TASK", id: taskId });
    return updated;
  });
}

/**
 * Records a failure. A retryable failure with attempts left re-queues the task after an
 * exponential backoff; otherwise the task is FAILED for good (the dead-letter list).
 */
export async function failTask(
  db: PrismaClient,
  sql: SqlRunner,
  actor: Actor,
  taskId: string,
  leaseToken: string,
  errorInput: unknown,
  retryable: boolean,
  lease: LeaseSettings,
): Promise<Task> {
  const error = parseInput(jsonObjectRule, errorInput, "input.error") as Prisma.InputJsonObject;
  const fast = await hotPath.giveBackTask(sql, actor, taskId, leaseToken, { kind: "FAILED", error, retryable, retryBaseSeconds: lease.retryBaseSeconds });
  if (fast) return fast;
  return db.$transaction(async (tx) => {
    const task = await holdLease(tx, actor, taskId, leaseToken);
    await endAttempt(tx, task, "FAILED", error);
    const updated = await requeueOrFail(tx, task, retryable, error, lease);
    await recordEvent(tx, actor, { topic: "task", type: updated.status === "FAILED" ? "task.failed" : "task.retry_scheduled", entityId: taskId, payload: { retryable, attempt: task.attemptCount } });
    await settleAgent(tx, actor, task.assigneeId!);
    if (updated.status === "FAILED") await settleTaskEnd(tx, actor, updated);
    if (updated.status === "FAILED") await cancelTasks(tx, actor, await waitingDependents(tx, taskId), `dependency ${taskId} failed`);
    await quotas.release(tx, actor, { type: "TASK", id: taskId }, updated.status === "FAILED" ? null : "tasks.running");
    return updated;
  });
}

/** The holder gives the task back: PENDING again at once, and the attempt does not count. */
export async function releaseTask(db: PrismaClient, sql: SqlRunner, actor: Actor, taskId: string, leaseToken: string): Promise<Task> {
  const fast = await hotPath.giveBackTask(sql, actor, taskId, leaseToken, { kind: "RELEASED" });
  if (fast) return fast;
  return db.$transaction(async (tx) => {
    const task = await holdLease(tx, actor, taskId, leaseToken);
    await endAttempt(tx, task, "RELEASED", null);
    const updated = await tx.task.update({
      where: { id: taskId },
      data: { status: "PENDING", attemptCount: { decrement: 1 }, availableAt: new Date(), ...releasedLease() },
    });
    await recordEvent(tx, actor, { topic: "task", type: "task.released", entityId: taskId, payload: { agentId: task.assigneeId } });
    await settleAgent(tx, actor, task.assigneeId!);
    await quotas.release(tx, actor, { type: "TASK", id: taskId }, "tasks.running");
    return updated;
  });
}

/**
 * Re-queues (or fails, when attempts are exhausted) every task whose lease expired. Safe to run
 * on several replicas at once: each pass takes the expired rows with SKIP LOCKED.
 * @returns how many tasks were swept
 */
export async function sweepExpiredLeases(db: PrismaClient, lease: LeaseSettings, batchSize = 100): Promise<number> {
  return db.$transaction(async (tx) => {
    const expired = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM "Task" WHERE status IN ('CLAIMED', 'RUNNING') AND "leaseExpiresAt" < now()
      ORDER BY "leaseExpiresAt" LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`;
    for (const { id } of expired) {
      const task = await tx.task.findUniqueOrThrow({ where: { id } });
      const error = { message: "lease expired: the agent stopped reporting", leaseExpiresAt: task.leaseExpiresAt?.toISOString() ?? null };
      await endAttempt(tx, task, "LEASE_EXPIRED", error);
      const updated = await requeueOrFail(tx, task, true, error, lease);
      const system: Actor = { workspaceId: task.workspaceId, subject: "system" };
      await recordEvent(tx, system, { topic: "task", type: "task.lease_expired", entityId: id, payload: { agentId: task.assigneeId, requeued: updated.status === "PENDING" } });
      if (task.assigneeId) await settleAgent(tx, system, task.assigneeId);
      if (updated.status === "FAILED") await settleTaskEnd(tx, system, updated);
      if (updated.status === "FAILED") await cancelTasks(tx, system, await waitingDependents(tx, id), `dependency ${id} failed`);
      await quotas.release(tx, system, { type: "TASK", id }, updated.status === "FAILED" ? null : "tasks.running");
    }
    return expired.length;
  });
}

/** Gives back every task an agent holds (when it is terminated), in the caller's transaction. */
export async function releaseAgentClaims(tx: Db, actor: Actor, agentId: string): Promise<void> {
  const held = await tx.task.findMany({ where: { assigneeId: agentId, workspaceId: actor.workspaceId, status: { in: [...HELD] } } });
  for (const task of held) {
    await lockRow(tx, "Task", task.id, actor.workspaceId);
    await endAttempt(tx, task, "RELEASED", { message: "agent terminated" });
    await tx.task.update({ where: { id: task.id }, data: { status: "PENDING", attemptCount: { decrement: 1 }, availableAt: new Date(), ...releasedLease() } });
    await quotas.release(tx, actor, { type: "TASK", id: task.id }, "tasks.running");
    await recordEvent(tx, actor, { topic: "task", type: "task.released", entityId: task.id, payload: { agentId, reason: "agent terminated" } });
  }
  // Work only this agent could ever claim would wait forever.
  const reserved = await tx.task.findMany({ where: { reservedForId: agentId, workspaceId: actor.workspaceId, status: { in: [...UNFINISHED] } }, select: { id: true } });
  await cancelTasks(tx, actor, reserved.map((t) => t.id), "the agent it was reserved for was terminated");
}

/**
 * Operator push (seed 001's assign): claims a PENDING task on the agent's behalf. The claim —
 * task, lease token, lease expiry — reaches the agent on its `agentWork` subscription (the
 * task.claimed event carries `assignedBy`; the token is read from the task row at delivery and
 * never written to the event log).
 */
export function assignTask(db: PrismaClient, actor: Actor, taskId: string, agentId: string, lease: LeaseSettings): Promise<Claim> {
  return claimTask(db, actor, taskId, agentId, lease, true);
}

/** Who may receive an agent's leases (see {@link leaseEntitlement}). */
export interface LeaseViewer {
  workspaceId: string;
  subject: string;
  /** Whether the viewer holds tasks:write (operators: they may assign, so they may see leases). */
  mayWriteTasks: boolean;
  /** Whether the viewer holds tasks:claim. */
  mayClaim: boolean;
}

/**
 * Whether `viewer` may receive the lease tokens of `agentId`'s work: the agent must be in the
 * viewer's workspace (else NOT_FOUND, as for any other workspace's id), and the viewer must hold
 * tasks:write, or hold tasks:claim and be the token that registered the agent (it acts as that
 * agent, as for artifact visibility). Nobody else ever gets a lease token pushed.
 */
export async function leaseEntitlement(db: Db, viewer: LeaseViewer, agentId: string): Promise<"ENTITLED" | "NOT_FOUND" | "FORBIDDEN"> {
  const agent = await db.agent.findFirst({ where: { id: agentId, workspaceId: viewer.workspaceId }, select: { registeredBy: true } });
  if (!agent) return "NOT_FOUND";
  if (viewer.mayWriteTasks) return "ENTITLED";
  return viewer.mayClaim && agent.registeredBy === viewer.subject ? "ENTITLED" : "FORBIDDEN";
}

/** What an agent is pushed on `agentWork`. */
export type AgentWorkKind = "ASSIGNED" | "HELD" | "RESERVED";

/**
 * The agent's work now, for the start of `agentWork`: the tasks it holds (HELD) and the PENDING
 * tasks reserved for it alone (RESERVED: runAgent, blackboard routing), oldest first.
 */
export async function agentWorkSnapshot(db: Db, workspaceId: string, agentId: string): Promise<{ id: string; kind: AgentWorkKind }[]> {
  const [held, reserved] = await Promise.all([
    db.task.findMany({ where: { workspaceId, assigneeId: agentId, status: { in: [...HELD] } }, select: { id: true }, orderBy: [{ claimedAt: "asc" }, { id: "asc" }] }),
    db.task.findMany({ where: { workspaceId, reservedForId: agentId, status: "PENDING" }, select: { id: true }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] }),
  ]);
  return [...held.map((t) => ({ id: t.id, kind: "HELD" as const })), ...reserved.map((t) => ({ id: t.id, kind: "RESERVED" as const }))];
}

/**
 * Of the given task ids: which are still held by the agent under the given claims (fences), and
 * which are PENDING and reserved for it. One statement; `agentWork` decides per event batch.
 */
export async function agentWorkStanding(db: Db, workspaceId: string, agentId: string, taskIds: readonly string[]): Promise<Map<string, { held: boolean; fence: number; reserved: boolean }>> {
  const rows = await db.task.findMany({
    where: { workspaceId, id: { in: [...taskIds] }, OR: [{ assigneeId: agentId, status: { in: [...HELD] } }, { reservedForId: agentId, status: "PENDING" }] },
    select: { id: true, status: true, fence: true, assigneeId: true },
  });
  return new Map(rows.map((r) => [r.id, { held: r.assigneeId === agentId && HELD.includes(r.status), fence: r.fence, reserved: r.status === "PENDING" }]));
}

/** The agent of each task's latest attempt (highest fence), for the tasks that have one. */
export async function latestAttemptAgents(db: Db, workspaceId: string, taskIds: readonly string[]): Promise<Map<string, string>> {
  const rows = await db.$queryRaw<{ taskId: string; agentId: string }[]>`
    SELECT DISTINCT ON ("taskId") "taskId", "agentId" FROM "TaskAttempt"
    WHERE "workspaceId" = ${workspaceId} AND "taskId" = ANY(${[...taskIds]}::text[])
    ORDER BY "taskId", fence DESC`;
  return new Map(rows.map((r) => [r.taskId, r.agentId]));
}

/** The lease an agent holds on a task now (token and expiry), or null when it holds none. */
export async function heldLease(db: Db, workspaceId: string, agentId: string, taskId: string): Promise<{ leaseToken: string; leaseExpiresAt: Date } | null> {
  const task = await db.task.findFirst({ where: { id: taskId, workspaceId, assigneeId: agentId, status: { in: [...HELD] } }, select: { leaseToken: true, leaseExpiresAt: true } });
  return task?.leaseToken && task.leaseExpiresAt ? { leaseToken: task.leaseToken, leaseExpiresAt: task.leaseExpiresAt } : null;
}

/**
 * Moves a task of a swarm to another agent (an operator's rebalance), in the caller's transaction,
 * which has already locked the target agent (IDLE or BUSY) and checked it is a member.
 * - PENDING: claimed for the target, as `assignTask` would (one more attempt, tasks.running allocated).
 * Either way the claim event carries `assignedBy`, so the new holder gets the task and its lease
 * token on its `agentWork` subscription.
 * - CLAIMED / RUNNING: the holder's attempt ends RELEASED (not counted, as with `releaseTask`) and
 *   the task is CLAIMED for the target under a new lease token and fence. The old token stops
 *   working at once: the old holder's next call answers LeaseLostError (RECLAIMED). Its
 *   tasks.running allocation carries over to the new holder.
 * The task row is locked first, so a completion by the old holder racing the move either commits
 * before it (the move is then refused: the task is COMPLETED) or is refused itself.
 * @throws NotFoundError, InvalidInputError (not in the swarm, already held by the target),
 *   IllegalTransitionError (not PENDING, CLAIMED or RUNNING), CapabilityMismatchError, QuotaExceededError
 */
export async function reassignTask(
  tx: Db,
  actor: Actor,
  taskId: string,
  toAgentId: string,
  lease: LeaseSettings,
  move: { swarmId: string; reason: string | null; path: string },
): Promise<{ fromAgentId: string | null; toAgentId: string; leaseToken: string }> {
  const task = await lockTask(tx, actor, taskId);
  if (task.swarmId !== move.swarmId) throw new InvalidInputError([{ path: `${move.path}.taskId`, message: `task ${taskId} is not in swarm ${move.swarmId}` }]);
  const movable: TaskStatus[] = ["PENDING", ...HELD];
  if (!movable.includes(task.status)) throw new IllegalTransitionError("Task", taskId, task.status, "move to another agent", movable);
  if (task.assigneeId === toAgentId) throw new InvalidInputError([{ path: `${move.path}.toAgentId`, message: `agent ${toAgentId} already holds task ${taskId}` }]);
  const { capabilities } = await tx.agent.findUniqueOrThrow({ where: { id: toAgentId }, select: { capabilities: true } });
  const missing = [...task.requiredCapabilities.filter((c) => !capabilities.includes(c)), ...(task.reservedForId && task.reservedForId !== toAgentId ? [`agent:${task.reservedForId}`] : [])];
  if (missing.length > 0) throw new CapabilityMismatchError(taskId, toAgentId, missing);
  const token = newLeaseToken();
  const fromAgentId = HELD.includes(task.status) ? task.assigneeId : null;
  const now = new Date();
  if (fromAgentId) {
    await endAttempt(tx, task, "RELEASED", { message: `moved to agent ${toAgentId} by a rebalance`, reason: move.reason });
    await tx.task.update({
      where: { id: taskId },
      data: { status: "CLAIMED", assigneeId: toAgentId, leaseToken: token, leaseExpiresAt: leaseExpiry(lease), fence: { increment: 1 }, claimedAt: now },
    });
    await recordEvent(tx, actor, { topic: "task", type: "task.released", entityId: taskId, payload: { agentId: fromAgentId, reason: "rebalanced", toAgentId } });
    await settleAgent(tx, actor, fromAgentId);
  } else {
    await tx.task.update({
      where: { id: taskId },
      data: { status: "CLAIMED", assigneeId: toAgentId, leaseToken: token, leaseExpiresAt: leaseExpiry(lease), fence: { increment: 1 }, attemptCount: { increment: 1 }, claimedAt: now, availableAt: now },
    });
  }
  // A held task's tasks.running allocation carries over to the new holder.
  await recordClaim(tx, actor, taskId, toAgentId, token, { fromAgentId, rebalanced: true, assignedBy: actor.subject }, { allocate: !fromAgentId });
  return { fromAgentId, toAgentId, leaseToken: token };
}

const updateTaskSchema = z.object({
  priority: z.enum(["LOW", "MEDIUM", "HIGH", "CRITICAL"]).nullish(),
  deadline: z.date().nullish(),
  maxAttempts: z.number().int().min(1, "must be at least 1").max(100, "must be at most 100").nullish(),
  metadata: jsonObjectRule.nullish(),
});
export type UpdateTaskInput = z.input<typeof updateTaskSchema>;

/** Changes priority, deadline, max attempts or metadata of an unfinished task. */
export async function updateTask(db: PrismaClient, actor: Actor, taskId: string, input: UpdateTaskInput): Promise<Task> {
  const valid = parseInput(updateTaskSchema, input);
  return db.$transaction(async (tx) => {
    const task = await lockTask(tx, actor, taskId);
    if (!UNFINISHED.includes(task.status)) throw new IllegalTransitionError("Task", taskId, task.status, "update", UNFINISHED);
    const updated = await tx.task.update({
      where: { id: taskId },
      data: {
        priority: valid.priority ?? undefined,
        priorityRank: valid.priority ? PRIORITY_RANK[valid.priority] : undefined,
        // Explicit null clears the deadline; an omitted field keeps it.
        deadline: input.deadline === null ? null : (valid.deadline ?? undefined),
        maxAttempts: valid.maxAttempts ?? undefined,
        metadata: (valid.metadata as Prisma.InputJsonObject | null | undefined) ?? undefined,
      },
    });
    const fields = Object.keys(input).filter((k) => input[k as keyof UpdateTaskInput] !== undefined);
    await recordEvent(tx, actor, { topic: "task", type: "task.updated", entityId: taskId, payload: { fields } });
    return updated;
  });
}

/**
 * Cancels an unfinished task together with its whole subtree (subtasks, recursively) and every
 * task that waits on any of them. A holder learns it on its next call (LeaseLostError CANCELLED).
 * @returns every task that was cancelled, the given one first
 */
export async function cancelTask(db: PrismaClient, actor: Actor, taskId: string, reasonInput: string | null | undefined): Promise<Task[]> {
  const reason = parseInput(optionalTextRule.nullish(), reasonInput, "input.reason") ?? null;
  return db.$transaction(async (tx) => {
    const task = await lockTask(tx, actor, taskId);
    if (!UNFINISHED.includes(task.status)) throw new IllegalTransitionError("Task", taskId, task.status, "cancel", UNFINISHED);
    const affected = await tx.$queryRaw<{ id: string }[]>`
      WITH RECURSIVE affected(id) AS (
        SELECT ${taskId}::text
        UNION
        SELECT next.id FROM affected
        CROSS JOIN LATERAL (
          SELECT t.id FROM "Task" t WHERE t."parentId" = affected.id
          UNION
          SELECT d."taskId" FROM "TaskDependency" d WHERE d."dependsOnId" = affected.id
        ) next
      )
      SELECT id FROM affected`;
    const ids = [taskId, ...affected.map((r) => r.id).filter((id) => id !== taskId)];
    await cancelTasks(tx, actor, ids, reason ?? "cancelled by an operator");
    const cancelled = await tx.task.findMany({ where: { id: { in: ids }, status: "CANCELLED", cancelledAt: { not: null } } });
    const byId = new Map(cancelled.map((t) => [t.id, t]));
    return ids.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : []));
  });
}

// ── internals ───────────────────────────────────────────────────────────────────────────────

/** A lease token's entropy: 144 bits. */
const LEASE_TOKEN_BYTES = 18;
/**
 * Lease-token entropy, read from the system 4 KiB at a time (as crypto.randomUUID buffers its
 * own): one getrandom call per 227 tokens instead of one per token, which cost more than the rest
 * of minting a claim's token.
 */
const tokenEntropy = { pool: Buffer.alloc(0), used: 0 };

function newLeaseToken(): string {
  if (tokenEntropy.used + LEASE_TOKEN_BYTES > tokenEntropy.pool.length) {
    tokenEntropy.pool = randomBytes(4096);
    tokenEntropy.used = 0;
  }
  const token = tokenEntropy.pool.subarray(tokenEntropy.used, tokenEntropy.used + LEASE_TOKEN_BYTES).toString("base64url");
  tokenEntropy.used += LEASE_TOKEN_BYTES;
  return token;
}

function asClaim(task: Task): Claim {
  return { task, leaseToken: task.leaseToken!, leaseExpiresAt: task.leaseExpiresAt! };
}

function leaseExpiry(lease: LeaseSettings): Date {
  return new Date(Date.now() + lease.leaseSeconds * 1000);
}

function releasedLease() {
  return { assigneeId: null, leaseToken: null, leaseExpiresAt: null };
}

/** Retry delay before attempt n+1: base × 2^(n-1), capped at 64 × base. */
export function retryDelaySeconds(attempt: number, baseSeconds: number): number {
  return baseSeconds * 2 ** Math.min(Math.max(attempt - 1, 0), 6);
}

async function claimingAgentCapabilities(tx: Db, actor: Actor, agentId: string): Promise<string[]> {
  await lockAgent(tx, actor, agentId, "claim work");
  const agent = await tx.agent.findUniqueOrThrow({ where: { id: agentId }, select: { capabilities: true } });
  return agent.capabilities;
}

/**
 * A paused swarm's tasks wait until it resumes: claiming one (claimTask, assignTask) is an
 * illegal transition of the swarm. The swarm row is share-locked, so a pause waits for the claim.
 */
async function refuseClaimsInPausedSwarm(tx: Db, task: Task): Promise<void> {
  if (!task.swarmId) return;
  const swarm = await lockRow<"ACTIVE" | "PAUSED" | "ARCHIVED">(tx, "Swarm", task.swarmId, task.workspaceId, "SHARE");
  if (swarm?.status === "PAUSED") throw new IllegalTransitionError("Swarm", task.swarmId, swarm.status, "claim its tasks", ["ACTIVE", "ARCHIVED"]);
}

async function lockTask(tx: Db, actor: Actor, taskId: string): Promise<Task> {
  const locked = await lockRow(tx, "Task", taskId, actor.workspaceId);
  if (!locked) throw new NotFoundError("Task", taskId);
  return tx.task.findUniqueOrThrow({ where: { id: taskId } });
}

/**
 * Locks the task and checks the caller still holds it.
 * @throws LeaseLostError (with why) when the token is stale, the lease expired, or the task ended
 */
async function holdLease(tx: Db, actor: Actor, taskId: string, leaseToken: string): Promise<Task> {
  const task = await lockTask(tx, actor, taskId);
  if (task.status === "CANCELLED") throw new LeaseLostError(taskId, "CANCELLED");
  if (!HELD.includes(task.status)) throw new LeaseLostError(taskId, task.status === "PENDING" ? "EXPIRED" : "FINISHED");
  if (task.leaseToken !== leaseToken) throw new LeaseLostError(taskId, "RECLAIMED");
  if (!task.leaseExpiresAt || task.leaseExpiresAt.getTime() <= Date.now()) throw new LeaseLostError(taskId, "EXPIRED");
  return task;
}

async function recordClaim(
  tx: Db,
  actor: Actor,
  taskId: string,
  agentId: string,
  leaseToken: string,
  extra: Prisma.InputJsonObject = {},
  options: { allocate: boolean } = { allocate: true },
): Promise<Claim> {
  const task = await tx.task.findUniqueOrThrow({ where: { id: taskId } });
  await tx.taskAttempt.create({ data: { workspaceId: actor.workspaceId, taskId, agentId, fence: task.fence } });
  await recordEvent(tx, actor, { topic: "task", type: "task.claimed", entityId: taskId, payload: { agentId, attempt: task.attemptCount, fence: task.fence, ...extra } });
  await markBusy(tx, actor, agentId);
  // Last, so the workspace's tasks.running row (which every claim locks) is held only until the
  // commit right after. Over the quota this throws, rolling the claim back.
  if (options.allocate) await quotas.allocate(tx, actor, "tasks.running", { type: "TASK", id: taskId }, 1);
  return { task, leaseToken, leaseExpiresAt: task.leaseExpiresAt! };
}

async function endAttempt(tx: Db, task: Task, outcome: AttemptOutcome, error: Prisma.InputJsonObject | null): Promise<void> {
  await tx.taskAttempt.updateMany({
    where: { taskId: task.id, fence: task.fence, endedAt: null },
    data: { endedAt: new Date(), outcome, error: error ?? undefined },
  });
}

async function requeueOrFail(tx: Db, task: Task, retryable: boolean, error: Prisma.InputJsonObject, lease: LeaseSettings): Promise<Task> {
  if (retryable && task.attemptCount < task.maxAttempts) {
    const availableAt = new Date(Date.now() + retryDelaySeconds(task.attemptCount, lease.retryBaseSeconds) * 1000);
    return tx.task.update({ where: { id: task.id }, data: { status: "PENDING", availableAt, error, ...releasedLease() } });
  }
  return tx.task.update({ where: { id: task.id }, data: { status: "FAILED", failedAt: new Date(), error, ...releasedLease() } });
}

/**
 * A BUSY agent that holds no more tasks becomes IDLE. The agent row is locked before counting what
 * it still holds (a later statement, so a newer snapshot under READ COMMITTED): a claim or
 * completion of the same agent that committed meanwhile (both lock the agent row, on either path)
 * is then counted, and the agent is never left BUSY holding nothing nor IDLE holding work.
 */
async function settleAgent(tx: Db, actor: Actor, agentId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM "Agent" WHERE id = ${agentId} FOR NO KEY UPDATE`;
  const holding = await tx.task.count({ where: { assigneeId: agentId, status: { in: [...HELD] } } });
  if (holding > 0) return;
  const idle = await tx.agent.updateMany({ where: { id: agentId, status: "BUSY" }, data: { status: "IDLE" } });
  if (idle.count === 1) await recordAgentStatus(tx, actor, agentId, "BUSY", "IDLE");
}

/** An IDLE agent that took work becomes BUSY. */
async function markBusy(tx: Db, actor: Actor, agentId: string): Promise<void> {
  const busy = await tx.agent.updateMany({ where: { id: agentId, status: "IDLE" }, data: { status: "BUSY" } });
  if (busy.count === 1) await recordAgentStatus(tx, actor, agentId, "IDLE", "BUSY");
}

/**
 * `agent.status`: the agent went IDLE ⇄ BUSY because it took its first task or finished its last
 * (seed 001's event, with the previous status). The hot-path SQL functions write the same event.
 */
function recordAgentStatus(tx: Db, actor: Actor, agentId: string, from: "IDLE" | "BUSY", to: "IDLE" | "BUSY") {
  return recordEvent(tx, actor, { topic: "agent", type: "agent.status", entityId: agentId, payload: { from, to } });
}

/** Ids of WAITING tasks that wait on the given task. */
async function waitingDependents(tx: Db, taskId: string): Promise<string[]> {
  const rows = await tx.taskDependency.findMany({ where: { dependsOnId: taskId, task: { status: "WAITING" } }, select: { taskId: true } });
  return rows.map((r) => r.taskId);
}

/**
 * After `taskId` completed: every WAITING dependent whose dependencies are now all COMPLETED
 * becomes PENDING. The dependents are locked first and checked in a later statement, so two
 * dependencies completing at once cannot both miss each other's commit.
 */
async function releaseDependents(tx: Db, actor: Actor, taskId: string): Promise<void> {
  const candidates = await waitingDependents(tx, taskId);
  if (candidates.length === 0) return;
  await tx.$queryRaw`SELECT id FROM "Task" WHERE id = ANY(${candidates}::text[]) ORDER BY id FOR UPDATE`;
  const released = await tx.$queryRaw<{ id: string }[]>`
    UPDATE "Task" t SET status = 'PENDING', "availableAt" = now(), "updatedAt" = now()
    WHERE t.id = ANY(${candidates}::text[]) AND t.status = 'WAITING'
      AND NOT EXISTS (
        SELECT 1 FROM "TaskDependency" d JOIN "Task" dep ON dep.id = d."dependsOnId"
        WHERE d."taskId" = t.id AND dep.status <> 'COMPLETED')
    RETURNING t.id`;
  for (const { id } of released) {
    await recordEvent(tx, actor, { topic: "task", type: "task.ready", entityId: id, payload: { after: taskId } });
  }
}

/** Cancels the unfinished tasks among `ids` (locking them in id order), ending held attempts. */
async function cancelTasks(tx: Db, actor: Actor, ids: readonly string[], reason: string): Promise<void> {
  if (ids.length === 0) return;
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Task" WHERE id = ANY(${[...ids]}::text[]) AND status IN ('WAITING', 'PENDING', 'CLAIMED', 'RUNNING') ORDER BY id FOR UPDATE`;
  const now = new Date();
  for (const { id } of rows) {
    const task = await tx.task.findUniqueOrThrow({ where: { id } });
    if (HELD.includes(task.status)) await endAttempt(tx, task, "CANCELLED", { message: reason });
    const cancelled = await tx.task.update({ where: { id }, data: { status: "CANCELLED", cancelledAt: now, cancelReason: reason, ...releasedLease() } });
    await settleTaskEnd(tx, actor, cancelled);
    await quotas.release(tx, actor, { type: "TASK", id });
    await recordEvent(tx, actor, { topic: "task", type: "task.cancelled", entityId: id, payload: { reason, from: task.status } });
    if (task.assigneeId) await settleAgent(tx, actor, task.assigneeId);
  }
}

// ── aggregates (batched by DataLoaders in types.ts) ─────────────────────────────────────────

export interface AgentPerformance {
  tasksCompleted: number;
  tasksFailed: number;
  averageDurationSeconds: number | null;
  currentTasks: number;
}

/** Work statistics of many agents from their attempts, in two statements. */
export async function agentPerformance(db: Db, workspaceId: string, agentIds: readonly string[]): Promise<Map<string, AgentPerformance>> {
  const ids = [...agentIds];
  const attempts = await db.$queryRaw<{ agentId: string; completed: bigint; failed: bigint; avgSeconds: number | null }[]>`
    SELECT "agentId",
           count(*) FILTER (WHERE outcome = 'COMPLETED') AS completed,
           count(*) FILTER (WHERE outcome IN ('FAILED', 'LEASE_EXPIRED')) AS failed,
           (avg(extract(epoch FROM "endedAt" - "claimedAt")) FILTER (WHERE outcome = 'COMPLETED'))::float8 AS "avgSeconds"
    FROM "TaskAttempt" WHERE "workspaceId" = ${workspaceId} AND "agentId" = ANY(${ids}::text[])
    GROUP BY "agentId"`;
  const held = await db.task.groupBy({ by: ["assigneeId"], where: { workspaceId, assigneeId: { in: ids }, status: { in: [...HELD] } }, _count: { _all: true } });
  const result = new Map<string, AgentPerformance>(ids.map((id) => [id, { tasksCompleted: 0, tasksFailed: 0, averageDurationSeconds: null, currentTasks: 0 }]));
  for (const row of attempts) {
    Object.assign(result.get(row.agentId)!, { tasksCompleted: Number(row.completed), tasksFailed: Number(row.failed), averageDurationSeconds: row.avgSeconds });
  }
  for (const row of held) if (row.assigneeId) result.get(row.assigneeId)!.currentTasks = row._count._all;
  return result;
}

export interface TaskSummary {
  byStatus: Map<TaskStatus, number>;
  /** Mean progress of the tasks that are not CANCELLED (completed ones count as 1). */
  progress: number;
}

/** Task counts by status and overall progress of many swarms, in one statement. */
export async function swarmTaskSummaries(db: Db, workspaceId: string, swarmIds: readonly string[]): Promise<Map<string, TaskSummary>> {
  const rows = await db.$queryRaw<{ swarmId: string; status: TaskStatus; count: bigint; progressSum: number }[]>`
    SELECT "swarmId", status::text AS status, count(*) AS count, sum(CASE WHEN status = 'COMPLETED' THEN 1 ELSE progress END)::float8 AS "progressSum"
    FROM "Task" WHERE "workspaceId" = ${workspaceId} AND "swarmId" = ANY(${[...swarmIds]}::text[])
    GROUP BY "swarmId", status`;
  const result = new Map<string, TaskSummary>(swarmIds.map((id) => [id, { byStatus: new Map(), progress: 0 }]));
  const totals = new Map<string, { count: number; sum: number }>();
  for (const row of rows) {
    result.get(row.swarmId)!.byStatus.set(row.status, Number(row.count));
    if (row.status === "CANCELLED") continue;
    const total = totals.get(row.swarmId) ?? { count: 0, sum: 0 };
    totals.set(row.swarmId, { count: total.count + Number(row.count), sum: total.sum + row.progressSum });
  }
  for (const [id, { count, sum }] of totals) result.get(id)!.progress = count === 0 ? 0 : Math.round((sum / count) * 1000) / 1000;
  return result;
}

export interface Throughput {
  completed: number;
  failed: number;
}

/** Most minutes a throughput window may span (a week). */
export const MAX_THROUGHPUT_WINDOW_MINUTES = 10_080;

/**
 * Throughput of many swarms over one window: tasks of each swarm that COMPLETED (completedAt) or
 * FAILED for good (failedAt) at or after `since`, in one statement. Retries scheduled within the
 * window do not count as failures; cancelled tasks count as neither.
 * @throws InvalidInputError when the window is not 1–MAX_THROUGHPUT_WINDOW_MINUTES minutes
 */
export async function swarmThroughput(db: Db, workspaceId: string, swarmIds: readonly string[], windowMinutes: number, now: Date): Promise<Map<string, Throughput>> {
  assertThroughputWindow(windowMinutes);
  const since = new Date(now.getTime() - windowMinutes * 60_000);
  const rows = await db.$queryRaw<{ swarmId: string; completed: bigint; failed: bigint }[]>`
    SELECT "swarmId",
           count(*) FILTER (WHERE status = 'COMPLETED' AND "completedAt" >= ${since}) AS completed,
           count(*) FILTER (WHERE status = 'FAILED' AND "failedAt" >= ${since}) AS failed
    FROM "Task" WHERE "workspaceId" = ${workspaceId} AND "swarmId" = ANY(${[...swarmIds]}::text[])
      AND ("completedAt" >= ${since} OR "failedAt" >= ${since})
    GROUP BY "swarmId"`;
  const result = new Map<string, Throughput>(swarmIds.map((id) => [id, { completed: 0, failed: 0 }]));
  for (const row of rows) result.set(row.swarmId, { completed: Number(row.completed), failed: Number(row.failed) });
  return result;
}

/** @throws InvalidInputError unless 1 ≤ windowMinutes ≤ MAX_THROUGHPUT_WINDOW_MINUTES (whole minutes) */
export function assertThroughputWindow(windowMinutes: number): void {
  if (!Number.isInteger(windowMinutes) || windowMinutes < 1 || windowMinutes > MAX_THROUGHPUT_WINDOW_MINUTES) {
    throw new InvalidInputError([{ path: "windowMinutes", message: `must be a whole number of minutes between 1 and ${MAX_THROUGHPUT_WINDOW_MINUTES}` }]);
  }
}

/**
 * The tasks an agent could claim (now or, for `availableAt` in the future, after a retry delay):
 * PENDING, needing no capability the agent lacks, not in a paused swarm, matching the filter,
 * while the agent is IDLE or BUSY; in claim order. `taskIds` narrows the check to those tasks.
 */
export async function claimableTasks(
  db: Db,
  workspaceId: string,
  agentId: string,
  filter: ClaimFilter & { taskIds?: readonly string[] },
  limit = 100,
): Promise<{ id: string; availableAt: Date }[]> {
  const types = filter.types ?? null;
  const ids = filter.taskIds ? [...filter.taskIds] : null;
  return db.$queryRaw<{ id: string; availableAt: Date }[]>`
    SELECT t.id, t."availableAt" FROM "Task" t
    JOIN "Agent" a ON a.id = ${agentId} AND a."workspaceId" = ${workspaceId} AND a.status IN ('IDLE', 'BUSY')
    WHERE t."workspaceId" = ${workspaceId} AND t.status = 'PENDING' AND t."requiredCapabilities" <@ a.capabilities
      AND (t."reservedForId" IS NULL OR t."reservedForId" = a.id)
      AND (${filter.swarmId ?? null}::text IS NULL OR t."swarmId" = ${filter.swarmId ?? null})
      AND (${types}::text[] IS NULL OR t.type = ANY(${types}::text[]))
      AND (${ids}::text[] IS NULL OR t.id = ANY(${ids}::text[]))
      AND (t."swarmId" IS NULL OR NOT EXISTS (SELECT 1 FROM "Swarm" s WHERE s.id = t."swarmId" AND s.status = 'PAUSED'))
    ORDER BY t."priorityRank" DESC, t."createdAt" ASC, t.id ASC
    LIMIT ${limit}`;
}
