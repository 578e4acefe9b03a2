/**
 * The sweeper (LEASE_SWEEP_INTERVAL_MS) deletes expired memory entries, context items and
 * sessions, says so with memory.expired / context.expired / session.expired events, and gives
 * memory bytes back to the memory.bytes quota.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppendMessagesDocument,
  ContextEventsDocument,
  CreateSessionDocument,
  MemoryEventsDocument,
  MemoryStatsDocument,
  PublishContextDocument,
  PutMemoryDocument,
  SessionEventsDocument,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  server = await startTestServer({ config: { leaseSweepIntervalMs: 100 } });
  api = server.client({ workspace: "sweep", subject: "w", scopes: ["memory:write", "sessions:write"] });
});
afterAll(() => server?.stop());

const count = async (table: "MemoryEntry" | "ContextItem" | "ContextCustody" | "Session" | "SessionMessage") =>
  (await server.db.prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM "${table}" WHERE "workspaceId" = 'sweep'`))[0]!.n;

describe("the sweeper", () => {
  it("deletes what expired, with an event each, and frees the memory bytes", async () => {
    const memory = [];
    for (const key of ["a", "b"]) memory.push(expectType((await api.request(PutMemoryDocument, { input: { namespace: "n", key, value: { key }, ttlSeconds: 3600 } })).putMemory, "PutMemoryPayload").entry);
    expectType((await api.request(PutMemoryDocument, { input: { namespace: "n", key: "stays", value: 1 } })).putMemory, "PutMemoryPayload");
    expectType((await api.request(PublishContextDocument, { input: { name: "brief", data: { x: 1 }, ttlSeconds: 3600 } })).publishContext, "PublishContextPayload");
    const session = expectType((await api.request(CreateSessionDocument, { input: { label: "chat", ttlSeconds: 3600 } })).createSession, "CreateSessionPayload").session;
    expectType((await api.request(AppendMessagesDocument, { input: { sessionId: session.id, messages: [{ role: "USER", content: "hi" }] } })).appendMessages, "AppendMessagesPayload");
    const used = (await api.request(MemoryStatsDocument, {})).memoryStats.quota.allocated;

    const ws = wsClient(server.wsUrl, server.token({ workspace: "sweep", scopes: ["memory:read", "sessions:read"] }));
    try {
      // Unfiltered, after "0": each replays what was written, which proves it is set up before anything expires.
      const memoryEvents = collect(ws, MemoryEventsDocument, { after: "0" });
      const contextEvents = collect(ws, ContextEventsDocument, { after: "0" });
      const sessionEvents = collect(ws, SessionEventsDocument, { sessionId: session.id, after: "0" });
      await Promise.all([memoryEvents.waitFor(3), contextEvents.waitFor(1), sessionEvents.waitFor(2)]);
      for (const table of ["MemoryEntry", "ContextItem", "Session"]) {
        await server.db.prisma.$executeRawUnsafe(`UPDATE "${table}" SET "expiresAt" = now() - interval '1 second' WHERE "workspaceId" = 'sweep' AND "expiresAt" IS NOT NULL`);
      }
      const expired = (await memoryEvents.waitFor(5)).slice(3);
      expect(expired.map((e) => [e.memoryEvents.type, e.memoryEvents.key]).sort()).toEqual([["memory.expired", "a"], ["memory.expired", "b"]]);
      expect(expired[0]!.memoryEvents).toMatchObject({ actor: "system", entry: null });
      expect((await contextEvents.waitFor(2))[1]!.contextEvents).toMatchObject({ type: "context.expired", name: "brief", actor: "system", item: null });
      expect((await sessionEvents.waitFor(3))[2]!.sessionEvents).toMatchObject({ type: "session.expired", actor: "system" });
    } finally {
      await ws.dispose();
    }
    expect(await count("MemoryEntry")).toBe(1);
    expect(await count("ContextItem")).toBe(0);
    expect(await count("ContextCustody")).toBe(0);
    expect(await count("Session")).toBe(0);
    expect(await count("SessionMessage")).toBe(0);
    expect((await api.request(MemoryStatsDocument, {})).memoryStats.quota.allocated).toBe(used - memory[0]!.bytes - memory[1]!.bytes);
  });
});
