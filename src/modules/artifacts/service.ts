/**
 * The blackboard (seed 004): agents and principals publish typed artifacts; every agent whose
 * consume rule matches gets a task carrying the artifact; clients follow a workflow by its
 * correlation id, wait for it to settle, or run one agent directly.
 *
 * Vocabulary
 * - artifact:    a typed JSON payload with tags, a partition key and a visibility, published by
 *                an agent (its producer) or by a principal directly. Immutable once published.
 * - correlation: a workflow: every artifact and task carrying its id (see workflow.ts).
 * - consumer:    an agent whose consume rule matches an artifact (routing.ts). It gets a task
 *                reserved for it that carries the artifact; that pairing is a consumption, and it
 *                is consumed when the task completes.
 * - output:      an artifact published by completing a task; produced by the task's holder.
 * - reader:      whoever reads an artifact; visibility.ts decides what it sees.
 *
 * Publishing is one transaction: the idempotency key row (inserted first with ON CONFLICT DO
 * NOTHING, so concurrent retries wait on it and then find the first publish), the correlation
 * row lock, the artifact, one task per consumer, their events, and the correlation's new state.
 * Lock order: task and agent rows, then correlation rows, then quota rows (task creation).
 */
import { createHash, randomUUID } from "node:crypto";
import { encodeGlobalID } from "@pothos/plugin-relay";
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { lockForTransition } from "../../db/locks.ts";
import { IdempotencyKeyReusedError, InvalidInputError, NotFoundError } from "../../errors.ts";
import type { EventBus } from "../../events/bus.ts";
import { type Actor, recordEvent } from "../../events/eventLog.ts";
import { waitForEvents } from "../../events/waitFor.ts";
import type { Artifact, ArtifactVisibility, Prisma, Task, TaskStatus } from "../../generated/prisma/client.ts";
import { labelListRule, labelRule, parseInput } from "../../validation.ts";
import * as quotas from "../quotas/service.ts";
import { createTasksWithin, type KeyRetention } from "../tasks/creation.ts";
import { artifactTypeRule, consumeRuleSchema, ruleMatches, storedRules } from "./routing.ts";
import { agentReader, type ArtifactReader, visibleArtifactsWhere } from "./visibility.ts";
import { type CorrelationStatus, type CorrelationWork, correlationStateOf, correlationWork, lockCorrelation, settleCorrelation } from "./workflow.ts";

/** Largest artifact payload, serialized. */
export const MAX_PAYLOAD_BYTES = 256 * 1024;
/** Most outputs one completion, and most inputs one runAgent, may carry. */
export const MAX_ARTIFACTS_PER_CALL = 20;
/** Bounds of publishArtifactAndWait's and runAgent's wait (seed 004: 1–300 s). */
export const WAIT_SECONDS = { min: 1, max: 300 } as const;
/** The task type of work routed to a consumer, and of a direct runAgent invocation. */
export const CONSUME_TASK_TYPE = "artifact.consume";
export const RUN_TASK_TYPE = "artifact.run";

const FINISHED: readonly TaskStatus[] = ["COMPLETED", "FAILED", "CANCELLED"];
/** Lists of a workflow's artifacts read in the order they were published. */
export const OLDEST_FIRST = [{ createdAt: "asc" }, { id: "asc" }] satisfies Prisma.ArtifactOrderByWithRelationInput[];

// ── input rules ─────────────────────────────────────────────────────────────────────────────

const payloadRule = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > MAX_PAYLOAD_BYTES) ctx.addIssue({ code: "custom", message: `must serialize to at most ${MAX_PAYLOAD_BYTES} bytes; this one is ${bytes}` });
});

const artifactFields = {
  type: artifactTypeRule,
  payload: payloadRule,
  partitionKey: labelRule.nullish(),
  tags: labelListRule.default([]),
  visibility: z.enum(["PUBLIC", "PRIVATE", "LABELLED", "AFTER"]).default("PUBLIC"),
  /** PRIVATE: raw ids of the agents that may read it besides its producer. */
  readers: z.array(z.string()).max(100, "at most 100 readers").default([]),
  label: labelRule.nullish(),
  visibleFrom: z.date().nullish(),
};

/** Each visibility takes its own setting and no other's. */
function checkVisibility(v: { visibility: ArtifactVisibility; readers: string[]; label?: string | null; visibleFrom?: Date | null }, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (v.visibility === "LABELLED" && !v.label) issue("label", "a LABELLED artifact needs the label an agent must hold to read it");
  if (v.visibility !== "LABELLED" && v.label) issue("label", "only LABELLED artifacts take a label");
  if (v.visibility === "AFTER" && !v.visibleFrom) issue("visibleFrom", "an AFTER artifact needs the instant from which it is visible");
  if (v.visibility !== "AFTER" && v.visibleFrom) issue("visibleFrom", "only AFTER artifacts take visibleFrom");
  if (v.visibility !== "PRIVATE" && v.readers.length > 0) issue("readers", "only PRIVATE artifacts take readers");
}

