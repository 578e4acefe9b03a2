/** GraphQL types of the tasks domain. */
import { actorOf } from "../../context.ts";
import { builder, inViewerWorkspace, pageSizeLimit } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { AgentRef } from "../agents/types.ts";
import { SwarmRef } from "../swarms/types.ts";
import { type AgentPerformance, agentPerformance, assertThroughputWindow, MAX_THROUGHPUT_WINDOW_MINUTES, swarmTaskSummaries, swarmThroughput, type TaskSummary, type Throughput } from "./service.ts";

export const TaskStatusEnum = builder.enumType("TaskStatus", {
  description: "Where a task is in its lifecycle. See the README's task lifecycle.",
  values: {
    WAITING: { description: "Waiting for its dependencies to complete; becomes PENDING when they all have." },
    PENDING: { description: "Waiting to be claimed (possibly until its retry delay has passed)." },
    CLAIMED: { description: "Claimed by an agent that holds a lease on it." },
    RUNNING: { description: "Started by its holder." },
    COMPLETED: { description: "Finished with a result." },
    FAILED: { description: "Failed for good: not retryable, or out of attempts (the dead-letter list)." },
    CANCELLED: { description: "Cancelled by an operator." },
  } as const,
});

export const TaskPriorityEnum = builder.enumType("TaskPriority", {
  description: "Claim order: higher priorities are claimed first, then older tasks.",
  values: {
    LOW: { description: "Claimed last." },
    MEDIUM: { description: "The default." },
    HIGH: { description: "Claimed before MEDIUM and LOW." },
    CRITICAL: { description: "Claimed first." },
  } as const,
});

export const AttemptOutcomeEnum = builder.enumType("AttemptOutcome", {
  description: "How an attempt ended.",
  values: {
    COMPLETED: { description: "The agent completed the task." },
    FAILED: { description: "The agent reported a failure." },
    RELEASED: { description: "The agent (or its termination) gave the task back." },
    LEASE_EXPIRED: { description: "The agent stopped reporting and its lease expired." },
    CANCELLED: { description: "The task was cancelled while held." },
  } as const,
});

export const TaskAttemptRef = builder.prismaObject("TaskAttempt", {
  description: "One claim of a task by one agent.",
  fields: (t) => ({
    fence: t.exposeInt("fence", { description: "Which claim of the task this was: 1 for the first, then 2, 3, … (the claim's fencing token)." }),
    agent: t.relation("agent", { description: "The agent that made the attempt." }),
    task: t.relation("task", { description: "The task attempted." }),
    claimedAt: t.expose("claimedAt", { type: "DateTime", description: "When the agent claimed the task." }),
    endedAt: t.expose("endedAt", { type: "DateTime", nullable: true, description: "When the attempt ended; null while it runs." }),
    outcome: t.expose("outcome", { type: AttemptOutcomeEnum, nullable: true, description: "How it ended; null while it runs." }),
    error: t.expose("error", { type: "JSON", nullable: true, description: "The error reported for a failed or expired attempt." }),
  }),
});

