/** GraphQL types of chat sessions and their messages. */
import { builder, compoundPageSizeLimit } from "../../schema/builder.ts";
import type { Context } from "../../context.ts";
import { liveSessionWhere } from "./service.ts";

export const SessionStatusEnum = builder.enumType("SessionStatus", {
  description: "Whether a session takes messages: OPEN → CLOSED (closeSession; final).",
  values: {
    OPEN: { description: "Takes new messages." },
    CLOSED: { description: "Closed: its history stays readable, it takes no more messages." },
  } as const,
});

export const MessageRoleEnum = builder.enumType("MessageRole", {
  description: "Who said a message.",
  values: {
    SYSTEM: { description: "Instructions that frame the conversation." },
    USER: { description: "The person (or client) talking to the agent." },
    ASSISTANT: { description: "The agent's reply." },
    TOOL: { description: "The output of a tool the agent called." },
  } as const,
});

export const SessionMessageRef = builder.prismaNode("SessionMessage", {
  description: "One message of a session.",
  id: { field: "id", description: "Global id of the message." },
  authScopes: { scope: "sessions:read" },
  nullable: true,
  findUnique: (id: string, ctx: Context) => ({ id, workspaceId: ctx.viewer?.workspaceId ?? "", session: liveSessionWhere() }),
  fields: (t) => ({
    seq: t.exposeInt("seq", { description: "Its place in the session: 1, 2, 3… in the order messages were appended, without gaps." }),
    role: t.expose("role", { type: MessageRoleEnum, description: "Who said it." }),
    content: t.exposeString("content", { description: "What was said (at most SESSION_MAX_MESSAGE_BYTES)." }),
    metadata: t.field({ type: "JSONObject", description: "Free-form details given with it (model, token counts, tool call ids, …).", resolve: (m) => m.metadata as Record<string, unknown> }),
    author: t.exposeString("author", { description: "Subject of the token that appended it." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was appended." }),
  }),
});

export const SessionRef = builder.prismaNode("Session", {
  description: "A chat session with its message history (seed 000). Subscribe to sessionEvents to receive new messages as they are appended.",
  id: { field: "id", description: "Global id of the session." },
  authScopes: { scope: "sessions:read" },
  nullable: true,
  findUnique: (id: string, ctx: Context) => ({ id, workspaceId: ctx.viewer?.workspaceId ?? "", ...liveSessionWhere() }),
  fields: (t) => ({
    label: t.exposeString("label", { description: "What the session is about, e.g. Redis Architecture Discussion." }),
    swarm: t.relation("swarm", { nullable: true, description: "The swarm it belongs to, if any." }),
    status: t.expose("status", { type: SessionStatusEnum, description: "OPEN or CLOSED." }),
    createdBy: t.exposeString("createdBy", { description: "Subject of the token that created it." }),
    messageCount: t.exposeInt("messageCount", { description: "How many messages it holds (the last one's seq)." }),
    lastMessageAt: t.expose("lastMessageAt", { type: "DateTime", nullable: true, description: "When the last message was appended; null before the first." }),
    ttlSeconds: t.exposeInt("ttlSeconds", { nullable: true, description: "Idle lifetime: it expires this long after it was created or last appended to. Null: never." }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true, description: "When it expires unless a message is appended first; from then on no read returns it. Null: never." }),
    closedAt: t.expose("closedAt", { type: "DateTime", nullable: true, description: "When it was closed; null while OPEN." }),
    closedBy: t.exposeString("closedBy", { nullable: true, description: "Subject of the token that closed it." }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When it was created." }),
    messages: t.relatedConnection(
      "messages",
      {
        cursor: "sessionId_seq",
        description: "Its messages in order (seq ascending). `last: N` gives the latest N, still oldest first.",
        maxSize: compoundPageSizeLimit,
        query: { orderBy: { seq: "asc" } },
        totalCount: true,
      },
      {
        description: "A page of a session's messages.",
        fields: (c) => ({
          // A related connection carries its count as a number (a root connection as a function).
          totalCount: c.int({
            description: "How many messages the session holds, over all pages.",
            extensions: { pothosPrismaTotalCount: true },
            resolve: (parent) => (parent as { totalCount?: number }).totalCount ?? 0,
          }),
        }),
      },
      { description: "A message in a page." },
    ),
  }),
});