const outputSchema = z.object(artifactFields).superRefine(checkVisibility);
export type ArtifactInput = z.input<typeof outputSchema>;
type ValidArtifact = z.output<typeof outputSchema>;

const publishSchema = z.object({
  artifact: outputSchema,
  correlationId: z.uuid("must be a UUID (or omit it to start a new correlation)").nullish(),
  /** Raw id of the producing agent: one the caller registered. */
  producerAgentId: z.string().nullish(),
});
export type PublishArtifactInput = z.input<typeof publishSchema>;

const idempotencyKeyRule = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").nullish();

const artifactListRule = z.array(outputSchema).max(MAX_ARTIFACTS_PER_CALL, `at most ${MAX_ARTIFACTS_PER_CALL} artifacts per call`);

const waitSecondsRule = z
  .number()
  .int("must be a whole number of seconds")
  .min(WAIT_SECONDS.min, `must be between ${WAIT_SECONDS.min} and ${WAIT_SECONDS.max}`)
  .max(WAIT_SECONDS.max, `must be between ${WAIT_SECONDS.min} and ${WAIT_SECONDS.max}`);

/** Validates a wait timeout (1–300 s) into milliseconds. */
export function waitMilliseconds(seconds: number, path: string): number {
  return parseInput(waitSecondsRule, seconds, path) * 1000;
}

/** The token's principal as the actor of a write. */
function actorOf(reader: ArtifactReader): Actor {
  return { workspaceId: reader.workspaceId, subject: reader.subject ?? "system" };
}

// ── publishing ──────────────────────────────────────────────────────────────────────────────

export interface Published {
  artifact: Artifact;
  /** The tasks created for its consumers (on a replay: those the first publish created). */
  consumerTasks: Task[];
  /** True when an earlier call with the same idempotency key published it. */
  replayed: boolean;
}

/**
 * Publishes an artifact and routes it to its consumers, in one transaction; idempotent per key
 * for IDEMPOTENCY_KEY_TTL_HOURS.
 * @throws InvalidInputError, NotFoundError (a reader agent, or a correlation of another
 *   workspace), IdempotencyKeyReusedError, QuotaExceededError (tasks.created_per_hour)
 */
export async function publishArtifact(
  db: PrismaClient,
  reader: ArtifactReader,
  input: PublishArtifactInput,
  idempotencyKey: string | null | undefined,
  retention: KeyRetention,
): Promise<Published> {
  const valid = parseInput(publishSchema, { artifact: input.artifact, correlationId: input.correlationId, producerAgentId: input.producerAgentId });
  const key = parseInput(idempotencyKeyRule, idempotencyKey, "input.idempotencyKey");
  const actor = actorOf(reader);
  return quotas.recordingRefusals(db, actor, { type: "EXTERNAL", id: actor.subject }, () =>
    db.$transaction(async (tx) => {
      if (key) {
        const previous = await rememberKey(tx, actor, key, valid, retention);
        if (previous) return { ...(await publishedArtifact(tx, previous)), replayed: true };
      }
      const correlationId = valid.correlationId ?? randomUUID();
      await lockCorrelation(tx, actor, correlationId);
      const producerAgentId = valid.producerAgentId ? await checkProducer(tx, reader, valid.producerAgentId, "input.producerId") : null;
      const published = await insertArtifact(tx, actor, valid.artifact, { correlationId, producerAgentId, sourceTaskId: null, route: true });
      await settleCorrelation(tx, actor, correlationId);
      if (key) await tx.artifactIdempotencyKey.update({ where: { workspaceId_key: { workspaceId: actor.workspaceId, key } }, data: { artifactId: published.artifact.id } });
      return { ...published, replayed: false };
    }),
  );
}

/**
 * completeTask's hook for a holder's outputs: validates them now, and returns what publishes
 * them in the completion's transaction — produced by the task's holder, into the task's
 * correlation (or a new one for a task outside the blackboard), routed to their consumers.
 * @throws InvalidInputError for invalid outputs (before anything runs)
 */
