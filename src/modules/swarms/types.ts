/** GraphQL types of the swarms domain. */
import { actorOf } from "../../context.ts";
import { builder, inViewerWorkspace } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { AgentHealthCount, AgentRef, AgentStatusCount, healthCountList } from "../agents/types.ts";
import { type HealthCounts, healthCounts, healthThresholds } from "../agents/service.ts";
import { type CompositionEntry, compositionCounts, compositionOf, memberStatusCounts } from "./service.ts";

export const SwarmTopologyEnum = builder.enumType("SwarmTopology", {
  description: "How the agents of a swarm coordinate.",
  values: {
    HIERARCHICAL: { description: "Coordinators delegate to workers in a tree." },
    MESH: { description: "Every agent talks to every other." },
    STAR: { description: "One coordinator at the center, workers around it." },
    RING: { description: "Each agent hands work to the next." },
  } as const,
});

export const SwarmStatusEnum = builder.enumType("SwarmStatus", {
  description: "Where a swarm is in its lifecycle: ACTIVE ⇄ PAUSED, either → ARCHIVED (final).",
  values: {
    ACTIVE: { description: "Working." },
    PAUSED: { description: "Paused by an operator; members may still join and leave." },
    ARCHIVED: { description: "Finished for good; readable, but nothing about it can change." },
  } as const,
});

export const SwarmRoleEnum = builder.enumType("SwarmRole", {
  description: "The part an agent plays in a swarm.",
  values: {
    COORDINATOR: { description: "Plans and delegates work to the others." },
    WORKER: { description: "Does the work it is given." },
    SPECIALIST: { description: "Brought in for one kind of work." },
    REVIEWER: { description: "Checks the others' results." },
    OBSERVER: { description: "Watches without taking work." },
  } as const,
});

/** Members by agent status, for all swarms of one operation in one SQL statement. */
const memberStatusLoader = defineLoader<string, Map<string, number>>("swarm.memberStatusCounts", async (ctx, swarmIds) => {
  const counts = await memberStatusCounts(ctx.db, actorOf(ctx).workspaceId, swarmIds);
  return swarmIds.map((id) => counts.get(id) ?? new Map());
});

/** Members by health, for all swarms of one operation in one SQL statement. */
const memberHealthLoader = defineLoader<string, HealthCounts>("swarm.memberHealthCounts", async (ctx, swarmIds) => {
  const counts = await healthCounts(ctx.db, actorOf(ctx).workspaceId, swarmIds, new Date(), healthThresholds(ctx.config));
  return swarmIds.map((id) => counts.get(id)!);
});

const SwarmAgentSummary = builder.objectRef<{ swarmId: string; counts: Map<string, number> }>("SwarmAgentSummary").implement({
  description: "A swarm's members counted by agent status and by health.",
  fields: (t) => ({
    total: t.int({ description: "Number of members.", resolve: ({ counts }) => [...counts.values()].reduce((a, b) => a + b, 0) }),
    byStatus: t.field({
      type: [AgentStatusCount],
      description: "Members per agent status (every status listed, zeros included).",
      resolve: ({ counts }) => (["IDLE", "BUSY", "PAUSED", "TERMINATED"] as const).map((status) => ({ status, count: counts.get(status) ?? 0 })),
    }),
    byHealth: t.field({
      type: [AgentHealthCount],
      description: "Members per health status, as each member's `health.status` shows it now (every status listed, zeros included).",
      resolve: async ({ swarmId }, _args, ctx) => healthCountList(await memberHealthLoader(ctx).load(swarmId)),
    }),
    unresponsive: t.int({
      description: "Members not heard from for HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS or longer (health UNRESPONSIVE): the ones to look after.",
      resolve: async ({ swarmId }, _args, ctx) => (await memberHealthLoader(ctx).load(swarmId)).UNRESPONSIVE,
    }),
  }),
});

const SwarmHealthStatusEnum = builder.enumType("SwarmHealthStatus", {
  description: "A swarm's health, rolled up from its members' health (see SwarmHealth).",
  values: {
    HEALTHY: { description: "Every member is HEALTHY." },
    DEGRADED: { description: "At least one member is HEALTHY and at least one is DEGRADED or UNRESPONSIVE." },
    CRITICAL: { description: "It has members, and none of them is HEALTHY." },
    NO_AGENTS: { description: "It has no members: nothing can work on its tasks." },
  } as const,
});

type SwarmHealthStatus = "HEALTHY" | "DEGRADED" | "CRITICAL" | "NO_AGENTS";

/** The roll-up rule: from the members' health counts to the swarm's health (see the enum). */
function rollUpHealth(counts: HealthCounts): { status: SwarmHealthStatus; reason: string } {
  const members = counts.HEALTHY + counts.DEGRADED + counts.UNRESPONSIVE + counts.OFFLINE;
  if (members === 0) return { status: "NO_AGENTS", reason: "no members" };
  const unwell = members - counts.HEALTHY;
  const detail = `${counts.HEALTHY} of ${members} members healthy, ${counts.DEGRADED} degraded, ${counts.UNRESPONSIVE} unresponsive`;
  if (unwell === 0) return { status: "HEALTHY", reason: detail };
  return { status: counts.HEALTHY > 0 ? "DEGRADED" : "CRITICAL", reason: detail };
}

