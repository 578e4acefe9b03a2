/** GraphQL types of shared memory: entries, their versions, stats. */
import type { Agent, MemoryVersion, Swarm } from "../../generated/prisma/client.ts";
import { type Context, unauthenticated } from "../../context.ts";
import { builder } from "../../schema/builder.ts";
import { defineLoader } from "../../schema/loaders.ts";
import { AgentRef } from "../agents/types.ts";
import { QuotaUsageRef } from "../quotas/types.ts";
import { SwarmRef } from "../swarms/types.ts";
import * as memory from "./service.ts";

/** The reader of this operation (its agents and swarms), computed once per operation. */
const readerLoader = defineLoader<"", memory.Reader>("memory.reader", async (ctx, keys) => {
  if (!ctx.viewer) throw unauthenticated("this operation needs an access token");
  const reader = await memory.readerOf(ctx.db, ctx.viewer);
  return keys.map(() => reader);
});

/** Who is reading, for the access rules of memory and shared context. */
export function readerFor(ctx: Context): Promise<memory.Reader> {
  return readerLoader(ctx).load("");
}

/** Swarms and agents that entries, items and versions name, one query per operation each. */
export const swarmLoader = defineLoader<string, Swarm | null>("memory.swarms", async (ctx, ids) => {
  const rows = await ctx.db.swarm.findMany({ where: { id: { in: [...ids] }, workspaceId: ctx.viewer?.workspaceId ?? "" } });
  return ids.map((id) => rows.find((r) => r.id === id) ?? null);
});
export const agentLoader = defineLoader<string, Agent | null>("memory.agents", async (ctx, ids) => {
  const rows = await ctx.db.agent.findMany({ where: { id: { in: [...ids] }, workspaceId: ctx.viewer?.workspaceId ?? "" } });
  return ids.map((id) => rows.find((r) => r.id === id) ?? null);
});

export const MemoryAccessLevelEnum = builder.enumType("MemoryAccessLevel", {
  description: "Who may read (and write) a memory entry. The owner, and whoever acts as the agent that wrote the current version, always may; an admin token reads every entry of its workspace.",
  values: {
    WORKSPACE: { description: "Every token of the workspace with memory:read." },
    SWARM: { description: "Principals whose agents are members of the entry's swarm." },
    PRIVATE: { description: "Only the owner (the token subject that created it) and whoever acts as the agent that wrote it." },
  } as const,
});

/** An entry as a query returns it: the current row, or one of its kept versions. */
export interface MemoryView {
  entry: memory.MemoryRow;
  /** Set when an earlier version was asked for: value, tags and writer come from it. */
  at: MemoryVersion | null;
  /** In text search results: how well it matches (0 to 1) and where. */
  relevance?: number | null;
  snippet?: string | null;
}

export const MemoryVersionRef = builder.objectRef<MemoryVersion>("MemoryVersion").implement({
  description: "One write of a memory entry, kept for history (the last MEMORY_VERSIONS_KEPT writes).",
  fields: (t) => ({
    version: t.exposeInt("version", { description: "The write's number: 1 for the write that created the entry, then 2, 3, …" }),
    value: t.field({ type: "JSON", description: "The value after this write.", resolve: (v) => v.value }),
    tags: t.exposeStringList("tags", { description: "The tags after this write." }),
    bytes: t.exposeInt("bytes", { description: "Size of the value as JSON text, in UTF-8 bytes." }),
    merged: t.exposeBoolean("merged", { description: "Whether the write merged a patch into the previous value (merge: true) rather than replacing it." }),
    writtenBy: t.exposeString("writtenBy", { description: "Subject of the token that wrote it." }),
    agent: t.field({ type: AgentRef, nullable: true, description: "The agent it was written as, if the writer named one.", resolve: (v, _a, ctx) => (v.agentId ? agentLoader(ctx).load(v.agentId) : null) }),
    createdAt: t.field({ type: "DateTime", description: "When it was written.", resolve: (v) => v.createdAt }),
  }),
});

export const MemoryEntryRef = builder.objectRef<MemoryView>("MemoryEntry");

