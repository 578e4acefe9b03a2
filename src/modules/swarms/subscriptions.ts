/** Live swarm events: progress (its tasks' events), members joining and leaving, control actions, broadcasts. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import type { SwarmRole } from "../../generated/prisma/client.ts";
import { sharedPerEvent } from "../../events/perEventContext.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { rawId } from "../../schema/globalIds.ts";
import { BroadcastPriorityEnum } from "./mutations.ts";
import { SwarmRoleEnum, SwarmStatusEnum, SwarmTopologyEnum } from "./types.ts";

type SwarmEvent = EventRecord & { swarmId: string };
type SwarmStatus = "ACTIVE" | "PAUSED" | "ARCHIVED";
type SwarmTopology = "HIERARCHICAL" | "MESH" | "STAR" | "RING";

interface ScaleChange {
  agentType: string;
  previous: number;
  desired: number;
  actual: number;
}

const SwarmScaleChangeRef = builder.objectRef<ScaleChange>("SwarmScaleChange").implement({
  description: "How a `swarm.scale_requested` changed the desired count of one agent type.",
  fields: (t) => ({
    agentType: t.exposeString("agentType", { ...sharedPerEvent, description: "The agent type." }),
    previousDesired: t.int({ ...sharedPerEvent, description: "The desired count before the request.", resolve: (c) => c.previous }),
    desired: t.exposeInt("desired", { ...sharedPerEvent, description: "The desired count after it." }),
    actual: t.exposeInt("actual", { ...sharedPerEvent, description: "Live members of this type when it was requested." }),
    difference: t.int({ ...sharedPerEvent, description: "desired − actual when it was requested: how many a supervisor should start (positive) or stop (negative).", resolve: (c) => c.desired - c.actual }),
  }),
});

interface MoveRecord {
  taskId: string;
  fromAgentId: string | null;
  toAgentId: string;
}

const SwarmTaskMoveRef = builder.objectRef<MoveRecord>("SwarmTaskMove").implement({
  description: "One task a `swarm.rebalanced` moved.",
  fields: (t) => ({
    taskId: t.id({ ...sharedPerEvent, description: "Global id of the task.", resolve: (m) => encodeGlobalID("Task", m.taskId) }),
    fromAgentId: t.id({ ...sharedPerEvent, nullable: true, description: "Global id of the agent that held it (its lease is void now); null for a PENDING task.", resolve: (m) => (m.fromAgentId ? encodeGlobalID("Agent", m.fromAgentId) : null) }),
    toAgentId: t.id({ ...sharedPerEvent, description: "Global id of the member that holds it now.", resolve: (m) => encodeGlobalID("Agent", m.toAgentId) }),
  }),
});

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

const SwarmEventRef = builder.objectRef<SwarmEvent>("SwarmEvent").implement({
  description:
    "Something happened in a swarm: created, updated, topology_changed, scale_requested, rebalanced, paused, resumed, archived, member_joined, member_left, broadcast — or, for its progress, an event of one of its tasks (task.*).",
  interfaces: [EventInterface],
  fields: (t) => ({
    swarmId: t.id({ ...sharedPerEvent, description: "Global id of the swarm.", resolve: (e) => encodeGlobalID("Swarm", e.swarmId) }),
    swarm: t.prismaField({
      type: "Swarm",
      nullable: true,
      description: "The swarm as it is now (with `taskSummary` for its progress).",
      resolve: (query, e, _args, ctx) => ctx.db.swarm.findFirst({ ...query, where: { id: e.swarmId, workspaceId: e.workspaceId } }),
    }),
    taskId: t.id({
      ...sharedPerEvent,
      nullable: true,
      description: "Global id of the task of a task.* event (also when it no longer exists); null for the swarm's own events.",
      resolve: (e) => (e.topic === "task" ? encodeGlobalID("Task", e.entityId) : null),
    }),
    task: t.prismaField({
      type: "Task",
      nullable: true,
      description: "The task of a task.* event, as it is now.",
      resolve: (query, e, _args, ctx) => (e.topic === "task" ? ctx.db.task.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }) : null),
    }),
    agent: t.prismaField({
      type: "Agent",
      nullable: true,
      description: "The agent that joined or left (member_joined, member_left).",
      resolve: (query, e, _args, ctx) => {
        const agentId = e.topic === "swarm" ? payloadString(e, "agentId") : null;
        return agentId ? ctx.db.agent.findFirst({ ...query, where: { id: agentId, workspaceId: e.workspaceId } }) : null;
      },
    }),
    role: t.field({ ...sharedPerEvent, type: SwarmRoleEnum, nullable: true, description: "The role the agent joined with (member_joined).", resolve: (e) => (e.topic === "swarm" ? (payloadString(e, "role") as SwarmRole | null) : null) }),
    fromStatus: t.field({ ...sharedPerEvent, type: SwarmStatusEnum, nullable: true, description: "Status before a control action.", resolve: (e) => (e.topic === "swarm" ? (payloadString(e, "from") as SwarmStatus | null) : null) }),
    toStatus: t.field({ ...sharedPerEvent, type: SwarmStatusEnum, nullable: true, description: "Status after a control action.", resolve: (e) => (e.topic === "swarm" ? (payloadString(e, "to") as SwarmStatus | null) : null) }),
    topology: t.field({
      ...sharedPerEvent,
      type: SwarmTopologyEnum,
      nullable: true,
      description: "The new topology (topology_changed).",
      resolve: (e) => (e.type === "swarm.topology_changed" ? (payloadString(e, "topology") as SwarmTopology | null) : null),
    }),
    previousTopology: t.field({
      ...sharedPerEvent,
      type: SwarmTopologyEnum,
      nullable: true,
      description: "The topology before the change (topology_changed).",
      resolve: (e) => (e.type === "swarm.topology_changed" ? (payloadString(e, "previousTopology") as SwarmTopology | null) : null),
    }),
    reason: t.string({
      ...sharedPerEvent,
      nullable: true,
      description: "Why, as the operator said (topology_changed, scale_requested, rebalanced); null when none was given.",
      resolve: (e) => (["swarm.topology_changed", "swarm.scale_requested", "swarm.rebalanced"].includes(e.type) ? payloadString(e, "reason") : null),
    }),
    scaleChanges: t.field({
      ...sharedPerEvent,
      type: [SwarmScaleChangeRef],
      nullable: true,
      description: "What a scale request changed, per agent type (scale_requested). `swarm.composition` shows the gap as it is now.",
      resolve: (e) => (e.type === "swarm.scale_requested" && Array.isArray(e.payload.changes) ? (e.payload.changes.filter(isRecord) as unknown as ScaleChange[]) : null),
    }),
    moves: t.field({
      ...sharedPerEvent,
      type: [SwarmTaskMoveRef],
      nullable: true,
      description: "The tasks a rebalance moved (rebalanced).",
      resolve: (e) => (e.type === "swarm.rebalanced" && Array.isArray(e.payload.moves) ? (e.payload.moves.filter(isRecord) as unknown as MoveRecord[]) : null),
    }),
    message: t.string({ ...sharedPerEvent, nullable: true, description: "The broadcast message (broadcast).", resolve: (e) => (e.type === "swarm.broadcast" ? payloadString(e, "message") : null) }),
    targetRoles: t.field({
      ...sharedPerEvent,
      type: [SwarmRoleEnum],
      nullable: true,
      description: "The roles a broadcast is for; null when it is for every member.",
      resolve: (e) => (e.type === "swarm.broadcast" && Array.isArray(e.payload.targetRoles) ? (e.payload.targetRoles as SwarmRole[]) : null),
    }),
    priority: t.field({
      ...sharedPerEvent,
      type: BroadcastPriorityEnum,
      nullable: true,
      description: "The urgency of a broadcast.",
      resolve: (e) => (e.type === "swarm.broadcast" ? (payloadString(e, "priority") as "LOW" | "NORMAL" | "HIGH" | "URGENT" | null) : null),
    }),
  }),
});

/**
 * The swarm event of an event: one object per event (an event belongs to one swarm), so that the
 * subscribers of a swarm share its execution (src/events/perEventContext.ts).
 */
