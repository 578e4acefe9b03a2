/**
 * Claims under concurrency. Meaningful on real PostgreSQL (TEST_DATABASE_URL), where the calls
 * run on many connections at once; PGlite serializes transactions and only proves the logic.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentDocument,
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  FailTaskDocument,
  QuotaUsageDocument,
  RegisterAgentDocument,
  ReleaseTaskDocument,
  TaskGivenBackDocument,
  TasksDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  // No retry backoff: a failed task is claimable again at once (the give-back race below).
  server = await startTestServer({ config: { leaseSeconds: 300, retryBaseSeconds: 0 } });
  api = server.client({ workspace: "race-ws" });
});
afterAll(() => server?.stop());

async function agents(prefix: string, count: number, client = api): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(expectType((await client.request(RegisterAgentDocument, { input: { name: `${prefix}-${i}`, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent.id);
  }
  return ids;
}

describe(`claims under concurrency (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it("50 concurrent claimNextTask on one task: exactly one winner", async () => {
    const created = expectType((await api.request(CreateTaskDocument, { input: { description: "the one", type: "single" } })).createTask, "CreateTaskPayload").task;
    const claimers = await agents("claimer", 50);
    const results = await Promise.all(claimers.map((agentId) => api.request(ClaimNextTaskDocument, { agentId, types: ["single"] })));
    const winners = results.map((r) => expectType(r.claimNextTask, "ClaimNextTaskPayload")).filter((p) => p.task);
    expect(winners).toHaveLength(1);
    expect(winners[0]!.task!.id).toBe(created.id);
    expect(winners[0]!.task!.fence).toBe(1);
    const attempts = await server.db.prisma.taskAttempt.count({ where: { taskId: decodeGlobalID(created.id).id } });
    expect(attempts).toBe(1);
  });

  it("20 agents draining many tasks: every task claimed and completed exactly once", async () => {
    // 20 agents × ~20 cycles each on PostgreSQL: claims and completions overlapping throughout, in bounded time.
    const total = onPostgres ? 400 : 200;
    for (let i = 0; i < total; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, total - i) }, (_, j) => api.request(CreateTaskDocument, { input: { description: `job ${i + j}`, type: "drain", context: { n: i + j } } })),
      );
    }
    const workers = await agents("drainer", 20);
    const completedBy = new Map<string, string[]>();
    await Promise.all(
      workers.map(async (agentId) => {
        for (;;) {
          const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: ["drain"] })).claimNextTask, "ClaimNextTaskPayload");
          if (!claim.task) return;
          const done = (await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken!, result: { agentId } })).completeTask;
          expectType(done, "CompleteTaskPayload");
          completedBy.set(claim.task.id, [...(completedBy.get(claim.task.id) ?? []), agentId]);
        }
      }),
    );
    expect(completedBy.size).toBe(total);
    expect([...completedBy.values()].every((by) => by.length === 1)).toBe(true);
    const remaining = await api.request(TasksDocument, { first: 1, filter: { type: ["drain"], status: ["PENDING", "CLAIMED", "RUNNING"] } });
    expect(remaining.tasks.totalCount).toBe(0);
    const attempts = await server.db.prisma.taskAttempt.groupBy({ by: ["taskId"], where: { workspaceId: "race-ws", task: { type: "drain" } }, _count: { _all: true } });
    expect(attempts).toHaveLength(total);
    expect(attempts.every((a) => a._count._all === 1)).toBe(true);
    // The work was shared, not done by one agent.
    expect(new Set([...completedBy.values()].flat()).size).toBeGreaterThan(1);
    // Bounded by count, not time; a generous limit because 2,000+ requests on a shared 2-core machine can be slow.
  }, 600_000);

  it("16 agents completing, failing and releasing at once: every task ends once, and the slot counter always equals the open allocations and the tasks held", async () => {
    // What each attempt does, by task number and fence: releases (not counted), retryable failures
    // and completions; every fifth task allows two attempts, so some of them fail for good.
    const total = onPostgres ? 240 : 90;
    const givers = server.client({ workspace: "give-back-ws" });
    const action = (n: number, fence: number) => (fence === 1 ? (["release", "fail", "complete"] as const)[n % 3]! : fence === 2 && n % 2 === 0 ? "fail" : "complete");
    const expected = (n: number) => (n % 5 === 0 && n % 3 === 1 && n % 2 === 0 ? "FAILED" : "COMPLETED");
    const ids = new Map<string, number>();
    for (let i = 0; i < total; i += 60) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(60, total - i) }, (_, j) =>
          givers.request(CreateTaskDocument, { input: { description: `give-back ${i + j}`, type: "give-back", maxAttempts: (i + j) % 5 === 0 ? 2 : 3 } }),
        ),
      );
      batch.forEach((r, j) => ids.set(expectType(r.createTask, "CreateTaskPayload").task.id, i + j));
    }
    const workers = await agents("giver", 16, givers);
    // The database's truth, read in one snapshot while the agents run: the slot counter, the open
    // allocations it counts and the tasks held, which must all be equal after every commit.
    const drift: { allocated: number; open: number; held: number }[] = [];
    let running = true;
    const sampler = (async () => {
      while (running) {
        const [row] = await server.db.sql.query<{ allocated: number; open: string; held: string }>(
          `SELECT q.allocated,
             (SELECT count(*) FROM "Allocation" a WHERE a."quotaId" = q.id AND a."releasedAt" IS NULL) AS open,
             (SELECT count(*) FROM "Task" t WHERE t."workspaceId" = q."workspaceId" AND t.status IN ('CLAIMED', 'RUNNING')) AS held
           FROM "Quota" q WHERE q."workspaceId" = 'give-back-ws' AND q.resource = 'tasks.running'`,
        );
        const sample = row && { allocated: row.allocated, open: Number(row.open), held: Number(row.held) };
        if (sample && (sample.allocated !== sample.open || sample.open !== sample.held)) drift.push(sample);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const done: string[] = [];
    const attemptsMade = new Map<string, string[]>();
    try {
      await Promise.all(
        workers.map(async (agentId) => {
          for (;;) {
            const claim = expectType((await givers.request(ClaimNextTaskDocument, { agentId, types: ["give-back"] })).claimNextTask, "ClaimNextTaskPayload");
            if (!claim.task) return;
            const { id, fence } = claim.task;
            const act = action(ids.get(id)!, fence);
            attemptsMade.set(id, [...(attemptsMade.get(id) ?? []), act]);
            const taskId = id;
            const leaseToken = claim.leaseToken!;
            if (act === "release") expectType((await givers.request(ReleaseTaskDocument, { taskId, leaseToken })).releaseTask, "ReleaseTaskPayload");
            else if (act === "fail") {
              const failed = expectType((await givers.request(FailTaskDocument, { taskId, leaseToken, error: { fence } })).failTask, "FailTaskPayload").task;
              if (failed.status === "FAILED") done.push(id);
            } else {
              expectType((await givers.request(CompleteTaskDocument, { taskId, leaseToken })).completeTask, "CompleteTaskPayload");
              done.push(id);
            }
          }
        }),
      );
    } finally {
      running = false;
      await sampler;
    }
    expect(drift).toEqual([]);
    expect(done).toHaveLength(total);
    expect(new Set(done).size).toBe(total);
    for (const [id, n] of ids) {
      const task = (await givers.request(TaskGivenBackDocument, { id })).task!;
      const made = attemptsMade.get(id)!;
      expect({ n, status: task.status, outcomes: task.attempts.map((a) => a.outcome) }).toEqual({
        n,
        status: expected(n),
        outcomes: made.map((act) => (act === "release" ? "RELEASED" : act === "fail" ? "FAILED" : "COMPLETED")),
      });
      expect(task.attemptCount).toBe(made.filter((act) => act !== "release").length);
    }
    expect((await givers.request(QuotaUsageDocument, { resources: ["tasks.running"] })).quotaUsage[0]!.allocated).toBe(0);
    for (const agentId of workers) expect((await givers.request(AgentDocument, { id: agentId })).agent?.status).toBe("IDLE");
  }, 600_000);
});