export function outputPublisher(actor: Actor, outputs: readonly ArtifactInput[] | null | undefined): ((tx: Db, held: Task) => Promise<void>) | undefined {
  if (!outputs || outputs.length === 0) return undefined;
  const valid = parseInput(artifactListRule, outputs, "input.outputs");
  return async (tx, held) => {
    const correlationId = held.correlationId ?? randomUUID();
    await lockCorrelation(tx, actor, correlationId);
    for (const output of valid) {
      await insertArtifact(tx, actor, output, { correlationId, producerAgentId: held.assigneeId, sourceTaskId: held.id, route: true });
    }
    // The task's own correlation is settled by the completion, after this.
    if (!held.correlationId) await settleCorrelation(tx, actor, correlationId);
  };
}

/** Deletes artifact idempotency keys past their retention, in every workspace (the sweeper). */
export async function deleteExpiredArtifactKeys(db: Db, retention: KeyRetention): Promise<number> {
  const { count } = await db.artifactIdempotencyKey.deleteMany({ where: { createdAt: { lt: keyCutoff(retention) } } });
  return count;
}

function keyCutoff(retention: KeyRetention): Date {
  return new Date(Date.now() - retention.idempotencyKeyTtlHours * 3_600_000);
}

/**
 * Inserts the key row, or finds the artifact an earlier request with it published. A concurrent
 * request with the same key blocks on the insert until the first commits (or rolls back).
 * @returns the earlier artifact's id, or null when this request is the first
 */
async function rememberKey(tx: Db, actor: Actor, key: string, request: unknown, retention: KeyRetention): Promise<string | null> {
  const requestHash = createHash("sha256").update(JSON.stringify(request)).digest("hex");
  await tx.artifactIdempotencyKey.deleteMany({ where: { workspaceId: actor.workspaceId, key, createdAt: { lt: keyCutoff(retention) } } });
  const inserted = await tx.artifactIdempotencyKey.createMany({ data: [{ workspaceId: actor.workspaceId, key, requestHash }], skipDuplicates: true });
  if (inserted.count === 1) return null;
  const previous = await tx.artifactIdempotencyKey.findUniqueOrThrow({ where: { workspaceId_key: { workspaceId: actor.workspaceId, key } } });
  if (previous.requestHash !== requestHash || !previous.artifactId) throw new IdempotencyKeyReusedError(key, "publishArtifact");
  return previous.artifactId;
}

async function publishedArtifact(tx: Db, artifactId: string): Promise<Omit<Published, "replayed">> {
  const artifact = await tx.artifact.findUniqueOrThrow({ where: { id: artifactId } });
  const consumerTasks = await tx.task.findMany({ where: { consumptions: { some: { artifactId } } }, orderBy: { id: "asc" } });
  return { artifact, consumerTasks };
}

/** A producer must be an agent of the workspace that the caller registered (admins may name any). */
async function checkProducer(tx: Db, reader: ArtifactReader, agentId: string, path: string): Promise<string> {
  const agent = await tx.agent.findFirst({ where: { id: agentId, workspaceId: reader.workspaceId }, select: { registeredBy: true } });
  if (!agent) throw new NotFoundError("Agent", agentId);
  if (!reader.admin && agent.registeredBy !== reader.subject) {
    throw new InvalidInputError([{ path, message: "you may publish only as an agent your token registered" }]);
  }
  return agentId;
}

interface Placement {
  correlationId: string;
  producerAgentId: string | null;
  sourceTaskId: string | null;
  /** Whether consumers get it (runAgent's inputs go to the run agent only). */
  route: boolean;
}

/** Inserts one artifact (the correlation is locked by the caller) and routes it. */
async function insertArtifact(tx: Db, actor: Actor, a: ValidArtifact, at: Placement): Promise<Omit<Published, "replayed">> {
  const readers = [...new Set(a.readers)];
  const found = await tx.agent.findMany({ where: { id: { in: readers }, workspaceId: actor.workspaceId }, select: { id: true } });
  const unknown = readers.find((id) => !found.some((f) => f.id === id));
  if (unknown) throw new NotFoundError("Agent", unknown);

  const partitionKey = a.partitionKey?.trim() ?? null;
  // The correlation row is locked, so this count cannot race another publish into it.
  const earlier = await tx.artifact.count({ where: { workspaceId: actor.workspaceId, correlationId: at.correlationId, type: a.type, partitionKey } });
  const artifact = await tx.artifact.create({
    data: {
      workspaceId: actor.workspaceId,
      type: a.type,
      payload: a.payload as Prisma.InputJsonObject,
      producerAgentId: at.producerAgentId,
      publishedBy: actor.subject,
      correlationId: at.correlationId,
      partitionKey,
      tags: [...new Set(a.tags.map((t) => t.trim()))].sort(),
      visibility: a.visibility,
      readerAgentIds: readers,
      label: a.label?.trim() ?? null,
      visibleFrom: a.visibleFrom ?? null,
      version: earlier + 1,
      sourceTaskId: at.sourceTaskId,
    },
  });
  const consumerTasks = at.route ? await routeToConsumers(tx, actor, artifact) : [];
  await recordEvent(tx, actor, {
    topic: "artifact",
    type: "artifact.published",
    entityId: artifact.id,
    payload: {
      type: artifact.type,
      correlationId: artifact.correlationId,
      producerAgentId: artifact.producerAgentId,
      partitionKey: artifact.partitionKey,
      tags: artifact.tags,
      visibility: artifact.visibility,
      version: artifact.version,
      consumerTaskIds: consumerTasks.map((t) => t.id),
    },
  });
  return { artifact, consumerTasks };
}

