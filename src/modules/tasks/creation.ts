/**
 * Creating tasks: one, a batch (all-or-nothing), or a graph whose tasks depend on each other
 * (seed 002's multi-stage workflows), each optionally under an idempotency key so that a retried
 * call returns the tasks of the first one instead of creating new ones.
 */
import { createHash } from "node:crypto";
import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import type { Db, PrismaClient } from "../../db/client.ts";
import { DependencyCycleError, IdempotencyKeyReusedError, IllegalTransitionError, InvalidInputError, NotFoundError } from "../../errors.ts";
import { type Actor, recordEvents } from "../../events/eventLog.ts";
import type { Prisma, Task } from "../../generated/prisma/client.ts";
import { jsonObjectRule, labelListRule, labelRule, longTextRule, parseInput } from "../../validation.ts";
import * as quotas from "../quotas/service.ts";
import { PRIORITY_RANK } from "./service.ts";

/** Most tasks one createTasks / createTaskGraph call may create. */
export const MAX_BATCH = 100;
/** Most workers one job (task) may ask for. */
export const MAX_WORKER_COUNT = 1000;

const taskFields = {
  description: longTextRule,
  type: labelRule,
  priority: z.enum(["LOW", "MEDIUM", "HIGH", "CRITICAL"]).default("MEDIUM"),
  requiredCapabilities: labelListRule.default([]),
  context: jsonObjectRule.default({}),
  requirements: jsonObjectRule.default({}),
  metadata: jsonObjectRule.default({}),
  maxAttempts: z.number().int().min(1, "must be at least 1").max(100, "must be at most 100").default(3),
  deadline: z.date().nullish(),
  swarmId: z.string().nullish(),
  parentId: z.string().nullish(),
  /** Ids of existing tasks this one waits for. */
  dependsOn: z.array(z.string()).max(100, "at most 100 dependencies").default([]),
  /** Seed 003's job workers, allocated from workers:depth:<depth> (see allocateJobWorkers). */
  workerCount: z.number().int("must be a whole number").min(1, "must be at least 1").max(MAX_WORKER_COUNT, `must be at most ${MAX_WORKER_COUNT}`).nullish(),
};
const taskSchema = z.object(taskFields);
export type CreateTaskInput = z.input<typeof taskSchema>;
type TaskSpec = z.output<typeof taskSchema> & { dependsOnKeys?: string[]; key?: string } & BlackboardFields;

/** What blackboard work (src/modules/artifacts) adds to a task: set by the server, never by clients. */
export interface BlackboardFields {
  /** Only this agent may claim the task. */
  reservedForId?: string;
  /** The correlation (workflow) the task works for. */
  correlationId?: string;
  /** Not claimable before this instant (an artifact visible only from then on). */
  availableAt?: Date;
}

const idempotencyKeyRule = z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters").nullish();

const batchSchema = z.object({
  tasks: z.array(taskSchema).min(1, "must contain at least one task").max(MAX_BATCH, `at most ${MAX_BATCH} tasks per call`),
  idempotencyKey: idempotencyKeyRule,
});

const graphSchema = z.object({
  tasks: z
    .array(
      taskSchema.extend({
        key: z.string().trim().min(1, "must not be empty").max(100, "must be at most 100 characters"),
        dependsOnKeys: z.array(z.string()).max(100, "at most 100 dependencies").default([]),
      }),
    )
    .min(1, "must contain at least one task")
    .max(MAX_BATCH, `at most ${MAX_BATCH} tasks per call`),
  idempotencyKey: idempotencyKeyRule,
});

/** How long an idempotency key is remembered (seed 004: 24 h); a retry after that creates new tasks. Config satisfies it. */
export interface KeyRetention {
  idempotencyKeyTtlHours: number;
}

