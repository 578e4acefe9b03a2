/** Live quota events: usage changes (allocated, released), refusals, limits set or removed. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";

const QuotaEventRef = builder.objectRef<EventRecord>("QuotaEvent").implement({
  description: "Something happened to a quota: quota.allocated, quota.released, quota.refused, quota.set, quota.removed.",
  interfaces: [EventInterface],
  fields: (t) => ({
    quotaId: t.id({ description: "Global id of the quota.", resolve: (e) => encodeGlobalID("Quota", e.entityId) }),
    resource: t.string({ nullable: true, description: "The resource.", resolve: (e) => payloadString(e, "resource") }),
    quota: t.prismaField({
      type: "Quota",
      nullable: true,
      description: "The quota as it is now; null if it was removed.",
      resolve: (query, e, _args, ctx) => ctx.db.quota.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
  }),
});

const QuotaEventFilter = builder.inputType("QuotaEventFilter", {
  description: "Which quota events to receive; every given criterion must match.",
  fields: (t) => ({
    resources: t.stringList({ required: false, description: "Only events of these resources." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"quota.refused\"]." }),
  }),
});

builder.subscriptionField("quotaEvents", (t) =>
  t.field({
    type: QuotaEventRef,
    description: "Quota events of your workspace: usage changes and refusals.",
    args: {
      filter: t.arg({ type: QuotaEventFilter, required: false, description: "Which events; all when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("quotas:read", (_ctx, args: { filter?: { resources?: string[] | null; types?: string[] | null } | null }) => {
      const { resources, types } = args.filter ?? {};
      return {
        topics: ["quota"],
        select: async (events: readonly EventRecord[]) =>
          events.map((e) => ((types && !types.includes(e.type)) || (resources && !resources.includes(payloadString(e, "resource") ?? "")) ? null : e)),
      };
    }),
  }),
);
