/** Task graphs, hierarchy, batches, idempotency, cancellation, operator actions and aggregates. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentPerformanceDocument,
  AssignTaskDocument,
  CancelTaskDocument,
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  CreateTaskGraphDocument,
  CreateTasksDocument,
  FailTaskDocument,
  FilteredTasksDocument,
  RegisterAgentDocument,
  ReportProgressDocument,
  SwarmTaskSummaryDocument,
  TaskDocument,
  TaskTreeDocument,
  UpdateTaskDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { deleteExpiredIdempotencyKeys } from "../src/modules/tasks/creation.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer({ config: { retryBaseSeconds: 0 } });
  api = server.client({ workspace: "workflow-ws" });
});
afterAll(() => server?.stop());

async function agent(name: string) {
  return expectType((await api.request(RegisterAgentDocument, { input: { name, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent;
}

/** Claims and completes tasks of `type` one at a time, returning their descriptions in order. */
async function drain(agentId: string, type: string): Promise<string[]> {
  const done: string[] = [];
  for (;;) {
    const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: [type] })).claimNextTask, "ClaimNextTaskPayload");
    if (!claim.task) return done;
    const { task } = await api.request(TaskDocument, { id: claim.task.id });
    done.push(task!.description);
    expectType((await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken! })).completeTask, "CompleteTaskPayload");
  }
}

const node = (key: string, dependsOnKeys: string[] = [], type = "graph") => ({ key, dependsOnKeys, description: key, type });

describe("task graphs", () => {
  it("runs a dependency chain in order: dependents wait, then become claimable", async () => {
    const { createTaskGraph } = await api.request(CreateTaskGraphDocument, {
      input: { tasks: [node("deploy", ["test"]), node("build"), node("test", ["build", "lint"]), node("lint")] },
    });
    const tasks = expectType(createTaskGraph, "CreateTaskGraphPayload").tasks;
    expect(tasks.map((t) => [t.description, t.status])).toEqual([
      ["deploy", "WAITING"],
      ["build", "PENDING"],
      ["test", "WAITING"],
      ["lint", "PENDING"],
    ]);
    expect(tasks[2]!.dependencies.map((d) => d.id).sort()).toEqual([tasks[1]!.id, tasks[3]!.id].sort());

    const worker = await agent("chain");
    const order = await drain(worker.id, "graph");
    expect(order.slice(0, 2).sort()).toEqual(["build", "lint"]);
    expect(order.slice(2)).toEqual(["test", "deploy"]);
    const tree = (await api.request(TaskTreeDocument, { id: tasks[2]!.id })).task!;
    expect(tree.dependents).toEqual([{ id: tasks[0]!.id, status: "COMPLETED" }]);
  });

  it("refuses a cycle with the keys on it, and creates nothing", async () => {
    const before = (await api.request(FilteredTasksDocument, { first: 1, filter: { type: ["cyclic"] } })).tasks.totalCount;
    const { createTaskGraph } = await api.request(CreateTaskGraphDocument, {
      input: { tasks: [node("a", ["c"], "cyclic"), node("b", ["a"], "cyclic"), node("c", ["b"], "cyclic"), node("free", [], "cyclic")] },
    });
    const error = expectType(createTaskGraph, "DependencyCycleError");
    expect(error.code).toBe("DEPENDENCY_CYCLE");
    expect(error.cycle).toHaveLength(4);
    expect(error.cycle[0]).toBe(error.cycle[3]);
    expect(new Set(error.cycle)).toEqual(new Set(["a", "b", "c"]));
    expect((await api.request(FilteredTasksDocument, { first: 1, filter: { type: ["cyclic"] } })).tasks.totalCount).toBe(before);

    const unknown = expectType((await api.request(CreateTaskGraphDocument, { input: { tasks: [node("x", ["nope"]), node("x")] } })).createTaskGraph, "InvalidInputError");
    expect(unknown.issues.map((i) => i.path).sort()).toEqual(["input.tasks.0.dependsOnKeys.0", "input.tasks.1.key"]);
  });

  it("treats a dependency on another workspace's task as unknown", async () => {
    const foreign = expectType((await server.client({ workspace: "elsewhere" }).request(CreateTaskDocument, { input: { description: "theirs", type: "x" } })).createTask, "CreateTaskPayload").task;
    const { createTask } = await api.request(CreateTaskDocument, { input: { description: "mine", type: "x", dependsOn: [foreign.id] } });
    expect(expectType(createTask, "NotFoundError")).toMatchObject({ entityType: "Task", entityId: foreign.id });
  });

  it("cancels the dependents of a task that failed for good", async () => {
    const { createTaskGraph } = await api.request(CreateTaskGraphDocument, { input: { tasks: [node("first", [], "doomed"), node("second", ["first"], "doomed")] } });
    const [first, second] = expectType(createTaskGraph, "CreateTaskGraphPayload").tasks;
    const worker = await agent("doomed-worker");
    const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id, types: ["doomed"] })).claimNextTask, "ClaimNextTaskPayload");
    expect(claim.task?.id).toBe(first!.id);
    await api.request(FailTaskDocument, { taskId: first!.id, leaseToken: claim.leaseToken!, error: { message: "fatal" }, retryable: false });
    expect((await api.request(TaskTreeDocument, { id: second!.id })).task?.status).toBe("CANCELLED");
  });
});