export async function createTask(db: PrismaClient, actor: Actor, input: CreateTaskInput, idempotencyKey: string | null | undefined, retention: KeyRetention): Promise<Task> {
  const valid = parseInput(taskSchema, input);
  const key = parseInput(idempotencyKeyRule, idempotencyKey, "input.idempotencyKey");
  const [task] = await createIdempotently(db, actor, retention, "createTask", key, valid, (tx) => insertTasks(tx, actor, [valid], () => "input"), () => "input");
  return task!;
}

/** Creates every task or none. */
export async function createTasks(db: PrismaClient, actor: Actor, input: z.input<typeof batchSchema>, retention: KeyRetention): Promise<Task[]> {
  const valid = parseInput(batchSchema, input);
  return createIdempotently(db, actor, retention, "createTasks", valid.idempotencyKey, valid, (tx) => insertTasks(tx, actor, valid.tasks, (i) => `input.tasks.${i}`), (i) => `input.tasks.${i}`);
}

/**
 * Creates a graph of tasks named by client-side keys, with `dependsOnKeys` between them (and
 * `dependsOn` ids of existing tasks). The graph must be acyclic; tasks are created in dependency
 * order and those with unfinished dependencies start WAITING.
 * @returns the tasks in input order
 */
export async function createTaskGraph(db: PrismaClient, actor: Actor, input: z.input<typeof graphSchema>, retention: KeyRetention): Promise<Task[]> {
  const valid = parseInput(graphSchema, input);
  const order = topologicalOrder(valid.tasks);
  // Ids in dependency order, so that tasks a graph creates together are claimed in that order.
  const idByKey = new Map(order.map((index) => [valid.tasks[index]!.key, uuidv7()]));
  const specs = order.map((index) => {
    const spec = valid.tasks[index]!;
    return { ...spec, id: idByKey.get(spec.key)!, dependsOn: [...spec.dependsOn, ...spec.dependsOnKeys.map((key) => idByKey.get(key)!)] };
  });
  const pathOf = (i: number) => `input.tasks.${i}`;
  return createIdempotently(db, actor, retention, "createTaskGraph", valid.idempotencyKey, valid, async (tx) => {
    const created = new Map((await insertTasks(tx, actor, specs, (i) => pathOf(order[i]!))).map((task) => [task.id, task]));
    return valid.tasks.map((spec) => created.get(idByKey.get(spec.key)!)!);
  }, pathOf);
}

/**
 * Creates blackboard tasks in the caller's transaction (consumers of a published artifact,
 * runAgent, a new swarm's first tasks), validated and counted against tasks.created_per_hour like
 * any other task. `pathOf(i)` names spec i in validation errors.
 * @returns the tasks in input order
 */
export async function createTasksWithin(
  tx: Db,
  actor: Actor,
  specs: readonly (CreateTaskInput & BlackboardFields)[],
  pathOf: (index: number) => string = (i) => `tasks.${i}`,
): Promise<Task[]> {
  const valid = specs.map((spec, i) => ({ ...parseInput(taskSchema, spec, pathOf(i)), reservedForId: spec.reservedForId, correlationId: spec.correlationId, availableAt: spec.availableAt }));
  const tasks = await insertTasks(tx, actor, valid, pathOf);
  await allocateJobWorkers(tx, actor, tasks, pathOf);
  await chargeCreationRate(tx, actor, tasks.length);
  return tasks;
}

/**
 * Orders graph entries so that every task comes after those it depends on (Kahn's algorithm).
 * @throws InvalidInputError for duplicate or unknown keys, DependencyCycleError for a cycle
 */
