/**
 * Live blackboard events: `artifactEvents` (published, consumed) and `correlationEvents` (a
 * workflow's state changes: the seed's 2 s status poll as one subscription). Visibility is
 * checked on every batch with the reader as it is then, not as it was at subscribe time.
 */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError } from "graphql";
import type { Context } from "../../context.ts";
import type { EventRecord } from "../../events/bus.ts";
import type { StreamItem } from "../../events/stream.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription, payloadString } from "../../schema/events.ts";
import { artifactFilterWhere, correlationStatus } from "./service.ts";
import { ArtifactFilterInput, type ArtifactFilterShape, toArtifactFilter } from "./queries.ts";
import { ArtifactRef, CorrelationRef, CorrelationStateEnum, readerFor } from "./types.ts";
import { readerOf, visibleArtifactsWhere } from "./visibility.ts";

const ArtifactEventRef = builder.objectRef<EventRecord>("ArtifactEvent").implement({
  description: "Something happened to an artifact you may read: published (with the tasks created for its consumers), or consumed (a consumer completed its task).",
  interfaces: [EventInterface],
  fields: (t) => ({
    artifactId: t.id({ description: "Global id of the artifact.", resolve: (e) => encodeGlobalID("Artifact", e.entityId) }),
    artifact: t.prismaField({
      type: ArtifactRef,
      nullable: true,
      description: "The artifact; null if you may no longer read it.",
      resolve: async (query, e, _args, ctx) =>
        ctx.db.artifact.findFirst({ ...query, where: { AND: [{ id: e.entityId }, visibleArtifactsWhere(await readerFor(ctx), "ever")] } }),
    }),
    correlationId: t.string({ nullable: true, description: "The artifact's correlation.", resolve: (e) => payloadString(e, "correlationId") }),
    consumerId: t.id({ nullable: true, description: "artifact.consumed: global id of the consuming agent.", resolve: (e) => globalIdOf("Agent", payloadString(e, "agentId")) }),
    taskId: t.id({ nullable: true, description: "artifact.consumed: global id of the consumer's task.", resolve: (e) => globalIdOf("Task", payloadString(e, "taskId")) }),
  }),
});

const CorrelationEventRef = builder.objectRef<EventRecord>("CorrelationEvent").implement({
  description:
    "A correlation's work changed: correlation.active, correlation.completed, correlation.failed (its state changed), correlation.progress (an artifact was published into it or one of its tasks ended), or, first, correlation.snapshot (where it stands as you subscribe).",
  interfaces: [EventInterface],
  fields: (t) => ({
    correlationId: t.exposeString("entityId", { description: "The correlation id." }),
    state: t.field({ type: CorrelationStateEnum, description: "Its state after this event.", resolve: (e) => e.payload.to as never }),
    previousState: t.field({ type: CorrelationStateEnum, nullable: true, description: "Its state before this event (null for the snapshot).", resolve: (e) => (e.payload.from ?? null) as never }),
    pendingTasks: t.int({ description: "Unfinished tasks after this event.", resolve: (e) => Number(e.payload.pendingTasks ?? 0) }),
    completedTasks: t.int({ description: "Completed tasks after this event.", resolve: (e) => Number(e.payload.completedTasks ?? 0) }),
    errorCount: t.int({ description: "Tasks failed for good or cancelled after this event.", resolve: (e) => Number(e.payload.failedTasks ?? 0) }),
    correlation: t.field({ type: CorrelationRef, description: "The correlation as it is now (not as it was at the event).", resolve: async (e, _args, ctx) => correlationStatus(ctx.db, await readerFor(ctx), e.entityId) }),
  }),
});

function globalIdOf(type: string, id: string | null): string | null {
  return id ? encodeGlobalID(type, id) : null;
}

const ArtifactEventFilter = builder.inputType("ArtifactEventFilter", {
  description: "Which artifact events to receive; every given criterion must match.",
  fields: (t) => ({
    artifactIds: t.globalIDList({ required: false, description: "Only events of these artifacts." }),
    types: t.stringList({ required: false, description: "Only these event types: artifact.published, artifact.consumed." }),
    artifacts: t.field({ type: ArtifactFilterInput, required: false, description: "Only events of artifacts matching this filter (types, producers, correlation, tags, …)." }),
  }),
});

type ArtifactEventFilterShape = { artifactIds?: { typename: string; id: string }[] | null; types?: string[] | null; artifacts?: ArtifactFilterShape | null };