describe("batches and idempotency", () => {
  it("creates a batch all-or-nothing: one bad task creates none", async () => {
    const bad = await api.request(CreateTasksDocument, { input: { tasks: [{ description: "ok", type: "batch" }, { description: "", type: "batch" }] } });
    expect(expectType(bad.createTasks, "InvalidInputError").issues).toEqual([{ path: "input.tasks.1.description", message: "must not be empty" }]);
    expect((await api.request(FilteredTasksDocument, { first: 1, filter: { type: ["batch"] } })).tasks.totalCount).toBe(0);

    const good = await api.request(CreateTasksDocument, { input: { tasks: [{ description: "one", type: "batch" }, { description: "two", type: "batch" }] } });
    expect(expectType(good.createTasks, "CreateTasksPayload").tasks.map((t) => t.description)).toEqual(["one", "two"]);
  });

  it("refuses an oversized batch", async () => {
    const tasks = Array.from({ length: 101 }, (_, i) => ({ description: `t${i}`, type: "huge" }));
    const error = expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "InvalidInputError");
    expect(error.issues).toEqual([{ path: "input.tasks", message: "at most 100 tasks per call" }]);
  });

  it("returns the same tasks for a retried idempotency key, even concurrently, and refuses the key for another request", async () => {
    const input = { tasks: [node("i1", [], "idem"), node("i2", ["i1"], "idem")], idempotencyKey: "deploy-2026-11-22" };
    const results = await Promise.all([1, 2, 3].map(() => api.request(CreateTaskGraphDocument, { input })));
    const ids = results.map((r) => expectType(r.createTaskGraph, "CreateTaskGraphPayload").tasks.map((t) => t.id));
    expect(ids[1]).toEqual(ids[0]);
    expect(ids[2]).toEqual(ids[0]);
    expect((await api.request(FilteredTasksDocument, { first: 10, filter: { type: ["idem"] } })).tasks.totalCount).toBe(2);

    const reused = expectType((await api.request(CreateTaskGraphDocument, { input: { ...input, tasks: [node("other", [], "idem")] } })).createTaskGraph, "IdempotencyKeyReusedError");
    expect(reused).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", key: "deploy-2026-11-22", operation: "createTaskGraph" });

    const single = { description: "once", type: "idem-single" };
    const a = expectType((await api.request(CreateTaskDocument, { input: { ...single, idempotencyKey: "k1" } })).createTask, "CreateTaskPayload").task;
    const b = expectType((await api.request(CreateTaskDocument, { input: { ...single, idempotencyKey: "k1" } })).createTask, "CreateTaskPayload").task;
    expect(b.id).toBe(a.id);
  });

  it("forgets a key after IDEMPOTENCY_KEY_TTL_HOURS: a retry then creates new tasks, and the sweeper deletes expired keys", async () => {
    const input = { description: "nightly", type: "idem-ttl", idempotencyKey: "nightly-2026-11-21" };
    const first = expectType((await api.request(CreateTaskDocument, { input })).createTask, "CreateTaskPayload").task;
    const keyRow = { workspaceId: "workflow-ws", key: input.idempotencyKey };
    // A day passes (the key's clock is moved back rather than the test waiting).
    const dayAgo = new Date(Date.now() - (server.config.idempotencyKeyTtlHours * 3_600_000 + 60_000));
    await server.db.prisma.idempotencyKey.update({ where: { workspaceId_key: keyRow }, data: { createdAt: dayAgo } });
    const second = expectType((await api.request(CreateTaskDocument, { input })).createTask, "CreateTaskPayload").task;
    expect(second.id).not.toBe(first.id);
    // …and the new key holds again for retries.
    expect(expectType((await api.request(CreateTaskDocument, { input })).createTask, "CreateTaskPayload").task.id).toBe(second.id);

    await server.db.prisma.idempotencyKey.update({ where: { workspaceId_key: keyRow }, data: { createdAt: dayAgo } });
    const fresh = { workspaceId: "workflow-ws", key: "still-fresh" };
    await api.request(CreateTaskDocument, { input: { ...input, idempotencyKey: fresh.key } });
    expect(await deleteExpiredIdempotencyKeys(server.db.prisma, server.config)).toBeGreaterThanOrEqual(1);
    expect(await server.db.prisma.idempotencyKey.findUnique({ where: { workspaceId_key: keyRow } })).toBeNull();
    expect(await server.db.prisma.idempotencyKey.findUnique({ where: { workspaceId_key: fresh } })).not.toBeNull();
  });
});

