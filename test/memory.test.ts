/**
 * Shared memory: versions and history (keep last N), compare-and-set, JSON Merge Patch, TTL
 * (expired entries vanish from every read at once, the sweeper deletes them and gives their
 * bytes back), full-text search with relevance and snippets, stats, cascading deletes, the
 * memory.bytes quota, bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DeleteMemoryDocument,
  MemoriesDocument,
  MemoryDocument,
  MemoryEventsDocument,
  MemoryNodeDocument,
  MemoryStatsDocument,
  MemoryVersionsDocument,
  PutMemoryDocument,
  QuotaEventsDocument,
  SetQuotaDocument,
  type PutMemoryInput,
} from "./generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;

beforeAll(async () => {
  server = await startTestServer({ config: { memoryVersionsKept: 3, memoryMaxValueBytes: 2048, leaseSweepIntervalMs: 0 } });
  api = server.client({ workspace: "mem", subject: "agent-1", scopes: ["memory:write"] });
});
afterAll(() => server?.stop());

async function put(input: PutMemoryInput, client = api) {
  return (await client.request(PutMemoryDocument, { input })).putMemory;
}
async function written(input: PutMemoryInput, client = api) {
  return expectType(await put(input, client), "PutMemoryPayload");
}
async function read(namespace: string, key: string, version?: number, client = api) {
  return (await client.request(MemoryDocument, { namespace, key, version })).memory;
}
/** Moves an entry's expiry into the past by the database's clock (no sleeping). */
async function expire(namespace: string, key: string) {
  await server.db.prisma.$executeRaw`UPDATE "MemoryEntry" SET "expiresAt" = now() - interval '1 second' WHERE namespace = ${namespace} AND key = ${key}`;
}

describe("versions", () => {
  it("every write is a version; earlier versions stay readable; only the last MEMORY_VERSIONS_KEPT are kept", async () => {
    const first = await written({ namespace: "project-alpha", key: "project_context", value: { name: "E-commerce" }, tags: ["context", "requirements"] });
    expect(first.created).toBe(true);
    expect(first.entry).toMatchObject({ version: 1, latestVersion: 1, owner: "agent-1", writtenBy: "agent-1", accessLevel: "WORKSPACE", tags: ["context", "requirements"], expiresAt: null });
    for (let v = 2; v <= 5; v++) {
      const next = await written({ namespace: "project-alpha", key: "project_context", value: { name: "E-commerce", v } });
      expect(next).toMatchObject({ created: false, entry: { version: v, tags: ["context", "requirements"] } });
    }
    expect(await read("project-alpha", "project_context")).toMatchObject({ version: 5, value: { name: "E-commerce", v: 5 } });
    expect(await read("project-alpha", "project_context", 4)).toMatchObject({ version: 4, latestVersion: 5, value: { name: "E-commerce", v: 4 } });
    expect(await read("project-alpha", "project_context", 3)).toMatchObject({ version: 3, value: { v: 3 } });
    // Versions 1 and 2 fell out of the last 3.
    expect(await read("project-alpha", "project_context", 2)).toBeNull();
    expect(await read("project-alpha", "project_context", 1)).toBeNull();
    const history = (await api.request(MemoryVersionsDocument, { namespace: "project-alpha", key: "project_context" })).memory!;
    expect(history.versions.map((v) => v.version)).toEqual([5, 4, 3]);
    expect(history.versions[0]).toMatchObject({ merged: false, writtenBy: "agent-1", value: { v: 5 } });
  });

  it("reads by key count accesses; lists do not", async () => {
    await written({ namespace: "counting", key: "k", value: 1 });
    await read("counting", "k");
    await read("counting", "k");
    await api.request(MemoriesDocument, { filter: { namespace: "counting" } });
    const third = await read("counting", "k");
    expect(third).toMatchObject({ accessCount: 3 });
    expect(third!.lastAccessedAt).not.toBeNull();
  });
});

