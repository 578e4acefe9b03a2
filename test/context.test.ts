/**
 * Shared context (seed 000's cross-swarm coordination): scope by swarm, propagation with
 * shareContext, the chain of custody (publish, update, every read, every share), TTL, events
 * under the scope rule, bad input.
 *
 * pa's agent is in swarm A, pb's in B, pc's in C; pd runs no agent; ops is an admin.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ContextCustodyDocument,
  ContextEventsDocument,
  ContextItemDocument,
  ContextItemsDocument,
  CreateSwarmDocument,
  JoinSwarmDocument,
  MemoryNodeDocument,
  PublishContextDocument,
  RegisterAgentDocument,
  ShareContextDocument,
  type PublishContextInput,
  type ShareContextInput,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WS = "ctx";
let server: TestServer;
let ops: GraphQLClient;
const p: Record<string, GraphQLClient> = {};
const agent: Record<string, string> = {};
const swarm: Record<string, string> = {};

const publish = async (client: GraphQLClient, input: PublishContextInput) => (await client.request(PublishContextDocument, { input })).publishContext;
const share = async (client: GraphQLClient, input: ShareContextInput) => (await client.request(ShareContextDocument, { input })).shareContext;
const custody = async (name: string) =>
  (await ops.request(ContextCustodyDocument, { name })).contextItem!.custody.map((c) => [c.action, c.actor, ...(c.swarms.length ? [c.swarms.map((s) => s.id)] : [])]);

beforeAll(async () => {
  server = await startTestServer({ config: { leaseSweepIntervalMs: 0, memoryMaxValueBytes: 1024 } });
  ops = server.client({ workspace: WS, subject: "ops" });
  for (const name of ["A", "B", "C"]) {
    swarm[name] = expectType((await ops.request(CreateSwarmDocument, { input: { name, objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
  }
  for (const [name, swarmName] of [["pa", "A"], ["pb", "B"], ["pc", "C"], ["pd", null]] as const) {
    p[name] = server.client({ workspace: WS, subject: name, scopes: ["memory:write", "agents:write", "swarms:read"] });
    if (!swarmName) continue;
    agent[name] = expectType((await p[name]!.request(RegisterAgentDocument, { input: { name: `${name}-agent`, type: "researcher" } })).registerAgent, "RegisterAgentPayload").agent.id;
    expectType((await ops.request(JoinSwarmDocument, { swarmId: swarm[swarmName]!, agentId: agent[name]! })).joinSwarm, "JoinSwarmPayload");
  }
});
afterAll(() => server?.stop());

describe("scope, propagation and custody", () => {
  it("swarm A shares a finding, swarm B retrieves and propagates it to C; the chain of custody records every step", async () => {
    const data = { finding_id: "finding-001", claim: "Redis Cluster optimal for >50M keys", confidence: 0.92, citations: ["if://citation/redis-perf-123"] };
    const published = expectType(await publish(p.pa!, { name: "finding-001", data, swarmIds: [swarm.A!], ttlSeconds: 86400, agentId: agent.pa }), "PublishContextPayload");
    expect(published).toMatchObject({ created: true, item: { name: "finding-001", scope: "SWARMS", swarms: [{ id: swarm.A }], createdBy: "pa" } });
    expect(Date.parse(published.item.expiresAt!)).toBeGreaterThan(Date.now() + 86_000_000);
    const itemId = published.item.id;

    // B cannot see it yet, by any path.
    expect((await p.pb!.request(ContextItemDocument, { name: "finding-001" })).contextItem).toBeNull();
    expect((await p.pb!.request(ContextItemsDocument, {})).contextItems.totalCount).toBe(0);
    expect((await p.pb!.request(MemoryNodeDocument, { id: itemId })).node).toBeNull();
    expect(expectType(await share(p.pb!, { id: itemId, swarmIds: [swarm.B!] }), "NotFoundError").entityType).toBe("ContextItem");

    // A shares it with B; B reads it (recorded) and propagates it to C; C reads it.
    const shared = expectType(await share(p.pa!, { id: itemId, swarmIds: [swarm.B!, swarm.A!], agentId: agent.pa }), "ShareContextPayload");
    expect(shared).toMatchObject({ addedSwarms: [{ id: swarm.B }], item: { scope: "SWARMS" } });
    const retrieved = (await p.pb!.request(ContextItemDocument, { name: "finding-001" })).contextItem!;
    expect(retrieved.data).toEqual(data);
    expectType(await share(p.pb!, { id: itemId, swarmIds: [swarm.C!], agentId: agent.pb }), "ShareContextPayload");
    expect((await p.pc!.request(ContextItemDocument, { name: "finding-001" })).contextItem!.data).toEqual(data);
    expect((await p.pd!.request(ContextItemDocument, { name: "finding-001" })).contextItem).toBeNull();

    expect(await custody("finding-001")).toEqual([
      ["PUBLISHED", "pa"],
      ["SHARED", "pa", [swarm.B]],
      ["READ", "pb"],
      ["SHARED", "pb", [swarm.C]],
      ["READ", "pc"],
    ]);
    const chain = (await ops.request(ContextCustodyDocument, { name: "finding-001" })).contextItem!.custody;
    expect(chain[0]!.agent).toEqual({ id: agent.pa });
    expect(chain[3]!.agent).toEqual({ id: agent.pb });
    expect(retrieved.custody.slice(0, 2).map((c) => c.action)).toEqual(["PUBLISHED", "SHARED"]);

    // Widen to the whole workspace; a scope never narrows and a no-op share is refused.
    expect(expectType(await share(p.pc!, { id: itemId, swarmIds: [swarm.A!] }), "InvalidInputError").issues[0]!.message).toContain("already reaches every one");
    expect(expectType(await share(p.pc!, { id: itemId, toWorkspace: true }), "ShareContextPayload").item).toMatchObject({ scope: "WORKSPACE", swarms: [] });
    expect(expectType(await share(p.pc!, { id: itemId, swarmIds: [swarm.B!] }), "InvalidInputError").issues[0]!.message).toContain("whole workspace");
    expect((await p.pd!.request(ContextItemDocument, { name: "finding-001" })).contextItem!.scope).toBe("WORKSPACE");
    const narrowing = expectType(await publish(p.pa!, { name: "finding-001", data, swarmIds: [swarm.A!] }), "InvalidInputError");
    expect(narrowing.issues).toEqual([{ path: "input.swarmIds", message: expect.stringContaining("shareContext") }]);

    // Republishing replaces the data and is recorded as UPDATED.
    const updated = expectType(await publish(p.pd!, { name: "finding-001", data: { ...data, confidence: 0.95 } }), "PublishContextPayload");
    expect(updated.created).toBe(false);
    expect((await custody("finding-001")).slice(-3)).toEqual([["SHARED", "pc"], ["READ", "pd"], ["UPDATED", "pd"]]);
  });

  it("another workspace sees nothing and has its own names", async () => {
    const other = server.client({ workspace: "ctx-other", subject: "pa", scopes: ["memory:write"] });
    expect((await other.request(ContextItemDocument, { name: "finding-001" })).contextItem).toBeNull();
    expect(expectType(await publish(other, { name: "finding-001", data: { mine: true } }), "PublishContextPayload").created).toBe(true);
  });
});

describe("events", () => {
  it("contextEvents delivers an item's events only from when the subscriber's swarms are in its scope", async () => {
    const ws = wsClient(server.wsUrl, server.token({ workspace: WS, subject: "pc", scopes: ["memory:read"] }));
    try {
      const events = collect(ws, ContextEventsDocument, { filter: { names: ["plan-x"] }, after: "0" });
      const id = expectType(await publish(p.pa!, { name: "plan-x", data: { step: 1 }, swarmIds: [swarm.A!] }), "PublishContextPayload").item.id;
      expectType(await share(p.pa!, { id, swarmIds: [swarm.B!] }), "ShareContextPayload");
      expectType(await share(p.pa!, { id, swarmIds: [swarm.C!] }), "ShareContextPayload");
      expectType(await publish(p.pa!, { name: "plan-x", data: { step: 2 } }), "PublishContextPayload");
      const got = await events.waitFor(2);
      expect(got.map((e) => [e.contextEvents.type, e.contextEvents.actor])).toEqual([
        ["context.shared", "pa"],
        ["context.updated", "pa"],
      ]);
      expect(got[0]!.contextEvents.item).toMatchObject({ name: "plan-x", scope: "SWARMS" });
      await server.events.tailer.drain();
      expect(events.events).toHaveLength(2);
    } finally {
      await ws.dispose();
    }
  });
});

describe("TTL", () => {
  it("an expired item vanishes from every read at once (this server runs no sweeper), and its name is free again", async () => {
    const id = expectType(await publish(p.pa!, { name: "short-lived", data: { x: 1 }, ttlSeconds: 3600 }), "PublishContextPayload").item.id;
    await server.db.prisma.$executeRaw`UPDATE "ContextItem" SET "expiresAt" = now() - interval '1 second' WHERE name = 'short-lived'`;
    expect((await ops.request(ContextItemDocument, { name: "short-lived" })).contextItem).toBeNull();
    expect((await ops.request(ContextItemsDocument, { filter: { namePrefix: "short" } })).contextItems.totalCount).toBe(0);
    expect((await ops.request(MemoryNodeDocument, { id })).node).toBeNull();
    expect(expectType(await share(ops, { id, toWorkspace: true }), "NotFoundError").entityType).toBe("ContextItem");
    const fresh = expectType(await publish(p.pb!, { name: "short-lived", data: { x: 2 } }), "PublishContextPayload");
    expect(fresh).toMatchObject({ created: true, item: { createdBy: "pb", expiresAt: null } });
    expect(fresh.item.id).not.toBe(id);
    expect(await custody("short-lived")).toEqual([["PUBLISHED", "pb"]]);
  });
});

describe("bad input", () => {
  it("answers typed errors and stores nothing", async () => {
    const bad = async (input: PublishContextInput) => expectType(await publish(p.pa!, input), "InvalidInputError").issues;
    expect(await bad({ name: "has space", data: {} })).toEqual([{ path: "input.name", message: expect.any(String) }]);
    expect(await bad({ name: "big", data: { s: "x".repeat(2000) } })).toEqual([{ path: "input.data", message: expect.stringContaining("at most 1024") }]);
    expect(await bad({ name: "neg", data: {}, ttlSeconds: -5 })).toEqual([{ path: "input.ttlSeconds", message: "must not be negative" }]);
    expect(expectType(await publish(p.pa!, { name: "nowhere", data: {}, swarmIds: ["U3dhcm06bm9wZQ=="] }), "NotFoundError").entityType).toBe("Swarm");
    expect(expectType(await publish(p.pa!, { name: "as-other", data: {}, agentId: agent.pb }), "NotFoundError").entityType).toBe("Agent");
    const nothing = expectType(await share(p.pa!, { id: (await p.pa!.request(ContextItemDocument, { name: "plan-x" })).contextItem!.id }), "InvalidInputError");
    expect(nothing.issues).toEqual([{ path: "input.swarmIds", message: expect.stringContaining("toWorkspace") }]);
    for (const name of ["big", "neg", "nowhere", "as-other"]) expect((await ops.request(ContextItemDocument, { name })).contextItem).toBeNull();
    const badName = await ops.raw(ContextItemDocument, { name: "a b" });
    expect(badName.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  });
});
