/** Live session events: a chat UI subscribes to sessionEvents instead of polling for messages. */
import { encodeGlobalID } from "@pothos/plugin-relay";
import { GraphQLError } from "graphql";
import type { EventRecord } from "../../events/bus.ts";
import { builder } from "../../schema/builder.ts";
import { AFTER_DESCRIPTION, EventInterface, eventSubscription } from "../../schema/events.ts";
import { liveSessionWhere, sessionExists } from "./service.ts";
import { MessageRoleEnum, SessionMessageRef, SessionRef } from "./types.ts";

const SessionEventRef = builder.objectRef<EventRecord>("SessionEvent").implement({
  description: "Something happened in a session: session.created, session.message (one per appended message), session.closed, session.expired.",
  interfaces: [EventInterface],
  fields: (t) => ({
    sessionId: t.id({ description: "Global id of the session.", resolve: (e) => encodeGlobalID("Session", e.entityId) }),
    seq: t.int({ nullable: true, description: "session.message: the message's sequence number; null for other types.", resolve: (e) => (typeof e.payload.seq === "number" ? e.payload.seq : null) }),
    role: t.field({ type: MessageRoleEnum, nullable: true, description: "session.message: who said it; null for other types.", resolve: (e) => (typeof e.payload.role === "string" ? (e.payload.role as never) : null) }),
    message: t.prismaField({
      type: SessionMessageRef,
      nullable: true,
      description: "session.message: the message; null for other types, and once the session is gone.",
      resolve: (query, e, _args, ctx) =>
        typeof e.payload.seq === "number" ? ctx.db.sessionMessage.findFirst({ ...query, where: { sessionId: e.entityId, seq: e.payload.seq, workspaceId: e.workspaceId } }) : null,
    }),
    session: t.prismaField({
      type: SessionRef,
      nullable: true,
      description: "The session as it is now; null once it expired.",
      resolve: (query, e, _args, ctx) => ctx.db.session.findFirst({ ...query, where: { id: e.entityId, workspaceId: e.workspaceId, ...liveSessionWhere() } }),
    }),
  }),
});

builder.subscriptionFields((t) => ({
  sessionEvents: t.field({
    type: SessionEventRef,
    description: "The events of one session: every message as it is appended, in sequence order, then its closing or expiry. Resume with `after` to get the messages missed while away.",
    args: {
      sessionId: t.arg.globalID({ required: true, description: "Global id of the session." }),
      types: t.arg.stringList({ required: false, description: "Only these event types, e.g. [\"session.message\"]." }),
      after: t.arg.string({ required: false, description: AFTER_DESCRIPTION }),
    },
    ...eventSubscription<EventRecord>("sessions:read", async (ctx, args: { sessionId: { typename: string; id: string }; types?: string[] | null }) => {
      const id = args.sessionId.typename === "Session" ? args.sessionId.id : "";
      if (!(await sessionExists(ctx.db, ctx.viewer!.workspaceId, id))) {
        throw new GraphQLError(`session ${encodeGlobalID("Session", args.sessionId.id)} was not found in this workspace`, { extensions: { code: "NOT_FOUND", argument: "sessionId" } });
      }
      const types = args.types;
      return {
        topics: ["session"],
        entityIds: [id],
        select: async (events: readonly EventRecord[]) => events.map((e) => (e.entityId === id && (!types || types.includes(e.type)) ? e : null)),
      };
    }),
  }),
}));
