/** Live finding and conflict events: posted, disputed, validated, retracted; conflicts detected, escalated, resolved. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import type { EventRecord } from "../../events/bus.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription } from "../../schema/events.ts";
import { rawId } from "../../schema/globalIds.ts";

const FindingEventRef = builder.objectRef<EventRecord>("FindingEvent").implement({
  description: "Something happened to a finding: posted, disputed, validated, verified, retracted.",
  interfaces: [EventInterface],
  fields: (t) => ({
    findingId: t.id({ description: "Global id of the finding.", resolve: (e) => encodeGlobalID("Finding", e.entityId) }),
    finding: t.prismaField({
      type: "Finding",
      nullable: true,
      description: "The finding as it is now; null if it no longer exists.",
      resolve: (query, e, _args, ctx) => ctx.db.finding.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
  }),
});

const ConflictEventRef = builder.objectRef<EventRecord>("ConflictEvent").implement({
  description: "Something happened to a conflict between findings: detected (with its escalation recommendation), resolved, dismissed.",
  interfaces: [EventInterface],
  fields: (t) => ({
    conflictId: t.id({ description: "Global id of the conflict.", resolve: (e) => encodeGlobalID("Conflict", e.entityId) }),
    escalationRecommended: t.boolean({
      nullable: true,
      description: "For conflict.detected: whether a person should decide (the escalation rule); null for other types.",
      resolve: (e) => (typeof e.payload.escalationRecommended === "boolean" ? e.payload.escalationRecommended : null),
    }),
    conflict: t.prismaField({
      type: "Conflict",
      nullable: true,
      description: "The conflict as it is now; null if it no longer exists.",
      resolve: (query, e, _args, ctx) => ctx.db.conflict.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId } }),
    }),
  }),
});

const FindingEventFilter = builder.inputType("FindingEventFilter", {
  description: "Which finding events to receive; every given criterion must match.",
  fields: (t) => ({
    findingIds: t.globalIDList({ required: false, description: "Only events of these findings." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"finding.posted\"]." }),
  }),
});

const ConflictEventFilter = builder.inputType("ConflictEventFilter", {
  description: "Which conflict events to receive; every given criterion must match.",
  fields: (t) => ({
    conflictIds: t.globalIDList({ required: false, description: "Only events of these conflicts." }),
    types: t.stringList({ required: false, description: "Only these event types, e.g. [\"conflict.detected\"]." }),
    escalationRecommended: t.boolean({ required: false, description: "true: only detections that recommend escalation (what a person must resolve)." }),
  }),
});

type IdList = { typename: string; id: string }[] | null | undefined;

builder.subscriptionFields((t) => ({
  findingEvents: t.field({
    type: FindingEventRef,
    description: "Finding events of your workspace.",
    args: {
      filter: t.arg({ type: FindingEventFilter, required: false, description: "Which events; all when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("findings:read", (_ctx, args: { filter?: { findingIds?: IdList; types?: string[] | null } | null }) => {
      const types = args.filter?.types;
      return {
        topics: ["finding"],
        entityIds: args.filter?.findingIds?.map((id) => rawId(id, "Finding")),
        select: async (events: readonly EventRecord[]) => events.map((e) => (types && !types.includes(e.type) ? null : e)),
      };
    }),
  }),
  conflictEvents: t.field({
    type: ConflictEventRef,
    description: "Conflict events of your workspace: push contradictions to whoever must resolve them.",
    args: {
      filter: t.arg({ type: ConflictEventFilter, required: false, description: "Which events; all when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("findings:read", (_ctx, args: { filter?: { conflictIds?: IdList; types?: string[] | null; escalationRecommended?: boolean | null } | null }) => {
      const { types, escalationRecommended } = args.filter ?? {};
      return {
        topics: ["conflict"],
        entityIds: args.filter?.conflictIds?.map((id) => rawId(id, "Conflict")),
        select: async (events: readonly EventRecord[]) =>
          events.map((e) => {
            if (types && !types.includes(e.type)) return null;
            if (escalationRecommended != null && e.payload.escalationRecommended !== escalationRecommended) return null;
            return e;
          }),
      };
    }),
  }),
}));
