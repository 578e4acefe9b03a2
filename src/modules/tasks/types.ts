/** GraphQL types of the tasks domain. */
import { builder } from "../../schema/builder.ts";

export const TaskStatusEnum = builder.enumType("TaskStatus", {
  description: "Where a task is in its lifecycle. See the README's task lifecycle.",
  values: {
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

const AttemptOutcomeEnum = builder.enumType("AttemptOutcome", {
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
  findUnique: (id, ctx) => ({ id, workspaceId: ctx.viewer?.workspaceId ?? "" }),
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
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the task was created." }),
    claimedAt: t.expose("claimedAt", { type: "DateTime", nullable: true, description: "When it was last claimed." }),
    startedAt: t.expose("startedAt", { type: "DateTime", nullable: true, description: "When its holder started it." }),
    completedAt: t.expose("completedAt", { type: "DateTime", nullable: true, description: "When it completed." }),
    failedAt: t.expose("failedAt", { type: "DateTime", nullable: true, description: "When it failed for good." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When it last changed." }),
  }),
});