export function topologicalOrder(tasks: readonly { key: string; dependsOnKeys: readonly string[] }[]): number[] {
  const indexByKey = new Map<string, number>();
  const issues: { path: string; message: string }[] = [];
  tasks.forEach((task, i) => {
    if (indexByKey.has(task.key)) issues.push({ path: `input.tasks.${i}.key`, message: `duplicate key "${task.key}"` });
    indexByKey.set(task.key, i);
  });
  tasks.forEach((task, i) =>
    task.dependsOnKeys.forEach((key, j) => {
      if (!indexByKey.has(key)) issues.push({ path: `input.tasks.${i}.dependsOnKeys.${j}`, message: `no task in this graph has the key "${key}"` });
    }),
  );
  if (issues.length > 0) throw new InvalidInputError(issues);

  const waitingOn = tasks.map((task) => new Set(task.dependsOnKeys).size);
  const dependents = tasks.map(() => [] as number[]);
  tasks.forEach((task, i) => new Set(task.dependsOnKeys).forEach((key) => dependents[indexByKey.get(key)!]!.push(i)));
  const ready = waitingOn.flatMap((n, i) => (n === 0 ? [i] : []));
  const order: number[] = [];
  while (ready.length > 0) {
    const i = ready.shift()!;
    order.push(i);
    for (const d of dependents[i]!) if (--waitingOn[d]! === 0) ready.push(d);
  }
  if (order.length < tasks.length) throw new DependencyCycleError(findCycle(tasks, indexByKey));
  return order;
}

/** One cycle among the entries left over by Kahn's algorithm, as keys (first key repeated last). */
function findCycle(tasks: readonly { key: string; dependsOnKeys: readonly string[] }[], indexByKey: Map<string, number>): string[] {
  const state = new Map<number, "visiting" | "done">();
  const stack: number[] = [];
  const visit = (i: number): string[] | undefined => {
    state.set(i, "visiting");
    stack.push(i);
    for (const key of tasks[i]!.dependsOnKeys) {
      const j = indexByKey.get(key)!;
      if (state.get(j) === "visiting") return [...stack.slice(stack.indexOf(j)), j].map((k) => tasks[k]!.key);
      if (!state.has(j)) {
        const cycle = visit(j);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(i, "done");
    return undefined;
  };
  for (let i = 0; i < tasks.length; i++) {
    if (!state.has(i)) {
      const cycle = visit(i);
      if (cycle) return cycle;
    }
  }
  return [];
}

/**
 * Runs `create` once per idempotency key. The key row is inserted first in the same transaction:
 * a concurrent retry blocks on it until the first call commits, then returns its tasks. A key
 * past its retention is forgotten right here (not only by the sweeper), so expiry never depends
 * on when the sweeper last ran.
 */
async function createIdempotently(
  db: PrismaClient,
  actor: Actor,
  retention: KeyRetention,
  operation: string,
  key: string | null | undefined,
  request: unknown,
  create: (tx: Db) => Promise<Task[]>,
  pathOf: (index: number) => string,
): Promise<Task[]> {
  const creator = { type: "EXTERNAL" as const, id: actor.subject };
  return quotas.recordingRefusals(db, actor, creator, () => db.$transaction(async (tx) => {
    if (!key) {
      const tasks = await create(tx);
      await allocateJobWorkers(tx, actor, tasks, pathOf);
      await chargeCreationRate(tx, actor, tasks.length);
      return tasks;
    }
    const requestHash = createHash("sha256").update(JSON.stringify(request)).digest("hex");
    await tx.idempotencyKey.deleteMany({ where: { workspaceId: actor.workspaceId, key, createdAt: { lt: keyCutoff(retention) } } });
    const inserted = await tx.idempotencyKey.createMany({ data: [{ workspaceId: actor.workspaceId, key, operation, requestHash, taskIds: [] }], skipDuplicates: true });
    if (inserted.count === 0) {
      const previous = await tx.idempotencyKey.findUniqueOrThrow({ where: { workspaceId_key: { workspaceId: actor.workspaceId, key } } });
      if (previous.operation !== operation || previous.requestHash !== requestHash) throw new IdempotencyKeyReusedError(key, previous.operation);
      const tasks = await tx.task.findMany({ where: { id: { in: previous.taskIds } } });
      const byId = new Map(tasks.map((t) => [t.id, t]));
      return previous.taskIds.map((id) => byId.get(id)!);
    }
    const tasks = await create(tx);
    await allocateJobWorkers(tx, actor, tasks, pathOf);
    await chargeCreationRate(tx, actor, tasks.length);
    await tx.idempotencyKey.update({ where: { workspaceId_key: { workspaceId: actor.workspaceId, key } }, data: { taskIds: tasks.map((t) => t.id) } });
    return tasks;
  }));
}

function keyCutoff(retention: KeyRetention): Date {
  return new Date(Date.now() - retention.idempotencyKeyTtlHours * 3_600_000);
}

/** Deletes idempotency keys past their retention, in every workspace (the sweeper); returns how many. */
export async function deleteExpiredIdempotencyKeys(db: Db, retention: KeyRetention): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: keyCutoff(retention) } } });
  return count;
}

