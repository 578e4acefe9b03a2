/** Changes to tasks: creation by operators, claims and the holder's calls by agents. */
import type { Task } from "../../generated/prisma/client.ts";
import { type Context, actorOf } from "../../context.ts";
import { CapabilityMismatchError, DependencyCycleError, IdempotencyKeyReusedError, IllegalTransitionError, InvalidInputError, LeaseLostError, NotFoundError, QuotaExceededError } from "../../errors.ts";
import { builder, type SchemaTypesOf } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import { GraphQLError } from "graphql";
import { grants } from "../../auth/scopes.ts";
import * as artifacts from "../artifacts/service.ts";
import { ArtifactInputRef, type ArtifactInputShape, toArtifactInput } from "../artifacts/types.ts";
import * as creation from "./creation.ts";
import * as tasks from "./service.ts";
import { TaskPriorityEnum, TaskRef } from "./types.ts";

const lease = (ctx: Context): tasks.LeaseSettings => ({ leaseSeconds: ctx.config.leaseSeconds, retryBaseSeconds: ctx.config.retryBaseSeconds });

const TaskPayload = (name: string, description: string) =>
  builder.objectRef<{ task: Task }>(name).implement({
    description,
    fields: (t) => ({ task: t.field({ type: TaskRef, description: "The task as it is after the change.", resolve: (p) => p.task }) }),
  });

/** A claim's payload; with `nullable` (claimNextTask) its fields are null when nothing was claimable. */
/** The payload of a batch mutation: per item, in input order, the task or the error that refused it. */
const BatchOutcomesPayload = (name: string, description: string, items: { outcomes: string; union: string; unionDescription: string }) =>
  builder.objectRef<{ outcomes: tasks.CompletionOutcome[] }>(name).implement({
    description,
    fields: (p) => ({
      outcomes: p.field({
        type: [TaskRef],
        description: items.outcomes,
        itemErrors: {
          types: [NotFoundError, LeaseLostError, IllegalTransitionError, InvalidInputError],
          union: { name: items.union, description: items.unionDescription },
        },
        // A refused item is its error object: the errors plugin turns it into the union member.
        resolve: (payload) => payload.outcomes.map((outcome) => outcome.task ?? (outcome.error as unknown as Task)),
      }),
    }),
  });

const ClaimPayload = (name: string, description: string, nullable: boolean) =>
  builder.objectRef<{ claim: tasks.Claim | null }>(name).implement({
    description,
    fields: (t) => ({
      task: t.field({ type: TaskRef, nullable, description: nullable ? "The claimed task; null when nothing was claimable." : "The claimed task.", resolve: (p) => p.claim?.task as Task }),
      leaseToken: t.string({ nullable, description: "Secret to present with every call about this task (start, progress, complete, fail, release).", resolve: (p) => p.claim?.leaseToken as string }),
      leaseExpiresAt: t.field({ type: "DateTime", nullable, description: "When the lease runs out unless extended by start or progress.", resolve: (p) => p.claim?.leaseExpiresAt as Date }),
    }),
  });