describe("hierarchy and cancellation", () => {
  it("cancelling a parent cancels its whole subtree and the tasks waiting on it; the holder sees LeaseLost", async () => {
    const root = expectType((await api.request(CreateTaskDocument, { input: { description: "root", type: "tree" } })).createTask, "CreateTaskPayload").task;
    const child = expectType((await api.request(CreateTaskDocument, { input: { description: "child", type: "tree", parentId: root.id } })).createTask, "CreateTaskPayload").task;
    const grandchild = expectType((await api.request(CreateTaskDocument, { input: { description: "grandchild", type: "tree-held", parentId: child.id } })).createTask, "CreateTaskPayload").task;
    const waiter = expectType((await api.request(CreateTaskDocument, { input: { description: "waiter", type: "tree", dependsOn: [child.id] } })).createTask, "CreateTaskPayload").task;
    const bystander = expectType((await api.request(CreateTaskDocument, { input: { description: "bystander", type: "tree" } })).createTask, "CreateTaskPayload").task;

    const tree = (await api.request(TaskTreeDocument, { id: child.id })).task!;
    expect(tree).toMatchObject({ depth: 1, parent: { id: root.id }, subtasks: [{ id: grandchild.id, depth: 2 }] });
    expect((await api.request(FilteredTasksDocument, { first: 10, filter: { parent: root.id } })).tasks.edges.map((e) => e.node.id)).toEqual([child.id]);

    const holder = await agent("holder");
    const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: holder.id, types: ["tree-held"] })).claimNextTask, "ClaimNextTaskPayload");
    expect(claim.task?.id).toBe(grandchild.id);

    const { cancelTask } = await api.request(CancelTaskDocument, { id: root.id, reason: "requirements changed" });
    const cancelled = expectType(cancelTask, "CancelTaskPayload").tasks;
    expect(cancelled[0]!.id).toBe(root.id);
    expect(cancelled.map((t) => t.id).sort()).toEqual([root.id, child.id, grandchild.id, waiter.id].sort());
    expect(cancelled.every((t) => t.status === "CANCELLED" && t.cancelReason === "requirements changed")).toBe(true);
    expect((await api.request(TaskDocument, { id: bystander.id })).task?.status).toBe("PENDING");

    const late = expectType((await api.request(ReportProgressDocument, { taskId: grandchild.id, leaseToken: claim.leaseToken!, progress: 0.5 })).reportProgress, "LeaseLostError");
    expect(late.reason).toBe("CANCELLED");
    const attempt = (await api.request(TaskDocument, { id: grandchild.id })).task!.attempts[0]!;
    expect(attempt.outcome).toBe("CANCELLED");
    expect((await api.request(AgentPerformanceDocument, { id: holder.id })).agent?.status).toBe("IDLE");

    const again = expectType((await api.request(CancelTaskDocument, { id: root.id })).cancelTask, "IllegalTransitionError");
    expect(again.fromStatus).toBe("CANCELLED");
  });

  it("lets operators assign and update tasks", async () => {
    const worker = await agent("assignee");
    const created = expectType((await api.request(CreateTaskDocument, { input: { description: "pushed", type: "push" } })).createTask, "CreateTaskPayload").task;
    const updated = expectType((await api.request(UpdateTaskDocument, { input: { id: created.id, priority: "CRITICAL", maxAttempts: 5, metadata: { ticket: "OPS-1" } } })).updateTask, "UpdateTaskPayload");
    expect(updated.task).toMatchObject({ priority: "CRITICAL", maxAttempts: 5, metadata: { ticket: "OPS-1" } });
    const assigned = expectType((await api.request(AssignTaskDocument, { taskId: created.id, agentId: worker.id })).assignTask, "AssignTaskPayload");
    expect(assigned.task).toMatchObject({ status: "CLAIMED", assignee: { id: worker.id } });
    expect(assigned.leaseToken).toBeTruthy();
    expectType((await api.request(CompleteTaskDocument, { taskId: created.id, leaseToken: assigned.leaseToken! })).completeTask, "CompleteTaskPayload");
    expectType((await api.request(UpdateTaskDocument, { input: { id: created.id, priority: "LOW" } })).updateTask, "IllegalTransitionError");
  });
});