export const TaskRef = builder.prismaNode("Task", {
  description: "A unit of work that agents claim, run and complete.",
  id: { field: "id", description: "Global id of the task." },
  authScopes: { scope: "tasks:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    description: t.exposeString("description", { description: "What to do." }),
    type: t.exposeString("type", { description: "Kind of work, e.g. code_generation. Claim filters match it." }),
    priority: t.expose("priority", { type: TaskPriorityEnum, description: "Claim priority." }),
    status: t.expose("status", { type: TaskStatusEnum, description: "Lifecycle status." }),
    requiredCapabilities: t.exposeStringList("requiredCapabilities", { description: "Capabilities an agent must all have to claim the task." }),
    context: t.expose("context", { type: "JSON", description: "Input of the task, as given at creation." }),
    requirements: t.expose("requirements", { type: "JSON", description: "Constraints on how the work is done, as given at creation." }),
    metadata: t.expose("metadata", { type: "JSON", description: "Free-form labels." }),
    deadline: t.expose("deadline", { type: "DateTime", nullable: true, description: "When the work should be done by; informational." }),
    maxAttempts: t.exposeInt("maxAttempts", { description: "Attempts allowed before a retryable failure becomes final." }),
    attemptCount: t.exposeInt("attemptCount", { description: "Attempts made so far (released attempts do not count)." }),
    availableAt: t.expose("availableAt", { type: "DateTime", description: "Not claimable before this instant (retry backoff)." }),
    progress: t.exposeFloat("progress", { description: "Reported progress, 0 to 1." }),
    partialResult: t.expose("partialResult", { type: "JSON", nullable: true, description: "Latest partial result reported with progress." }),
    result: t.expose("result", { type: "JSON", nullable: true, description: "Result of a completed task." }),
    error: t.expose("error", { type: "JSON", nullable: true, description: "Last error reported (or the lease expiry)." }),
    assignee: t.relation("assignee", { nullable: true, description: "The agent holding the task; null when nobody does." }),
    leaseExpiresAt: t.expose("leaseExpiresAt", { type: "DateTime", nullable: true, description: "When the holder's lease runs out unless extended." }),
    fence: t.exposeInt("fence", { description: "Fencing token of the current (or last) claim." }),
    attempts: t.relation("attempts", { description: "Every attempt, oldest first (released ones included).", query: { orderBy: { fence: "asc" } } }),
    swarm: t.relation("swarm", { nullable: true, description: "The swarm the task belongs to, if any." }),
    parent: t.relation("parent", { nullable: true, description: "The parent task, for a subtask." }),
    depth: t.exposeInt("depth", { description: "0 for a top-level task, the parent's depth + 1 for a subtask." }),
    workerCount: t.exposeInt("workerCount", {
      nullable: true,
      description: "Workers of a seed-003 job: units of `workers:depth:<depth>` allocated to this task when it was created and released when it ends (the `allocations` query with holder TASK shows whether they are still held); null for a task created without workerCount.",
    }),
    subtasks: t.relation("subtasks", { description: "Direct subtasks, oldest first.", query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } }),
    cancelledAt: t.expose("cancelledAt", { type: "DateTime", nullable: true, description: "When it was cancelled." }),
    cancelReason: t.exposeString("cancelReason", { nullable: true, description: "Why it was cancelled (an operator's reason, or the failed or cancelled task it depended on or descended from)." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the task was created." }),
    claimedAt: t.expose("claimedAt", { type: "DateTime", nullable: true, description: "When it was last claimed." }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true, description: "When its holder started it." }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true, description: "When it completed." }),
    failedAt: t.expose("failedAt", { type: "DateTime", nullable: true, description: "When it failed for good." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it last changed." }),
  }),
});


builder.prismaObjectFields(TaskRef, (t) => ({
  dependencies: t.field({
    type: [TaskRef],
    description: "The tasks this one waits for.",
    select: (_args, _ctx, nestedSelection) => ({ dependencies: { select: { dependsOn: nestedSelection(true) }, orderBy: { dependsOnId: "asc" } } }),
    resolve: (task) => task.dependencies.map((d) => d.dependsOn),
  }),
  dependents: t.field({
    type: [TaskRef],
    description: "The tasks that wait for this one.",
    select: (_args, _ctx, nestedSelection) => ({ dependents: { select: { task: nestedSelection(true) }, orderBy: { taskId: "asc" } } }),
    resolve: (task) => task.dependents.map((d) => d.task),
  }),
}));

const TASK_STATUSES = ["WAITING", "PENDING", "CLAIMED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"] as const;

const TaskStatusCount = builder.objectRef<{ status: (typeof TASK_STATUSES)[number]; count: number }>("TaskStatusCount").implement({
  description: "How many tasks have one status.",
  fields: (t) => ({
    status: t.field({ type: TaskStatusEnum, description: "The status counted.", resolve: (c) => c.status }),
    count: t.exposeInt("count", { description: "Number of tasks with that status." }),
  }),
});

