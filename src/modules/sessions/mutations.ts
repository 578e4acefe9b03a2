/** Changes to chat sessions. Each mutation maps its input to one service call. */
import type { Session, SessionMessage } from "../../generated/prisma/client.ts";
import { actorOf } from "../../context.ts";
import { IllegalTransitionError, NotFoundError } from "../../errors.ts";
import { builder } from "../../schema/builder.ts";
import { rawId } from "../../schema/globalIds.ts";
import * as sessions from "./service.ts";
import { MessageRoleEnum, SessionMessageRef, SessionRef } from "./types.ts";

const CreateSessionInput = builder.inputType("CreateSessionInput", {
  description: "A new chat session.",
  fields: (t) => ({
    label: t.string({ required: true, description: "What it is about (1–200 characters), e.g. Redis Architecture Discussion." }),
    swarmId: t.globalID({ required: false, description: "The swarm it belongs to." }),
    ttlSeconds: t.int({ required: false, description: "Idle lifetime (1 s to a year): it expires this long after it was created or last appended to. Omitted: never." }),
  }),
});

const MessageInput = builder.inputType("MessageInput", {
  description: "One message to append.",
  fields: (t) => ({
    role: t.field({ type: MessageRoleEnum, required: true, description: "Who said it." }),
    content: t.string({ required: true, description: "What was said, at most SESSION_MAX_MESSAGE_BYTES in UTF-8." }),
    metadata: t.field({ type: "JSONObject", required: false, description: "Free-form details (model, token counts, tool call ids, …), at most 64 KiB as JSON." }),
  }),
});

const AppendMessagesInput = builder.inputType("AppendMessagesInput", {
  description: "Messages to append to a session, in order.",
  fields: (t) => ({
    sessionId: t.globalID({ required: true, description: "Global id of the session." }),
    messages: t.field({ type: [MessageInput], required: true, description: `1 to ${sessions.MAX_MESSAGES_PER_APPEND} messages, appended in this order after every message appended before.` }),
  }),
});

const SessionIdInput = builder.inputType("CloseSessionInput", {
  description: "Which session to close.",
  fields: (t) => ({ sessionId: t.globalID({ required: true, description: "Global id of the session." }) }),
});

const SessionPayload = (name: string, description: string) =>
  builder.objectRef<{ session: Session }>(name).implement({
    description,
    fields: (t) => ({ session: t.field({ type: SessionRef, description: "The session as it is after the change.", resolve: (p) => p.session }) }),
  });

const AppendMessagesPayload = builder.objectRef<{ session: Session; messages: SessionMessage[] }>("AppendMessagesPayload").implement({
  description: "The appended messages and the session after the append.",
  fields: (t) => ({
    session: t.field({ type: SessionRef, description: "The session (messageCount, lastMessageAt and expiresAt updated).", resolve: (p) => p.session }),
    messages: t.field({ type: [SessionMessageRef], description: "The appended messages with their sequence numbers, in order.", resolve: (p) => p.messages }),
  }),
});

builder.mutationFields((t) => ({
  createSession: t.field({
    type: SessionPayload("CreateSessionPayload", "The new session (OPEN, no messages)."),
    description: "Opens a chat session.",
    authScopes: { scope: "sessions:write" },
    errors: { types: [NotFoundError] },
    args: { input: t.arg({ type: CreateSessionInput, required: true, description: "The session." }) },
    resolve: async (_root, { input }, ctx) => ({
      session: await sessions.createSession(ctx.db, actorOf(ctx), { label: input.label, swarmId: input.swarmId ? rawId(input.swarmId, "Swarm") : null, ttlSeconds: input.ttlSeconds }),
    }),
  }),
  appendMessages: t.field({
    type: AppendMessagesPayload,
    description: "Appends messages to an OPEN session; subscribers of sessionEvents receive each one. Concurrent appends are serialized: sequence numbers never repeat or skip.",
    authScopes: { scope: "sessions:write" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: AppendMessagesInput, required: true, description: "Which session, and the messages." }) },
    resolve: (_root, { input }, ctx) =>
      sessions.appendMessages(
        ctx.db,
        actorOf(ctx),
        rawId(input.sessionId, "Session"),
        input.messages.map((m) => ({ role: m.role, content: m.content, metadata: m.metadata })),
        { maxMessageBytes: ctx.config.sessionMaxMessageBytes },
      ),
  }),
  closeSession: t.field({
    type: SessionPayload("CloseSessionPayload", "The closed session."),
    description: "Closes an OPEN session: its history stays readable; appends are refused from now on.",
    authScopes: { scope: "sessions:write" },
    errors: { types: [NotFoundError, IllegalTransitionError] },
    args: { input: t.arg({ type: SessionIdInput, required: true, description: "Which session." }) },
    resolve: async (_root, { input }, ctx) => ({ session: await sessions.closeSession(ctx.db, actorOf(ctx), rawId(input.sessionId, "Session")) }),
  }),
}));
