/** Read access to swarms. */
import { actorOf } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { OrderDirectionEnum } from "../agents/types.ts";
import { SwarmRef, SwarmStatusEnum, SwarmTopologyEnum } from "./types.ts";

const SwarmFilter = builder.inputType("SwarmFilter", {
  description: "Narrows a list of swarms. All given conditions must hold.",
  fields: (t) => ({
    status: t.field({ type: [SwarmStatusEnum], required: false, description: "Any of these statuses." }),
    topology: t.field({ type: [SwarmTopologyEnum], required: false, description: "Any of these topologies." }),
    nameContains: t.string({ required: false, description: "Name contains this text (case-insensitive)." }),
  }),
});

const SwarmOrderField = builder.enumType("SwarmOrderField", {
  description: "Fields swarms can be sorted by.",
  values: { CREATED_AT: { description: "Creation time." }, NAME: { description: "Name, alphabetically." } } as const,
});

const SwarmOrder = builder.inputType("SwarmOrder", {
  description: "How to sort swarms. Ties are broken by id, so pages are stable.",
  fields: (t) => ({
    field: t.field({ type: SwarmOrderField, required: true, description: "The field to sort by." }),
    direction: t.field({ type: OrderDirectionEnum, required: true, defaultValue: "DESC", description: "Sort direction (default DESC)." }),
  }),
});

type SwarmFilterShape = { status?: ("ACTIVE" | "PAUSED" | "ARCHIVED")[] | null; topology?: ("HIERARCHICAL" | "MESH" | "STAR" | "RING")[] | null; nameContains?: string | null };

function swarmWhere(workspaceId: string, filter: SwarmFilterShape | null | undefined): Prisma.SwarmWhereInput {
  return {
    workspaceId,
    status: filter?.status ? { in: filter.status } : undefined,
    topology: filter?.topology ? { in: filter.topology } : undefined,
    name: filter?.nameContains ? { contains: filter.nameContains, mode: "insensitive" } : undefined,
  };
}

builder.queryFields((t) => ({
  swarm: t.prismaField({
    type: SwarmRef,
    nullable: true,
    description: "One swarm by global id; null when it does not exist in your workspace.",
    authScopes: { scope: "swarms:read" },
    args: { id: t.arg.globalID({ required: true, description: "Global id of the swarm." }) },
    resolve: (query, _root, { id }, ctx) =>
      id.typename === "Swarm" ? ctx.db.swarm.findFirst({ ...query, where: { id: id.id, workspaceId: actorOf(ctx).workspaceId } }) : null,
  }),
  swarms: t.prismaConnection(
    {
      type: SwarmRef,
      cursor: "id",
      description: "Swarms of your workspace, newest first unless `orderBy` says otherwise.",
      authScopes: { scope: "swarms:read" },
      maxSize: pageSizeLimit,
      args: {
        filter: t.arg({ type: SwarmFilter, required: false, description: "Conditions the swarms must meet." }),
        orderBy: t.arg({ type: SwarmOrder, required: false, description: "Sort order (default: newest first)." }),
      },
      resolve: (query, _root, { filter, orderBy }, ctx) => {
        const direction = (orderBy?.direction ?? "DESC") === "ASC" ? "asc" : "desc";
        const field = orderBy?.field === "NAME" ? "name" : "createdAt";
        return ctx.db.swarm.findMany({ ...query, where: swarmWhere(actorOf(ctx).workspaceId, filter), orderBy: [{ [field]: direction }, { id: direction }] });
      },
      totalCount: (_root, { filter }, ctx) => ctx.db.swarm.count({ where: swarmWhere(actorOf(ctx).workspaceId, filter) }),
    },
    connectionOptions("A page of swarms."),
    { description: "A swarm in a page." },
  ),
}));