/**
 * Keeps the events of artifacts the viewer may read that match the filter. An AFTER artifact not
 * yet visible is delivered when it becomes visible (`later`).
 */
function artifactEventSelector(ctx: Context, filter: ArtifactEventFilterShape) {
  const where = artifactFilterWhere(toArtifactFilter(filter.artifacts));
  return async (events: readonly EventRecord[], later: (at: Date, item: EventRecord) => void) => {
    const reader = await readerOf(ctx.db, ctx.viewer!);
    const ids = [...new Set(events.map((e) => e.entityId))];
    const ever = await ctx.db.artifact.findMany({ where: { AND: [{ id: { in: ids } }, where, visibleArtifactsWhere(reader, "ever")] }, select: { id: true, visibleFrom: true } });
    const now = new Set(
      (await ctx.db.artifact.findMany({ where: { AND: [{ id: { in: ever.map((a) => a.id) } }, visibleArtifactsWhere(reader, new Date())] }, select: { id: true } })).map((a) => a.id),
    );
    const visibleFrom = new Map(ever.map((a) => [a.id, a.visibleFrom]));
    return events.map((e) => {
      if (filter.types && !filter.types.includes(e.type)) return null;
      if (!visibleFrom.has(e.entityId)) return null;
      if (now.has(e.entityId)) return e;
      later(visibleFrom.get(e.entityId) ?? new Date(), e);
      return null;
    });
  };
}

const SETTLED = new Set(["COMPLETED", "FAILED"]);

/** Ends a correlation stream after the item that reports it COMPLETED or FAILED. */
async function* untilSettled(stream: AsyncIterableIterator<StreamItem<EventRecord>>): AsyncGenerator<StreamItem<EventRecord>> {
  for await (const item of stream) {
    yield item;
    if (!(item instanceof GraphQLError) && SETTLED.has(String(item.payload.to))) return;
  }
}

const correlationSubscription = eventSubscription<EventRecord>("artifacts:read", (ctx, args: { correlationId: string; after?: string | null }) => {
  const id = args.correlationId;
  const workspaceId = ctx.viewer!.workspaceId;
  return {
    topics: ["correlation"],
    entityIds: [id],
    // Without a cursor, where it stands first: a client subscribing late still learns the outcome.
    initial:
      args.after == null
        ? async (position: bigint) => {
            const status = await correlationStatus(ctx.db, await readerOf(ctx.db, ctx.viewer!), id);
            const { pendingTasks, failedTasks, completedTasks } = status;
            return [{ id: position, workspaceId, topic: "correlation", type: "correlation.snapshot", entityId: id, payload: { from: null, to: status.state, pendingTasks, failedTasks, completedTasks }, actor: null, createdAt: new Date() }];
          }
        : undefined,
    // A correlation none of whose artifacts the viewer may read does not exist for it.
    select: async (events: readonly EventRecord[]) => {
      const readable = await ctx.db.artifact.count({ where: { AND: [{ correlationId: id }, visibleArtifactsWhere(await readerOf(ctx.db, ctx.viewer!), new Date())] } });
      return events.map((e) => (readable > 0 ? e : null));
    },
  };
});

builder.subscriptionFields((t) => ({
  artifactEvents: t.field({
    type: ArtifactEventRef,
    description: "Events of the artifacts you may read: artifact.published, artifact.consumed.",
    args: {
      filter: t.arg({ type: ArtifactEventFilter, required: false, description: "Which events; all when omitted." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("artifacts:read", (ctx, args: { filter?: ArtifactEventFilterShape | null }) => {
      const filter = args.filter ?? {};
      return {
        topics: ["artifact"],
        entityIds: filter.artifactIds?.map((id) => (id.typename === "Artifact" ? id.id : "")),
        select: artifactEventSelector(ctx, filter),
      };
    }),
  }),
  correlationEvents: t.field({
    type: CorrelationEventRef,
    description:
      "A correlation's state changes, from a snapshot (without `after`) to COMPLETED or FAILED, where the stream ends: replaces polling the correlation status. Delivered while you may read at least one of its artifacts.",
    args: {
      correlationId: t.arg.string({ required: true, description: "The correlation id." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...correlationSubscription,
    subscribe: async (root: unknown, args: { correlationId: string; after?: string | null }, ctx: Context) => untilSettled(await correlationSubscription.subscribe(root, args, ctx)),
  }),
}));
