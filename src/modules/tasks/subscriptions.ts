/**
 * Live task events: `taskEvents` (filtered), `taskProgress` (one task), `tasksAvailable`
 * (claimable work for one agent, as it appears — the agent loop without polling) and `agentWork`
 * (work given to one agent: assignments with their lease, reservations).
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError } from "graphql";
import { grants } from "../../auth/scopes.ts";
import type { EventRecord } from "../../events/bus.ts";
import type { TaskStatus } from "../../generated/prisma/client.ts";
import { sharedPerEvent } from "../../events/perEventContext.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { rawId } from "../../schema/globalIds.ts";
import type { TaskFacts } from "./facts.ts";
import * as tasks from "./service.ts";
import { TaskStatusEnum } from "./types.ts";

/** The status a task event moved its task to; null when the event does not change it. */
export function taskStatusAfter(event: EventRecord): TaskStatus | null {
  switch (event.type) {
    case "task.created":
      return (payloadString(event, "status") as TaskStatus | null) ?? null;
    case "task.ready":
    case "task.released":
    case "task.retry_scheduled":
      return "PENDING";
    case "task.claimed":
      return "CLAIMED";
    case "task.started":
    case "task.progress":
      return "RUNNING";
    case "task.completed":
      return "COMPLETED";
    case "task.failed":
      return "FAILED";
    case "task.cancelled":
      return "CANCELLED";
    case "task.lease_expired":
      return event.payload.requeued === false ? "FAILED" : "PENDING";
    default:
      return null;
  }
}

