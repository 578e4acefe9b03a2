/** Changes to quotas, and allocation and release of resources. */
import { decodeGlobalID } from "@pothos/plugin-relay";
import type { Allocation, Quota } from "../../generated/prisma/client.ts";
import { actorOf, type Context } from "../../context.ts";
import { NotFoundError, NotHeldError, QuotaExceededError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import * as quotas from "./service.ts";
import { AllocationModeEnum, AllocationRef, HolderTypeEnum, QuotaRef, QuotaUsageRef } from "./types.ts";

const HolderInput = builder.inputType("HolderInput", {
  description: "Who holds (or will hold) resources.",
  fields: (t) => ({
    type: t.field({ type: HolderTypeEnum, required: true, description: "The kind of holder." }),
    id: t.string({ required: true, description: "A global id for TASK, SWARM and AGENT; your own id (e.g. a job id) for EXTERNAL." }),
  }),
});

const SetQuotaInput = builder.inputType("SetQuotaInput", {
  description: "A limit on a resource.",
  fields: (t) => ({
    resource: t.string({ required: true, description: "The resource, e.g. workers:depth:0, agents, tasks.running, tasks.created_per_hour, or a name of your own." }),
    limit: t.int({ required: true, description: "Most units in use at once (CAPACITY) or per window (RATE); 0 blocks the resource." }),
    windowSeconds: t.int({ required: false, description: "For a RATE quota: the window in seconds (a new resource with a window is a RATE quota)." }),
  }),
});

const RemoveQuotaInput = builder.inputType("RemoveQuotaInput", {
  description: "Which quota to remove.",
  fields: (t) => ({ resource: t.string({ required: true, description: "The resource." }) }),
});

const AllocateResourcesInput = builder.inputType("AllocateResourcesInput", {
  description: "A request for units of a resource.",
  fields: (t) => ({
    resource: t.string({ required: true, description: "The resource, e.g. workers:depth:0." }),
    holder: t.field({ type: HolderInput, required: true, description: "Who will hold the units." }),
    amount: t.int({ required: true, description: "Units requested (at least 1)." }),
    mode: t.field({ type: AllocationModeEnum, required: false, defaultValue: "PARTIAL", description: "PARTIAL (default) or ALL_OR_NOTHING." }),
  }),
});

const ReleaseResourcesInput = builder.inputType("ReleaseResourcesInput", {
  description: "What to give back.",
  fields: (t) => ({
    holder: t.field({ type: HolderInput, required: true, description: "The holder." }),
    resource: t.string({ required: false, description: "Only this resource (default: everything the holder holds)." }),
  }),
});

const QuotaPayload = builder.objectRef<{ quota: Quota }>("SetQuotaPayload").implement({
  description: "The quota now in force.",
  fields: (t) => ({ quota: t.field({ type: QuotaRef, description: "The quota.", resolve: (p) => p.quota }) }),
});

const RemoveQuotaPayload = builder.objectRef<{ resource: string; quota: Quota | null }>("RemoveQuotaPayload").implement({
  description: "The result of removing a quota.",
  fields: (t) => ({
    resource: t.exposeString("resource", { description: "The resource." }),
    quota: t.field({ type: QuotaRef, nullable: true, description: "The default quota now in force; null when the resource has no default (it is unknown again).", resolve: (p) => p.quota }),
  }),
});

const AllocateResourcesPayload = builder.objectRef<{ allocation: Allocation; usage: quotas.Usage }>("AllocateResourcesPayload").implement({
  description: "What was granted.",
  fields: (t) => ({
    allocation: t.field({ type: AllocationRef, description: "The allocation.", resolve: (p) => p.allocation }),
    requested: t.int({ description: "Units requested.", resolve: (p) => p.allocation.requested }),
    granted: t.int({ description: "Units granted (PARTIAL may grant fewer than requested).", resolve: (p) => p.allocation.granted }),
    usage: t.field({ type: QuotaUsageRef, description: "The resource's usage after the grant.", resolve: (p) => p.usage }),
  }),
});

const ReleaseResourcesPayload = builder.objectRef<{ released: Allocation[]; usage: quotas.Usage[] }>("ReleaseResourcesPayload").implement({
  description: "What was given back.",
  fields: (t) => ({
    released: t.field({ type: [AllocationRef], description: "The allocations released.", resolve: (p) => p.released }),
    usage: t.field({ type: [QuotaUsageRef], description: "Usage of the resources involved, after the release.", resolve: (p) => p.usage }),
  }),
});

/** Holder ids: global ids for tasks, swarms and agents (checked to exist in the workspace). */
async function holderOf(ctx: Context, holder: { type: "TASK" | "SWARM" | "AGENT" | "EXTERNAL"; id: string }): Promise<quotas.Holder> {
  if (holder.type === "EXTERNAL") return { type: "EXTERNAL", id: holder.id };
  const typename = ({ TASK: "Task", SWARM: "Swarm", AGENT: "Agent" } as const)[holder.type];
  let raw: string;
  try {
    const decoded = decodeGlobalID(holder.id);
    if (decoded.typename !== typename) throw new Error("wrong type");
    raw = decoded.id;
  } catch {
    throw new NotFoundError(typename, holder.id);
  }
  const where = { id: raw, workspaceId: actorOf(ctx).workspaceId };
  const exists =
    holder.type === "TASK" ? await ctx.db.task.count({ where }) : holder.type === "SWARM" ? await ctx.db.swarm.count({ where }) : await ctx.db.agent.count({ where });
  if (!exists) throw new NotFoundError(typename, raw);
  return { type: holder.type, id: raw };
}

builder.mutationFields((t) => ({
  setQuota: t.field({
    type: QuotaPayload,
    description: "Sets a workspace's limit on a resource. Lowering it below what is in use revokes nothing: new requests wait for releases.",
    authScopes: { scope: "quotas:write" },
    errors: {},
    args: { input: t.arg({ type: SetQuotaInput, required: true, description: "The resource and its limit." }) },
    resolve: async (_root, { input }, ctx) => ({ quota: await quotas.setQuota(ctx.db, actorOf(ctx), input) }),
  }),
  removeQuota: t.field({
    type: RemoveQuotaPayload,
    description: "Removes an explicit quota: the resource goes back to its default (or, without one, must hold nothing).",
    authScopes: { scope: "quotas:write" },
    errors: {},
    args: { input: t.arg({ type: RemoveQuotaInput, required: true, description: "Which quota." }) },
    resolve: async (_root, { input }, ctx) => ({ resource: input.resource, quota: await quotas.removeQuota(ctx.db, actorOf(ctx), input.resource) }),
  }),
  allocateResources: t.field({
    type: AllocateResourcesPayload,
    description: "Grants units of a resource to a holder, atomically: concurrent requests never exceed the limit.",
    authScopes: { scope: "quotas:write" },
    errors: { types: [QuotaExceededError, NotFoundError] },
    args: { input: t.arg({ type: AllocateResourcesInput, required: true, description: "The request." }) },
    resolve: async (_root, { input }, ctx) => {
      const actor = actorOf(ctx);
      const { allocation } = await quotas.allocateResources(ctx.db, actor, { resource: input.resource, holder: await holderOf(ctx, input.holder), amount: input.amount, mode: input.mode ?? "PARTIAL" });
      const [usage] = await quotas.quotaUsage(ctx.db, actor.workspaceId, [allocation.resource]);
      return { allocation, usage: usage! };
    },
  }),
  releaseResources: t.field({
    type: ReleaseResourcesPayload,
    description: "Gives back what a holder holds (of one resource, or all). Tasks and agents release theirs automatically when they end.",
    authScopes: { scope: "quotas:write" },
    errors: { types: [NotHeldError, NotFoundError] },
    args: { input: t.arg({ type: ReleaseResourcesInput, required: true, description: "The holder, and optionally the resource." }) },
    resolve: async (_root, { input }, ctx) => {
      const actor = actorOf(ctx);
      const released = await quotas.releaseResources(ctx.db, actor, await holderOf(ctx, input.holder), input.resource);
      return { released, usage: await quotas.quotaUsage(ctx.db, actor.workspaceId, [...new Set(released.map((a) => a.resource))]) };
    },
  }),
}));