describe("compare-and-set", () => {
  it("writes only at the expected version, and names the current version otherwise", async () => {
    const created = await written({ namespace: "cas", key: "plan", value: { step: 1 }, expectedVersion: 0 });
    expect(created.entry.version).toBe(1);
    const taken = await put({ namespace: "cas", key: "plan", value: { step: "other" }, expectedVersion: 0 });
    expect(expectType(taken, "VersionConflictError")).toMatchObject({ code: "VERSION_CONFLICT", namespace: "cas", key: "plan", expectedVersion: 0, currentVersion: 1 });
    expect((await written({ namespace: "cas", key: "plan", value: { step: 2 }, expectedVersion: 1 })).entry.version).toBe(2);
    const stale = expectType(await put({ namespace: "cas", key: "plan", value: { step: "stale" }, expectedVersion: 1 }), "VersionConflictError");
    expect(stale.currentVersion).toBe(2);
    expect(stale.message).toContain("at version 2");
    expect(await read("cas", "plan")).toMatchObject({ version: 2, value: { step: 2 } });
    const absent = expectType(await put({ namespace: "cas", key: "nothing-here", value: 1, expectedVersion: 3 }), "VersionConflictError");
    expect(absent.currentVersion).toBeNull();
    expect(await read("cas", "nothing-here")).toBeNull();
  });
});

describe("merge (JSON Merge Patch, RFC 7396)", () => {
  it("merges objects recursively, deletes keys given null, replaces arrays and scalars", async () => {
    await written({
      namespace: "merge",
      key: "ctx",
      value: { description: "E-commerce platform", tech_stack: ["Node.js", "React"], limits: { rps: 100, burst: 200 }, owner: "team-a" },
    });
    const merged = await written({
      namespace: "merge",
      key: "ctx",
      merge: true,
      value: { tech_stack: ["Node.js", "React", "PostgreSQL", "Redis"], limits: { rps: 150 }, owner: null, caching: true },
    });
    expect(merged.entry.value).toEqual({ description: "E-commerce platform", tech_stack: ["Node.js", "React", "PostgreSQL", "Redis"], limits: { rps: 150, burst: 200 }, caching: true });
    const history = (await api.request(MemoryVersionsDocument, { namespace: "merge", key: "ctx" })).memory!;
    expect(history.versions.map((v) => v.merged)).toEqual([true, false]);
    // Merging into nothing applies the patch to {}: null members vanish.
    const fresh = await written({ namespace: "merge", key: "new", merge: true, value: { a: { b: 1, c: null } } });
    expect(fresh.entry.value).toEqual({ a: { b: 1 } });
    // A non-object patch replaces.
    expect((await written({ namespace: "merge", key: "new", merge: true, value: [1, 2] })).entry.value).toEqual([1, 2]);
  });
});