/**
 * Seed 003's job workers: every created task with a `workerCount` (a job) gets that many units of
 * `workers:depth:<its depth>`, all or nothing, held by the task. They are given back when the task
 * ends — completed, failed for good or cancelled — by the same release that frees its
 * tasks.running unit (every end path releases all of a TASK holder's capacity). Over the quota
 * the whole creation rolls back with QuotaExceededError: nothing is stored. The quota rows are
 * locked after the tasks were inserted and in resource order, like every other quota lock.
 * @param pathOf names task i of `tasks` in errors (a depth without a quota is an input error)
 */
async function allocateJobWorkers(tx: Db, actor: Actor, tasks: readonly Task[], pathOf: (index: number) => string): Promise<void> {
  const jobs = tasks.flatMap((task, i) => (task.workerCount ? [{ task, i, resource: `workers:depth:${task.depth}` }] : []));
  jobs.sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : a.i - b.i));
  for (const { task, i, resource } of jobs) {
    if (!quotas.hasDefaultQuota(resource) && !(await tx.quota.count({ where: { workspaceId: actor.workspaceId, resource } }))) {
      throw new InvalidInputError([{ path: `${pathOf(i)}.workerCount`, message: `no quota limits ${resource} (jobs at depth ${task.depth}): set one with setQuota first` }]);
    }
    await quotas.allocate(tx, actor, resource, { type: "TASK", id: task.id }, task.workerCount!);
  }
}

/** Counts created tasks against the tasks.created_per_hour quota; over it, the creation rolls back. */
async function chargeCreationRate(tx: Db, actor: Actor, count: number): Promise<void> {
  await quotas.allocate(tx, actor, "tasks.created_per_hour", { type: "EXTERNAL", id: actor.subject }, count);
}

/**
 * Inserts validated task specs with their dependency edges and task.created events, in a few
 * statements whatever their number (the swarms' share locks, the parents, the dependencies, the
 * tasks, the edges, the events). Ids are generated here, UUIDv7 in spec order, so that tasks
 * created together (one transaction: the same createdAt) are claimed in that order too. A spec
 * may depend on a task of the same batch by its preassigned `id` (a graph): that dependency is
 * unfinished. `pathOf(i)` names spec i in errors; the first spec in error is reported.
 * @returns the tasks in spec order
 */