/** One task per consumer that may read the artifact (see routing.ts), each reserved for it. */
async function routeToConsumers(tx: Db, actor: Actor, artifact: Artifact): Promise<Task[]> {
  const profiles = await tx.agentArtifactProfile.findMany({
    where: {
      workspaceId: actor.workspaceId,
      consumedTypes: { has: artifact.type },
      agent: { status: { not: "TERMINATED" } },
      ...(artifact.producerAgentId ? { agentId: { not: artifact.producerAgentId } } : {}),
    },
    orderBy: { agentId: "asc" },
  });
  const consumers: string[] = [];
  for (const profile of profiles) {
    if (!storedRules(profile.consumes).some((rule) => ruleMatches(rule, artifact))) continue;
    // AFTER artifacts are routed now and claimable from visibleFrom on ("ever" below).
    const reader = agentReader(actor.workspaceId, profile.agentId, profile.labels);
    const readable = await tx.artifact.count({ where: { AND: [{ id: artifact.id }, visibleArtifactsWhere(reader, "ever")] } });
    if (readable > 0) consumers.push(profile.agentId);
  }
  if (consumers.length === 0) return [];
  const tasks = await createTasksWithin(
    tx,
    actor,
    consumers.map((agentId) => ({
      description: `Consume artifact ${encodeGlobalID("Artifact", artifact.id)} (its inputArtifacts)`,
      type: CONSUME_TASK_TYPE,
      context: taskContext(artifact.correlationId, [artifact]),
      reservedForId: agentId,
      correlationId: artifact.correlationId,
      availableAt: artifact.visibility === "AFTER" ? (artifact.visibleFrom ?? undefined) : undefined,
    })),
  );
  await tx.artifactConsumption.createMany({
    data: tasks.map((task) => ({ workspaceId: actor.workspaceId, artifactId: artifact.id, agentId: task.reservedForId!, taskId: task.id, correlationId: artifact.correlationId })),
  });
  return tasks;
}

/**
 * What a blackboard task carries: its correlation and the global ids of its inputs. Nothing
 * more: whoever may read tasks may not read every artifact (Task.inputArtifacts checks).
 */
function taskContext(correlationId: string, artifacts: readonly Artifact[]): Prisma.InputJsonObject {
  return { correlationId, artifactIds: artifacts.map((a) => encodeGlobalID("Artifact", a.id)) };
}

// ── waiting ─────────────────────────────────────────────────────────────────────────────────

/**
 * Waits until the correlation has no pending work (COMPLETED or FAILED), woken only by its
 * `correlation.*` events on the bus. Resolves whether it settled before the timeout.
 */
export function waitForCorrelation(db: Db, bus: EventBus, workspaceId: string, correlationId: string, timeoutMs: number): Promise<boolean> {
  return waitForEvents(
    bus,
    workspaceId,
    (e) => e.topic === "correlation" && e.entityId === correlationId,
    async () => {
      const row = await db.correlation.findFirst({ where: { id: correlationId, workspaceId }, select: { state: true } });
      return row?.state === "COMPLETED" || row?.state === "FAILED";
    },
    timeoutMs,
  );
}

/** Waits until the task has ended (completed, failed for good, or cancelled), woken only by its events. */
export function waitForTask(db: Db, bus: EventBus, workspaceId: string, taskId: string, timeoutMs: number): Promise<boolean> {
  return waitForEvents(
    bus,
    workspaceId,
    (e) => e.topic === "task" && e.entityId === taskId,
    async () => {
      const task = await db.task.findFirst({ where: { id: taskId, workspaceId }, select: { status: true } });
      return !task || FINISHED.includes(task.status);
    },
    timeoutMs,
  );
}

export interface ArtifactFilter {
  ids?: readonly string[] | null;
  /** The inputs of this task (its consumptions). */
  inputsOfTask?: string | null;
  /** The outputs of this task. */
  outputsOfTask?: string | null;
  types?: readonly string[] | null;
  /** Raw agent ids. */
  producedBy?: readonly string[] | null;
  correlationId?: string | null;
  /** Artifacts carrying every one of these tags. */
  tags?: readonly string[] | null;
  /** Published at or after. */
  from?: Date | null;
  /** Published before. */
  to?: Date | null;
  visibility?: readonly ArtifactVisibility[] | null;
  partitionKey?: string | null;
}