describe("TTL", () => {
  it("an expired entry vanishes from every read at once (this server runs no sweeper)", async () => {
    const kept = await written({ namespace: "ttl", key: "short", value: { text: "ephemeral scratchpad notes" }, ttlSeconds: 3600 });
    expect(Date.parse(kept.entry.expiresAt!)).toBeGreaterThan(Date.now() + 3_500_000);
    // ttlSeconds omitted keeps the expiry.
    expect((await written({ namespace: "ttl", key: "short", value: { text: "ephemeral scratchpad notes" } })).entry.expiresAt).toBe(kept.entry.expiresAt);
    expect((await api.request(MemoryStatsDocument, { namespace: "ttl" })).memoryStats.entries).toBe(1);
    await expire("ttl", "short");
    expect(await read("ttl", "short")).toBeNull();
    expect((await api.request(MemoriesDocument, { filter: { namespace: "ttl" } })).memories.totalCount).toBe(0);
    expect((await api.request(MemoriesDocument, { filter: { text: "ephemeral" } })).memories.edges).toEqual([]);
    expect((await api.request(MemoryStatsDocument, { namespace: "ttl" })).memoryStats.entries).toBe(0);
    expect((await api.request(MemoryNodeDocument, { id: kept.entry.id })).node).toBeNull();
    expect(expectType((await api.request(DeleteMemoryDocument, { input: { namespace: "ttl", key: "short" } })).deleteMemory, "DeleteMemoryPayload").deletedCount).toBe(0);
    // Still in the table: only the sweeper (or a write to the key) removes it.
    const [left] = await server.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM "MemoryEntry" WHERE namespace = 'ttl'`;
    expect(left!.n).toBe(1);
    // ttlSeconds 0 removes an expiry.
    await written({ namespace: "ttl", key: "kept", value: 1, ttlSeconds: 60 });
    expect((await written({ namespace: "ttl", key: "kept", value: 2, ttlSeconds: 0 })).entry.expiresAt).toBeNull();
  });

  it("a write to an expired key creates a fresh entry (expectedVersion 0 holds) and reports the old one expired", async () => {
    const events = wsClient(server.wsUrl, server.token({ workspace: "mem", scopes: ["memory:read"] }));
    const expiries = collect(events, MemoryEventsDocument, { filter: { namespace: "ttl2", types: ["memory.expired"] }, after: "0" });
    await written({ namespace: "ttl2", key: "k", value: { old: true }, ttlSeconds: 60 });
    await written({ namespace: "ttl2", key: "k", value: { old: 2 } });
    await expire("ttl2", "k");
    const usedBefore = (await api.request(MemoryStatsDocument, {})).memoryStats.quota.allocated;
    const fresh = await written({ namespace: "ttl2", key: "k", value: { fresh: true }, expectedVersion: 0 });
    expect((await expiries.waitFor(1))[0]!.memoryEvents).toMatchObject({ key: "k", version: 2, actor: "system" });
    await events.dispose();
    expect((await api.request(MemoryStatsDocument, {})).memoryStats.quota.allocated).toBe(usedBefore - JSON.stringify({ old: 2 }).length + fresh.entry.bytes);
    expect(fresh).toMatchObject({ created: true, entry: { version: 1, value: { fresh: true }, expiresAt: null } });
    const history = (await api.request(MemoryVersionsDocument, { namespace: "ttl2", key: "k" })).memory!;
    expect(history.versions.map((v) => v.value)).toEqual([{ fresh: true }]);
  });
});

describe("search", () => {
  it("ranks by relevance (key and tags above the value), quotes snippets, understands websearch syntax", async () => {
    const ns = "search";
    await written({ namespace: ns, key: "api_design", value: { notes: "RESTful API design patterns for the checkout service" }, tags: ["api"] });
    await written({ namespace: ns, key: "auth", value: { notes: "Authentication uses OAuth device flow; the API gateway validates tokens" } });
    await written({ namespace: ns, key: "db", value: { notes: "PostgreSQL indexing strategy: B-tree for equality, BRIN for range scans" } });
    const hits = (await api.request(MemoriesDocument, { filter: { namespace: ns, text: "api" } })).memories;
    expect(hits.totalCount).toBe(2);
    expect(hits.edges.map((e) => e.node.key)).toEqual(["api_design", "auth"]);
    const [best, second] = hits.edges;
    expect(best!.relevance!).toBeGreaterThan(second!.relevance!);
    expect(best!.relevance!).toBeLessThan(1);
    expect(best!.snippet).toContain("«API»");
    expect(second!.snippet).toContain("«API» gateway");
    // Stemming, exclusion, phrases.
    expect((await api.request(MemoriesDocument, { filter: { namespace: ns, text: "indexes" } })).memories.edges.map((e) => e.node.key)).toEqual(["db"]);
    expect((await api.request(MemoriesDocument, { filter: { namespace: ns, text: "api -gateway" } })).memories.edges.map((e) => e.node.key)).toEqual(["api_design"]);
    expect((await api.request(MemoriesDocument, { filter: { namespace: ns, text: '"device flow"' } })).memories.edges.map((e) => e.node.key)).toEqual(["auth"]);
    // Without text: namespace and key order, no relevance.
    const all = (await api.request(MemoriesDocument, { filter: { namespace: ns } })).memories;
    expect(all.edges.map((e) => [e.node.key, e.relevance, e.snippet])).toEqual([["api_design", null, null], ["auth", null, null], ["db", null, null]]);
    // Query syntax is data, never SQL or tsquery syntax errors.
    for (const text of ["'; DROP TABLE \"MemoryEntry\"; --", "a & | ! :* ( )", "(((", "the"]) {
      const r = await api.raw(MemoriesDocument, { filter: { namespace: ns, text } });
      expect(r.errors).toBeUndefined();
    }
    const tooLong = await api.raw(MemoriesDocument, { filter: { text: "x".repeat(501) } });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", issues: [{ path: "filter.text" }] });
  });

  it("filters by key prefix and tags, and pages", async () => {
    const ns = "paging";
    for (let i = 0; i < 5; i++) await written({ namespace: ns, key: `run/${i}`, value: { i }, tags: i % 2 === 0 ? ["even", "n"] : ["n"] });
    await written({ namespace: ns, key: "other", value: {} });
    const even = (await api.request(MemoriesDocument, { filter: { namespace: ns, tags: ["even", "n"] } })).memories;
    expect(even.edges.map((e) => e.node.key)).toEqual(["run/0", "run/2", "run/4"]);
    const page1 = (await api.request(MemoriesDocument, { filter: { namespace: ns, keyPrefix: "run/" }, first: 2 })).memories;
    expect(page1).toMatchObject({ totalCount: 5, pageInfo: { hasNextPage: true } });
    const page2 = (await api.request(MemoriesDocument, { filter: { namespace: ns, keyPrefix: "run/" }, first: 10, after: page1.pageInfo.endCursor })).memories;
    expect([...page1.edges, ...page2.edges].map((e) => e.node.key)).toEqual(["run/0", "run/1", "run/2", "run/3", "run/4"]);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const foreign = Buffer.from("GPC:S:some-id").toString("base64");
    const refused = await api.raw(MemoriesDocument, { filter: { namespace: ns }, after: foreign });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
  });
});

describe("stats, cascade and quota", () => {
  it("counts entries, namespaces and bytes; a cascade deletes a key prefix and gives the bytes back", async () => {
    const other = server.client({ workspace: "mem-stats", subject: "s", scopes: ["memory:write"] });
    const a = await written({ namespace: "a", key: "x/1", value: { s: "aaaa" } }, other);
    const b = await written({ namespace: "a", key: "x/2", value: { s: "bb" } }, other);
    const c = await written({ namespace: "b", key: "y", value: { s: "c" } }, other);
    await written({ namespace: "a", key: "xylophone", value: 1 }, other);
    const stats = (await other.request(MemoryStatsDocument, {})).memoryStats;
    const total = a.entry.bytes + b.entry.bytes + c.entry.bytes + 1;
    expect(stats).toMatchObject({ entries: 4, namespaces: 2, bytes: total, quota: { resource: "memory.bytes", limit: 100 * 1024 * 1024, allocated: total } });
    expect(stats.topNamespaces).toEqual([{ namespace: "a", entries: 3, bytes: a.entry.bytes + b.entry.bytes + 1 }, { namespace: "b", entries: 1, bytes: c.entry.bytes }]);

    const deleted = expectType((await other.request(DeleteMemoryDocument, { input: { namespace: "a", key: "x/", cascade: true } })).deleteMemory, "DeleteMemoryPayload");
    expect(deleted).toMatchObject({ deletedCount: 2, hasMore: false, deleted: [{ key: "x/1", version: 1 }, { key: "x/2", version: 1 }] });
    const after = (await other.request(MemoryStatsDocument, {})).memoryStats;
    expect(after).toMatchObject({ entries: 2, bytes: c.entry.bytes + 1, quota: { allocated: c.entry.bytes + 1 } });
    // Without cascade only the exact key; deleting nothing is an empty result.
    const exact = expectType((await other.request(DeleteMemoryDocument, { input: { namespace: "a", key: "xylo" } })).deleteMemory, "DeleteMemoryPayload");
    expect(exact.deletedCount).toBe(0);
    expect(await read("a", "xylophone", undefined, other)).not.toBeNull();
  });

  it("refuses a write over the memory.bytes quota with QuotaExceededError, stores nothing, and records the refusal", async () => {
    const admin = server.client({ workspace: "mem-quota", subject: "ops" });
    const writer = server.client({ workspace: "mem-quota", subject: "w", scopes: ["memory:write"] });
    expectType((await admin.request(SetQuotaDocument, { resource: "memory.bytes", limit: 100 })).setQuota, "SetQuotaPayload");
    const small = await written({ namespace: "q", key: "small", value: { s: "x".repeat(40) } }, writer);
    expect(small.entry.bytes).toBe(48);
    const events = wsClient(server.wsUrl, server.token({ workspace: "mem-quota", scopes: ["quotas:read"] }));
    try {
      const refusals = collect(events, QuotaEventsDocument, { filter: { types: ["quota.refused"] }, after: "0" });
      const refused = expectType(await put({ namespace: "q", key: "big", value: { s: "y".repeat(60) } }, writer), "QuotaExceededError");
      expect(refused).toMatchObject({ code: "QUOTA_EXCEEDED", resource: "memory.bytes", limit: 100, inUse: 48, requested: 68 });
      expect(await read("q", "big", undefined, writer)).toBeNull();
      expect((await refusals.waitFor(1))[0]!.quotaEvents).toMatchObject({ type: "quota.refused", resource: "memory.bytes" });
      // Growing an entry past the limit is refused too; shrinking is always allowed.
      expectType(await put({ namespace: "q", key: "small", value: { s: "x".repeat(100) } }, writer), "QuotaExceededError");
      expect((await read("q", "small", undefined, writer))!.version).toBe(1);
      expect((await written({ namespace: "q", key: "small", value: 1 }, writer)).entry.version).toBe(2);
      expect((await writer.request(MemoryStatsDocument, {})).memoryStats.quota).toMatchObject({ limit: 100, allocated: 1 });
    } finally {
      await events.dispose();
    }
  });
});

describe("bad input", () => {
  it("answers typed errors naming each field, and stores nothing", async () => {
    const invalid = async (input: PutMemoryInput) => expectType(await put(input), "InvalidInputError").issues;
    expect(await invalid({ namespace: "bad space", key: "k", value: 1 })).toEqual([{ path: "input.namespace", message: expect.stringContaining("may contain only") }]);
    expect(await invalid({ namespace: "n", key: "has space", value: 1 })).toEqual([{ path: "input.key", message: expect.stringContaining("whitespace") }]);
    expect(await invalid({ namespace: "n", key: "", value: 1 })).toEqual([{ path: "input.key", message: "must not be empty" }]);
    expect(await invalid({ namespace: "n", key: "k", value: 1, accessLevel: "SWARM" })).toEqual([{ path: "input.swarmId", message: expect.stringContaining("needs the swarm") }]);
    expect(await invalid({ namespace: "n", key: "k", value: 1, ttlSeconds: -1, expectedVersion: -2 })).toEqual([
      { path: "input.ttlSeconds", message: "must not be negative" },
      { path: "input.expectedVersion", message: "must not be negative" },
    ]);
    expect(await invalid({ namespace: "n", key: "k", value: { s: "z".repeat(3000) } })).toEqual([{ path: "input.value", message: expect.stringMatching(/3008 bytes .* at most 2048/) }]);
    expect(await invalid({ namespace: "n", key: "k", value: { tags: 1 }, tags: ["ok", "not ok"] })).toEqual([{ path: "input.tags.1", message: expect.any(String) }]);
    expect(await invalid({ namespace: "n", key: "k", merge: true, value: { constructor: { x: 1 } } })).toEqual([{ path: "input.value", message: expect.stringContaining("__proto__") }]);
    // A merge whose result outgrows the limit.
    await written({ namespace: "n", key: "grow", value: { a: "a".repeat(1500) } });
    const issues = await invalid({ namespace: "n", key: "grow", merge: true, value: { b: "b".repeat(1000) } });
    expect(issues[0]!.message).toContain("after merging into version 1");
    // Unknown swarm and an agent the caller does not act as: NotFoundError.
    const swarm = expectType(await put({ namespace: "n", key: "k", value: 1, accessLevel: "SWARM", swarmId: "U3dhcm06bm9wZQ==" }), "NotFoundError");
    expect(swarm.entityType).toBe("Swarm");
    expect((await api.request(MemoriesDocument, { filter: { namespace: "n" } })).memories.edges.map((e) => e.node.key)).toEqual(["grow"]);
    const badKey = await api.raw(MemoryDocument, { namespace: "n", key: "a b" });
    expect(badKey.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", issues: [{ path: "key" }] });
    const readOnly = server.client({ workspace: "mem", subject: "reader", scopes: ["memory:read"] });
    const forbidden = await readOnly.raw(PutMemoryDocument, { input: { namespace: "n", key: "k", value: 1 } });
    expect(forbidden.errors?.[0]?.extensions).toMatchObject({ code: "FORBIDDEN", requiredScopes: ["memory:write"] });
  });
});