/** Fields shared by every way of creating a task. */
export const taskInputFields = (t: PothosSchemaTypes.InputFieldBuilder<SchemaTypesOf<typeof builder>, "InputObject">) => ({
    description: t.string({ required: true, description: "What to do (1–10000 characters)." }),
    type: t.string({ required: true, description: "Kind of work (letters, digits, _ . : / -)." }),
    priority: t.field({ type: TaskPriorityEnum, required: false, description: "Claim priority (default MEDIUM)." }),
    requiredCapabilities: t.stringList({ required: false, description: "Capabilities an agent must all have to claim it." }),
    context: t.field({ type: "JSONObject", required: false, description: "Input of the task, at most 64 KiB." }),
    requirements: t.field({ type: "JSONObject", required: false, description: "Constraints on the work, at most 64 KiB." }),
    metadata: t.field({ type: "JSONObject", required: false, description: "Free-form labels, at most 64 KiB." }),
    maxAttempts: t.int({ required: false, description: "Attempts allowed (1–100, default 3)." }),
    deadline: t.field({ type: "DateTime", required: false, description: "When the work should be done by." }),
    swarmId: t.globalID({ required: false, description: "The swarm the task belongs to." }),
    parentId: t.globalID({ required: false, description: "The parent task, making this a subtask (depth = parent's + 1)." }),
    dependsOn: t.globalIDList({ required: false, description: "Existing tasks this one waits for; it starts WAITING until they have all completed." }),
    workerCount: t.int({
      required: false,
      description: `Makes the task a seed-003 job with this many workers (1–${creation.MAX_WORKER_COUNT}): they are allocated from the quota \`workers:depth:<the task's depth>\` when the task is created — all of them or the creation fails with QuotaExceededError and nothing is stored — and released when the task ends (completed, failed for good, or cancelled), not by the client. A depth without a quota (default or setQuota) is an InvalidInputError.`,
    }),
});

const CreateTaskInput = builder.inputType("CreateTaskInput", {
  description: "A new task.",
  fields: (t) => ({
    ...taskInputFields(t),
    idempotencyKey: t.string({ required: false, description: "Makes retries safe: a second call with the same key returns the first call's task instead of creating another, for IDEMPOTENCY_KEY_TTL_HOURS (default 24 h)." }),
  }),
});

const TaskSpecInput = builder.inputType("TaskSpecInput", {
  description: "One task of a batch.",
  fields: (t) => taskInputFields(t),
});

const CreateTasksInput = builder.inputType("CreateTasksInput", {
  description: `Several new tasks, created all together or not at all (at most ${creation.MAX_BATCH}).`,
  fields: (t) => ({
    tasks: t.field({ type: [TaskSpecInput], required: true, description: "The tasks, in order." }),
    idempotencyKey: t.string({ required: false, description: "Makes retries safe: a second call with the same key returns the first call's tasks, for IDEMPOTENCY_KEY_TTL_HOURS (default 24 h)." }),
  }),
});

const TaskGraphNodeInput = builder.inputType("TaskGraphNodeInput", {
  description: "One task of a graph, named by a key that other tasks of the graph depend on.",
  fields: (t) => ({
    key: t.string({ required: true, description: "Client-side name of the task, unique within the graph." }),
    dependsOnKeys: t.stringList({ required: false, description: "Keys of tasks of this graph that must complete first." }),
    ...taskInputFields(t),
  }),
});

const CreateTaskGraphInput = builder.inputType("CreateTaskGraphInput", {
  description: `A workflow: tasks with dependencies between them (acyclic), created all together or not at all (at most ${creation.MAX_BATCH}).`,
  fields: (t) => ({
    tasks: t.field({ type: [TaskGraphNodeInput], required: true, description: "The tasks of the graph." }),
    idempotencyKey: t.string({ required: false, description: "Makes retries safe: a second call with the same key returns the first call's tasks, for IDEMPOTENCY_KEY_TTL_HOURS (default 24 h)." }),
  }),
});

const ClaimNextTaskInput = builder.inputType("ClaimNextTaskInput", {
  description: "Which agent claims, and which tasks it wants.",
  fields: (t) => ({
    agentId: t.globalID({ required: true, description: "The claiming agent (must be IDLE or BUSY)." }),
    types: t.stringList({ required: false, description: "Only tasks of these types." }),
    swarmId: t.globalID({ required: false, description: "Only tasks of this swarm." }),
  }),
});

const ClaimNextTasksInput = builder.inputType("ClaimNextTasksInput", {
  description: "Which agent claims, how many tasks at most, and which.",
  fields: (t) => ({
    agentId: t.globalID({ required: true, description: "The claiming agent (must be IDLE or BUSY)." }),
    max: t.int({ required: true, description: `How many tasks to claim at most (1–${tasks.MAX_CLAIM_BATCH}); fewer when fewer are claimable or the tasks.running quota has less room.` }),
    types: t.stringList({ required: false, description: "Only tasks of these types." }),
    swarmId: t.globalID({ required: false, description: "Only tasks of this swarm." }),
  }),
});

