/**
 * Memory access levels across principals, agents, swarms and workspaces, on every read path:
 * by key, by global id, lists, full-text search, stats, events — and on writes and deletes.
 *
 * alice and bob run agents in swarm S1, carol runs one in S2, dave runs none; ops is an admin.
 * alice writes one WORKSPACE, one SWARM (S1) and one PRIVATE entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateSwarmDocument,
  DeleteMemoryDocument,
  JoinSwarmDocument,
  LeaveSwarmDocument,
  MemoriesDocument,
  MemoryDocument,
  MemoryEventsDocument,
  MemoryNodeDocument,
  MemoryStatsDocument,
  PutMemoryDocument,
  RegisterAgentDocument,
  type PutMemoryInput,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WS = "acl";
const NS = "plans";
let server: TestServer;
let ops: GraphQLClient;
const clients: Record<string, GraphQLClient> = {};
const agents: Record<string, string> = {};
let s1: string;
let privateId: string;

async function put(client: GraphQLClient, input: PutMemoryInput) {
  return (await client.request(PutMemoryDocument, { input })).putMemory;
}
async function keysSeenBy(name: string): Promise<string[]> {
  const page = (await clients[name]!.request(MemoriesDocument, { filter: { namespace: NS } })).memories;
  expect(page.totalCount).toBe(page.edges.length);
  return page.edges.map((e) => e.node.key);
}

beforeAll(async () => {
  server = await startTestServer();
  ops = server.client({ workspace: WS, subject: "ops" });
  for (const name of ["alice", "bob", "carol", "dave"]) {
    clients[name] = server.client({ workspace: WS, subject: name, scopes: ["memory:write", "agents:write", "swarms:read"] });
  }
  for (const name of ["alice", "bob", "carol"]) {
    agents[name] = expectType((await clients[name]!.request(RegisterAgentDocument, { input: { name: `${name}-agent`, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent.id;
  }
  const swarm = async (name: string) => expectType((await ops.request(CreateSwarmDocument, { input: { name, objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
  s1 = await swarm("S1");
  const s2 = await swarm("S2");
  for (const [agent, swarmId] of [[agents.alice!, s1], [agents.bob!, s1], [agents.carol!, s2]] as const) {
    expectType((await ops.request(JoinSwarmDocument, { swarmId, agentId: agent })).joinSwarm, "JoinSwarmPayload");
  }
  const alice = clients.alice!;
  expectType(await put(alice, { namespace: NS, key: "roadmap/public", value: { text: "secret roadmap, open to all" } }), "PutMemoryPayload");
  expectType(await put(alice, { namespace: NS, key: "roadmap/swarm", value: { text: "secret roadmap for S1" }, accessLevel: "SWARM", swarmId: s1 }), "PutMemoryPayload");
  privateId = expectType(await put(alice, { namespace: NS, key: "roadmap/private", value: { text: "secret roadmap, mine" }, accessLevel: "PRIVATE" }), "PutMemoryPayload").entry.id;
});
afterAll(() => server?.stop());

describe("reads", () => {
  it("by key, lists, search, stats and node(id) each show exactly what the access level allows", async () => {
    const expected: Record<string, string[]> = {
      alice: ["roadmap/private", "roadmap/public", "roadmap/swarm"],
      bob: ["roadmap/public", "roadmap/swarm"],
      carol: ["roadmap/public"],
      dave: ["roadmap/public"],
    };
    clients.ops = ops;
    expected.ops = expected.alice!;
    for (const [name, keys] of Object.entries(expected)) {
      const client = clients[name]!;
      expect(await keysSeenBy(name), name).toEqual(keys);
      const search = (await client.request(MemoriesDocument, { filter: { text: "secret roadmap" } })).memories;
      expect(search.edges.map((e) => e.node.key).sort(), name).toEqual(keys);
      expect((await client.request(MemoryStatsDocument, { namespace: NS })).memoryStats.entries, name).toBe(keys.length);
      for (const key of ["roadmap/public", "roadmap/swarm", "roadmap/private"]) {
        const found = (await client.request(MemoryDocument, { namespace: NS, key })).memory;
        expect(found !== null, `${name} reads ${key}`).toBe(keys.includes(key));
      }
      expect((await client.request(MemoryNodeDocument, { id: privateId })).node !== null, name).toBe(keys.includes("roadmap/private"));
    }
  });

  it("another workspace sees none of it, even with the same subject, and has its own key space", async () => {
    const elsewhere = server.client({ workspace: "acl-other", subject: "alice", scopes: ["memory:write"] });
    expect((await elsewhere.request(MemoriesDocument, { filter: { text: "secret roadmap" } })).memories.totalCount).toBe(0);
    expect((await elsewhere.request(MemoryDocument, { namespace: NS, key: "roadmap/public" })).memory).toBeNull();
    expect((await elsewhere.request(MemoryNodeDocument, { id: privateId })).node).toBeNull();
    const own = expectType(await put(elsewhere, { namespace: NS, key: "roadmap/public", value: 1, expectedVersion: 0 }), "PutMemoryPayload");
    expect(own.created).toBe(true);
    expect((await clients.alice!.request(MemoryDocument, { namespace: NS, key: "roadmap/public" })).memory!.value).toEqual({ text: "secret roadmap, open to all" });
  });
});

describe("writes", () => {
  it("an entry you may not see can be neither overwritten nor deleted; only its owner changes its access level", async () => {
    const bob = clients.bob!;
    const denied = expectType(await put(bob, { namespace: NS, key: "roadmap/private", value: "mine now" }), "AccessDeniedError");
    expect(denied).toMatchObject({ code: "ACCESS_DENIED", resource: `memory ${NS}/roadmap/private` });
    expect(denied.message).not.toContain("secret");
    const nothing = expectType((await bob.request(DeleteMemoryDocument, { input: { namespace: NS, key: "roadmap/", cascade: true } })).deleteMemory, "DeleteMemoryPayload");
    expect(nothing.deleted.map((d) => d.key)).toEqual(["roadmap/public", "roadmap/swarm"]);
    // Put them back, as alice, and check the private one was untouched.
    expectType(await put(clients.alice!, { namespace: NS, key: "roadmap/public", value: { text: "secret roadmap, open to all" } }), "PutMemoryPayload");
    expectType(await put(clients.alice!, { namespace: NS, key: "roadmap/swarm", value: { text: "secret roadmap for S1" }, accessLevel: "SWARM", swarmId: s1 }), "PutMemoryPayload");
    expect((await clients.alice!.request(MemoryDocument, { namespace: NS, key: "roadmap/private" })).memory).toMatchObject({ version: 1, value: { text: "secret roadmap, mine" } });

    // bob may write the workspace entry, but not take it private.
    expectType(await put(bob, { namespace: NS, key: "roadmap/public", value: { text: "secret roadmap, edited by bob" }, expectedVersion: 1 }), "PutMemoryPayload");
    const takeover = expectType(await put(bob, { namespace: NS, key: "roadmap/public", value: 1, accessLevel: "PRIVATE" }), "AccessDeniedError");
    expect(takeover.message).toContain("only its owner (alice)");
    expect(await keysSeenBy("carol")).toEqual(["roadmap/public"]);
  });

  it("writing as an agent: only one you registered; whoever acts as it may read the entry", async () => {
    const bob = clients.bob!;
    expect(expectType(await put(bob, { namespace: NS, key: "as-alice", value: 1, agentId: agents.alice! }), "NotFoundError").entityType).toBe("Agent");
    const written = expectType(await put(ops, { namespace: NS, key: "for-carol", value: { brief: "yours" }, accessLevel: "PRIVATE", agentId: agents.carol! }), "PutMemoryPayload");
    expect(written.entry).toMatchObject({ owner: "ops", agent: { id: agents.carol } });
    expect((await clients.carol!.request(MemoryDocument, { namespace: NS, key: "for-carol" })).memory).toMatchObject({ value: { brief: "yours" } });
    expect((await bob.request(MemoryDocument, { namespace: NS, key: "for-carol" })).memory).toBeNull();
  });
});

describe("events", () => {
  it("memoryEvents delivers only the events of entries the subscriber may see", async () => {
    const marker = `marker-${Date.now()}`;
    const streams = Object.fromEntries(
      ["alice", "bob", "carol"].map((name) => {
        const ws = wsClient(server.wsUrl, server.token({ workspace: WS, subject: name, scopes: ["memory:read"] }));
        return [name, { ws, events: collect(ws, MemoryEventsDocument, { filter: { namespace: "events-acl" }, after: "0" }) }];
      }),
    );
    try {
      const alice = clients.alice!;
      expectType(await put(alice, { namespace: "events-acl", key: "private", value: { text: "hidden" }, accessLevel: "PRIVATE" }), "PutMemoryPayload");
      expectType(await put(alice, { namespace: "events-acl", key: "swarm", value: { text: "s1 only" }, accessLevel: "SWARM", swarmId: s1 }), "PutMemoryPayload");
      expectType(await put(alice, { namespace: "events-acl", key: "private", value: { text: "hidden v2" } }), "PutMemoryPayload");
      expectType((await alice.request(DeleteMemoryDocument, { input: { namespace: "events-acl", key: "private" } })).deleteMemory, "DeleteMemoryPayload");
      expectType(await put(alice, { namespace: "events-acl", key: marker, value: 1 }), "PutMemoryPayload");
      const seen = async (name: string, n: number) => (await streams[name]!.events.waitFor(n)).map((e) => `${e.memoryEvents.type} ${e.memoryEvents.key}`);
      expect(await seen("alice", 5)).toEqual(["memory.created private", "memory.created swarm", "memory.updated private", "memory.deleted private", `memory.created ${marker}`]);
      expect(await seen("bob", 2)).toEqual(["memory.created swarm", `memory.created ${marker}`]);
      expect(await seen("carol", 1)).toEqual([`memory.created ${marker}`]);
      // Events are in log order, so once the marker arrived nothing earlier can follow.
      await server.events.tailer.drain();
      expect(streams.bob!.events.events).toHaveLength(2);
      expect(streams.carol!.events.events).toHaveLength(1);
      // The nested entry applies the rule too.
      expect(streams.bob!.events.events[0]!.memoryEvents.entry).toMatchObject({ key: "swarm", value: { text: "s1 only" } });
    } finally {
      await Promise.all(Object.values(streams).map((s) => s.ws.dispose()));
    }
  });
});

describe("membership is live", () => {
  it("an agent leaving the swarm takes its principal's access to the swarm's entries with it", async () => {
    expect(await keysSeenBy("bob")).toContain("roadmap/swarm");
    expectType((await ops.request(LeaveSwarmDocument, { swarmId: s1, agentId: agents.bob! })).leaveSwarm, "LeaveSwarmPayload");
    expect(await keysSeenBy("bob")).not.toContain("roadmap/swarm");
    expect((await clients.bob!.request(MemoryDocument, { namespace: NS, key: "roadmap/swarm" })).memory).toBeNull();
    expectType((await ops.request(JoinSwarmDocument, { swarmId: s1, agentId: agents.bob! })).joinSwarm, "JoinSwarmPayload");
    expect(await keysSeenBy("bob")).toContain("roadmap/swarm");
  });
});
