/**
 * Batched claims and completions (claimNextTasks, completeTasks), and the hot path they share
 * with single claims: order, leases, per-item refusals, the tasks.running quota, agent status and
 * events. The last test is the soak: many agents claiming in batches at once against a small
 * quota, compared with the database's truth while and after they run.
 */
import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  ClaimNextTasksDocument,
  CompleteTaskDocument,
  CompleteTasksDocument,
  CreateTaskDocument,
  CreateTasksDocument,
  EventLogHeadDocument,
  RegisterAgentDocument,
  ReportProgressesDocument,
  SetQuotaDocument,
  TaskEventsDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, collect, expectType, wsClient } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { leaseSeconds: 300 } });
});
afterAll(() => server?.stop());

async function register(api: GraphQLClient, name: string): Promise<string> {
  return expectType((await api.request(RegisterAgentDocument, { input: { name, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent.id;
}

async function createMany(api: GraphQLClient, type: string, count: number, priority?: "LOW" | "HIGH"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 100) {
    const tasks = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({ description: `${type} ${i + j}`, type, priority, context: { n: i + j } }));
    ids.push(...expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload").tasks.map((t) => t.id));
  }
  return ids;
}

const raw = (id: string) => decodeGlobalID(id).id;

describe("claimNextTasks and completeTasks", () => {
  it("claims up to max in claim order with a lease each, and completes a batch item by item", async () => {
    const api = server.client({ workspace: "batch-ws" });
    const low = await createMany(api, "batch", 5, "LOW");
    const high = await createMany(api, "batch", 3, "HIGH");
    const agentId = await register(api, "batcher");

    const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 5, types: ["batch"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(claims.map((c) => c.task.id)).toEqual([...high, low[0], low[1]]);
    expect(claims.every((c) => c.task.status === "CLAIMED" && c.task.fence === 1 && c.task.attemptCount === 1)).toBe(true);
    expect(new Set(claims.map((c) => c.leaseToken)).size).toBe(5);
    expect((await api.request(AgentDocument, { id: agentId })).agent?.status).toBe("BUSY");

    const [a, b, c, d] = claims;
    const outcomes = expectType(
      (
        await api.request(CompleteTasksDocument, {
          completions: [
            { taskId: a!.task.id, leaseToken: a!.leaseToken, result: { ok: "a" } },
            { taskId: b!.task.id, leaseToken: "not-the-token" },
            { taskId: c!.task.id, leaseToken: c!.leaseToken },
            { taskId: c!.task.id, leaseToken: c!.leaseToken },
            { taskId: encodeGlobalID("Task", "no-such-task"), leaseToken: "x" },
            { taskId: d!.task.id, leaseToken: d!.leaseToken, result: { deep: "x".repeat(70_000) } },
          ],
        })
      ).completeTasks,
      "CompleteTasksPayload",
    ).outcomes;
    expect(outcomes.map((o) => (o.__typename === "Task" ? o.status : o.__typename))).toEqual(["COMPLETED", "LeaseLostError", "COMPLETED", "LeaseLostError", "NotFoundError", "InvalidInputError"]);
    expect(outcomes[0]).toMatchObject({ result: { ok: "a" }, progress: 1 });
    expect(outcomes[1]).toMatchObject({ reason: "RECLAIMED" });
    expect(outcomes[3]).toMatchObject({ reason: "FINISHED" });
    expect(outcomes[5]).toMatchObject({ issues: [{ path: "input.completions.5.result" }] });
    // The refused ones are still held and can complete.
    for (const claim of [b!, d!, claims[4]!]) {
      expectType((await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken })).completeTask, "CompleteTaskPayload");
    }
    expect((await api.request(AgentDocument, { id: agentId })).agent?.status).toBe("IDLE");

    await server.events.tailer.settle(); // the latest commits get their log positions
    const events = await server.db.prisma.event.findMany({ where: { workspaceId: "batch-ws", entityId: { in: claims.map((cl) => raw(cl.task.id)) } }, orderBy: { id: "asc" } });
    for (const claim of claims) {
      const own = events.filter((e) => e.entityId === raw(claim.task.id)).map((e) => e.type);
      expect(own).toEqual(["task.created", "task.claimed", "task.completed"]);
    }
    const allocations = await server.db.prisma.allocation.findMany({ where: { workspaceId: "batch-ws", resource: "tasks.running", holderId: { in: claims.map((cl) => raw(cl.task.id)) } } });
    expect(allocations).toHaveLength(5);
    expect(allocations.every((al) => al.releasedAt !== null)).toBe(true);
    const quota = await server.db.prisma.quota.findUniqueOrThrow({ where: { workspaceId_resource: { workspaceId: "batch-ws", resource: "tasks.running" } } });
    expect(quota.allocated).toBe(0);
  });

  it("claims only what the tasks.running quota has room for, then refuses with QuotaExceededError", async () => {
    const api = server.client({ workspace: "batch-quota-ws" });
    await createMany(api, "q", 6);
    const agentId = await register(api, "q-agent");
    expectType((await api.request(SetQuotaDocument, { resource: "tasks.running", limit: 3 })).setQuota, "SetQuotaPayload");

    const first = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 10 })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(first).toHaveLength(3);
    const refused = (await api.request(ClaimNextTasksDocument, { agentId, max: 2 })).claimNextTasks;
    expect(refused).toMatchObject({ __typename: "QuotaExceededError", code: "QUOTA_EXCEEDED" });
    expectType((await api.request(CompleteTaskDocument, { taskId: first[0]!.task.id, leaseToken: first[0]!.leaseToken })).completeTask, "CompleteTaskPayload");
    const next = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 10 })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(next).toHaveLength(1);
  });

  it("refuses a max outside 1..100 and an empty batch, changing nothing", async () => {
    const api = server.client({ workspace: "batch-input-ws" });
    await createMany(api, "i", 2);
    const agentId = await register(api, "i-agent");
    for (const max of [0, 101, -1]) {
      const r = (await api.request(ClaimNextTasksDocument, { agentId, max })).claimNextTasks;
      expect(r).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.max" }] });
    }
    const empty = (await api.request(CompleteTasksDocument, { completions: [] })).completeTasks;
    expect(empty).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.completions" }] });
    expect(await server.db.prisma.task.count({ where: { workspaceId: "batch-input-ws", status: "PENDING" } })).toBe(2);
  });

  it("a task with dependents completes through the general path and releases them", async () => {
    const api = server.client({ workspace: "batch-deps-ws" });
    const first = expectType((await api.request(CreateTaskDocument, { input: { description: "first", type: "dep" } })).createTask, "CreateTaskPayload").task;
    const second = expectType((await api.request(CreateTaskDocument, { input: { description: "second", type: "dep", dependsOn: [first.id] } })).createTask, "CreateTaskPayload").task;
    expect(second.status).toBe("WAITING");
    const agentId = await register(api, "dep-agent");
    const [claim] = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 5 })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(claim!.task.id).toBe(first.id);
    const outcomes = expectType((await api.request(CompleteTasksDocument, { completions: [{ taskId: first.id, leaseToken: claim!.leaseToken }] })).completeTasks, "CompleteTasksPayload").outcomes;
    expect(outcomes[0]).toMatchObject({ __typename: "Task", status: "COMPLETED" });
    const next = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 5 })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(next.map((c) => c.task.id)).toEqual([second.id]);
  });
});