/** The artifacts matching `filter` that `reader` may read now. */
export function artifactsWhere(reader: ArtifactReader, filter: ArtifactFilter | null | undefined): Prisma.ArtifactWhereInput {
  return { AND: [visibleArtifactsWhere(reader, new Date()), artifactFilterWhere(filter)] };
}

/** The artifacts matching `filter`, whoever reads them: combine with visibleArtifactsWhere. */
export function artifactFilterWhere(filter: ArtifactFilter | null | undefined): Prisma.ArtifactWhereInput {
  const f = filter ?? {};
  return {
    id: f.ids ? { in: [...f.ids] } : undefined,
    consumptions: f.inputsOfTask ? { some: { taskId: f.inputsOfTask } } : undefined,
    sourceTaskId: f.outputsOfTask ?? undefined,
    type: f.types ? { in: [...f.types] } : undefined,
    producerAgentId: f.producedBy ? { in: [...f.producedBy] } : undefined,
    correlationId: f.correlationId ?? undefined,
    tags: f.tags ? { hasEvery: [...f.tags] } : undefined,
    createdAt: f.from || f.to ? { gte: f.from ?? undefined, lt: f.to ?? undefined } : undefined,
    visibility: f.visibility ? { in: [...f.visibility] } : undefined,
    partitionKey: f.partitionKey ?? undefined,
  };
}

/**
 * The types among `types` that the workspace has never heard of: no artifact of the type was
 * published and no agent declared it consumes or produces it.
 */
export async function unknownTypes(db: Db, workspaceId: string, types: readonly string[]): Promise<string[]> {
  if (types.length === 0) return [];
  const rows = await db.$queryRaw<{ type: string }[]>`
    SELECT t AS type FROM unnest(${[...types]}::text[]) AS t
    WHERE NOT EXISTS (SELECT 1 FROM "Artifact" a WHERE a."workspaceId" = ${workspaceId} AND a.type = t)
      AND NOT EXISTS (SELECT 1 FROM "AgentArtifactProfile" p WHERE p."workspaceId" = ${workspaceId} AND (p."consumedTypes" @> ARRAY[t] OR p.produces @> ARRAY[t]))`;
  return rows.map((r) => r.type);
}

/** @throws InvalidInputError naming each unknown type under `path` (`alsoKnown`: types about to become known) */
export async function assertKnownTypes(db: Db, workspaceId: string, types: readonly string[] | null | undefined, path: string, alsoKnown: readonly string[] = []): Promise<void> {
  const unknown = await unknownTypes(db, workspaceId, (types ?? []).filter((t) => !alsoKnown.includes(t)));
  if (unknown.length > 0) {
    throw new InvalidInputError(
      unknown.map((type) => ({ path: `${path}.${types!.indexOf(type)}`, message: `unknown artifact type "${type}": none was published and no agent consumes or produces it` })),
    );
  }
}

export interface PublishedAndWaited {
  correlationId: string;
  artifact: Artifact;
  /** The correlation's artifacts that match the filter and the caller may read, oldest first. */
  artifacts: Artifact[];
  /** Whether the correlation settled (no pending work) before the timeout. */
  completed: boolean;
  durationMs: number;
}

/**
 * Seed 004's synchronous publish: publishes, then waits (on the bus, never polling) until the
 * correlation has no pending work or the timeout passes, and returns its matching artifacts.
 * @throws what publishArtifact throws; InvalidInputError for the timeout or unknown filter types
 */
export async function publishArtifactAndWait(
  db: PrismaClient,
  bus: EventBus,
  wake: () => void,
  reader: ArtifactReader,
  input: PublishArtifactInput & { idempotencyKey?: string | null; timeoutSeconds: number; filter?: { types?: string[] | null; producedBy?: string[] | null } | null },
  retention: KeyRetention,
): Promise<PublishedAndWaited> {
  const started = Date.now();
  const timeoutMs = waitMilliseconds(input.timeoutSeconds, "input.timeoutSeconds");
  await assertKnownTypes(db, reader.workspaceId, input.filter?.types, "input.filter.types", [input.artifact.type]);
  const { artifact } = await publishArtifact(db, reader, input, input.idempotencyKey, retention);
  // This mutation is still running, so the after-commit nudge of mutations has not fired yet.
  wake();
  const completed = await waitForCorrelation(db, bus, reader.workspaceId, artifact.correlationId, timeoutMs - (Date.now() - started));
  const artifacts = await db.artifact.findMany({
    where: artifactsWhere(reader, { correlationId: artifact.correlationId, types: input.filter?.types, producedBy: input.filter?.producedBy }),
    orderBy: OLDEST_FIRST,
  });
  return { correlationId: artifact.correlationId, artifact, artifacts, completed, durationMs: Date.now() - started };
}