async function insertTasks(tx: Db, actor: Actor, specs: readonly (TaskSpec & { id?: string })[], pathOf: (index: number) => string): Promise<Task[]> {
  const rows = specs.map((spec) => ({ ...spec, id: spec.id ?? uuidv7(), dependsOn: [...new Set(spec.dependsOn)] }));
  const inBatch = new Set(rows.map((row) => row.id));
  const distinct = (ids: (string | null | undefined)[]) => [...new Set(ids.filter((id): id is string => !!id && !inBatch.has(id)))].sort();

  // Share-locked, in id order: an archive waits for this creation, and an archived swarm takes no new work.
  const swarmIds = distinct(rows.map((row) => row.swarmId));
  const swarms = new Map(
    swarmIds.length === 0
      ? []
      : (await tx.$queryRaw<{ id: string; status: string }[]>`
          SELECT id, status::text AS status FROM "Swarm" WHERE "workspaceId" = ${actor.workspaceId} AND id = ANY(${swarmIds}::text[]) ORDER BY id FOR SHARE`).map((swarm) => [swarm.id, swarm.status]),
  );
  const parentIds = distinct(rows.map((row) => row.parentId));
  const parents = new Map(
    parentIds.length === 0 ? [] : (await tx.task.findMany({ where: { id: { in: parentIds }, workspaceId: actor.workspaceId }, select: { id: true, depth: true, status: true } })).map((p) => [p.id, p]),
  );
  const dependencyIds = distinct(rows.flatMap((row) => row.dependsOn));
  const dependencies = new Map(
    dependencyIds.length === 0 ? [] : (await tx.task.findMany({ where: { id: { in: dependencyIds }, workspaceId: actor.workspaceId }, select: { id: true, status: true } })).map((d) => [d.id, d.status]),
  );

  const data = rows.map((row, i) => {
    const at = pathOf(i);
    if (row.swarmId) {
      const status = swarms.get(row.swarmId);
      if (!status) throw new NotFoundError("Swarm", row.swarmId);
      if (status === "ARCHIVED") throw new IllegalTransitionError("Swarm", row.swarmId, status, "add tasks", ["ACTIVE", "PAUSED"]);
    }
    const parent = row.parentId ? parents.get(row.parentId) : null;
    if (row.parentId && !parent) throw new NotFoundError("Task", row.parentId);
    if (parent && ["COMPLETED", "FAILED", "CANCELLED"].includes(parent.status)) {
      throw new InvalidInputError([{ path: `${at}.parentId`, message: `the parent task is ${parent.status}; subtasks need an unfinished parent` }]);
    }
    const missing = row.dependsOn.find((id) => !inBatch.has(id) && !dependencies.has(id));
    if (missing) throw new NotFoundError("Task", missing);
    const dead = row.dependsOn.find((id) => dependencies.get(id) === "FAILED" || dependencies.get(id) === "CANCELLED");
    if (dead) throw new InvalidInputError([{ path: `${at}.dependsOn`, message: `task ${dead} is ${dependencies.get(dead)}: a dependency on it could never be met` }]);
    const waiting = row.dependsOn.some((id) => inBatch.has(id) || dependencies.get(id) !== "COMPLETED");

    const { dependsOn: _ids, dependsOnKeys: _keys, key: _key, ...fields } = row;
    return {
      ...fields,
      status: waiting ? ("WAITING" as const) : ("PENDING" as const),
      depth: parent ? parent.depth + 1 : 0,
      requiredCapabilities: [...new Set(fields.requiredCapabilities.map((c) => c.trim()))].sort(),
      context: fields.context as Prisma.InputJsonObject,
      requirements: fields.requirements as Prisma.InputJsonObject,
      metadata: fields.metadata as Prisma.InputJsonObject,
      priorityRank: PRIORITY_RANK[fields.priority],
      workspaceId: actor.workspaceId,
    };
  });

  const byId = new Map((await tx.task.createManyAndReturn({ data })).map((task) => [task.id, task]));
  const created = rows.map((row) => byId.get(row.id)!);
  const edges = rows.flatMap((row) => row.dependsOn.map((dependsOnId) => ({ workspaceId: actor.workspaceId, taskId: row.id, dependsOnId })));
  if (edges.length > 0) await tx.taskDependency.createMany({ data: edges });
  await recordEvents(
    tx,
    actor,
    created.map((task, i) => ({
      topic: "task" as const,
      type: "task.created" as const,
      entityId: task.id,
      payload: { type: task.type, priority: task.priority, status: task.status, parentId: task.parentId, dependsOn: rows[i]!.dependsOn, ...(task.reservedForId ? { reservedForId: task.reservedForId } : {}) },
    })),
  );
  return created;
}
