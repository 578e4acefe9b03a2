/** Live agent events: status changes, missed heartbeats (unresponsive), metrics. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import { sharedPerEvent } from "../../events/perEventContext.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { rawId } from "../../schema/globalIds.ts";
import { AgentHealthStatusEnum, AgentStatusEnum } from "./types.ts";

type AgentStatus = "IDLE" | "BUSY" | "PAUSED" | "TERMINATED";

const AgentEventRef = builder.objectRef<EventRecord>("AgentEvent").implement({
  description: "Something happened to an agent: registered, updated, status (IDLE ⇄ BUSY as it takes its first task or finishes its last, with fromStatus and toStatus), paused, resumed, terminated, unresponsive (heartbeats missed), heartbeat_resumed, metrics.",
  interfaces: [EventInterface],
  fields: (t) => ({
    agentId: t.id({ ...sharedPerEvent, description: "Global id of the agent.", resolve: (e) => encodeGlobalID("Agent", e.entityId) }),
    agent: t.prismaField({
      type: "Agent",
      nullable: true,
      description: "The agent as it is now; null if it no longer exists.",
      resolve: (query, e, _args, ctx) => ctx.db.agent.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
    fromStatus: t.field({ ...sharedPerEvent, type: AgentStatusEnum, nullable: true, description: "Status before a status change.", resolve: (e) => payloadString(e, "from") as AgentStatus | null }),
    toStatus: t.field({ ...sharedPerEvent, type: AgentStatusEnum, nullable: true, description: "Status after a status change.", resolve: (e) => payloadString(e, "to") as AgentStatus | null }),
    health: t.field({
      ...sharedPerEvent,
      type: AgentHealthStatusEnum,
      nullable: true,
      description: "UNRESPONSIVE when heartbeats were missed (agent.unresponsive), HEALTHY when they resumed (agent.heartbeat_resumed).",
      resolve: (e) => (e.type === "agent.unresponsive" ? "UNRESPONSIVE" : e.type === "agent.heartbeat_resumed" ? "HEALTHY" : null),
    }),
    metrics: t.field({ ...sharedPerEvent, type: "JSON", nullable: true, description: "Resource metrics sent with a heartbeat (agent.metrics).", resolve: (e) => e.payload.metrics ?? null }),
  }),
});

const AgentEventFilter = builder.inputType("AgentEventFilter", {
  description: "Which agent events to receive; every given criterion must match.",
  fields: (t) => ({
    agentIds: t.globalIDList({ required: false, description: "Only events of these agents." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"agent.unresponsive\", \"agent.metrics\"]." }),
  }),
});

builder.subscriptionField("agentEvents", (t) =>
  t.field({
    type: AgentEventRef,
    description: "Agent events of your workspace: replaces polling agent status, health and metrics.",
    args: {
      filter: t.arg({ type: AgentEventFilter, required: false, description: "Which events; all when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("agents:read", (_ctx, args: { filter?: { agentIds?: { typename: string; id: string }[] | null; types?: string[] | null } | null }) => {
      const agentIds = args.filter?.agentIds?.map((id) => rawId(id, "Agent"));
      const types = args.filter?.types;
      return { topics: ["agent"], entityIds: agentIds, select: async (events: readonly EventRecord[]) => events.map((e) => (types && !types.includes(e.type) ? null : e)) };
    }),
  }),
);