// ── running one agent ───────────────────────────────────────────────────────────────────────

export interface AgentRun {
  correlationId: string;
  task: Task;
  inputs: Artifact[];
}

export interface AgentRunResult {
  run: AgentRun;
  /** The task's outputs that the caller may read. */
  outputs: Artifact[];
  /** Whether the task ended before the timeout. */
  completed: boolean;
  durationMs: number;
}

/**
 * Seed 004's "run agent directly": starts the run (startAgentRun), then waits — on the bus,
 * never polling — until its task ends or the timeout passes, and returns its outputs.
 */
export async function runAgent(
  db: PrismaClient,
  bus: EventBus,
  wake: () => void,
  reader: ArtifactReader,
  agentId: string,
  inputs: readonly ArtifactInput[],
  timeoutSeconds: number,
): Promise<AgentRunResult> {
  const started = Date.now();
  const timeoutMs = waitMilliseconds(timeoutSeconds, "input.timeoutSeconds");
  const run = await startAgentRun(db, reader, agentId, inputs);
  // This mutation is still running, so the after-commit nudge of mutations has not fired yet.
  wake();
  const completed = await waitForTask(db, bus, reader.workspaceId, run.task.id, timeoutMs - (Date.now() - started));
  const task = (await db.task.findUnique({ where: { id: run.task.id } })) ?? run.task;
  const outputs = await db.artifact.findMany({ where: artifactsWhere(reader, { outputsOfTask: task.id }), orderBy: OLDEST_FIRST });
  return { run: { ...run, task }, outputs, completed, durationMs: Date.now() - started };
}

/**
 * Seed 004's "run agent directly": publishes the inputs into a new correlation, for the agent
 * alone (no other consumer gets them), and creates one task reserved for it carrying them. The
 * agent learns of it through tasksAvailable like any other work.
 * @throws NotFoundError, IllegalTransitionError (a terminated agent), InvalidInputError (inputs,
 *   or an input the agent may not read), QuotaExceededError
 */
export async function startAgentRun(db: PrismaClient, reader: ArtifactReader, agentId: string, inputs: readonly ArtifactInput[]): Promise<AgentRun> {
  const valid = parseInput(artifactListRule.min(1, "give at least one input"), inputs, "input.inputs");
  const actor = actorOf(reader);
  return quotas.recordingRefusals(db, actor, { type: "EXTERNAL", id: actor.subject }, () =>
    db.$transaction(async (tx) => {
      await lockForTransition(tx, { table: "Agent", id: agentId, workspaceId: actor.workspaceId }, "run", ["IDLE", "BUSY", "PAUSED"]);
      const agent = await tx.agent.findUniqueOrThrow({ where: { id: agentId }, select: { name: true, artifactProfile: { select: { labels: true } } } });
      const correlationId = randomUUID();
      await lockCorrelation(tx, actor, correlationId);
      const artifacts: Artifact[] = [];
      for (const [i, input] of valid.entries()) {
        const { artifact } = await insertArtifact(tx, actor, input, { correlationId, producerAgentId: null, sourceTaskId: null, route: false });
        const readable = await tx.artifact.count({ where: { AND: [{ id: artifact.id }, visibleArtifactsWhere(agentReader(actor.workspaceId, agentId, agent.artifactProfile?.labels ?? []), "ever")] } });
        if (readable === 0) throw new InvalidInputError([{ path: `input.inputs.${i}.visibility`, message: "the agent could never read this input; widen its visibility" }]);
        artifacts.push(artifact);
      }
      const [task] = await createTasksWithin(tx, actor, [
        {
          description: `Run agent ${agent.name} on ${artifacts.length} artifact(s)`,
          type: RUN_TASK_TYPE,
          context: taskContext(correlationId, artifacts),
          reservedForId: agentId,
          correlationId,
        },
      ]);
      await tx.artifactConsumption.createMany({ data: artifacts.map((a) => ({ workspaceId: actor.workspaceId, artifactId: a.id, agentId, taskId: task!.id, correlationId })) });
      await settleCorrelation(tx, actor, correlationId);
      return { correlationId, task: task!, inputs: artifacts };
    }),
  );
}


// ── agents' declarations ────────────────────────────────────────────────────────────────────

