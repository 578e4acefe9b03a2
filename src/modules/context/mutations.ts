/** Changes to shared context. Each mutation maps its input to one service call. */
import { AccessDeniedError, NotFoundError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import { readerFor } from "../memory/types.ts";
import { SwarmRef } from "../swarms/types.ts";
import * as context from "./service.ts";
import { ContextItemRef } from "./types.ts";

const PublishContextInput = builder.inputType("PublishContextInput", {
  description: "Context to publish under a name: a new item, or new data for an existing one.",
  fields: (t) => ({
    name: t.string({ required: true, description: "The item's name (1–100 characters: letters, digits, _ . : / -), unique in the workspace, e.g. finding-001." }),
    data: t.field({ type: "JSONObject", required: true, description: "The data, at most MEMORY_MAX_VALUE_BYTES as JSON text." }),
    swarmIds: t.globalIDList({
      required: false,
      description: `New items: the swarms it reaches (at most ${context.MAX_SWARMS}); omitted or empty: the whole workspace. Not allowed for an existing item: widen it with shareContext.`,
    }),
    ttlSeconds: t.int({ required: false, description: "Expire this many seconds from now (at most ten years); 0 removes the expiry; omitted keeps the item's current expiry (none for a new item)." }),
    agentId: t.globalID({ required: false, description: "Publish as this agent (one your token registered; an admin may name any); recorded in the custody chain." }),
  }),
});

const PublishContextPayload = builder.objectRef<context.PublishedContext>("PublishContextPayload").implement({
  description: "The item as published.",
  fields: (t) => ({
    item: t.field({ type: ContextItemRef, description: "The item.", resolve: (p) => p.item }),
    created: t.exposeBoolean("created", { description: "Whether this call created it (PUBLISHED) rather than replacing its data (UPDATED)." }),
  }),
});

const ShareContextInput = builder.inputType("ShareContextInput", {
  description: "How to widen a context item's scope: to more swarms, or to the whole workspace.",
  fields: (t) => ({
    id: t.globalID({ required: true, description: "Global id of the item." }),
    swarmIds: t.globalIDList({ required: false, description: "Swarms it should reach too." }),
    toWorkspace: t.boolean({ required: false, defaultValue: false, description: "Make it reach the whole workspace." }),
    agentId: t.globalID({ required: false, description: "Share as this agent (one your token registered); recorded in the custody chain." }),
  }),
});

const ShareContextPayload = builder.objectRef<context.SharedContext>("ShareContextPayload").implement({
  description: "The item with its widened scope.",
  fields: (t) => ({
    item: t.field({ type: ContextItemRef, description: "The item.", resolve: (p) => p.item }),
    addedSwarms: t.field({
      type: [SwarmRef],
      description: "The swarms it reaches now and did not before (empty when widened to the workspace).",
      resolve: (p, _a, ctx) => ctx.db.swarm.findMany({ where: { id: { in: p.addedSwarmIds }, workspaceId: p.item.workspaceId } }),
    }),
  }),
});

const swarmIdsOf = (ids: { typename: string; id: string }[] | null | undefined) => ids?.map((id) => rawId(id, "Swarm"));

builder.mutationFields((t) => ({
  publishContext: t.field({
    type: PublishContextPayload,
    description: "Publishes context under a name, for one swarm, several, or the whole workspace; records PUBLISHED or UPDATED in its chain of custody.",
    authScopes: { scope: "memory:write" },
    errors: { types: [AccessDeniedError, NotFoundError] },
    args: { input: t.arg({ type: PublishContextInput, required: true, description: "What to publish." }) },
    resolve: async (_root, { input }, ctx) =>
      context.publishContext(
        ctx.db,
        await readerFor(ctx),
        { name: input.name, data: input.data, swarmIds: swarmIdsOf(input.swarmIds), ttlSeconds: input.ttlSeconds, agentId: input.agentId ? rawId(input.agentId, "Agent") : null },
        { maxValueBytes: ctx.config.memoryMaxValueBytes },
      ),
  }),
  shareContext: t.field({
    type: ShareContextPayload,
    description: "Widens a context item you can see to more swarms or to the whole workspace (propagation); records SHARED in its chain of custody. A scope never narrows.",
    authScopes: { scope: "memory:write" },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: ShareContextInput, required: true, description: "Which item, and how far." }) },
    resolve: async (_root, { input }, ctx) =>
      context.shareContext(ctx.db, await readerFor(ctx), {
        id: rawId(input.id, "ContextItem"),
        swarmIds: swarmIdsOf(input.swarmIds) ?? [],
        toWorkspace: input.toWorkspace ?? false,
        agentId: input.agentId ? rawId(input.agentId, "Agent") : null,
      }),
  }),
}));