describe("aggregates", () => {
  it("reports agent performance and swarm progress from real work", async () => {
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "stats", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    const { createTasks } = await api.request(CreateTasksDocument, {
      input: { tasks: ["a", "b", "c", "d"].map((d) => ({ description: d, type: "stats", swarmId: swarm.id, maxAttempts: 1 })) },
    });
    expectType(createTasks, "CreateTasksPayload");
    const worker = await agent("stats-worker");
    const claims = [];
    for (let i = 0; i < 3; i++) claims.push(expectType((await api.request(ClaimNextTaskDocument, { agentId: worker.id, types: ["stats"] })).claimNextTask, "ClaimNextTaskPayload"));
    await api.request(CompleteTaskDocument, { taskId: claims[0]!.task!.id, leaseToken: claims[0]!.leaseToken! });
    await api.request(FailTaskDocument, { taskId: claims[1]!.task!.id, leaseToken: claims[1]!.leaseToken!, error: { message: "x" } });
    await api.request(ReportProgressDocument, { taskId: claims[2]!.task!.id, leaseToken: claims[2]!.leaseToken!, progress: 0.5 });

    const perf = (await api.request(AgentPerformanceDocument, { id: worker.id })).agent!.performance;
    expect(perf).toMatchObject({ tasksCompleted: 1, tasksFailed: 1, successRate: 0.5, currentTasks: 1 });
    expect(perf.averageDurationSeconds).toBeGreaterThanOrEqual(0);

    const summary = (await api.request(SwarmTaskSummaryDocument, { id: swarm.id })).swarm!.taskSummary;
    expect(summary.total).toBe(4);
    expect(Object.fromEntries(summary.byStatus.filter((s) => s.count > 0).map((s) => [s.status, s.count]))).toEqual({ COMPLETED: 1, FAILED: 1, RUNNING: 1, PENDING: 1 });
    // (1 + 0 + 0.5 + 0) / 4
    expect(summary.progress).toBe(0.375);

    const claimable = await api.request(FilteredTasksDocument, { first: 10, filter: { type: ["stats"], claimable: true } });
    expect(claimable.tasks.totalCount).toBe(1);
    const byPriority = await api.request(FilteredTasksDocument, { first: 10, filter: { type: ["stats"] }, orderBy: { field: "CREATED_AT", direction: "ASC" } });
    expect(byPriority.tasks.edges.map((e) => e.node.description)).toEqual(["a", "b", "c", "d"]);
  });
});