const swarmEvents = new WeakMap<EventRecord, SwarmEvent>();
function swarmEventOf(event: EventRecord, swarmId: string): SwarmEvent {
  let swarmEvent = swarmEvents.get(event);
  if (swarmEvent?.swarmId !== swarmId) swarmEvents.set(event, (swarmEvent = { ...event, swarmId }));
  return swarmEvent;
}

builder.subscriptionField("swarmEvents", (t) =>
  t.field({
    type: SwarmEventRef,
    description: "Everything that happens in one swarm, its tasks' progress included: replaces polling swarm status and messages.",
    args: {
      swarmId: t.arg.globalID({ required: true, description: "The swarm." }),
      types: t.arg.stringList({ required: false, description: "Only these event types, e.g. [\"swarm.broadcast\", \"task.completed\"]." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<SwarmEvent>("swarms:read", (ctx, args: { swarmId: { typename: string; id: string }; types?: string[] | null }) => {
      const swarmId = rawId(args.swarmId, "Swarm");
      const workspaceId = ctx.viewer!.workspaceId;
      const types = args.types;
      return {
        topics: ["swarm", "task"],
        select: async (events: readonly EventRecord[]) => {
          const taskIds = events.filter((e) => e.topic === "task").map((e) => e.entityId);
          const facts = taskIds.length > 0 ? await ctx.taskFacts.get(workspaceId, taskIds) : undefined;
          return events.map((e) => {
            if (types && !types.includes(e.type)) return null;
            const ofSwarm = e.topic === "swarm" ? e.entityId === swarmId : facts?.get(e.entityId)?.swarmId === swarmId;
            return ofSwarm ? swarmEventOf(e, swarmId) : null;
          });
        },
      };
    }),
  }),
);