const SwarmHealthRef = builder.objectRef<{ status: SwarmHealthStatus; reason: string }>("SwarmHealth").implement({
  description:
    "A swarm's health roll-up (seed 001's swarm health): derived when read from the health of its members (each from its last heartbeat, see AgentHealthStatus), PAUSED members included — a paused agent that keeps heartbeating is HEALTHY.",
  fields: (t) => ({
    status: t.field({ type: SwarmHealthStatusEnum, description: "The rolled-up status.", resolve: (h) => h.status }),
    reason: t.exposeString("reason", { description: "Why, for people: e.g. \"2 of 3 members healthy, 0 degraded, 1 unresponsive\"." }),
  }),
});

/** Live members by agent type, for all swarms of one operation in one SQL statement. */
const compositionLoader = defineLoader<string, Map<string, number>>("swarm.compositionCounts", async (ctx, swarmIds) => {
  const counts = await compositionCounts(ctx.db, actorOf(ctx).workspaceId, swarmIds);
  return swarmIds.map((id) => counts.get(id) ?? new Map());
});

const SwarmAgentTypeCount = builder.objectRef<CompositionEntry>("SwarmAgentTypeCount").implement({
  description: "Desired and actual members of one agent type in a swarm: the gap a supervisor closes.",
  fields: (t) => ({
    agentType: t.exposeString("agentType", { description: "The agent type (`Agent.type`)." }),
    desired: t.exposeInt("desired", { description: "How many the swarm wants (0 for a type present but not desired)." }),
    actual: t.exposeInt("actual", { description: "Live members of this type: member agents that are not TERMINATED (IDLE, BUSY or PAUSED)." }),
    difference: t.exposeInt("difference", { description: "desired − actual: how many to start (positive) or to stop (negative); 0 when the type is as desired." }),
  }),
});

export const SwarmMemberRef = builder.prismaNode("SwarmMember", {
  description: "An agent's membership in a swarm, with its role.",
  id: { field: "id", description: "Global id of the membership." },
  authScopes: { scope: "swarms:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    role: t.expose("role", { type: SwarmRoleEnum, description: "The agent's role in the swarm." }),
    joinedAt: t.expose("joinedAt", { type: "DateTime", description: "When the agent joined." }),
    agent: t.relation("agent", { description: "The member agent." }),
    swarm: t.relation("swarm", { description: "The swarm." }),
  }),
});

export const SwarmRef = builder.prismaNode("Swarm", {
  description: "A group of agents working toward one objective under a topology.",
  id: { field: "id", description: "Global id of the swarm." },
  authScopes: { scope: "swarms:read" },
  nullable: true,
  findUnique: inViewerWorkspace,
  fields: (t) => ({
    name: t.exposeString("name", { description: "Human-readable name." }),
    objective: t.exposeString("objective", { description: "What the swarm is for." }),
    topology: t.expose("topology", { type: SwarmTopologyEnum, description: "How its agents coordinate." }),
    status: t.expose("status", { type: SwarmStatusEnum, description: "Lifecycle status." }),
    maxAgents: t.exposeInt("maxAgents", { nullable: true, description: "Most members the swarm accepts; null for no limit." }),
    config: t.expose("config", { type: "JSON", description: "Swarm configuration (auto_scale, fault_tolerance, …) as given." }),
    members: t.relation("members", {
      description: "Current members with their roles, in joining order.",
      query: { orderBy: [{ joinedAt: "asc" }, { id: "asc" }] },
    }),
    agentSummary: t.field({
      type: SwarmAgentSummary,
      description: "Members counted by agent status and by health (batched across swarms: no N+1).",
      resolve: async (swarm, _args, ctx) => ({ swarmId: swarm.id, counts: await memberStatusLoader(ctx).load(swarm.id) }),
    }),
    health: t.field({
      type: SwarmHealthRef,
      description: "The swarm's health rolled up from its members' heartbeats (batched across swarms); `agentSummary.byHealth` has the counts.",
      authScopes: { scope: "agents:read" },
      resolve: async (swarm, _args, ctx) => rollUpHealth(await memberHealthLoader(ctx).load(swarm.id)),
    }),
    composition: t.field({
      type: [SwarmAgentTypeCount],
      description:
        "The desired composition (set by `initialAgents` and `scaleSwarm`) against the actual members, per agent type (every type desired or present), sorted by type. swarmgraph starts no processes: a supervisor closes the gap (batched across swarms: no N+1).",
      resolve: async (swarm, _args, ctx) => compositionOf(swarm.desiredAgents, await compositionLoader(ctx).load(swarm.id)),
    }),
    compositionSatisfied: t.boolean({
      description: "True when every agent type has as many live members as desired (every `composition` difference is 0).",
      resolve: async (swarm, _args, ctx) => compositionOf(swarm.desiredAgents, await compositionLoader(ctx).load(swarm.id)).every((e) => e.difference === 0),
    }),
    archivedAt: t.expose("archivedAt", { type: "DateTime", nullable: true, description: "When the swarm was archived; null while it is not." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the swarm was created." }),
    updatedAt: t.expose("updatedAt", { type: "DateTime", description: "When the swarm last changed." }),
  }),
});

builder.prismaObjectField(AgentRef, "swarms", (t) =>
  t.relation("memberships", {
    description: "The swarms this agent is a member of, with its role in each.",
    query: { orderBy: [{ joinedAt: "asc" }, { id: "asc" }] },
  }),
);