describe("reportProgresses", () => {
  it("records each held task's progress with its own event, in input order, and refuses the rest item by item", async () => {
    const workspace = "progress-batch-ws";
    const api = server.client({ workspace });
    await createMany(api, "report", 4);
    const agentId = await register(api, "reporter");
    const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 4, types: ["report"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    const [a, b, c, d] = claims.map((claim) => ({ taskId: claim.task.id, leaseToken: claim.leaseToken, leaseExpiresAt: claim.leaseExpiresAt }));
    const ws = wsClient(server.wsUrl, server.token({ workspace, scopes: ["tasks:read"] }));
    try {
      const { eventLogHead } = await api.request(EventLogHeadDocument, {});
      const events = collect(ws, TaskEventsDocument, { filter: { types: ["task.progress"] }, after: eventLogHead });
      // Reported out of id order: the events follow the input, not the rows' order.
      const outcomes = expectType(
        (
          await api.request(ReportProgressesDocument, {
            reports: [
              { taskId: c!.taskId, leaseToken: c!.leaseToken, progress: 0.3 },
              { taskId: a!.taskId, leaseToken: a!.leaseToken, progress: 0.5, partialResult: { rows: 10 } },
              { taskId: b!.taskId, leaseToken: "not-the-token", progress: 0.1 },
              { taskId: d!.taskId, leaseToken: d!.leaseToken, progress: 1.5 },
              { taskId: encodeGlobalID("Task", "no-such-task"), leaseToken: "x", progress: 0.2 },
              { taskId: a!.taskId, leaseToken: a!.leaseToken, progress: 0.6 },
            ],
          })
        ).reportProgresses,
        "ReportProgressesPayload",
      ).outcomes;
      expect(outcomes.map((o) => (o.__typename === "Task" ? `${o.status} ${o.progress}` : o.__typename))).toEqual([
        "RUNNING 0.3",
        "RUNNING 0.5",
        "LeaseLostError",
        "InvalidInputError",
        "NotFoundError",
        "RUNNING 0.6",
      ]);
      expect(outcomes[1]).toMatchObject({ partialResult: { rows: 10 } });
      expect(outcomes[5]).toMatchObject({ partialResult: { rows: 10 } });
      expect(outcomes[2]).toMatchObject({ reason: "RECLAIMED" });
      expect(outcomes[3]).toMatchObject({ issues: [{ path: "input.reports.3.progress" }] });
      // Reporting extends the lease, as reportProgress does.
      const reportedC = outcomes[0] as { leaseExpiresAt: string };
      expect(Date.parse(reportedC.leaseExpiresAt)).toBeGreaterThanOrEqual(Date.parse(c!.leaseExpiresAt as string));

      const progress = await events.waitFor(3, 20_000);
      expect(progress.map((e) => [e.taskEvents.taskId, e.taskEvents.progress])).toEqual([
        [c!.taskId, 0.3],
        [a!.taskId, 0.5],
        [a!.taskId, 0.6],
      ]);
      events.stop();

      // The refused ones changed nothing: b and d are still CLAIMED and can be completed.
      for (const held of [b!, d!]) {
        expectType((await api.request(CompleteTaskDocument, { taskId: held.taskId, leaseToken: held.leaseToken })).completeTask, "CompleteTaskPayload");
      }
    } finally {
      await ws.dispose();
    }
  });

  it("refuses an empty batch and one over 100 reports", async () => {
    const api = server.client({ workspace: "progress-batch-limits" });
    const one = { taskId: encodeGlobalID("Task", "t"), leaseToken: "x", progress: 0.5 };
    for (const reports of [[], Array.from({ length: 101 }, () => one)]) {
      const payload = (await api.request(ReportProgressesDocument, { reports })).reportProgresses;
      expect(payload).toMatchObject({ __typename: "InvalidInputError", issues: [{ path: "input.reports" }] });
    }
  });
});

describe(`batched claims under concurrency (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("many agents claiming in batches against a small quota: each task once, the quota never exceeded, nothing leaked", async () => {
    const workspace = "batch-soak-ws";
    const api = server.client({ workspace });
    const total = onPostgres ? 600 : 120;
    const agentsCount = onPostgres ? 16 : 4;
    const limit = 20;
    await createMany(api, "soak", total);
    expectType((await api.request(SetQuotaDocument, { resource: "tasks.running", limit })).setQuota, "SetQuotaPayload");
    const agentIds: string[] = [];
    for (let i = 0; i < agentsCount; i++) agentIds.push(await register(api, `soaker-${i}`));

    // An observer samples the truth while the agents run: held tasks and the quota counter.
    let running = true;
    const samples: { held: number; allocated: number }[] = [];
    const observer = (async () => {
      while (running) {
        const [row] = await server.db.sql.query<{ held: number; allocated: number }>(
          `SELECT (SELECT count(*)::int FROM "Task" WHERE "workspaceId" = $1 AND status IN ('CLAIMED', 'RUNNING')) AS held,
                  (SELECT allocated FROM "Quota" WHERE "workspaceId" = $1 AND resource = 'tasks.running') AS allocated`,
          [workspace],
        );
        samples.push(row!);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    const completedBy = new Map<string, string[]>();
    await Promise.all(
      agentIds.map(async (agentId, i) => {
        for (;;) {
          const payload = (await api.request(ClaimNextTasksDocument, { agentId, max: 1 + (i % 8), types: ["soak"] })).claimNextTasks;
          if (payload.__typename === "QuotaExceededError") {
            await new Promise((resolve) => setTimeout(resolve, 2));
            continue;
          }
          const claims = expectType(payload, "ClaimNextTasksPayload").claims;
          if (claims.length === 0) return;
          const outcomes = expectType(
            (await api.request(CompleteTasksDocument, { completions: claims.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken, result: { agentId } })) })).completeTasks,
            "CompleteTasksPayload",
          ).outcomes;
          for (const outcome of outcomes) {
            const task = expectType(outcome, "Task");
            completedBy.set(task.id, [...(completedBy.get(task.id) ?? []), agentId]);
          }
        }
      }),
    );
    running = false;
    await observer;

    expect(completedBy.size).toBe(total);
    expect([...completedBy.values()].every((by) => by.length === 1)).toBe(true);
    expect(samples.length).toBeGreaterThan(0);
    expect(Math.max(...samples.map((s) => s.held))).toBeLessThanOrEqual(limit);
    expect(Math.max(...samples.map((s) => s.allocated))).toBeLessThanOrEqual(limit);
    expect(samples.every((s) => s.allocated >= 0)).toBe(true);

    const attempts = await server.db.prisma.taskAttempt.groupBy({ by: ["taskId"], where: { workspaceId: workspace, task: { type: "soak" } }, _count: { _all: true } });
    expect(attempts).toHaveLength(total);
    expect(attempts.every((a) => a._count._all === 1)).toBe(true);
    const quota = await server.db.prisma.quota.findUniqueOrThrow({ where: { workspaceId_resource: { workspaceId: workspace, resource: "tasks.running" } } });
    expect(quota.allocated).toBe(0);
    expect(await server.db.prisma.allocation.count({ where: { workspaceId: workspace, resource: "tasks.running", releasedAt: null } })).toBe(0);
    expect(await server.db.prisma.agent.count({ where: { workspaceId: workspace, status: { not: "IDLE" } } })).toBe(0);
    const settledHead = await server.events.tailer.settle();
    expect(settledHead).toBeGreaterThan(0n);
    const claimedEvents = await server.db.prisma.event.count({ where: { workspaceId: workspace, type: "task.claimed" } });
    const completedEvents = await server.db.prisma.event.count({ where: { workspaceId: workspace, type: "task.completed" } });
    expect([claimedEvents, completedEvents]).toEqual([total, total]);

    if (onPostgres) {
      // Hot-path claims and completions and general-path claims (a full quota sends them there)
      // take their locks in one order: PostgreSQL never had to break a deadlock among them.
      // (Its statistics reach pg_stat_database within a second of each transaction's end.)
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const [stats] = await server.db.sql.query<{ deadlocks: string }>(`SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`);
      expect(Number(stats!.deadlocks)).toBe(0);
    }
  }, 600_000);
});
