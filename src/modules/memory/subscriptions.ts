/** Live memory events: agents watching a namespace or key prefix see writes as they happen. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { asUserInput } from "../../schema/userInput.ts";
import { labelRule, parseInput } from "../../validation.ts";
import * as memory from "./service.ts";
import { MemoryAccessLevelEnum, MemoryEntryRef, readerFor } from "./types.ts";

const MemoryEventRef = builder.objectRef<EventRecord>("MemoryEvent").implement({
  description: "Something happened to a memory entry: memory.created, memory.updated, memory.deleted, memory.expired (removed by the sweeper, or replaced by a write after it expired).",
  interfaces: [EventInterface],
  fields: (t) => ({
    entryId: t.id({ description: "Global id of the entry.", resolve: (e) => encodeGlobalID("MemoryEntry", e.entityId) }),
    namespace: t.string({ description: "The entry's namespace.", resolve: (e) => payloadString(e, "namespace") ?? "" }),
    key: t.string({ description: "The entry's key.", resolve: (e) => payloadString(e, "key") ?? "" }),
    version: t.int({ description: "The version written (created, updated) or last held (deleted, expired).", resolve: (e) => Number(e.payload.version ?? 0) }),
    accessLevel: t.field({ type: MemoryAccessLevelEnum, description: "Its access level at the event.", resolve: (e) => (payloadString(e, "accessLevel") ?? "PRIVATE") as never }),
    entry: t.field({
      type: MemoryEntryRef,
      nullable: true,
      description: "The entry as it is now, if you may still see it; null once deleted or expired.",
      resolve: async (e, _args, ctx) => {
        const [entry] = await memory.memoriesByIds(ctx.db, await readerFor(ctx), [e.entityId]);
        return entry ? { entry, at: null } : null;
      },
    }),
  }),
});

const MemoryEventFilter = builder.inputType("MemoryEventFilter", {
  description: "Which memory events to receive; every given criterion must match.",
  fields: (t) => ({
    namespace: t.string({ required: false, description: "Only entries of this namespace." }),
    keyPrefix: t.string({ required: false, description: "Only entries whose key starts with this." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"memory.updated\"]." }),
  }),
});

type FilterShape = { namespace?: string | null; keyPrefix?: string | null; types?: string[] | null } | null | undefined;

builder.subscriptionFields((t) => ({
  memoryEvents: t.field({
    type: MemoryEventRef,
    description: "Writes, deletions and expiries of the memory entries you may see (the access rule is applied to every event), optionally of one namespace or key prefix.",
    args: {
      filter: t.arg({ type: MemoryEventFilter, required: false, description: "Which events; all you may see when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("memory:read", async (ctx, args: { filter?: FilterShape }) => {
      const { namespace, keyPrefix, types } = args.filter ?? {};
      if (namespace != null) await asUserInput(async () => parseInput(labelRule, namespace, "filter.namespace"));
      return {
        topics: ["memory"],
        select: async (events: readonly EventRecord[]) => {
          const matching = events.filter(
            (e) =>
              (!types || types.includes(e.type)) &&
              (namespace == null || e.payload.namespace === namespace) &&
              (!keyPrefix || String(e.payload.key ?? "").startsWith(keyPrefix)),
          );
          // Access is decided per batch with the reader as it is now (its agents may have joined or left swarms).
          const visible = await memory.visibleMemoryEvents(ctx.db, await memory.readerOf(ctx.db, ctx.viewer!), matching.map((e) => e.payload));
          const shown = new Set(matching.filter((_, i) => visible[i]));
          return events.map((e) => (shown.has(e) ? e : null));
        },
      };
    }),
  }),
}));
