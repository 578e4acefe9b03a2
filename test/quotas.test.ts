/** Quotas: limits, partial and all-or-nothing grants, releases, and enforcement where resources are used. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AllocateResourcesDocument,
  AllocationsDocument,
  CancelTaskDocument,
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  CreateTasksDocument,
  FailTaskDocument,
  QuotaUsageDocument,
  RegisterAgentDocument,
  ReleaseResourcesDocument,
  RemoveQuotaDocument,
  SetQuotaDocument,
  TerminateAgentDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

let n = 0;
const fresh = () => server.client({ workspace: `quota-ws-${++n}` });
const usageOf = async (api: GraphQLClient, resource: string) => (await api.request(QuotaUsageDocument, { resources: [resource] })).quotaUsage[0]!;

describe("seed 003's workflow", () => {
  it("submit a job, allocate workers at its depth (partial grant), run, release; usage per depth", async () => {
    const api = fresh();
    const defaults = (await api.request(QuotaUsageDocument, {})).quotaUsage.filter((u) => u.resource.startsWith("workers:depth:"));
    expect(defaults.map((u) => [u.resource, u.limit])).toEqual([0, 1, 2, 3, 4, 5].map((d) => [`workers:depth:${d}`, [10, 8, 5, 3, 2, 1][d]]));

    const job = expectType((await api.request(CreateTaskDocument, { input: { description: "Implement user authentication system", type: "job" } })).createTask, "CreateTaskPayload").task;
    const other = expectType((await api.request(CreateTaskDocument, { input: { description: "Refactor", type: "job" } })).createTask, "CreateTaskPayload").task;
    const first = expectType((await api.request(AllocateResourcesDocument, { resource: "workers:depth:0", holder: { type: "TASK", id: job.id }, amount: 8 })).allocateResources, "AllocateResourcesPayload");
    expect([first.requested, first.granted]).toEqual([8, 8]);
    const partial = expectType((await api.request(AllocateResourcesDocument, { resource: "workers:depth:0", holder: { type: "TASK", id: other.id }, amount: 3 })).allocateResources, "AllocateResourcesPayload");
    expect([partial.requested, partial.granted]).toEqual([3, 2]);
    expect(partial.usage).toEqual({ resource: "workers:depth:0", limit: 10, allocated: 10, available: 0 });
    const refused = expectType((await api.request(AllocateResourcesDocument, { resource: "workers:depth:0", holder: { type: "EXTERNAL", id: "j_a1b2c3" }, amount: 1 })).allocateResources, "QuotaExceededError");
    expect(refused).toMatchObject({ code: "QUOTA_EXCEEDED", resource: "workers:depth:0", limit: 10, inUse: 10, requested: 1, retryAt: null });

    const released = expectType((await api.request(ReleaseResourcesDocument, { holder: { type: "TASK", id: job.id }, resource: "workers:depth:0" })).releaseResources, "ReleaseResourcesPayload");
    expect(released.released.map((a) => a.granted)).toEqual([8]);
    expect(released.usage).toEqual([{ resource: "workers:depth:0", allocated: 2, available: 8 }]);

    // The other job ends: what it held is released with it.
    await api.request(CancelTaskDocument, { id: other.id });
    expect(await usageOf(api, "workers:depth:0")).toMatchObject({ allocated: 0, available: 10 });

    // A sub-job at depth 1 draws on its own depth's quota, and is run to completion by an agent:
    // completing it releases its workers.
    const sub = expectType((await api.request(CreateTaskDocument, { input: { description: "Write the login form", type: "subjob", parentId: job.id } })).createTask, "CreateTaskPayload").task;
    const subGrant = expectType((await api.request(AllocateResourcesDocument, { resource: "workers:depth:1", holder: { type: "TASK", id: sub.id }, amount: 5, mode: "ALL_OR_NOTHING" })).allocateResources, "AllocateResourcesPayload");
    expect(subGrant.usage).toEqual({ resource: "workers:depth:1", limit: 8, allocated: 5, available: 3 });
    const runner = expectType((await api.request(RegisterAgentDocument, { input: { name: "runner", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
    const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: runner.id, types: ["subjob"] })).claimNextTask, "ClaimNextTaskPayload");
    expect(claim.task?.id).toBe(sub.id);
    await api.request(CompleteTaskDocument, { taskId: sub.id, leaseToken: claim.leaseToken! });
    const perDepth = (await api.request(QuotaUsageDocument, { resources: ["workers:depth:0", "workers:depth:1"] })).quotaUsage;
    expect(perDepth.map((u) => [u.resource, u.allocated, u.available])).toEqual([
      ["workers:depth:0", 0, 10],
      ["workers:depth:1", 0, 8],
    ]);
    const history = await api.request(AllocationsDocument, { first: 10, filter: { resource: ["workers:depth:0"] } });
    expect(history.allocations.totalCount).toBe(2);
    expect(history.allocations.edges.every((e) => e.node.releasedAt !== null)).toBe(true);
  });
});

describe("rules", () => {
  it("grants all or nothing on request, and honours setQuota/removeQuota", async () => {
    const api = fresh();
    const set = expectType((await api.request(SetQuotaDocument, { resource: "gpus", limit: 4 })).setQuota, "SetQuotaPayload");
    expect(set.quota).toMatchObject({ resource: "gpus", kind: "CAPACITY", limit: 4, custom: true });
    const holder = { type: "EXTERNAL" as const, id: "training-run-1" };
    expectType((await api.request(AllocateResourcesDocument, { resource: "gpus", holder, amount: 3 })).allocateResources, "AllocateResourcesPayload");
    const refused = expectType((await api.request(AllocateResourcesDocument, { resource: "gpus", holder, amount: 2, mode: "ALL_OR_NOTHING" })).allocateResources, "QuotaExceededError");
    expect(refused).toMatchObject({ limit: 4, inUse: 3, requested: 2 });
    expect(await usageOf(api, "gpus")).toMatchObject({ allocated: 3, available: 1 });

    const blocked = expectType((await api.request(RemoveQuotaDocument, { resource: "gpus" })).removeQuota, "InvalidInputError");
    expect(blocked.issues[0]?.message).toMatch(/3 units allocated/);
    expectType((await api.request(ReleaseResourcesDocument, { holder })).releaseResources, "ReleaseResourcesPayload");
    const removed = expectType((await api.request(RemoveQuotaDocument, { resource: "gpus" })).removeQuota, "RemoveQuotaPayload");
    expect(removed.quota).toBeNull();
    const unknown = expectType((await api.request(AllocateResourcesDocument, { resource: "gpus", holder, amount: 1 })).allocateResources, "InvalidInputError");
    expect(unknown.issues[0]).toMatchObject({ path: "input.resource" });

    const reset = expectType((await api.request(SetQuotaDocument, { resource: "workers:depth:1", limit: 2 })).setQuota, "SetQuotaPayload");
    expect(reset.quota.limit).toBe(2);
    const back = expectType((await api.request(RemoveQuotaDocument, { resource: "workers:depth:1" })).removeQuota, "RemoveQuotaPayload");
    expect(back.quota).toEqual({ limit: 8, custom: false });
  });

  it("refuses bad input precisely and changes nothing", async () => {
    const api = fresh();
    const holder = { type: "EXTERNAL" as const, id: "x" };
    for (const amount of [0, -3]) {
      const bad = expectType((await api.request(AllocateResourcesDocument, { resource: "workers:depth:0", holder, amount })).allocateResources, "InvalidInputError");
      expect(bad.issues).toEqual([{ path: "input.amount", message: "must be at least 1" }]);
    }
    const badName = expectType((await api.request(AllocateResourcesDocument, { resource: "Not A Resource", holder, amount: 1 })).allocateResources, "InvalidInputError");
    expect(badName.issues[0]?.path).toBe("input.resource");
    const notHeld = expectType((await api.request(ReleaseResourcesDocument, { holder: { type: "EXTERNAL", id: "nobody" } })).releaseResources, "NotHeldError");
    expect(notHeld).toMatchObject({ code: "NOT_HELD", holderType: "EXTERNAL", holderId: "nobody" });
    const ghost = expectType((await api.request(AllocateResourcesDocument, { resource: "workers:depth:0", holder: { type: "TASK", id: "VGFzazpub3BlCg==" }, amount: 1 })).allocateResources, "NotFoundError");
    expect(ghost.entityType).toBe("Task");
    const negative = expectType((await api.request(SetQuotaDocument, { resource: "agents", limit: -1 })).setQuota, "InvalidInputError");
    expect(negative.issues[0]?.path).toBe("input.limit");
    expect(await usageOf(api, "workers:depth:0")).toMatchObject({ allocated: 0 });
  });
});

describe("enforcement where resources are used", () => {
  it("refuses registering agents over the agents quota; terminating one frees its place", async () => {
    const api = fresh();
    await api.request(SetQuotaDocument, { resource: "agents", limit: 2 });
    const ids: string[] = [];
    for (const name of ["a", "b"]) ids.push(expectType((await api.request(RegisterAgentDocument, { input: { name, type: "w" } })).registerAgent, "RegisterAgentPayload").agent.id);
    const refused = expectType((await api.request(RegisterAgentDocument, { input: { name: "c", type: "w" } })).registerAgent, "QuotaExceededError");
    expect(refused).toMatchObject({ resource: "agents", limit: 2, inUse: 2 });
    await api.request(TerminateAgentDocument, { id: ids[0]! });
    expectType((await api.request(RegisterAgentDocument, { input: { name: "c", type: "w" } })).registerAgent, "RegisterAgentPayload");
    expect(await usageOf(api, "agents")).toMatchObject({ allocated: 2, available: 0 });
  });

  it("refuses claims over tasks.running; a completed, failed or cancelled task frees its slot", async () => {
    const api = fresh();
    await api.request(SetQuotaDocument, { resource: "tasks.running", limit: 1 });
    const worker = expectType((await api.request(RegisterAgentDocument, { input: { name: "w", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
    expectType((await api.request(CreateTasksDocument, { input: { tasks: ["1", "2", "3", "4"].map((d) => ({ description: d, type: "run", maxAttempts: 1 })) } })).createTasks, "CreateTasksPayload");
    const first = expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id })).claimNextTask, "ClaimNextTaskPayload");
    const refused = expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id })).claimNextTask, "QuotaExceededError");
    expect(refused).toMatchObject({ resource: "tasks.running", limit: 1, inUse: 1 });

    await api.request(CompleteTaskDocument, { taskId: first.task!.id, leaseToken: first.leaseToken! });
    const second = expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id })).claimNextTask, "ClaimNextTaskPayload");
    await api.request(FailTaskDocument, { taskId: second.task!.id, leaseToken: second.leaseToken!, error: { message: "x" } });
    const third = expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id })).claimNextTask, "ClaimNextTaskPayload");
    await api.request(CancelTaskDocument, { id: third.task!.id });
    expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id })).claimNextTask, "ClaimNextTaskPayload");
    expect(await usageOf(api, "tasks.running")).toMatchObject({ allocated: 1 });
    const open = await api.request(AllocationsDocument, { first: 10, filter: { resource: ["tasks.running"], open: true } });
    expect(open.allocations.totalCount).toBe(1);
  });

  it("refuses task creation over the hourly rate, saying when capacity returns", async () => {
    const api = fresh();
    await api.request(SetQuotaDocument, { resource: "tasks.created_per_hour", limit: 3, windowSeconds: 3600 });
    expectType((await api.request(CreateTasksDocument, { input: { tasks: ["1", "2"].map((d) => ({ description: d, type: "rate" })) } })).createTasks, "CreateTasksPayload");
    const refused = expectType((await api.request(CreateTasksDocument, { input: { tasks: ["3", "4"].map((d) => ({ description: d, type: "rate" })) } })).createTasks, "QuotaExceededError");
    expect(refused).toMatchObject({ resource: "tasks.created_per_hour", limit: 3, inUse: 2, requested: 2 });
    const retryAt = Date.parse(refused.retryAt!);
    expect(retryAt).toBeGreaterThan(Date.now() + 3500_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 3600_000);
    expectType((await api.request(CreateTaskDocument, { input: { description: "fits", type: "rate" } })).createTask, "CreateTaskPayload");
    expect(await usageOf(api, "tasks.created_per_hour")).toMatchObject({ kind: "RATE", allocated: 3, available: 0, windowSeconds: 3600 });
  });

  it("records refusals in the event log", async () => {
    const api = fresh();
    await api.request(SetQuotaDocument, { resource: "agents", limit: 0 });
    expectType((await api.request(RegisterAgentDocument, { input: { name: "nope", type: "w" } })).registerAgent, "QuotaExceededError");
    await server.events.tailer.settle();
    const events = await server.db.prisma.event.findMany({ where: { workspaceId: `quota-ws-${n}`, topic: "quota" }, orderBy: { id: "asc" } });
    expect(events.map((e) => e.type)).toEqual(["quota.set", "quota.refused"]);
    expect(await server.db.prisma.agent.count({ where: { workspaceId: `quota-ws-${n}` } })).toBe(0);
  });
});