builder.node(MemoryEntryRef, {
  description: "A JSON value kept under (namespace, key) in your workspace, with tags, a TTL, an access level and its version history.",
  authScopes: { scope: "memory:read" },
  id: { resolve: (v) => v.entry.id, description: "Global id of the entry." },
  isTypeOf: (v) => typeof v === "object" && v !== null && "entry" in v && "at" in v,
  loadMany: async (ids, ctx) => {
    const rows = await memory.memoriesByIds(ctx.db, await readerFor(ctx), ids);
    return rows.map((entry) => (entry ? { entry, at: null } : null));
  },
  fields: (t) => ({
    namespace: t.string({ description: "The namespace, e.g. project-alpha.", resolve: (v) => v.entry.namespace }),
    key: t.string({ description: "The key within the namespace, e.g. api/design.", resolve: (v) => v.entry.key }),
    value: t.field({ type: "JSON", description: "The value (of the requested version, when one was asked for).", resolve: (v) => (v.at ?? v.entry).value }),
    version: t.int({ description: "The version this value is (the requested one, or the latest).", resolve: (v) => (v.at ?? v.entry).version }),
    latestVersion: t.int({ description: "The entry's current version: how many times it was written.", resolve: (v) => v.entry.version }),
    tags: t.stringList({ description: "Labels, as a sorted set (of the requested version).", resolve: (v) => (v.at ?? v.entry).tags }),
    bytes: t.int({ description: "Size of the value as JSON text, in UTF-8 bytes (the current value counts against the memory.bytes quota).", resolve: (v) => (v.at ?? v.entry).bytes }),
    accessLevel: t.field({ type: MemoryAccessLevelEnum, description: "Who may read it.", resolve: (v) => v.entry.accessLevel }),
    swarm: t.field({ type: SwarmRef, nullable: true, description: "SWARM entries: the swarm whose members may read it.", resolve: (v, _a, ctx) => (v.entry.swarmId ? swarmLoader(ctx).load(v.entry.swarmId) : null) }),
    owner: t.string({ description: "Subject of the token that created the entry; it may always read it and change its access level.", resolve: (v) => v.entry.ownerSubject }),
    writtenBy: t.string({ description: "Subject of the token that wrote this version.", resolve: (v) => v.at?.writtenBy ?? v.entry.updatedBy }),
    agent: t.field({
      type: AgentRef,
      nullable: true,
      description: "The agent this version was written as, if the writer named one.",
      resolve: (v, _a, ctx) => {
        const agentId = v.at ? v.at.agentId : v.entry.agentId;
        return agentId ? agentLoader(ctx).load(agentId) : null;
      },
    }),
    accessCount: t.int({ description: "How many times it was read by key (`memory`); lists and searches do not count.", resolve: (v) => v.entry.accessCount }),
    lastAccessedAt: t.field({ type: "DateTime", nullable: true, description: "When it was last read by key; null if never.", resolve: (v) => v.entry.lastAccessedAt }),
    expiresAt: t.field({ type: "DateTime", nullable: true, description: "When it expires: from then on no read returns it. Null: never.", resolve: (v) => v.entry.expiresAt }),
    createdAt: t.field({ type: "DateTime", description: "When the entry was created.", resolve: (v) => v.entry.createdAt }),
    updatedAt: t.field({ type: "DateTime", description: "When this version was written.", resolve: (v) => v.at?.createdAt ?? v.entry.updatedAt }),
    versions: t.field({
      type: [MemoryVersionRef],
      description: "The kept versions (at most MEMORY_VERSIONS_KEPT), newest first.",
      args: { first: t.arg.int({ required: false, defaultValue: 10, description: "How many, newest first (at most MAX_PAGE_SIZE)." }) },
      resolve: (v, { first }, ctx) => memory.memoryVersions(ctx.db, v.entry.id, Math.max(0, Math.min(first ?? 10, ctx.config.maxPageSize))),
    }),
  }),
});

const NamespaceStats = builder.objectRef<{ namespace: string; entries: number; bytes: number }>("MemoryNamespaceStats").implement({
  description: "Entries and bytes of one namespace.",
  fields: (t) => ({
    namespace: t.exposeString("namespace", { description: "The namespace." }),
    entries: t.exposeInt("entries", { description: "Live entries you may see in it." }),
    bytes: t.exposeFloat("bytes", { description: "Their values' size, in bytes." }),
  }),
});

export const MemoryStatsRef = builder.objectRef<memory.MemoryStats>("MemoryStats").implement({
  description: "How much memory you can see, and the workspace's memory.bytes quota.",
  fields: (t) => ({
    entries: t.exposeInt("entries", { description: "Live entries you may see." }),
    namespaces: t.exposeInt("namespaces", { description: "Namespaces among them." }),
    bytes: t.exposeFloat("bytes", { description: "Size of their values, in bytes." }),
    accessCount: t.exposeFloat("accessCount", { description: "Reads by key, summed over them." }),
    topNamespaces: t.field({ type: [NamespaceStats], description: "The ten largest namespaces by bytes.", resolve: (s) => s.topNamespaces }),
    quota: t.field({
      type: QuotaUsageRef,
      description: "The workspace's memory.bytes quota: its limit, and the bytes all live entries use (whoever may see them; until swept, expired ones too).",
      resolve: (s) => s.quota,
    }),
  }),
});