const declareSchema = z.object({
  consumes: z.array(consumeRuleSchema).max(50, "at most 50 rules").default([]),
  produces: z.array(artifactTypeRule).max(100, "at most 100 types").default([]),
});
export type DeclareArtifactTypesInput = z.input<typeof declareSchema>;

/** Replaces what the agent consumes and produces (its labels stay). */
export async function declareArtifactTypes(db: PrismaClient, actor: Actor, agentId: string, input: DeclareArtifactTypesInput) {
  const valid = parseInput(declareSchema, input);
  const consumes = valid.consumes.map((r) => ({ types: [...new Set(r.types)].sort(), tags: [...new Set(r.tags)].sort(), partitionKeys: [...new Set(r.partitionKeys)].sort() }));
  const consumedTypes = [...new Set(consumes.flatMap((r) => r.types))].sort();
  const produces = [...new Set(valid.produces)].sort();
  return db.$transaction(async (tx) => {
    await lockForTransition(tx, { table: "Agent", id: agentId, workspaceId: actor.workspaceId }, "declare artifact types", ["IDLE", "BUSY", "PAUSED"]);
    const profile = await tx.agentArtifactProfile.upsert({
      where: { agentId },
      create: { agentId, workspaceId: actor.workspaceId, consumes, consumedTypes, produces, labels: [] },
      update: { consumes, consumedTypes, produces },
    });
    await recordEvent(tx, actor, { topic: "agent", type: "agent.artifact_types_declared", entityId: agentId, payload: { consumes, produces } });
    return profile;
  });
}

/** Replaces the visibility labels an agent holds (LABELLED artifacts); an admin's call. */
export async function setAgentLabels(db: PrismaClient, actor: Actor, agentId: string, labelsInput: readonly string[]) {
  const labels = [...new Set(parseInput(labelListRule, labelsInput, "input.labels").map((l) => l.trim()))].sort();
  return db.$transaction(async (tx) => {
    const agent = await tx.agent.findFirst({ where: { id: agentId, workspaceId: actor.workspaceId }, select: { id: true } });
    if (!agent) throw new NotFoundError("Agent", agentId);
    const profile = await tx.agentArtifactProfile.upsert({
      where: { agentId },
      create: { agentId, workspaceId: actor.workspaceId, consumedTypes: [], produces: [], labels },
      update: { labels },
    });
    await recordEvent(tx, actor, { topic: "agent", type: "agent.labels_set", entityId: agentId, payload: { labels } });
    return profile;
  });
}

// ── reading ─────────────────────────────────────────────────────────────────────────────────

export interface CorrelationView extends CorrelationWork {
  id: string;
  state: CorrelationStatus;
  /** Artifacts of the correlation the reader may read. */
  artifactCount: number;
  startedAt: Date | null;
  lastActivityAt: Date | null;
}

/**
 * Seed 004's correlation status, as `reader` sees it: NOT_FOUND while it has no artifact the
 * reader may read (a correlation of another workspace included); otherwise the state rule of
 * workflow.ts over its tasks, its readable artifacts, and its first and last activity.
 */
export async function correlationStatus(db: Db, reader: ArtifactReader, id: string): Promise<CorrelationView> {
  const artifacts = await db.artifact.aggregate({
    where: { AND: [visibleArtifactsWhere(reader, new Date()), { correlationId: id }] },
    _count: { _all: true },
    _min: { createdAt: true },
    _max: { createdAt: true },
  });
  if (artifacts._count._all === 0) {
    return { id, state: "NOT_FOUND", artifactCount: 0, pendingTasks: 0, failedTasks: 0, completedTasks: 0, startedAt: null, lastActivityAt: null };
  }
  const work = (await correlationWork(db, reader.workspaceId, [id])).get(id)!;
  const tasks = await db.task.aggregate({ where: { workspaceId: reader.workspaceId, correlationId: id }, _max: { updatedAt: true } });
  const last = [artifacts._max.createdAt, tasks._max.updatedAt].filter((d): d is Date => d !== null);
  return {
    id,
    state: correlationStateOf(work),
    artifactCount: artifacts._count._all,
    ...work,
    startedAt: artifacts._min.createdAt,
    lastActivityAt: new Date(Math.max(...last.map((d) => d.getTime()))),
  };
}

export interface ArtifactSummary {
  totalCount: number;
  byType: { key: string; count: number }[];
  byProducer: { agentId: string | null; count: number }[];
  byVisibility: { visibility: ArtifactVisibility; count: number }[];
}

