/** Live context events: published, updated, shared (with the swarms added), expired. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import * as memory from "../memory/service.ts";
import { readerFor } from "../memory/types.ts";
import * as context from "./service.ts";
import { ContextItemRef } from "./types.ts";

const ContextEventRef = builder.objectRef<EventRecord>("ContextEvent").implement({
  description: "Something happened to a context item: context.published, context.updated, context.shared, context.expired.",
  interfaces: [EventInterface],
  fields: (t) => ({
    itemId: t.id({ description: "Global id of the item.", resolve: (e) => encodeGlobalID("ContextItem", e.entityId) }),
    name: t.string({ description: "The item's name.", resolve: (e) => payloadString(e, "name") ?? "" }),
    item: t.field({
      type: ContextItemRef,
      nullable: true,
      description: "The item as it is now, if you may still see it; null once expired. Selecting its data records a READ.",
      resolve: async (e, _args, ctx) => (await context.contextByIds(ctx.db, await readerFor(ctx), [e.entityId]))[0] ?? null,
    }),
  }),
});

const ContextEventFilter = builder.inputType("ContextEventFilter", {
  description: "Which context events to receive; every given criterion must match.",
  fields: (t) => ({
    names: t.stringList({ required: false, description: "Only items with these names." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"context.shared\"]." }),
  }),
});

builder.subscriptionFields((t) => ({
  contextEvents: t.field({
    type: ContextEventRef,
    description: "Events of the context items you may see (the scope rule is applied to every event, as the item was at that event).",
    args: {
      filter: t.arg({ type: ContextEventFilter, required: false, description: "Which events; all you may see when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("memory:read", (ctx, args: { filter?: { names?: string[] | null; types?: string[] | null } | null }) => {
      const { names, types } = args.filter ?? {};
      return {
        topics: ["context"],
        select: async (events: readonly EventRecord[]) => {
          const matching = events.filter((e) => (!types || types.includes(e.type)) && (!names || names.includes(String(e.payload.name))));
          const visible = await context.visibleContextEvents(ctx.db, await memory.readerOf(ctx.db, ctx.viewer!), matching.map((e) => e.payload));
          const shown = new Set(matching.filter((_, i) => visible[i]));
          return events.map((e) => (shown.has(e) ? e : null));
        },
      };
    }),
  }),
}));