const TaskCompletionInput = builder.inputType("TaskCompletionInput", {
  description: "The result of one held task of a batch.",
  fields: (t) => ({
    taskId: t.globalID({ required: true, description: "The task." }),
    leaseToken: t.string({ required: true, description: "The lease token from the claim." }),
    result: t.field({ type: "JSONObject", required: false, description: "The result, at most 64 KiB." }),
  }),
});

const CompleteTasksInput = builder.inputType("CompleteTasksInput", {
  description: `Results of several held tasks (at most ${tasks.MAX_CLAIM_BATCH}). Each completes or is refused on its own.`,
  fields: (t) => ({
    completions: t.field({ type: [TaskCompletionInput], required: true, description: "The results, in any order." }),
  }),
});

const TaskProgressReportInput = builder.inputType("TaskProgressReportInput", {
  description: "The progress of one held task of a batch.",
  fields: (t) => ({
    taskId: t.globalID({ required: true, description: "The task." }),
    leaseToken: t.string({ required: true, description: "The lease token from the claim." }),
    progress: t.float({ required: true, description: "How far the task is, from 0 to 1." }),
    partialResult: t.field({ type: "JSONObject", required: false, description: "A partial result so far, at most 64 KiB; replaces the previous one (omit it to keep that)." }),
  }),
});

const ReportProgressesInput = builder.inputType("ReportProgressesInput", {
  description: `Progress of several held tasks (at most ${tasks.MAX_CLAIM_BATCH}). Each is recorded or refused on its own.`,
  fields: (t) => ({
    reports: t.field({ type: [TaskProgressReportInput], required: true, description: "The reports, in any order; each task.progress event follows this order." }),
  }),
});

const ClaimTaskInput = builder.inputType("ClaimTaskInput", {
  description: "An agent claiming one given task.",
  fields: (t) => ({
    taskId: t.globalID({ required: true, description: "The task (must be PENDING)." }),
    agentId: t.globalID({ required: true, description: "The claiming agent (must be IDLE or BUSY and have every required capability)." }),
  }),
});

const LeaseInput = (name: string, description: string, extra?: "progress" | "complete" | "fail") =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      taskId: t.globalID({ required: true, description: "The task." }),
      leaseToken: t.string({ required: true, description: "The lease token from the claim." }),
      ...(extra === "progress"
        ? {
            progress: t.float({ required: true, description: "Progress from 0 to 1." }),
            partialResult: t.field({ type: "JSONObject", required: false, description: "Partial result so far, at most 64 KiB." }),
          }
        : {}),
      ...(extra === "complete"
        ? {
            result: t.field({ type: "JSONObject", required: false, description: "The result, at most 64 KiB." }),
            outputs: t.field({
              type: [ArtifactInputRef],
              required: false,
              description: "Artifacts the work produced (needs artifacts:write): published in the completion's transaction, produced by the holder, into the task's correlation, and handed to their consumers.",
            }),
          }
        : {}),
      ...(extra === "fail"
        ? {
            error: t.field({ type: "JSONObject", required: true, description: "What went wrong, e.g. { message, code }." }),
            retryable: t.boolean({ required: false, defaultValue: true, description: "Whether another attempt may succeed (default true)." }),
          }
        : {}),
    }),
  });

const UpdateTaskInput = builder.inputType("UpdateTaskInput", {
  description: "Fields to change on an unfinished task; omitted fields keep their value.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "The task." }),
    priority: t.field({ type: TaskPriorityEnum, required: false, description: "New priority." }),
    deadline: t.field({ type: "DateTime", required: false, description: "New deadline; null clears it." }),
    maxAttempts: t.int({ required: false, description: "New attempt limit (1–100)." }),
    metadata: t.field({ type: "JSONObject", required: false, description: "New metadata (replaces the old)." }),
  }),
});