const performanceLoader = defineLoader<string, AgentPerformance>("task.agentPerformance", async (ctx, ids) => {
  const stats = await agentPerformance(ctx.db, actorOf(ctx).workspaceId, ids);
  return ids.map((id) => stats.get(id)!);
});

const AgentPerformanceRef = builder.objectRef<AgentPerformance>("AgentPerformance").implement({
  description: "An agent's work record, from its task attempts (seed 001's agent metrics).",
  fields: (t) => ({
    tasksCompleted: t.exposeInt("tasksCompleted", { description: "Attempts that completed their task." }),
    tasksFailed: t.exposeInt("tasksFailed", { description: "Attempts that failed or lost their lease." }),
    successRate: t.float({
      nullable: true,
      description: "tasksCompleted / (tasksCompleted + tasksFailed); null before the first finished attempt.",
      resolve: (p) => (p.tasksCompleted + p.tasksFailed === 0 ? null : Math.round((p.tasksCompleted / (p.tasksCompleted + p.tasksFailed)) * 1000) / 1000),
    }),
    averageDurationSeconds: t.float({ nullable: true, description: "Mean time from claim to completion of completed attempts; null if none.", resolve: (p) => p.averageDurationSeconds }),
    currentTasks: t.exposeInt("currentTasks", { description: "Tasks the agent holds right now." }),
  }),
});

builder.prismaObjectField(AgentRef, "performance", (t) =>
  t.field({
    type: AgentPerformanceRef,
    description: "Work record: completed and failed tasks, success rate, average duration (batched across agents).",
    authScopes: { scope: "tasks:read" },
    resolve: (agent, _args, ctx) => performanceLoader(ctx).load(agent.id),
  }),
);

const taskSummaryLoader = defineLoader<string, TaskSummary>("task.swarmSummaries", async (ctx, ids) => {
  const summaries = await swarmTaskSummaries(ctx.db, actorOf(ctx).workspaceId, ids);
  return ids.map((id) => summaries.get(id)!);
});

const SwarmTaskSummary = builder.objectRef<TaskSummary>("SwarmTaskSummary").implement({
  description: "A swarm's tasks counted by status, and its overall progress (seed 001's swarm status).",
  fields: (t) => ({
    total: t.int({ description: "Number of tasks.", resolve: (s) => [...s.byStatus.values()].reduce((a, b) => a + b, 0) }),
    byStatus: t.field({
      type: [TaskStatusCount],
      description: "Tasks per status (every status listed, zeros included).",
      resolve: (s) => TASK_STATUSES.map((status) => ({ status, count: s.byStatus.get(status) ?? 0 })),
    }),
    progress: t.float({ description: "Mean progress of the tasks that are not cancelled (completed count as 1), 0 to 1.", resolve: (s) => s.progress }),
  }),
});

builder.prismaObjectField(SwarmRef, "taskSummary", (t) =>
  t.field({
    type: SwarmTaskSummary,
    description: "The swarm's tasks by status and its progress (batched across swarms).",
    authScopes: { scope: "tasks:read" },
    resolve: (swarm, _args, ctx) => taskSummaryLoader(ctx).load(swarm.id),
  }),
);

builder.prismaObjectFields(AgentRef, (t) => ({
  currentTasks: t.relation("tasks", {
    description: "The tasks the agent holds right now (CLAIMED or RUNNING under its lease), oldest claim first. Empty when it holds nothing; `performance.currentTasks` is their count.",
    authScopes: { scope: "tasks:read" },
    query: { where: { status: { in: ["CLAIMED", "RUNNING"] } }, orderBy: [{ claimedAt: "asc" }, { id: "asc" }] },
  }),
  attempts: t.relatedConnection(
    "attempts",
    {
      cursor: "id",
      description: "The agent's work history (seed 001's agent task history): every claim it made, newest first, with the task, when it was claimed and how it ended (open attempts have no outcome yet).",
      authScopes: { scope: "tasks:read" },
      maxSize: pageSizeLimit,
      args: {
        outcomes: t.arg({
          type: [AttemptOutcomeEnum],
          required: false,
          description: "Only attempts that ended in one of these ways (running attempts have no outcome and are left out). An empty list matches nothing.",
        }),
        running: t.arg.boolean({ required: false, description: "true: only attempts still running (no outcome yet); false: only ended ones." }),
      },
      query: (args) => ({
        where: {
          AND: [
            args.outcomes ? { outcome: { in: args.outcomes } } : {},
            args.running == null ? {} : args.running ? { endedAt: null } : { endedAt: { not: null } },
          ],
        },
        orderBy: [{ claimedAt: "desc" }, { id: "desc" }],
      }),
      totalCount: true,
    },
    {
      description: "A page of an agent's attempts.",
      fields: (c) => ({
        // A related connection carries its count as a number (a root connection as a function).
        totalCount: c.int({
          description: "How many attempts match, over all pages.",
          extensions: { pothosPrismaTotalCount: true },
          resolve: (parent) => (parent as { totalCount?: number }).totalCount ?? 0,
        }),
      }),
    },
    { description: "An attempt in a page." },
  ),
}));