export const TaskEventRef = builder.objectRef<EventRecord>("TaskEvent").implement({
  description: "Something happened to a task: created, ready, claimed, started, progress (with the partial result), completed, failed, retry scheduled, released, lease expired (lease lost), updated, cancelled.",
  interfaces: [EventInterface],
  fields: (t) => ({
    taskId: t.id({ ...sharedPerEvent, description: "Global id of the task (also when it no longer exists).", resolve: (e) => encodeGlobalID("Task", e.entityId) }),
    task: t.prismaField({
      type: "Task",
      nullable: true,
      description: "The task as it is now (not as it was at the event); null if it no longer exists.",
      resolve: (query, e, _args, ctx) => ctx.db.task.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
    status: t.field({ ...sharedPerEvent, type: TaskStatusEnum, nullable: true, description: "The status this event moved the task to; null when it did not change it (task.updated).", resolve: taskStatusAfter }),
    progress: t.float({ ...sharedPerEvent, nullable: true, description: "Reported progress, 0 to 1 (task.progress).", resolve: (e) => (typeof e.payload.progress === "number" ? e.payload.progress : null) }),
    partialResult: t.field({ ...sharedPerEvent, type: "JSON", nullable: true, description: "The partial result reported with this progress (task.progress).", resolve: (e) => e.payload.partialResult ?? null }),
    agentId: t.id({ ...sharedPerEvent, nullable: true, description: "Global id of the agent concerned (claim, start, completion, release, lease expiry).", resolve: (e) => { const id = payloadString(e, "agentId"); return id ? encodeGlobalID("Agent", id) : null; } }),
  }),
});

const TaskEventFilter = builder.inputType("TaskEventFilter", {
  description: "Which task events to receive; every given criterion must match.",
  fields: (t) => ({
    taskIds: t.globalIDList({ required: false, description: "Only events of these tasks." }),
    swarmId: t.globalID({ required: false, description: "Only events of tasks of this swarm." }),
    status: t.field({ type: [TaskStatusEnum], required: false, description: "Only events that moved their task to one of these statuses." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"task.completed\", \"task.failed\"]." }),
    taskTypes: t.stringList({ required: false, description: "Only events of tasks of these types (the task's `type`)." }),
    agentId: t.globalID({
      required: false,
      description:
        "Only events about this agent's work: those naming it (claimed — by it or assigned to it —, started, completed, released, lease expired: the event's `agentId`), those of tasks created reserved for it, and the events that name no agent (progress, failure, retry, cancellation, update) of tasks whose latest attempt is this agent's when the event is delivered. An id of another type or workspace matches nothing.",
    }),
  }),
});

interface TaskFilter {
  agentId?: string;
  taskIds?: string[];
  swarmId?: string;
  status?: TaskStatus[];
  types?: string[];
  taskTypes?: string[];
}

/** The agent an event names: the one it concerns (claims, starts, completions…), or the one a created task is reserved for. */
function agentNamed(event: EventRecord): string | null {
  return payloadString(event, "agentId") ?? (event.type === "task.created" ? payloadString(event, "reservedForId") : null);
}

/**
 * Whether an event belongs to the agent of its task's latest attempt: one that names no agent,
 * but never a creation, which precedes every attempt (else a late or replayed delivery would
 * give it to whoever claimed the task since, and a prompt one to no one).
 */
function byLatestAttempt(event: EventRecord): boolean {
  return event.type !== "task.created" && agentNamed(event) === null;
}

/** Keeps the events matching `filter`; the tasks' swarm and type come from the process-wide facts (src/modules/tasks/facts.ts). */
function taskEventSelector(filter: TaskFilter, workspaceId: string, db: import("../../db/client.ts").PrismaClient, taskFacts: TaskFacts) {
  return async (events: readonly EventRecord[]) => {
    const facts = filter.swarmId || filter.taskTypes ? await taskFacts.get(workspaceId, events.map((e) => e.entityId)) : undefined;
    // Events that name no agent belong to the agent of the task's latest attempt (one query per batch).
    const unnamed = filter.agentId !== undefined ? [...new Set(events.filter(byLatestAttempt).map((e) => e.entityId))] : [];
    const latestAgent = unnamed.length > 0 ? await tasks.latestAttemptAgents(db, workspaceId, unnamed) : new Map<string, string>();
    return events.map((e) => {
      if (filter.agentId !== undefined && (byLatestAttempt(e) ? latestAgent.get(e.entityId) : agentNamed(e)) !== filter.agentId) return null;
      if (filter.taskIds && !filter.taskIds.includes(e.entityId)) return null;
      if (filter.types && !filter.types.includes(e.type)) return null;
      if (filter.status) {
        const status = taskStatusAfter(e);
        if (!status || !filter.status.includes(status)) return null;
      }
      const fact = facts?.get(e.entityId);
      if (filter.swarmId && fact?.swarmId !== filter.swarmId) return null;
      if (filter.taskTypes && (!fact || !filter.taskTypes.includes(fact.type))) return null;
      return e;
    });
  };
}

builder.subscriptionFields((t) => ({
  taskEvents: t.field({
    type: TaskEventRef,
    description: "Task events of your workspace, filtered: replaces polling task lists and job statuses.",
    args: {
      filter: t.arg({ type: TaskEventFilter, required: false, description: "Which events; all when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("tasks:read", (ctx, args: { filter?: { taskIds?: { typename: string; id: string }[] | null; swarmId?: { typename: string; id: string } | null; status?: TaskStatus[] | null; types?: string[] | null; taskTypes?: string[] | null; agentId?: { typename: string; id: string } | null } | null }) => {
      const f = args.filter ?? {};
      const filter: TaskFilter = {
        // An id of another type matches nothing (no agent has an empty id).
        agentId: f.agentId ? (f.agentId.typename === "Agent" ? f.agentId.id : "") : undefined,
        taskIds: f.taskIds?.map((id) => rawId(id, "Task")),
        swarmId: f.swarmId ? rawId(f.swarmId, "Swarm") : undefined,
        status: f.status ?? undefined,
        types: f.types ?? undefined,
        taskTypes: f.taskTypes ?? undefined,
      };
      return { topics: ["task"], entityIds: filter.taskIds, select: taskEventSelector(filter, ctx.viewer!.workspaceId, ctx.db, ctx.taskFacts) };
    }),
  }),
  taskProgress: t.field({
    type: TaskEventRef,
    description: "Every event of one task — progress with partial results, then its outcome: replaces polling a task's status.",
    args: {
      taskId: t.arg.globalID({ required: true, description: "The task." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("tasks:read", (_ctx, args: { taskId: { typename: string; id: string } }) => {
      const taskId = rawId(args.taskId, "Task");
      return { topics: ["task"], entityIds: [taskId], select: async (events: readonly EventRecord[]) => events };
    }),
  }),
}));

/** Task events after which a task may be claimable. */
const MAYBE_AVAILABLE = new Set(["task.created", "task.ready", "task.released", "task.retry_scheduled", "task.lease_expired"]);
/** Agent events after which the agent may claim more than before. */
const AGENT_REFRESH = new Set(["agent.resumed", "agent.updated"]);

const TaskAvailableEventRef = builder.objectRef<EventRecord>("TaskAvailableEvent").implement({
  description:
    "A task the agent can claim now: a new or newly ready task, one given back or re-queued, one whose retry delay ended, or (first, and after the agent is resumed or updated) one already waiting. Another agent may claim it first: claim, and expect a null claim sometimes.",
  interfaces: [EventInterface],
  fields: (t) => ({
    taskId: t.id({ description: "Global id of the task.", resolve: (e) => encodeGlobalID("Task", e.entityId) }),
    task: t.prismaField({
      type: "Task",
      nullable: true,
      description: "The task as it is now; null if it no longer exists.",
      resolve: (query, e, _args, ctx) => ctx.db.task.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
  }),
});

builder.subscriptionField("tasksAvailable", (t) =>
  t.field({
    type: TaskAvailableEventRef,
    description:
      "Claimable tasks that match the agent (capabilities, status) and the filter, as they appear — first those already waiting. The agent loop needs no polling: claim when one arrives (claimNextTask or claimTask).",
    args: {
      agentId: t.arg.globalID({ required: true, description: "The agent that will claim (its capabilities are matched)." }),
      types: t.arg.stringList({ required: false, description: "Only tasks of these types." }),
      swarmId: t.arg.globalID({ required: false, description: "Only tasks of this swarm." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("tasks:claim", (ctx, args: { agentId: { typename: string; id: string }; types?: string[] | null; swarmId?: { typename: string; id: string } | null }) => {
      const workspaceId = ctx.viewer!.workspaceId;
      const agentId = rawId(args.agentId, "Agent");
      const filter = { types: args.types ?? null, swarmId: args.swarmId ? rawId(args.swarmId, "Swarm") : null };
      const available = (id: bigint, taskId: string, type: string): EventRecord => ({
        id, workspaceId, topic: "task", type, entityId: taskId, payload: {}, actor: null, createdAt: new Date(),
      });
      /** Claimable tasks, emitted now or when their retry delay ends. */
      const offer = (found: { id: string; availableAt: Date }[], cursor: bigint, type: string, later: (at: Date, item: EventRecord) => void) =>
        found.flatMap((task) => {
          if (task.availableAt.getTime() <= Date.now()) return [available(cursor, task.id, type)];
          later(task.availableAt, available(cursor, task.id, "task.retry_delay_ended"));
          return [];
        });
      // The snapshot reads the tasks as they are, which may include changes whose events this
      // replica has not delivered yet (positions after the stream's start). An event up to the
      // log head taken just before the snapshot is already in it: offering its task again would
      // offer it twice.
      let snapshotHead = 0n;
      return {
        topics: ["task", "agent", "swarm"],
        initial: async (position) => {
          snapshotHead = await ctx.events.tailer.settle();
          return offer(await tasks.claimableTasks(ctx.db, workspaceId, agentId, filter), position, "task.available", () => undefined);
        },
        select: async (batch, later) => {
          const events = batch.filter((e) => e.id > snapshotHead);
          const candidates = events.filter((e) => e.topic === "task" && MAYBE_AVAILABLE.has(e.type));
          // The agent may claim again, or a swarm's tasks became claimable again.
          const refresh = events.findLast((e) => (e.topic === "agent" && e.entityId === agentId && AGENT_REFRESH.has(e.type)) || e.type === "swarm.resumed");
          const found = candidates.length > 0 ? await tasks.claimableTasks(ctx.db, workspaceId, agentId, { ...filter, taskIds: candidates.map((e) => e.entityId) }) : [];
          const byTask = new Map(found.map((f) => [f.id, f]));
          const out: (EventRecord | null)[] = batch.map((e) => {
            if (e.id <= snapshotHead) return null;
            const task = e.topic === "task" && MAYBE_AVAILABLE.has(e.type) ? byTask.get(e.entityId) : undefined;
            if (!task) return null;
            byTask.delete(e.entityId); // once per batch
            return offer([task], e.id, e.type, later)[0] ?? null;
          });
          if (refresh) out.push(...offer(await tasks.claimableTasks(ctx.db, workspaceId, agentId, filter), refresh.id, "task.available", later));
          return out;
        },
      };
    }),
  }),
);

/** A pushed piece of an agent's work: the event that caused it, and what it means for the agent. */
type AgentWorkItem = EventRecord & { work: { kind: tasks.AgentWorkKind; agentId: string } };

const AgentWorkKindEnum = builder.enumType("AgentWorkKind", {
  description: "What a piece of work pushed on agentWork means for the agent.",
  values: {
    ASSIGNED: { description: "Claimed on the agent's behalf (assignTask): it holds the task now; work on it with the pushed `leaseToken` — start, report progress, complete or fail — without claiming." },
    HELD: { description: "A task the agent already held when the subscription started (without `after`, e.g. after a restart): carry on with the pushed `leaseToken`." },
    RESERVED: {
      description:
        "A PENDING task only this agent may claim (runAgent, or blackboard work routed to it), new or back in the queue: claim it with claimTask (nobody else can) to get its lease. It is not claimed for the agent, so no lease runs out while the agent is paused or away.",
    },
  } as const,
});

const AgentWorkEventRef = builder.objectRef<AgentWorkItem>("AgentWorkEvent").implement({
  description:
    "Work for one agent, pushed on agentWork: a task assigned to it (with the lease to work on it), one it already holds, or one reserved for it to claim. The lease token comes from the task as it is at delivery, and only while the agent still holds that task; it is never written to the event log, audit trail or webhooks.",
  interfaces: [EventInterface],
  fields: (t) => ({
    kind: t.field({ type: AgentWorkKindEnum, description: "What the agent should do with it.", resolve: (e) => e.work.kind }),
    taskId: t.id({ description: "Global id of the task.", resolve: (e) => encodeGlobalID("Task", e.entityId) }),
    task: t.prismaField({
      type: "Task",
      nullable: true,
      description: "The task as it is now (description, context, requirements…); null if it no longer exists.",
      resolve: (query, e, _args, ctx) => ctx.db.task.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
    leaseToken: t.string({
      nullable: true,
      description:
        "ASSIGNED and HELD: the secret to present with every call about the task (startTask, reportProgress, completeTask, failTask, releaseTask) — null once the agent no longer holds the task (completed, released, expired, cancelled). Always null for RESERVED (claim first). Keep it secret: do not log it.",
      resolve: async (e, _args, ctx) => (e.work.kind === "RESERVED" ? null : ((await tasks.heldLease(ctx.db, e.workspaceId, e.work.agentId, e.entityId))?.leaseToken ?? null)),
    }),
    leaseExpiresAt: t.field({
      type: "DateTime",
      nullable: true,
      description: "When the lease runs out unless extended by startTask or reportProgress; null when there is no lease (RESERVED, or no longer held).",
      resolve: async (e, _args, ctx) => (e.work.kind === "RESERVED" ? null : ((await tasks.heldLease(ctx.db, e.workspaceId, e.work.agentId, e.entityId))?.leaseExpiresAt ?? null)),
    }),
    assignedBy: t.string({
      nullable: true,
      description: "ASSIGNED: the subject of the token that assigned the task; null otherwise.",
      resolve: (e) => (e.work.kind === "ASSIGNED" ? payloadString(e, "assignedBy") : null),
    }),
  }),
});

/** Task events after which a task reserved for the agent may wait for it again. */
const RESERVED_AGAIN = new Set(["task.released", "task.retry_scheduled", "task.lease_expired", "task.ready"]);

builder.subscriptionField("agentWork", (t) =>
  t.field({
    type: AgentWorkEventRef,
    description:
      "The agent's own work, pushed as it is given (seed 001's assignment, without polling): tasks assigned to it (assignTask) with their lease token and expiry, and tasks reserved for it alone (runAgent, blackboard routing) to claim. Without `after` it starts with the work the agent already holds (HELD) and the reserved tasks waiting for it (RESERVED); with `after` it replays what happened after that cursor instead. A task may arrive more than once (e.g. RESERVED again after a release): act on each task id once. " +
      "Who may subscribe: a token of the agent's workspace with tasks:write (an operator), or with tasks:claim that registered the agent (the agent itself) — anyone else gets FORBIDDEN, another workspace's agent NOT_FOUND — because the events carry lease tokens. Work the agent claims itself is not pushed (the claim answered it), except in the starting snapshot.",
    args: {
      agentId: t.arg.globalID({ required: true, description: "The agent whose work to receive." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<AgentWorkItem>("tasks:read", async (ctx, args: { agentId: { typename: string; id: string }; after?: string | null }) => {
      const viewer = ctx.viewer!;
      const workspaceId = viewer.workspaceId;
      const agentId = args.agentId.typename === "Agent" ? args.agentId.id : "";
      const entitlement = await tasks.leaseEntitlement(ctx.db, {
        workspaceId,
        subject: viewer.subject,
        mayWriteTasks: grants(viewer.scopes, "tasks:write"),
        mayClaim: grants(viewer.scopes, "tasks:claim"),
      }, agentId);
      if (entitlement === "NOT_FOUND") throw new GraphQLError(`no agent ${encodeGlobalID("Agent", agentId)} in your workspace`, { extensions: { code: "NOT_FOUND", entityType: "Agent" } });
      if (entitlement === "FORBIDDEN") {
        throw new GraphQLError("agentWork carries lease tokens: subscribe with the token that registered the agent (and tasks:claim), or with tasks:write", { extensions: { code: "FORBIDDEN", requiredScopes: ["tasks:write"] } });
      }
      const item = (event: EventRecord, kind: tasks.AgentWorkKind): AgentWorkItem => ({ ...event, work: { kind, agentId } });
      const synthetic = (id: bigint, taskId: string, kind: tasks.AgentWorkKind): AgentWorkItem =>
        item({ id, workspaceId, topic: "task", type: kind === "HELD" ? "task.held" : "task.reserved", entityId: taskId, payload: {}, actor: null, createdAt: new Date() }, kind);
      const snapshot = async (position: bigint, only?: tasks.AgentWorkKind) =>
        (await tasks.agentWorkSnapshot(ctx.db, workspaceId, agentId)).filter((w) => !only || w.kind === only).map((w) => synthetic(position, w.id, w.kind));
      return {
        topics: ["task", "agent"],
        // With `after`, the replay tells what happened; a snapshot too would repeat it.
        initial: args.after == null ? (position: bigint) => snapshot(position) : undefined,
        select: async (events) => {
          const assigned = (e: EventRecord) => e.type === "task.claimed" && payloadString(e, "agentId") === agentId && payloadString(e, "assignedBy") !== null;
          const reservedNew = (e: EventRecord) => e.type === "task.created" && payloadString(e, "reservedForId") === agentId;
          const candidates = events.filter((e) => e.topic === "task" && (assigned(e) || reservedNew(e) || RESERVED_AGAIN.has(e.type)));
          const standing = candidates.length > 0 ? await tasks.agentWorkStanding(ctx.db, workspaceId, agentId, [...new Set(candidates.map((e) => e.entityId))]) : new Map();
          const pushed = new Set<string>();
          const out: (AgentWorkItem | null)[] = events.map((e) => {
            if (e.topic !== "task") return null;
            const now = standing.get(e.entityId);
            // Only work that still stands: an assignment the agent still holds under that claim, a reservation still waiting.
            if (assigned(e)) return now?.held && now.fence === e.payload.fence ? item(e, "ASSIGNED") : null;
            if ((reservedNew(e) || RESERVED_AGAIN.has(e.type)) && now?.reserved && !pushed.has(e.entityId)) {
              pushed.add(e.entityId); // once per batch
              return item(e, "RESERVED");
            }
            return null;
          });
          // A resumed agent can claim again: offer what waits for it.
          const resumed = events.findLast((e) => e.topic === "agent" && e.entityId === agentId && e.type === "agent.resumed");
          if (resumed) out.push(...(await snapshot(resumed.id, "RESERVED")));
          return out;
        },
      };
    }),
  }),
);