const CancelTaskInput = builder.inputType("CancelTaskInput", {
  description: "Which task to cancel, and why.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "The task." }),
    reason: t.string({ required: false, description: "Why; kept on every cancelled task." }),
  }),
});

const holderErrors = [NotFoundError, LeaseLostError, IllegalTransitionError];
const creationErrors = [NotFoundError, IllegalTransitionError, IdempotencyKeyReusedError, QuotaExceededError];

type GlobalId = { typename: string; id: string };
export interface TaskInputShape {
  description: string;
  type: string;
  priority?: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL" | null;
  requiredCapabilities?: string[] | null;
  context?: Record<string, unknown> | null;
  requirements?: Record<string, unknown> | null;
  metadata?: Record<string, unknown> | null;
  maxAttempts?: number | null;
  deadline?: Date | null;
  swarmId?: GlobalId | null;
  parentId?: GlobalId | null;
  dependsOn?: GlobalId[] | null;
  workerCount?: number | null;
}

/** GraphQL input (global ids, nulls) → service input (raw ids, undefined for defaults). */
export function toSpec(input: TaskInputShape): creation.CreateTaskInput {
  return {
    description: input.description,
    type: input.type,
    priority: input.priority ?? undefined,
    requiredCapabilities: input.requiredCapabilities ?? undefined,
    context: input.context ?? undefined,
    requirements: input.requirements ?? undefined,
    metadata: input.metadata ?? undefined,
    maxAttempts: input.maxAttempts ?? undefined,
    deadline: input.deadline ?? undefined,
    swarmId: input.swarmId ? rawId(input.swarmId, "Swarm") : null,
    parentId: input.parentId ? rawId(input.parentId, "Task") : null,
    dependsOn: (input.dependsOn ?? []).map((id) => rawId(id, "Task")),
    workerCount: input.workerCount ?? undefined,
  };
}

const TasksPayload = (name: string, description: string) =>
  builder.objectRef<{ tasks: Task[] }>(name).implement({
    description,
    fields: (t) => ({ tasks: t.field({ type: [TaskRef], description: "The tasks, in input order.", resolve: (p) => p.tasks }) }),
  });

