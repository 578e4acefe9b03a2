/** memoryEvents: a key-prefix subscription sees writes as they happen, and resumes after its last cursor. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeleteMemoryDocument, EventLogHeadDocument, MemoryEventsDocument, PutMemoryDocument, type PutMemoryInput } from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  server = await startTestServer();
  api = server.client({ workspace: "mem-events", subject: "planner", scopes: ["memory:write"] });
});
afterAll(() => server?.stop());

const put = async (input: PutMemoryInput) => expectType((await api.request(PutMemoryDocument, { input })).putMemory, "PutMemoryPayload");

describe("memoryEvents", () => {
  it("a prefix subscriber receives exactly the writes under its prefix, live, and resumes after its cursor without a gap or a repeat", async () => {
    const head = (await api.request(EventLogHeadDocument, {})).eventLogHead;
    const token = server.token({ workspace: "mem-events", subject: "watcher", scopes: ["memory:read"] });
    const first = wsClient(server.wsUrl, token);
    const live = collect(first, MemoryEventsDocument, { filter: { namespace: "proj", keyPrefix: "api/" }, after: head });
    await put({ namespace: "proj", key: "api/a", value: { v: 1 } });
    await put({ namespace: "proj", key: "db/x", value: { v: 1 } });
    await put({ namespace: "other", key: "api/a", value: { v: 1 } });
    await put({ namespace: "proj", key: "api/b", value: { v: 1 } });
    const got = await live.waitFor(2);
    expect(got.map((e) => [e.memoryEvents.type, e.memoryEvents.key, e.memoryEvents.version])).toEqual([
      ["memory.created", "api/a", 1],
      ["memory.created", "api/b", 1],
    ]);
    expect(got[0]!.memoryEvents).toMatchObject({ actor: "planner", namespace: "proj", accessLevel: "WORKSPACE", entry: { key: "api/a", value: { v: 1 } } });
    const cursor = got[1]!.memoryEvents.cursor;
    await first.dispose();

    // Missed while away.
    await put({ namespace: "proj", key: "api/a", value: { v: 2 }, merge: true });
    await put({ namespace: "proj", key: "db/y", value: 1 });
    expectType((await api.request(DeleteMemoryDocument, { input: { namespace: "proj", key: "api/b" } })).deleteMemory, "DeleteMemoryPayload");

    const second = wsClient(server.wsUrl, token);
    try {
      const resumed = collect(second, MemoryEventsDocument, { filter: { namespace: "proj", keyPrefix: "api/" }, after: cursor });
      await put({ namespace: "proj", key: "api/c", value: 3 });
      const all = await resumed.waitFor(3);
      expect(all.map((e) => [e.memoryEvents.type, e.memoryEvents.key, e.memoryEvents.version])).toEqual([
        ["memory.updated", "api/a", 2],
        ["memory.deleted", "api/b", 1],
        ["memory.created", "api/c", 1],
      ]);
      expect(all[1]!.memoryEvents.entry).toBeNull();
      await server.events.tailer.drain();
      expect(resumed.events).toHaveLength(3);
      expect(resumed.errors).toEqual([]);
    } finally {
      await second.dispose();
    }
  });

  it("refuses a malformed namespace filter with BAD_USER_INPUT", async () => {
    const ws = wsClient(server.wsUrl, server.token({ workspace: "mem-events", scopes: ["memory:read"] }));
    try {
      const bad = collect(ws, MemoryEventsDocument, { filter: { namespace: "not a namespace" } });
      await bad.ended;
      expect(JSON.stringify(bad.errors)).toContain("BAD_USER_INPUT");
    } finally {
      await ws.dispose();
    }
  });
});
