/** Read access to agents. */
import { actorOf } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { agentHealthWhere, healthCounts, type HealthStatus, healthThresholds } from "./service.ts";
import { AgentHealthCount, AgentHealthStatusEnum, AgentRef, AgentStatusCount, AgentStatusEnum, healthCountList, OrderDirectionEnum } from "./types.ts";
import type { Context } from "../../context.ts";

const AgentOrderField = builder.enumType("AgentOrderField", {
  description: "Fields agents can be sorted by.",
  values: {
    CREATED_AT: { description: "Registration time." },
    NAME: { description: "Name, alphabetically." },
    TYPE: { description: "Type, alphabetically." },
  } as const,
});

const AgentOrder = builder.inputType("AgentOrder", {
  description: "How to sort agents. Ties are broken by id, so pages are stable.",
  fields: (t) => ({
    field: t.field({ type: AgentOrderField, required: true, description: "The field to sort by." }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: "DESC", description: "Sort direction (default DESC)." }),
  }),
});

const AgentFilter = builder.inputType("AgentFilter", {
  description: "Narrows a list of agents. All given conditions must hold.",
  fields: (t) => ({
    status: t.field({ type: [AgentStatusEnum], required: false, description: "Any of these statuses." }),
    type: t.stringList({ required: false, description: "Any of these types." }),
    capabilities: t.stringList({ required: false, description: "Agents having every one of these capabilities." }),
    swarm: t.globalID({ required: false, description: "Agents that are members of this swarm." }),
    health: t.field({
      type: [AgentHealthStatusEnum],
      required: false,
      description: "Agents whose health (as `health.status` shows it, derived from the last heartbeat when the query runs) is any of these, e.g. [UNRESPONSIVE] for the agents to look after. An empty list matches nothing; a value that is not an AgentHealthStatus is refused before the query runs.",
    }),
  }),
});

const orderFields = { CREATED_AT: "createdAt", NAME: "name", TYPE: "type" } as const;

builder.queryFields((t) => ({
  agent: t.prismaField({
    type: AgentRef,
    nullable: true,
    description: "One agent by global id; null when it does not exist in your workspace.",
    authScopes: { scope: "agents:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the agent." }) },
    resolve: (query, _root, { id }, ctx) =>
      id.typename === "Agent" ? ctx.db.agent.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId } }) : null,
  }),
  agents: t.prismaConnection(
    {
      type: AgentRef,
      cursor: "id",
      description: "Agents of your workspace, newest first unless `orderBy` says otherwise.",
      authScopes: { scope: "agents:read" },
      maxSize: pageSizeLimit,
      args: {
        filter: t.arg({ type: AgentFilter, required: false, description: "Conditions the agents must meet." }),
        orderBy: t.arg({ type: AgentOrder, required: false, description: "Sort order (default: newest first)." }),
      },
      resolve: (query, _root, { filter, orderBy }, ctx) => {
        const direction = (orderBy?.direction ?? "DESC") === "ASC" ? "asc" : "desc";
        return ctx.db.agent.findMany({
          ...query,
          where: agentWhere(ctx, filter),
          orderBy: [{ [orderFields[orderBy?.field ?? "CREATED_AT"]]: direction }, { id: direction }],
        });
      },
      totalCount: (_root, { filter }, ctx) => ctx.db.agent.count({ where: agentWhere(ctx, filter) }),
    },
    connectionOptions("A page of agents."),
    { description: "An agent in a page." },
  ),
  agentStatusCounts: t.field({
    type: [AgentStatusCount],
    description: "How many agents of your workspace are in each status (every status listed, zeros included).",
    authScopes: { scope: "agents:read" },
    resolve: async (_root, _args, ctx) => {
      const groups = await ctx.db.agent.groupBy({ by: ["status"], where: { workspaceId: actorOf(ctx).workspaceId }, _count: { _all: true } });
      const counts = new Map(groups.map((g) => [g.status, g._count._all]));
      return (["IDLE", "BUSY", "PAUSED", "TERMINATED"] as const).map((status) => ({ status, count: counts.get(status) ?? 0 }));
    },
  }),
  agentHealthCounts: t.field({
    type: [AgentHealthCount],
    description:
      "How many agents of your workspace are in each health status now (every status listed, zeros included): UNRESPONSIVE counts the agents silent for HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS or longer, OFFLINE the terminated ones. `agents(filter: { health: [UNRESPONSIVE] })` lists them.",
    authScopes: { scope: "agents:read" },
    resolve: async (_root, _args, ctx) => healthCountList((await healthCounts(ctx.db, actorOf(ctx).workspaceId, null, new Date(), healthThresholds(ctx.config))).get("")!),
  }),
}));

function agentWhere(
  ctx: Context,
  filter:
    | { status?: ("IDLE" | "BUSY" | "PAUSED" | "TERMINATED")[] | null; type?: string[] | null; capabilities?: string[] | null; swarm?: { typename: string; id: string } | null; health?: HealthStatus[] | null }
    | null
    | undefined,
): Prisma.AgentWhereInput {
  return {
    workspaceId: actorOf(ctx).workspaceId,
    AND: filter?.health ? [agentHealthWhere(filter.health, new Date(), healthThresholds(ctx.config))] : [],
    status: filter?.status ? { in: filter.status } : undefined,
    type: filter?.type ? { in: filter.type } : undefined,
    capabilities: filter?.capabilities ? { hasEvery: filter.capabilities.map((c) => c.trim()) } : undefined,
    // A swarm id of the wrong type matches nothing, like an unknown id.
    memberships: filter?.swarm ? { some: { swarmId: filter.swarm.typename === "Swarm" ? filter.swarm.id : "" } } : undefined,
  };
}