builder.mutationFields((t) => ({
  createTask: t.field({
    type: TaskPayload("CreateTaskPayload", "The task that was created (or, for a retried idempotency key, the first call's task)."),
    description: "Creates a task: PENDING, or WAITING while it has unfinished dependencies.",
    authScopes: { scope: "tasks:write" },
    errors: { types: creationErrors },
    args: { input: t.arg({ type: CreateTaskInput, required: true, description: "The task to create." }) },
    resolve: async (_root, { input }, ctx) => ({ task: await creation.createTask(ctx.db, actorOf(ctx), toSpec(input), input.idempotencyKey, ctx.config) }),
  }),
  createTasks: t.field({
    type: TasksPayload("CreateTasksPayload", "The tasks that were created."),
    description: `Creates up to ${creation.MAX_BATCH} tasks, all or none.`,
    authScopes: { scope: "tasks:write" },
    errors: { types: creationErrors },
    args: { input: t.arg({ type: CreateTasksInput, required: true, description: "The tasks to create." }) },
    resolve: async (_root, { input }, ctx) => ({
      tasks: await creation.createTasks(ctx.db, actorOf(ctx), { tasks: input.tasks.map(toSpec), idempotencyKey: input.idempotencyKey }, ctx.config),
    }),
  }),
  createTaskGraph: t.field({
    type: TasksPayload("CreateTaskGraphPayload", "The tasks of the graph, in input order."),
    description: "Creates a workflow in one call: tasks named by keys, with dependsOnKeys between them (validated acyclic). Tasks run in dependency order.",
    authScopes: { scope: "tasks:write" },
    errors: { types: [...creationErrors, DependencyCycleError] },
    args: { input: t.arg({ type: CreateTaskGraphInput, required: true, description: "The graph to create." }) },
    resolve: async (_root, { input }, ctx) => ({
      tasks: await creation.createTaskGraph(ctx.db, actorOf(ctx), {
        tasks: input.tasks.map((node) => ({ ...toSpec(node), key: node.key, dependsOnKeys: node.dependsOnKeys ?? [] })),
        idempotencyKey: input.idempotencyKey,
      }, ctx.config),
    }),
  }),
  assignTask: t.field({
    type: ClaimPayload("AssignTaskPayload", "The claim made on the agent's behalf; hand the lease token to the agent.", false),
    description: "Operator push: claims a PENDING task for an agent (same rules as claimTask).",
    authScopes: { scope: "tasks:write" },
    errors: { types: [NotFoundError, IllegalTransitionError, CapabilityMismatchError, QuotaExceededError] },
    args: { input: t.arg({ type: ClaimTaskInput, required: true, description: "Which task, for which agent." }) },
    resolve: async (_root, { input }, ctx) => ({ claim: await tasks.assignTask(ctx.db, actorOf(ctx), rawId(input.taskId, "Task"), rawId(input.agentId, "Agent"), lease(ctx)) }),
  }),
  updateTask: t.field({
    type: TaskPayload("UpdateTaskPayload", "The task after the update."),
    description: "Changes priority, deadline, max attempts or metadata of an unfinished task.",
    authScopes: { scope: "tasks:write" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: UpdateTaskInput, required: true, description: "What to change." }) },
    resolve: async (_root, { input }, ctx) => ({
      task: await tasks.updateTask(ctx.db, actorOf(ctx), rawId(input.id, "Task"), {
        priority: input.priority,
        deadline: "deadline" in input ? input.deadline : undefined,
        maxAttempts: input.maxAttempts,
        metadata: input.metadata,
      }),
    }),
  }),
  cancelTask: t.field({
    type: TasksPayload("CancelTaskPayload", "Every task that was cancelled: the given one first, then its subtree and waiting dependents."),
    description: "Cancels an unfinished task, its subtasks (recursively) and the tasks waiting on them. A holder learns it on its next call (LeaseLostError CANCELLED).",
    authScopes: { scope: "tasks:write" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: CancelTaskInput, required: true, description: "Which task, and why." }) },
    resolve: async (_root, { input }, ctx) => ({ tasks: await tasks.cancelTask(ctx.db, actorOf(ctx), rawId(input.id, "Task"), input.reason) }),
  }),
  claimNextTask: t.field({
    type: ClaimPayload("ClaimNextTaskPayload", "The claim, or nulls when nothing was claimable.", true),
    description: "Atomically claims the best claimable task for the agent: capabilities matched, highest priority, then oldest. Two agents never get the same task.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: [NotFoundError, IllegalTransitionError, QuotaExceededError] },
    args: { input: t.arg({ type: ClaimNextTaskInput, required: true, description: "Who claims, and what." }) },
    resolve: async (_root, { input }, ctx) => ({
      claim: await tasks.claimNextTask(ctx.db, ctx.sql, actorOf(ctx), rawId(input.agentId, "Agent"), { types: input.types, swarmId: input.swarmId ? rawId(input.swarmId, "Swarm") : null }, lease(ctx)),
    }),
  }),
  claimNextTasks: t.field({
    type: builder.objectRef<{ claims: tasks.Claim[] }>("ClaimNextTasksPayload").implement({
      description: "The claims, best first; empty when nothing was claimable.",
      fields: (p) => ({
        claims: p.field({
          type: [ClaimPayload("TaskClaim", "One claimed task with its lease.", false)],
          description: "The claimed tasks with their lease tokens, in claim order.",
          resolve: (payload) => payload.claims.map((claim) => ({ claim })),
        }),
      }),
    }),
    description: `Atomically claims up to \`max\` tasks for the agent in one statement (a worker with concurrency above 1), in claimNextTask's order. Two agents never get the same task; the tasks.running quota is never exceeded (a full quota with claimable work gives QuotaExceededError).`,
    authScopes: { scope: "tasks:claim" },
    errors: { types: [NotFoundError, IllegalTransitionError, QuotaExceededError, InvalidInputError] },
    args: { input: t.arg({ type: ClaimNextTasksInput, required: true, description: "Who claims, how many, and what." }) },
    resolve: async (_root, { input }, ctx) => {
      if (!Number.isInteger(input.max) || input.max < 1 || input.max > tasks.MAX_CLAIM_BATCH) {
        throw new InvalidInputError([{ path: "input.max", message: `must be between 1 and ${tasks.MAX_CLAIM_BATCH}` }]);
      }
      const filter = { types: input.types, swarmId: input.swarmId ? rawId(input.swarmId, "Swarm") : null };
      return { claims: await tasks.claimNextTasks(ctx.db, ctx.sql, actorOf(ctx), rawId(input.agentId, "Agent"), filter, input.max, lease(ctx)) };
    },
  }),
  completeTasks: t.field({
    type: BatchOutcomesPayload("CompleteTasksPayload", "One outcome per completion, in input order.", {
      outcomes: "What became of each completion, in input order: the completed task, or the error that refused it (as completeTask would refuse it).",
      union: "TaskCompletionResult",
      unionDescription: "The outcome of one completion of a batch.",
    }),
    description: "The holder completes several tasks at once (a worker's batch). Each completes or is refused on its own, as completeTask would; the ordinary ones complete together in one statement.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: [InvalidInputError] },
    args: { input: t.arg({ type: CompleteTasksInput, required: true, description: "The results." }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.completions.length < 1 || input.completions.length > tasks.MAX_CLAIM_BATCH) {
        throw new InvalidInputError([{ path: "input.completions", message: `must hold between 1 and ${tasks.MAX_CLAIM_BATCH} completions` }]);
      }
      const items = input.completions.map((c) => ({ taskId: rawId(c.taskId, "Task"), leaseToken: c.leaseToken, result: c.result }));
      return { outcomes: await tasks.completeTasks(ctx.db, ctx.sql, actorOf(ctx), items) };
    },
  }),
  claimTask: t.field({
    type: ClaimPayload("ClaimTaskPayload", "The claim.", false),
    description: "Claims one given PENDING task for the agent.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: [NotFoundError, IllegalTransitionError, CapabilityMismatchError, QuotaExceededError] },
    args: { input: t.arg({ type: ClaimTaskInput, required: true, description: "Which task, for which agent." }) },
    resolve: async (_root, { input }, ctx) => ({ claim: await tasks.claimTask(ctx.db, actorOf(ctx), rawId(input.taskId, "Task"), rawId(input.agentId, "Agent"), lease(ctx)) }),
  }),
  startTask: t.field({
    type: TaskPayload("StartTaskPayload", "The running task."),
    description: "The holder starts a CLAIMED task; extends the lease.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: holderErrors },
    args: { input: t.arg({ type: LeaseInput("StartTaskInput", "The task and its lease token."), required: true, description: "The task and its lease token." }) },
    resolve: async (_root, { input }, ctx) => ({ task: await tasks.startTask(ctx.db, ctx.sql, actorOf(ctx), rawId(input.taskId, "Task"), input.leaseToken, lease(ctx)) }),
  }),
  reportProgress: t.field({
    type: TaskPayload("ReportProgressPayload", "The task with its new progress."),
    description: "The holder reports progress (0..1) and optionally a partial result; extends the lease.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: holderErrors },
    args: { input: t.arg({ type: LeaseInput("ReportProgressInput", "Progress of a held task.", "progress"), required: true, description: "The progress report." }) },
    resolve: async (_root, { input }, ctx) => ({
      task: await tasks.reportProgress(ctx.db, ctx.sql, actorOf(ctx), rawId(input.taskId, "Task"), input.leaseToken, { progress: input.progress as number, partialResult: input.partialResult as Record<string, unknown> | null }, lease(ctx)),
    }),
  }),
  reportProgresses: t.field({
    type: BatchOutcomesPayload("ReportProgressesPayload", "One outcome per report, in input order.", {
      outcomes: "What became of each report, in input order: the task with its new progress, or the error that refused it (as reportProgress would refuse it).",
      union: "TaskProgressResult",
      unionDescription: "The outcome of one progress report of a batch.",
    }),
    description:
      "The holder reports the progress of several tasks at once (a worker with many tasks, or renewing all its leases in one request). Each is recorded or refused on its own, as reportProgress would; the ordinary ones are recorded together in one statement, each with its own task.progress event.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: [InvalidInputError] },
    args: { input: t.arg({ type: ReportProgressesInput, required: true, description: "The progress reports." }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.reports.length < 1 || input.reports.length > tasks.MAX_CLAIM_BATCH) {
        throw new InvalidInputError([{ path: "input.reports", message: `must hold between 1 and ${tasks.MAX_CLAIM_BATCH} reports` }]);
      }
      const items = input.reports.map((r) => ({ taskId: rawId(r.taskId, "Task"), leaseToken: r.leaseToken, progress: r.progress, partialResult: r.partialResult }));
      return { outcomes: await tasks.reportProgresses(ctx.db, ctx.sql, actorOf(ctx), items, lease(ctx)) };
    },
  }),
  completeTask: t.field({
    type: TaskPayload("CompleteTaskPayload", "The completed task."),
    description: "The holder completes the task with its result. A stale lease gets LeaseLostError: a task is never completed twice.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: holderErrors },
    args: { input: t.arg({ type: LeaseInput("CompleteTaskInput", "The result of a held task.", "complete"), required: true, description: "The result." }) },
    resolve: async (_root, { input }, ctx) => {
      const outputs = input.outputs as ArtifactInputShape[] | null | undefined;
      if (outputs?.length && !grants(ctx.viewer!.scopes, "artifacts:write")) {
        throw new GraphQLError("completing with outputs needs the scope artifacts:write; ask for a token that grants it", { extensions: { code: "FORBIDDEN", requiredScopes: ["artifacts:write"] } });
      }
      const publishOutputs = artifacts.outputPublisher(actorOf(ctx), outputs?.map(toArtifactInput));
      return { task: await tasks.completeTask(ctx.db, ctx.sql, actorOf(ctx), rawId(input.taskId, "Task"), input.leaseToken, input.result, publishOutputs) };
    },
  }),
  failTask: t.field({
    type: TaskPayload("FailTaskPayload", "The task after the failure: PENDING again (retry scheduled) or FAILED."),
    description: "The holder reports a failure. Retryable failures are retried with exponential backoff until maxAttempts; then the task is FAILED.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: holderErrors },
    args: { input: t.arg({ type: LeaseInput("FailTaskInput", "The failure of a held task.", "fail"), required: true, description: "The failure." }) },
    resolve: async (_root, { input }, ctx) => ({
      task: await tasks.failTask(ctx.db, ctx.sql, actorOf(ctx), rawId(input.taskId, "Task"), input.leaseToken, input.error, (input.retryable as boolean | null) ?? true, lease(ctx)),
    }),
  }),
  releaseTask: t.field({
    type: TaskPayload("ReleaseTaskPayload", "The task, PENDING again."),
    description: "The holder gives the task back; it is claimable at once and the attempt does not count.",
    authScopes: { scope: "tasks:claim" },
    errors: { types: holderErrors },
    args: { input: t.arg({ type: LeaseInput("ReleaseTaskInput", "The task and its lease token."), required: true, description: "The task and its lease token." }) },
    resolve: async (_root, { input }, ctx) => ({ task: await tasks.releaseTask(ctx.db, ctx.sql, actorOf(ctx), rawId(input.taskId, "Task"), input.leaseToken) }),
  }),
}));
