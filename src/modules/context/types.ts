/** GraphQL types of shared context: items and their chain of custody. */
import type { Context } from "../../context.ts";
import type { ContextCustody, ContextItem, Swarm } from "../../generated/prisma/client.ts";
import { builder } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { AgentRef } from "../agents/types.ts";
import { agentLoader, readerFor, swarmLoader } from "../memory/types.ts";
import { SwarmRef } from "../swarms/types.ts";
import * as context from "./service.ts";

export const ContextScopeEnum = builder.enumType("ContextScope", {
  description: "How far a context item reaches. It only ever widens (shareContext).",
  values: {
    WORKSPACE: { description: "Every token of the workspace with memory:read." },
    SWARMS: { description: "Principals whose agents are members of one of the item's swarms (and its publisher)." },
  } as const,
});

export const ContextActionEnum = builder.enumType("ContextAction", {
  description: "What a link of the chain of custody records.",
  values: {
    PUBLISHED: { description: "The item was created." },
    UPDATED: { description: "Its data was replaced (publishContext on an existing name)." },
    READ: { description: "Its data was returned to someone (any query, list or event that selected `data`)." },
    SHARED: { description: "Its scope was widened: to more swarms (listed), or to the whole workspace." },
  } as const,
});

/** The swarms of these ids that still exist in the viewer's workspace (batched across the operation). */
async function swarmsOf(ctx: Context, ids: readonly string[]): Promise<Swarm[]> {
  return (await Promise.all(ids.map((id) => swarmLoader(ctx).load(id)))).filter((s): s is Swarm => s !== null);
}

/** Every item whose data an operation returns is recorded as READ, in one statement per operation. */
const readRecorder = defineLoader<ContextItem, true>("context.reads", async (ctx, items) => {
  await context.recordReads(ctx.db, await readerFor(ctx), items);
  return items.map(() => true as const);
});

export const ContextCustodyRef = builder.objectRef<ContextCustody>("ContextCustodyEntry").implement({
  description: "One link of a context item's chain of custody: who did what, when.",
  fields: (t) => ({
    action: t.field({ type: ContextActionEnum, description: "What happened.", resolve: (c) => c.action }),
    actor: t.exposeString("actor", { description: "Subject of the token that did it." }),
    agent: t.field({ type: AgentRef, nullable: true, description: "The agent it was done as, if named.", resolve: (c, _a, ctx) => (c.agentId ? agentLoader(ctx).load(c.agentId) : null) }),
    swarms: t.field({
      type: [SwarmRef],
      description: "SHARED: the swarms the item was shared with (empty when widened to the workspace, and for other actions).",
      resolve: (c, _a, ctx) => swarmsOf(ctx, c.swarmIds),
    }),
    at: t.field({ type: "DateTime", description: "When.", resolve: (c) => c.at }),
  }),
});

export const ContextItemRef = builder.objectRef<ContextItem>("ContextItem");

builder.node(ContextItemRef, {
  description: "Named shared context: JSON data that reaches one swarm, several swarms or the whole workspace, with a TTL and a chain of custody (seed 000's cross-swarm context).",
  authScopes: { scope: "memory:read" },
  id: { resolve: (item) => item.id, description: "Global id of the item." },
  isTypeOf: (v) => typeof v === "object" && v !== null && "swarmIds" in v && "scope" in v && "name" in v,
  loadMany: async (ids, ctx) => context.contextByIds(ctx.db, await readerFor(ctx), ids),
  fields: (t) => ({
    name: t.exposeString("name", { description: "The item's name, unique in the workspace, e.g. finding-001." }),
    scope: t.field({ type: ContextScopeEnum, description: "How far it reaches.", resolve: (item) => item.scope }),
    swarms: t.field({
      type: [SwarmRef],
      description: "SWARMS scope: the swarms it reaches; empty for WORKSPACE.",
      resolve: (item, _a, ctx) => swarmsOf(ctx, item.swarmIds),
    }),
    data: t.field({
      type: "JSONObject",
      description: "The data. Selecting it records a READ link in the chain of custody.",
      resolve: async (item, _a, ctx) => {
        await readRecorder(ctx).load(item);
        return item.data as Record<string, unknown>;
      },
    }),
    bytes: t.exposeInt("bytes", { description: "Size of the data as JSON text, in UTF-8 bytes." }),
    createdBy: t.exposeString("createdBy", { description: "Subject of the token that published it." }),
    agent: t.field({ type: AgentRef, nullable: true, description: "The agent it was published as, if named.", resolve: (item, _a, ctx) => (item.agentId ? agentLoader(ctx).load(item.agentId) : null) }),
    expiresAt: t.field({ type: "DateTime", nullable: true, description: "When it expires: from then on no read returns it. Null: never.", resolve: (item) => item.expiresAt }),
    createdAt: t.field({ type: "DateTime", description: "When it was published.", resolve: (item) => item.createdAt }),
    updatedAt: t.field({ type: "DateTime", description: "When its data or scope last changed.", resolve: (item) => item.updatedAt }),
    custody: t.field({
      type: [ContextCustodyRef],
      description: "The chain of custody, oldest first: the last `last` links (published, updated, read, shared).",
      args: { last: t.arg.int({ required: false, defaultValue: 50, description: "How many of the latest links (at most MAX_PAGE_SIZE)." }) },
      resolve: (item, { last }, ctx) => context.custodyOf(ctx.db, item.id, Math.max(0, Math.min(last ?? 50, ctx.config.maxPageSize))),
    }),
  }),
});