interface SwarmThroughputShape extends Throughput {
  windowMinutes: number;
  since: Date;
}

/** Throughput per swarm and window, batched per window within one operation. */
const throughputLoader = defineLoader<string, SwarmThroughputShape>("task.swarmThroughput", async (ctx, keys) => {
  const now = new Date();
  const byWindow = new Map<number, string[]>();
  for (const key of keys) {
    const [minutes, swarmId] = key.split(":") as [string, string];
    byWindow.set(Number(minutes), [...(byWindow.get(Number(minutes)) ?? []), swarmId]);
  }
  const results = new Map<string, SwarmThroughputShape>();
  for (const [windowMinutes, swarmIds] of byWindow) {
    const counts = await swarmThroughput(ctx.db, actorOf(ctx).workspaceId, swarmIds, windowMinutes, now);
    for (const [swarmId, c] of counts) results.set(`${windowMinutes}:${swarmId}`, { ...c, windowMinutes, since: new Date(now.getTime() - windowMinutes * 60_000) });
  }
  return keys.map((key) => results.get(key)!);
});

const SwarmThroughputRef = builder.objectRef<SwarmThroughputShape>("SwarmThroughput").implement({
  description: "How much work a swarm finished in a recent window (seed 001's swarm throughput): tasks of the swarm that ended in the window, by outcome.",
  fields: (t) => ({
    windowMinutes: t.exposeInt("windowMinutes", { description: "Length of the window, in minutes (the argument given)." }),
    since: t.field({ type: "DateTime", description: "Start of the window: the query's time minus windowMinutes. The window ends when the query ran.", resolve: (p) => p.since }),
    completed: t.exposeInt("completed", { description: "Tasks of the swarm that COMPLETED in the window (by completedAt)." }),
    failed: t.exposeInt("failed", { description: "Tasks of the swarm that FAILED for good in the window (by failedAt; retries scheduled are not failures, cancellations count as neither)." }),
    completedPerHour: t.float({
      description: "completed ÷ window length in hours, rounded to 2 decimals: the completion rate over the window.",
      resolve: (p) => Math.round((p.completed / (p.windowMinutes / 60)) * 100) / 100,
    }),
  }),
});

builder.prismaObjectField(SwarmRef, "throughput", (t) =>
  t.field({
    type: SwarmThroughputRef,
    description: `Tasks of the swarm completed and failed within the last \`windowMinutes\` (default 60), and the completion rate per hour (batched across swarms). A window outside 1–${MAX_THROUGHPUT_WINDOW_MINUTES} minutes is an InvalidInputError (BAD_USER_INPUT).`,
    authScopes: { scope: "tasks:read" },
    args: { windowMinutes: t.arg.int({ required: false, defaultValue: 60, description: `Window length in minutes, 1–${MAX_THROUGHPUT_WINDOW_MINUTES} (default 60).` }) },
    resolve: (swarm, { windowMinutes }, ctx) => {
      const minutes = windowMinutes ?? 60;
      assertThroughputWindow(minutes);
      return throughputLoader(ctx).load(`${minutes}:${swarm.id}`);
    },
  }),
);
