/** Live swarm events: progress (its tasks' events), members joining and leaving, control actions, broadcasts. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import type { SwarmRole } from "../../generated/prisma/client.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { rawId } from "../../schema/globalIds.ts";
import { BroadcastPriorityEnum } from "./mutations.ts";
import { SwarmRoleEnum, SwarmStatusEnum } from "./types.ts";

type SwarmEvent = EventRecord & { swarmId: string };
type SwarmStatus = "ACTIVE" | "PAUSED" | "ARCHIVED";

const SwarmEventRef = builder.objectRef<SwarmEvent>("SwarmEvent").implement({
  description:
    "Something happened in a swarm: created, updated, paused, resumed, archived, member_joined, member_left, broadcast — or, for its progress, an event of one of its tasks (task.*).",
  interfaces: [EventInterface],
  fields: (t) => ({
    swarmId: t.id({ description: "Global id of the swarm.", resolve: (e) => encodeGlobalID("Swarm", e.swarmId) }),
    swarm: t.prismaField({
      type: "Swarm",
      nullable: true,
      description: "The swarm as it is now (with `taskSummary` for its progress).",
      resolve: (query, e, _args, ctx) => ctx.db.swarm.findFirst({ ...query, where: { id: e.swarmId, workspaceId: e.workspaceId } }),
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
    role: t.field({ type: SwarmRoleEnum, nullable: true, description: "The role the agent joined with (member_joined).", resolve: (e) => (e.topic === "swarm" ? (payloadString(e, "role") as SwarmRole | null) : null) }),
    fromStatus: t.field({ type: SwarmStatusEnum, nullable: true, description: "Status before a control action.", resolve: (e) => (e.topic === "swarm" ? (payloadString(e, "from") as SwarmStatus | null) : null) }),
    toStatus: t.field({ type: SwarmStatusEnum, nullable: true, description: "Status after a control action.", resolve: (e) => (e.topic === "swarm" ? (payloadString(e, "to") as SwarmStatus | null) : null) }),
    message: t.string({ nullable: true, description: "The broadcast message (broadcast).", resolve: (e) => (e.type === "swarm.broadcast" ? payloadString(e, "message") : null) }),
    targetRoles: t.field({
      type: [SwarmRoleEnum],
      nullable: true,
      description: "The roles a broadcast is for; null when it is for every member.",
      resolve: (e) => (e.type === "swarm.broadcast" && Array.isArray(e.payload.targetRoles) ? (e.payload.targetRoles as SwarmRole[]) : null),
    }),
    priority: t.field({
      type: BroadcastPriorityEnum,
      nullable: true,
      description: "The urgency of a broadcast.",
      resolve: (e) => (e.type === "swarm.broadcast" ? (payloadString(e, "priority") as "LOW" | "NORMAL" | "HIGH" | "URGENT" | null) : null),
    }),
  }),
});

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
      // A task's swarm never changes: cached for the stream's life.
      const swarmOfTask = new Map<string, string | null>();
      return {
        topics: ["swarm", "task"],
        select: async (events: readonly EventRecord[]) => {
          const unknown = [...new Set(events.filter((e) => e.topic === "task" && !swarmOfTask.has(e.entityId)).map((e) => e.entityId))];
          if (unknown.length > 0) {
            const rows = await ctx.db.task.findMany({ where: { id: { in: unknown }, workspaceId }, select: { id: true, swarmId: true } });
            for (const id of unknown) swarmOfTask.set(id, null);
            for (const row of rows) swarmOfTask.set(row.id, row.swarmId);
          }
          return events.map((e) => {
            if (types && !types.includes(e.type)) return null;
            const ofSwarm = e.topic === "swarm" ? e.entityId === swarmId : swarmOfTask.get(e.entityId) === swarmId;
            return ofSwarm ? { ...e, swarmId } : null;
          });
        },
      };
    }),
  }),
);