/** Counts of the artifacts matching `where` (which carries visibility: artifactsWhere), by type, producer and visibility. */
export async function artifactSummary(db: Db, where: Prisma.ArtifactWhereInput): Promise<ArtifactSummary> {
  const [byType, byProducer, byVisibility] = await Promise.all([
    db.artifact.groupBy({ by: ["type"], where, _count: { _all: true }, orderBy: { type: "asc" } }),
    db.artifact.groupBy({ by: ["producerAgentId"], where, _count: { _all: true }, orderBy: { producerAgentId: "asc" } }),
    db.artifact.groupBy({ by: ["visibility"], where, _count: { _all: true }, orderBy: { visibility: "asc" } }),
  ]);
  return {
    totalCount: byType.reduce((sum, row) => sum + row._count._all, 0),
    byType: byType.map((row) => ({ key: row.type, count: row._count._all })),
    byProducer: byProducer.map((row) => ({ agentId: row.producerAgentId, count: row._count._all })),
    byVisibility: byVisibility.map((row) => ({ visibility: row.visibility, count: row._count._all })),
  };
}

export type HistoryInterval = "MINUTE" | "HOUR" | "DAY";
const INTERVAL_MS: Record<HistoryInterval, number> = { MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };
/** Longest window agentHistory covers. */
export const MAX_HISTORY_DAYS = 31;

export interface HistoryCounts {
  executions: number;
  completed: number;
  failed: number;
  artifactsConsumed: number;
  artifactsProduced: number;
}

export interface AgentHistory extends HistoryCounts {
  agentId: string;
  from: Date;
  to: Date;
  /** The non-empty intervals of the window, oldest first. */
  timeline: (HistoryCounts & { start: Date })[];
}

/**
 * Seed 004's agent history: in [from, to) (default: the last 24 hours; at most 31 days), the
 * agent's executions (claims of its tasks, and how they ended), the artifacts it consumed
 * (consumer tasks it completed) and produced — counting only artifacts `reader` may read — and
 * the same counts per interval.
 * @returns null when the agent is not in the reader's workspace
 */
export async function agentHistory(
  db: Db,
  reader: ArtifactReader,
  agentId: string,
  window: { from?: Date | null; to?: Date | null; interval: HistoryInterval },
): Promise<AgentHistory | null> {
  const to = window.to ?? new Date();
  const from = window.from ?? new Date(to.getTime() - 86_400_000);
  if (from >= to) throw new InvalidInputError([{ path: "from", message: "must be before `to`" }]);
  if (to.getTime() - from.getTime() > MAX_HISTORY_DAYS * 86_400_000) throw new InvalidInputError([{ path: "from", message: `the window may span at most ${MAX_HISTORY_DAYS} days` }]);
  const agent = await db.agent.findFirst({ where: { id: agentId, workspaceId: reader.workspaceId }, select: { id: true } });
  if (!agent) return null;
  const visible = visibleArtifactsWhere(reader, new Date());
  const range = { gte: from, lt: to };
  const [attempts, consumed, produced] = await Promise.all([
    db.taskAttempt.findMany({ where: { agentId, workspaceId: reader.workspaceId, claimedAt: range }, select: { claimedAt: true, outcome: true } }),
    db.artifactConsumption.findMany({ where: { agentId, workspaceId: reader.workspaceId, consumedAt: range, artifact: visible }, select: { consumedAt: true } }),
    db.artifact.findMany({ where: { AND: [visible, { producerAgentId: agentId, createdAt: range }] }, select: { createdAt: true } }),
  ]);
  const size = INTERVAL_MS[window.interval];
  const buckets = new Map<number, HistoryCounts>();
  const add = (at: Date, field: keyof HistoryCounts) => {
    const start = Math.floor(at.getTime() / size) * size;
    const bucket = buckets.get(start) ?? { executions: 0, completed: 0, failed: 0, artifactsConsumed: 0, artifactsProduced: 0 };
    bucket[field] += 1;
    buckets.set(start, bucket);
  };
  for (const a of attempts) {
    add(a.claimedAt, "executions");
    if (a.outcome === "COMPLETED") add(a.claimedAt, "completed");
    if (a.outcome === "FAILED" || a.outcome === "LEASE_EXPIRED") add(a.claimedAt, "failed");
  }
  for (const c of consumed) add(c.consumedAt!, "artifactsConsumed");
  for (const p of produced) add(p.createdAt, "artifactsProduced");
  const timeline = [...buckets].sort(([a], [b]) => a - b).map(([start, counts]) => ({ start: new Date(start), ...counts }));
  const total = (field: keyof HistoryCounts) => timeline.reduce((sum, b) => sum + b[field], 0);
  return {
    agentId,
    from,
    to,
    executions: total("executions"),
    completed: total("completed"),
    failed: total("failed"),
    artifactsConsumed: total("artifactsConsumed"),
    artifactsProduced: total("artifactsProduced"),
    timeline,
  };
}
