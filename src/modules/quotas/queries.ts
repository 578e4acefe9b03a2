/** Read access to quotas, usage and allocations. */
import { openSubscriptionCount } from "./openSubscriptions.ts";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { actorOf } from "../../context.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import { builder, connectionOptions, pageSizeLimit } from "../../schema/builder.ts";
import { quotaUsage } from "./service.ts";
import { AllocationRef, HolderTypeEnum, QuotaRef, QuotaUsageRef } from "./types.ts";

const AllocationFilter = builder.inputType("AllocationFilter", {
  description: "Narrows a list of allocations. All given conditions must hold.",
  fields: (t) => ({
    resource: t.stringList({ required: false, description: "Any of these resources." }),
    holderType: t.field({ type: HolderTypeEnum, required: false, description: "Held by this kind of holder." }),
    holderId: t.string({ required: false, description: "Held by this holder (a global id, or your own id for EXTERNAL)." }),
    open: t.boolean({ required: false, description: "true: only allocations still held; false: only released ones." }),
  }),
});

builder.queryFields((t) => ({
  quotas: t.prismaField({
    type: [QuotaRef],
    description: "Quotas of your workspace that were set or used (see quotaUsage for every resource with a default).",
    authScopes: { scope: "quotas:read" },
    resolve: (query, _root, _args, ctx) => ctx.db.quota.findMany({ ...query, where: { workspaceId: actorOf(ctx).workspaceId }, orderBy: { resource: "asc" } }),
  }),
  quotaUsage: t.field({
    type: [QuotaUsageRef],
    description: "Limit, allocated and available per resource: the given ones, or every resource with a quota or a default. `subscriptions` counts the open subscriptions of the workspace on every replica.",
    authScopes: { scope: "quotas:read" },
    args: { resources: t.arg.stringList({ required: false, description: "Only these resources." }) },
    resolve: async (_root, { resources }, ctx) => {
      const { workspaceId } = actorOf(ctx);
      return quotaUsage(ctx.db, workspaceId, resources, { subscriptions: await openSubscriptionCount(ctx.db, workspaceId) });
    },
  }),
  allocations: t.prismaConnection(
    {
      type: AllocationRef,
      cursor: "id",
      description: "Allocations of your workspace, newest first.",
      authScopes: { scope: "quotas:read" },
      maxSize: pageSizeLimit,
      args: { filter: t.arg({ type: AllocationFilter, required: false, description: "Conditions the allocations must meet." }) },
      resolve: (query, _root, { filter }, ctx) => ctx.db.allocation.findMany({ ...query, where: allocationWhere(actorOf(ctx).workspaceId, filter), orderBy: [{ createdAt: "desc" }, { id: "desc" }] }),
      totalCount: (_root, { filter }, ctx) => ctx.db.allocation.count({ where: allocationWhere(actorOf(ctx).workspaceId, filter) }),
    },
    connectionOptions("A page of allocations."),
    { description: "An allocation in a page." },
  ),
}));

function allocationWhere(
  workspaceId: string,
  filter: { resource?: string[] | null; holderType?: "TASK" | "SWARM" | "AGENT" | "EXTERNAL" | null; holderId?: string | null; open?: boolean | null } | null | undefined,
): Prisma.AllocationWhereInput {
  return {
    workspaceId,
    resource: filter?.resource ? { in: filter.resource } : undefined,
    holderType: filter?.holderType ?? undefined,
    holderId: filter?.holderId ? rawHolderId(filter.holderId) : undefined,
    releasedAt: filter?.open == null ? undefined : filter.open ? null : { not: null },
  };
}

/** Global ids of tasks, swarms and agents are stored raw; anything else is an external id. */
function rawHolderId(id: string): string {
  try {
    const decoded = decodeGlobalID(id);
    return ["Task", "Swarm", "Agent"].includes(decoded.typename) ? decoded.id : id;
  } catch {
    return id;
  }
}
