/**
 * Chat sessions: message history as a connection (last N), sessionEvents instead of polling
 * (live, resumable), concurrent appends in order, closing, idle TTL, bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppendMessagesDocument,
  CloseSessionDocument,
  CreateSessionDocument,
  CreateSwarmDocument,
  EventLogHeadDocument,
  SessionEventsDocument,
  SessionMessagesDocument,
  SessionsDocument,
  type MessageInput,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  server = await startTestServer({ config: { sessionMaxMessageBytes: 256, leaseSweepIntervalMs: 0 } });
  api = server.client({ workspace: "chat", subject: "cli", scopes: ["sessions:write", "swarms:read"] });
});
afterAll(() => server?.stop());

/** The database id inside a global id. */
const rawIdOf = (globalId: string) => Buffer.from(globalId, "base64").toString().split(":")[1]!;

async function createSession(label: string, extra: { swarmId?: string; ttlSeconds?: number } = {}, client = api) {
  return expectType((await client.request(CreateSessionDocument, { input: { label, ...extra } })).createSession, "CreateSessionPayload").session;
}
async function append(sessionId: string, messages: MessageInput[], client = api) {
  return (await client.request(AppendMessagesDocument, { input: { sessionId, messages } })).appendMessages;
}

describe("history", () => {
  it("keeps messages in order; last: N gives the latest N oldest first; pages back with before", async () => {
    const ops = server.client({ workspace: "chat" });
    const swarm = expectType((await ops.request(CreateSwarmDocument, { input: { name: "redis", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    const session = await createSession("Redis Architecture Discussion", { swarmId: swarm.id });
    expect(session).toMatchObject({ label: "Redis Architecture Discussion", status: "OPEN", swarm: { id: swarm.id }, createdBy: "cli", messageCount: 0, ttlSeconds: null, expiresAt: null });
    const turns: MessageInput[] = [
      { role: "USER", content: "What's the best sharding strategy for Redis?" },
      { role: "ASSISTANT", content: "For >50M keys, Redis Cluster with consistent hashing is optimal...", metadata: { model: "claude", tokens: 31 } },
      { role: "USER", content: "What about replication?" },
      { role: "ASSISTANT", content: "Replication factor of 3 is recommended for high availability..." },
    ];
    const first = expectType(await append(session.id, turns.slice(0, 2)), "AppendMessagesPayload");
    expect(first.messages.map((m) => [m.seq, m.role, m.author])).toEqual([[1, "USER", "cli"], [2, "ASSISTANT", "cli"]]);
    expect(first.messages[1]!.metadata).toEqual({ model: "claude", tokens: 31 });
    expect(expectType(await append(session.id, turns.slice(2)), "AppendMessagesPayload").session.messageCount).toBe(4);

    const latest = (await api.request(SessionMessagesDocument, { id: session.id, last: 2 })).session!;
    expect(latest.messages.totalCount).toBe(4);
    expect(latest.messages.edges.map((e) => [e.node.seq, e.node.content])).toEqual([[3, turns[2]!.content], [4, turns[3]!.content]]);
    expect(latest.messages.pageInfo.hasPreviousPage).toBe(true);
    const earlier = (await api.request(SessionMessagesDocument, { id: session.id, last: 10, before: latest.messages.pageInfo.startCursor })).session!;
    expect(earlier.messages.edges.map((e) => e.node.seq)).toEqual([1, 2]);
    const all = (await api.request(SessionMessagesDocument, { id: session.id, first: 10 })).session!;
    expect(all.messages.edges.map((e) => e.node.role)).toEqual(["USER", "ASSISTANT", "USER", "ASSISTANT"]);

    // Closing keeps the history and refuses further messages.
    expect(expectType((await api.request(CloseSessionDocument, { sessionId: session.id })).closeSession, "CloseSessionPayload").session).toMatchObject({ status: "CLOSED", closedBy: "cli" });
    const refused = expectType(await append(session.id, [{ role: "USER", content: "still there?" }]), "IllegalTransitionError");
    expect(refused).toMatchObject({ fromStatus: "CLOSED", action: "appendMessages", allowedFrom: ["OPEN"] });
    expect(expectType((await api.request(CloseSessionDocument, { sessionId: session.id })).closeSession, "IllegalTransitionError").fromStatus).toBe("CLOSED");
    expect((await api.request(SessionMessagesDocument, { id: session.id, first: 10 })).session!.messages.totalCount).toBe(4);
    expect((await api.request(SessionsDocument, { filter: { status: ["CLOSED"] } })).sessions.edges.map((e) => e.node.id)).toContain(session.id);
  });
});

describe("sessionEvents", () => {
  it("streams each appended message live, in order, and resumes after its cursor", async () => {
    const session = await createSession("live chat");
    const head = (await api.request(EventLogHeadDocument, {})).eventLogHead;
    const token = server.token({ workspace: "chat", subject: "ui", scopes: ["sessions:read"] });
    const first = wsClient(server.wsUrl, token);
    const live = collect(first, SessionEventsDocument, { sessionId: session.id, after: head });
    expectType(await append(session.id, [{ role: "USER", content: "hello" }, { role: "ASSISTANT", content: "hi there" }]), "AppendMessagesPayload");
    const got = await live.waitFor(2);
    expect(got.map((e) => [e.sessionEvents.type, e.sessionEvents.seq, e.sessionEvents.role, e.sessionEvents.message?.content])).toEqual([
      ["session.message", 1, "USER", "hello"],
      ["session.message", 2, "ASSISTANT", "hi there"],
    ]);
    const cursor = got[1]!.sessionEvents.cursor;
    await first.dispose();

    expectType(await append(session.id, [{ role: "USER", content: "missed" }]), "AppendMessagesPayload");
    const other = await createSession("another conversation");
    expectType(await append(other.id, [{ role: "USER", content: "not this one" }]), "AppendMessagesPayload");

    const second = wsClient(server.wsUrl, token);
    try {
      const resumed = collect(second, SessionEventsDocument, { sessionId: session.id, after: cursor });
      expectType((await api.request(CloseSessionDocument, { sessionId: session.id })).closeSession, "CloseSessionPayload");
      const rest = await resumed.waitFor(2);
      expect(rest.map((e) => [e.sessionEvents.type, e.sessionEvents.seq, e.sessionEvents.message?.content ?? null])).toEqual([
        ["session.message", 3, "missed"],
        ["session.closed", null, null],
      ]);
      await server.events.tailer.drain();
      expect(resumed.events).toHaveLength(2);
    } finally {
      await second.dispose();
    }
  });

  it("refuses an unknown session, and one of another workspace, with NOT_FOUND", async () => {
    const elsewhere = await createSession("other tenant", {}, server.client({ workspace: "chat-other", scopes: ["sessions:write"] }));
    const ws = wsClient(server.wsUrl, server.token({ workspace: "chat", scopes: ["sessions:read"] }));
    try {
      for (const sessionId of [elsewhere.id, "U2Vzc2lvbjpub3BlIQ=="]) {
        const sub = collect(ws, SessionEventsDocument, { sessionId });
        await sub.ended;
        expect(JSON.stringify(sub.errors)).toContain("NOT_FOUND");
      }
    } finally {
      await ws.dispose();
    }
    expect((await api.request(SessionMessagesDocument, { id: elsewhere.id, first: 1 })).session).toBeNull();
    expect(expectType(await append(elsewhere.id, [{ role: "USER", content: "x" }]), "NotFoundError").entityType).toBe("Session");
  });
});

describe("concurrent appends", () => {
  it("10 writers appending 5 times each: 100 messages numbered 1..100, each append contiguous and in its own order, delivered in order", async () => {
    const session = await createSession("busy");
    const ws = wsClient(server.wsUrl, server.token({ workspace: "chat", scopes: ["sessions:read"] }));
    try {
      const events = collect(ws, SessionEventsDocument, { sessionId: session.id, types: ["session.message"], after: (await api.request(EventLogHeadDocument, {})).eventLogHead });
      const writers = Array.from({ length: 10 }, (_, w) => server.client({ workspace: "chat", subject: `writer-${w}`, scopes: ["sessions:write"] }));
      await Promise.all(
        writers.map(async (client, w) => {
          for (let n = 0; n < 5; n++) {
            expectType(await append(session.id, [{ role: "USER", content: `w${w} n${n} a` }, { role: "ASSISTANT", content: `w${w} n${n} b` }], client), "AppendMessagesPayload");
          }
        }),
      );
      const page = (await api.request(SessionMessagesDocument, { id: session.id, first: 100 })).session!;
      expect(page.messageCount).toBe(100);
      const messages = page.messages.edges.map((e) => e.node);
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      for (let i = 0; i < 100; i += 2) {
        const [a, b] = [messages[i]!, messages[i + 1]!];
        expect(b.content).toBe(a.content.replace(/ a$/, " b"));
        expect(a.author).toBe(b.author);
      }
      for (let w = 0; w < 10; w++) {
        const own = messages.filter((m) => m.author === `writer-${w}`).map((m) => m.content);
        expect(own).toEqual(Array.from({ length: 5 }, (_, n) => [`w${w} n${n} a`, `w${w} n${n} b`]).flat());
      }
      const delivered = await events.waitFor(100);
      expect(delivered.map((e) => e.sessionEvents.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    } finally {
      await ws.dispose();
    }
  });
});

describe("TTL", () => {
  it("an appended message moves the idle expiry; an expired session vanishes from every read at once", async () => {
    const session = await createSession("idle", { ttlSeconds: 3600 });
    expect(Date.parse(session.expiresAt!)).toBeGreaterThan(Date.now() + 3_500_000);
    await server.db.prisma.$executeRaw`UPDATE "Session" SET "expiresAt" = now() + interval '5 seconds' WHERE id = ${rawIdOf(session.id)}`;
    const renewed = expectType(await append(session.id, [{ role: "USER", content: "still here" }]), "AppendMessagesPayload").session;
    expect(Date.parse(renewed.expiresAt!)).toBeGreaterThan(Date.now() + 3_500_000);

    await server.db.prisma.$executeRaw`UPDATE "Session" SET "expiresAt" = now() - interval '1 second' WHERE id = ${rawIdOf(session.id)}`;
    // Gone from every read at once (this server runs no sweeper).
    expect((await api.request(SessionMessagesDocument, { id: session.id, first: 1 })).session).toBeNull();
    expect((await api.request(SessionsDocument, {})).sessions.edges.map((e) => e.node.id)).not.toContain(session.id);
    expect(expectType(await append(session.id, [{ role: "USER", content: "too late" }]), "NotFoundError").entityType).toBe("Session");
    expect(expectType((await api.request(CloseSessionDocument, { sessionId: session.id })).closeSession, "NotFoundError").entityType).toBe("Session");
  });
});

describe("bad input", () => {
  it("validates roles, content size, message counts and labels", async () => {
    const session = await createSession("validation");
    const badRole = await api.raw(AppendMessagesDocument, { input: { sessionId: session.id, messages: [{ role: "ROBOT" as never, content: "beep" }] } });
    expect(badRole.status).toBe(400);
    expect(badRole.errors?.[0]?.message).toContain("ROBOT");
    const tooBig = expectType(await append(session.id, [{ role: "USER", content: "ok" }, { role: "USER", content: "é".repeat(129) }]), "InvalidInputError");
    expect(tooBig.issues).toEqual([{ path: "input.messages.1.content", message: expect.stringContaining("at most 256 bytes") }]);
    expect(expectType(await append(session.id, []), "InvalidInputError").issues).toEqual([{ path: "input.messages", message: "must hold at least one message" }]);
    const many = Array.from({ length: 101 }, () => ({ role: "USER" as const, content: "x" }));
    expect(expectType(await append(session.id, many), "InvalidInputError").issues[0]!.message).toContain("at most 100");
    expect((await api.request(SessionMessagesDocument, { id: session.id, first: 1 })).session!.messageCount).toBe(0);
    const blank = expectType((await api.request(CreateSessionDocument, { input: { label: "   " } })).createSession, "InvalidInputError");
    expect(blank.issues).toEqual([{ path: "input.label", message: "must not be empty" }]);
    expect(expectType((await api.request(CreateSessionDocument, { input: { label: "x", ttlSeconds: 0 } })).createSession, "InvalidInputError").issues[0]!.path).toBe("input.ttlSeconds");
    const readOnly = server.client({ workspace: "chat", scopes: ["sessions:read"] });
    expect((await readOnly.raw(AppendMessagesDocument, { input: { sessionId: session.id, messages: [{ role: "USER", content: "x" }] } })).errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN" });
  });
});
