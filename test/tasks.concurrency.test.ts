/**
 * Claims under concurrency. Meaningful on real PostgreSQL (TEST_DATABASE_URL), where the calls
 * run on many connections at once; PGlite serializes transactions and only proves the logic.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimNextTaskDocument, CompleteTaskDocument, CreateTaskDocument, RegisterAgentDocument, TasksDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer({ config: { leaseSeconds: 300 } });
  api = server.client({ workspace: "race-ws" });
});
afterAll(() => server?.stop());

async function agents(prefix: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(expectType((await api.request(RegisterAgentDocument, { input: { name: `${prefix}-${i}`, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent.id);
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
});
