/**
 * What every subscription field shares: the `Event` interface (cursor, type, time, actor,
 * payload), the `after` argument, and the glue between a field and src/events/stream.ts. A
 * domain module adds a topic with one `subscriptions.ts` file built on these.
 */
import { GraphQLError } from "graphql";
import { grants, type Scope } from "../auth/scopes.ts";
import type { Context } from "../context.ts";
import type { EventRecord } from "../events/bus.ts";
import { sharedPerEvent } from "../events/perEventContext.ts";
import { assertMaySubscribe, openEventStream, type StreamItem, type StreamSpec } from "../events/stream.ts";
import { DOMAIN_READ_SCOPE, isAuditDomain } from "../modules/audit/service.ts";
import { builder } from "./builder.ts";

export const EventInterface = builder.interfaceRef<EventRecord>("Event").implement({
  description: "One entry of the event log, as a subscription delivers it.",
  fields: (t) => ({
    cursor: t.string({
      ...sharedPerEvent,
      description:
        "Position in the event log (1, 2, 3… in commit order, the same number as the audit entry's `position`). Pass the last one you received as `after` to resume without losing or repeating an event.",
      resolve: (e) => String(e.id),
    }),
    type: t.exposeString("type", { ...sharedPerEvent, description: "What happened, as `<topic>.<what>`, e.g. task.completed, agent.paused, swarm.member_joined." }),
    at: t.field({ ...sharedPerEvent, type: "DateTime", description: "When the change was committed.", resolve: (e) => e.createdAt }),
    actor: t.string({ ...sharedPerEvent, nullable: true, description: "Subject of the token that caused it; \"system\" for the server's own housekeeping.", resolve: (e) => e.actor }),
    payload: t.field({
      ...sharedPerEvent,
      type: "JSONObject",
      description:
        "The event's details as logged (differs per type). Details of another domain need that domain's read scope, like its nested fields: without it (e.g. task.* events in swarmEvents without tasks:read) this is an empty object.",
      resolve: (e, _args, ctx) => (ctx.viewer && isAuditDomain(e.topic) && grants(ctx.viewer.scopes, DOMAIN_READ_SCOPE[e.topic]) ? e.payload : {}),
    }),
  }),
});

builder.queryField("eventLogHead", (t) =>
  t.string({
    description:
      "The cursor of the newest event in the log: every change committed before this query is at or below it. To follow state without a gap: read `eventLogHead` first (or in the same request), then the state you need, then subscribe with `after:` the head — events after it replay first, and an event may repeat a change your read already shows (apply events idempotently). Audit entry ids are the same positions.",
    authScopes: { authenticated: true },
    resolve: async (_root, _args, ctx) => String(await ctx.events.tailer.settle()),
  }),
);

/** Description of the `after` argument every subscription field takes. */
export const AFTER_DESCRIPTION = "Replay the events after this cursor first, then continue live. Omit to start with what happens from now on.";

/**
 * The `subscribe`/`resolve` pair of a subscription field: opens the stream for `spec` after
 * `after`, and turns an error item (expired token, lost scope) into the field's error.
 */
export function eventSubscription<T>(scope: Scope, makeSpec: (ctx: Context, args: never) => Promise<Omit<StreamSpec<T>, "scope">> | Omit<StreamSpec<T>, "scope">) {
  return {
    // Its value is the stream's item (or the item's error): shareable between subscribers.
    ...sharedPerEvent,
    authScopes: { scope },
    subscribe: async (_root: unknown, args: { after?: string | null }, ctx: Context) => {
      // Before the field's own setup, which may read the viewer's workspace.
      assertMaySubscribe(ctx.viewer, scope);
      return openEventStream<T>(ctx, args.after, { ...(await makeSpec(ctx, args as never)), scope });
    },
    resolve: (item: StreamItem<T>): T => {
      if (item instanceof GraphQLError) throw item;
      return item;
    },
  };
}

/** A string from an event payload, or null. */
export function payloadString(event: EventRecord, key: string): string | null {
  const value = event.payload[key];
  return typeof value === "string" ? value : null;
}
