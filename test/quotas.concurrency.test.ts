/**
 * Allocation under concurrency: meaningful on real PostgreSQL (TEST_DATABASE_URL), where the
 * requests run on many connections at once; PGlite serializes transactions and proves the logic.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AllocateResourcesDocument, AllocationsDocument, CreateTasksDocument, QuotaUsageDocument, ReleaseResourcesDocument, SetQuotaDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer();
  api = server.client({ workspace: "quota-race" });
});
afterAll(() => server?.stop());

const openSum = async (resource: string) => {
  const rows = await server.db.prisma.allocation.aggregate({ where: { workspaceId: "quota-race", resource, releasedAt: null }, _sum: { granted: true } });
  return rows._sum.granted ?? 0;
};

describe(`allocation under concurrency (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("100 concurrent allocations against a limit of 10 grant exactly 10", async () => {
    await api.request(SetQuotaDocument, { resource: "slots", limit: 10 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => api.request(AllocateResourcesDocument, { resource: "slots", holder: { type: "EXTERNAL", id: `job-${i}` }, amount: 1 + (i % 3) })),
    );
    const granted = results.map((r) => r.allocateResources).filter((r) => r.__typename === "AllocateResourcesPayload");
    const refused = results.map((r) => r.allocateResources).filter((r) => r.__typename === "QuotaExceededError");
    expect(granted.length + refused.length).toBe(100);
    const sum = granted.reduce((total, r) => total + expectType(r, "AllocateResourcesPayload").granted, 0);
    expect(sum).toBe(10);
    expect(await openSum("slots")).toBe(10);
    const usage = (await api.request(QuotaUsageDocument, { resources: ["slots"] })).quotaUsage[0]!;
    expect(usage).toMatchObject({ limit: 10, allocated: 10, available: 0 });
  });

  it("concurrent allocate and release keep `allocated` equal to the sum of open allocations", async () => {
    await api.request(SetQuotaDocument, { resource: "pool", limit: 25 });
    const holders = Array.from({ length: 30 }, (_, i) => ({ type: "EXTERNAL" as const, id: `worker-${i}` }));
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        holders.map(async (holder, i) => {
          await api.request(AllocateResourcesDocument, { resource: "pool", holder, amount: 1 + (i % 2) });
          if ((i + round) % 2 === 0) await api.request(ReleaseResourcesDocument, { holder, resource: "pool" });
        }),
      );
      const usage = (await api.request(QuotaUsageDocument, { resources: ["pool"] })).quotaUsage[0]!;
      expect(usage.allocated).toBe(await openSum("pool"));
      expect(usage.allocated).toBeLessThanOrEqual(25);
    }
    await Promise.all(holders.map((holder) => api.request(ReleaseResourcesDocument, { holder, resource: "pool" })));
    expect((await api.request(QuotaUsageDocument, { resources: ["pool"] })).quotaUsage[0]!.allocated).toBe(0);
    const open = await api.request(AllocationsDocument, { first: 1, filter: { resource: ["pool"], open: true } });
    expect(open.allocations.totalCount).toBe(0);
  });

  it("60 concurrent task creations against an hourly rate of 10 never create more than 10 tasks", async () => {
    const rated = server.client({ workspace: "rate-race" });
    expectType((await rated.request(SetQuotaDocument, { resource: "tasks.created_per_hour", limit: 10, windowSeconds: 3600 })).setQuota, "SetQuotaPayload");
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => rated.request(CreateTasksDocument, { input: { tasks: Array.from({ length: 1 + (i % 3) }, (_, j) => ({ description: `${i}.${j}`, type: "rate" })) } })),
    );
    const created = results.flatMap((r) => (r.createTasks.__typename === "CreateTasksPayload" ? r.createTasks.tasks : []));
    expect(results.every((r) => ["CreateTasksPayload", "QuotaExceededError"].includes(r.createTasks.__typename))).toBe(true);
    // All or nothing per call: the last few units may stay unused when only larger batches are left.
    expect(created.length).toBeLessThanOrEqual(10);
    expect(created.length).toBeGreaterThanOrEqual(8);
    expect(await server.db.prisma.task.count({ where: { workspaceId: "rate-race" } })).toBe(created.length);
    const usage = (await rated.request(QuotaUsageDocument, { resources: ["tasks.created_per_hour"] })).quotaUsage[0]!;
    expect(usage).toMatchObject({ kind: "RATE", limit: 10, allocated: created.length });
  });
});
