/** Read access to shared memory: by key, lists with full-text search, stats. */
import { resolveOffsetConnection } from "@pothos/plugin-relay";
import { builder, offsetPageSizeLimit } from "../../schema/builder.ts";
import { asUserInput } from "../../schema/userInput.ts";
import { labelRule, parseInput } from "../../validation.ts";
import * as memory from "./service.ts";
import { MemoryAccessLevelEnum, MemoryEntryRef, MemoryStatsRef, type MemoryView, readerFor } from "./types.ts";

const MemoryFilter = builder.inputType("MemoryFilter", {
  description: "Narrows a list of memory entries. All given conditions must hold.",
  fields: (t) => ({
    namespace: t.string({ required: false, description: "In this namespace." }),
    keyPrefix: t.string({ required: false, description: "Whose key starts with this (e.g. \"api/\")." }),
    tags: t.stringList({ required: false, description: "Carrying every one of these tags." }),
    accessLevel: t.field({ type: [MemoryAccessLevelEnum], required: false, description: "With any of these access levels." }),
    text: t.string({
      required: false,
      description: `Matching this full-text query (PostgreSQL websearch syntax: words, "quoted phrases", -excluded, or; English stemming; at most ${memory.MAX_SEARCH_TEXT} characters) in the key, tags and the value's keys and strings. Orders the results by relevance and fills each edge's relevance and snippet.`,
    }),
  }),
});

builder.queryFields((t) => ({
  memory: t.field({
    type: MemoryEntryRef,
    nullable: true,
    description: "The entry at (namespace, key), and counts the read (accessCount, lastAccessedAt). Null when there is none you may see — absent, expired, or kept from you by its access level — or the requested version is no longer kept.",
    authScopes: { scope: "memory:read" },
    args: {
      namespace: t.arg.string({ required: true, description: "The namespace." }),
      key: t.arg.string({ required: true, description: "The key." }),
      version: t.arg.int({ required: false, description: "An earlier version (one of `versions`); the latest when omitted." }),
    },
    resolve: (_root, args, ctx) =>
      asUserInput(async () => {
        parseInput(labelRule, args.namespace, "namespace");
        parseInput(memory.keyRule, args.key, "key");
        const found = await memory.readMemory(ctx.db, await readerFor(ctx), args);
        return found ? ({ entry: found.entry, at: found.version } satisfies MemoryView) : null;
      }),
  }),
  memories: t.connection(
    {
      type: MemoryEntryRef,
      description: "Live memory entries you may see: by relevance with a text query, otherwise by namespace and key.",
      authScopes: { scope: "memory:read" },
      args: { filter: t.arg({ type: MemoryFilter, required: false, description: "Conditions the entries must meet." }) },
      resolve: (_root, args, ctx) =>
        asUserInput(async () => {
          const maxSize = offsetPageSizeLimit(args, ctx);
          const reader = await readerFor(ctx);
          const filter = args.filter ?? {};
          const connection = await resolveOffsetConnection({ args, maxSize }, async (page) =>
            (await memory.listMemories(ctx.db, reader, filter, page)).map((hit): MemoryView => ({ ...hit, at: null })),
          );
          return { ...connection, countAll: () => memory.countMemories(ctx.db, reader, filter) };
        }),
    },
    {
      description: "A page of memory entries.",
      fields: (c) => ({
        totalCount: c.int({
          description: "How many entries match the filter, over all pages.",
          resolve: (connection) => (connection as { countAll?: () => Promise<number> }).countAll!(),
        }),
      }),
    },
    {
      description: "A memory entry in a page, with its relevance to the text query.",
      fields: (e) => ({
        relevance: e.float({ nullable: true, description: "How well it matches the text query, from 0 to 1 (higher is better); null without one.", resolve: (edge) => edge.node.relevance ?? null }),
        snippet: e.string({
          nullable: true,
          description: "Where it matches the text query, with the matching words between « and »; null without one.",
          resolve: (edge) => edge.node.snippet ?? null,
        }),
      }),
    },
  ),
  memoryStats: t.field({
    type: MemoryStatsRef,
    description: "Entries, namespaces and bytes of the live memory you may see (of one namespace, or all), the largest namespaces, and the workspace's memory.bytes quota.",
    authScopes: { scope: "memory:read" },
    args: { namespace: t.arg.string({ required: false, description: "Only this namespace." }) },
    resolve: async (_root, { namespace }, ctx) => asUserInput(async () => memory.memoryStats(ctx.db, await readerFor(ctx), namespace)),
  }),
}));
