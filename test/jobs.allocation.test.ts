/**
 * Seed 003's jobs (issue 17): a task created with `workerCount` gets its workers from the quota
 * `workers:depth:<its depth>` when it is created — all or nothing — and gives them back when it
 * ends (completed, failed for good, cancelled), not when it is merely retried. Concurrent
 * submissions never over-allocate, on PostgreSQL too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AllocationsDocument,
  CancelTaskDocument,
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateJobDocument,
  CreateJobsDocument,
  FailTaskDocument,
  QuotaUsageDocument,
  RegisterAgentDocument,
  SetQuotaDocument,
  TasksByDepthDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { retryBaseSeconds: 0 } });
});
afterAll(() => server?.stop());

async function usage(api: GraphQLClient, resource: string) {
  const [row] = (await api.request(QuotaUsageDocument, { resources: [resource] })).quotaUsage;
  return { allocated: row!.allocated, available: row!.available, limit: row!.limit };
}

async function job(api: GraphQLClient, description: string, workerCount: number | null, parentId?: string) {
  return (await api.request(CreateJobDocument, { input: { description, type: "job", workerCount, parentId } })).createTask;
}

describe("job workers", () => {
  it("allocates workerCount from the depth's quota at submission and releases it when the job ends — completed, failed or cancelled, not retried", async () => {
    const api = server.client({ workspace: "jobs-life" });
    const agentId = expectType((await api.request(RegisterAgentDocument, { input: { name: "jobber", type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id;

    const root = expectType(await job(api, "build the feature", 3), "CreateTaskPayload").task;
    expect(root).toMatchObject({ depth: 0, workerCount: 3, status: "PENDING" });
    expect(await usage(api, "workers:depth:0")).toEqual({ allocated: 3, available: 7, limit: 10 });
    const child = expectType(await job(api, "write the tests", 2, root.id), "CreateTaskPayload").task;
    expect(child).toMatchObject({ depth: 1, workerCount: 2 });
    expect(await usage(api, "workers:depth:1")).toMatchObject({ allocated: 2, available: 6 });
    // A task without workerCount takes no workers.
    expect(expectType(await job(api, "plain task", null), "CreateTaskPayload").task.workerCount).toBeNull();
    expect((await usage(api, "workers:depth:0")).allocated).toBe(3);
    const held = await api.request(AllocationsDocument, { first: 10, filter: { holderType: "TASK", holderId: root.id, open: true } });
    expect(held.allocations.edges.map((e) => [e.node.resource, e.node.granted])).toEqual([["workers:depth:0", 3]]);

    // Retried: still the job's. Failed for good: released.
    const claimChild = async () => {
      const c = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["job"] })).claimNextTask, "ClaimNextTaskPayload");
      return { id: c.task!.id, leaseToken: c.leaseToken! };
    };
    const firstClaim = await claimChild();
    expect(firstClaim.id).toBe(root.id);
    expectType((await api.request(FailTaskDocument, { taskId: root.id, leaseToken: firstClaim.leaseToken, error: { message: "flaky" }, retryable: true })).failTask, "FailTaskPayload");
    expect((await usage(api, "workers:depth:0")).allocated).toBe(3);
    const again = await claimChild();
    expect(again.id).toBe(root.id);
    // Completed (through the hot path): released.
    expectType((await api.request(CompleteTaskDocument, { taskId: root.id, leaseToken: again.leaseToken })).completeTask, "CompleteTaskPayload");
    expect((await usage(api, "workers:depth:0")).allocated).toBe(0);

    // Failed for good: released.
    const failing = await claimChild();
    expect(failing.id).toBe(child.id);
    expectType((await api.request(FailTaskDocument, { taskId: child.id, leaseToken: failing.leaseToken, error: { message: "no" }, retryable: false })).failTask, "FailTaskPayload");
    expect((await usage(api, "workers:depth:1")).allocated).toBe(0);

    // Cancelled while pending: released.
    const cancelled = expectType(await job(api, "never mind", 4), "CreateTaskPayload").task;
    expect((await usage(api, "workers:depth:0")).allocated).toBe(4);
    expectType((await api.request(CancelTaskDocument, { id: cancelled.id })).cancelTask, "CancelTaskPayload");
    expect((await usage(api, "workers:depth:0")).allocated).toBe(0);
  });

  it("refuses a job the depth's quota cannot hold (typed error, nothing stored), bad worker counts, and a depth without a quota", async () => {
    const api = server.client({ workspace: "jobs-refused" });
    expectType((await api.request(SetQuotaDocument, { resource: "workers:depth:0", limit: 5 })).setQuota, "SetQuotaPayload");
    expectType(await job(api, "fits", 4), "CreateTaskPayload");
    const over = await job(api, "does not fit", 2);
    expect(over).toMatchObject({ __typename: "QuotaExceededError", resource: "workers:depth:0", limit: 5, inUse: 4, requested: 2 });
    expect((await api.request(TasksByDepthDocument, { filter: { depth: 0 } })).tasks.edges.map((e) => e.node.description)).toEqual(["fits"]);
    expect(await usage(api, "workers:depth:0")).toMatchObject({ allocated: 4, available: 1 });

    // A batch is all or nothing: the second job does not fit, so neither is stored.
    const batch = (await api.request(CreateJobsDocument, { input: { tasks: [{ description: "b1", type: "job", workerCount: 1 }, { description: "b2", type: "job", workerCount: 1 }] } })).createTasks;
    expect(batch).toMatchObject({ __typename: "QuotaExceededError", resource: "workers:depth:0" });
    expect((await api.request(TasksByDepthDocument, { filter: { depth: 0 } })).tasks.totalCount).toBe(1);

    for (const workerCount of [0, -1, 1001]) {
      const bad = expectType(await job(api, "bad count", workerCount), "InvalidInputError");
      expect(bad.issues).toEqual([{ path: "input.workerCount", message: expect.stringMatching(/at least 1|at most 1000/) }]);
    }

    // Depth 6 has no default quota: an input error naming the field, until one is set.
    let parent = expectType(await job(api, "d0", null), "CreateTaskPayload").task.id;
    for (let depth = 1; depth <= 5; depth++) parent = expectType(await job(api, `d${depth}`, null, parent), "CreateTaskPayload").task.id;
    const deep = expectType(await job(api, "d6", 1, parent), "InvalidInputError");
    expect(deep.issues).toEqual([{ path: "input.workerCount", message: expect.stringContaining("workers:depth:6") }]);
    expectType((await api.request(SetQuotaDocument, { resource: "workers:depth:6", limit: 1 })).setQuota, "SetQuotaPayload");
    expect(expectType(await job(api, "d6", 1, parent), "CreateTaskPayload").task).toMatchObject({ depth: 6, workerCount: 1 });
  });

  it(`never over-allocates under 24 concurrent submissions (${onPostgres ? "PostgreSQL" : "PGlite"})`, async () => {
    const api = server.client({ workspace: "jobs-race" });
    expectType((await api.request(SetQuotaDocument, { resource: "workers:depth:0", limit: 10 })).setQuota, "SetQuotaPayload");
    const results = await Promise.all(Array.from({ length: 24 }, (_, i) => job(api, `racer ${i}`, 3)));
    const accepted = results.filter((r) => r.__typename === "CreateTaskPayload");
    const refused = results.filter((r) => r.__typename === "QuotaExceededError");
    expect(accepted).toHaveLength(3);
    expect(refused).toHaveLength(21);
    expect(await usage(api, "workers:depth:0")).toEqual({ allocated: 9, available: 1, limit: 10 });
    expect((await api.request(TasksByDepthDocument, { filter: { depth: 0 } })).tasks.totalCount).toBe(3);
    const open = await api.request(AllocationsDocument, { first: 50, filter: { resource: ["workers:depth:0"], open: true } });
    expect(open.allocations.totalCount).toBe(3);

    // Released and refilled concurrently: still never above the limit.
    const agentId = expectType((await api.request(RegisterAgentDocument, { input: { name: "racer", type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id;
    const finish = async () => {
      const c = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["job"] })).claimNextTask, "ClaimNextTaskPayload");
      if (c.task) expectType((await api.request(CompleteTaskDocument, { taskId: c.task.id, leaseToken: c.leaseToken! })).completeTask, "CompleteTaskPayload");
    };
    const mixed = await Promise.all([finish(), finish(), ...Array.from({ length: 12 }, (_, i) => job(api, `refill ${i}`, 2))]);
    const refilled = mixed.slice(2).filter((r) => r && r.__typename === "CreateTaskPayload").length;
    const after = await usage(api, "workers:depth:0");
    expect(after.allocated).toBeLessThanOrEqual(10);
    const live = await api.request(AllocationsDocument, { first: 50, filter: { resource: ["workers:depth:0"], open: true } });
    expect(live.allocations.edges.reduce((sum, e) => sum + e.node.granted, 0)).toBe(after.allocated);
    expect(after.allocated).toBe(3 + 2 * refilled);
  });
});
