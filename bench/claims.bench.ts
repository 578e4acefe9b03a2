/**
 * `npm run bench`: claim throughput and quota allocation throughput under concurrency, and
 * subscription fan-out (events delivered per second to many subscribers), each reported as a
 * ratio against a single-caller (single-subscriber) baseline measured in the same run (machines
 * are shared and noisy: absolute times mean little, ratios travel). Runs on in-memory PGlite, or on
 * PostgreSQL when BENCH_DATABASE_URL is set (a fresh database is created and dropped).
 * Bounded: a fixed number of operations per scenario.
 */
import { performance } from "node:perf_hooks";
import { ClaimNextTaskDocument, CompleteTaskDocument, CreateTasksDocument, RegisterAgentDocument, AllocateResourcesDocument, SetQuotaDocument, TaskEventCursorsDocument } from "../test/generated/graphql.ts";
import { collect, expectType, type GraphQLClient, wsClient } from "../test/support/client.ts";
import { startTestServer } from "../test/support/server.ts";

if (process.env.BENCH_DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;
const TASKS = Number(process.env.BENCH_TASKS ?? 300);

const server = await startTestServer({ config: { leaseSweepIntervalMs: 0 } });
try {
  const results: { scenario: string; ops: number; seconds: number }[] = [];

  async function drain(api: GraphQLClient, type: string, agents: number): Promise<number> {
    for (let i = 0; i < TASKS; i += 100) {
      const tasks = Array.from({ length: Math.min(100, TASKS - i) }, (_, j) => ({ description: `t${i + j}`, type }));
      expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
    }
    const ids: string[] = [];
    for (let a = 0; a < agents; a++) ids.push(expectType((await api.request(RegisterAgentDocument, { input: { name: `${type}-${a}`, type: "bench" } })).registerAgent, "RegisterAgentPayload").agent.id);
    const start = performance.now();
    await Promise.all(
      ids.map(async (agentId) => {
        for (;;) {
          const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: [type] })).claimNextTask, "ClaimNextTaskPayload");
          if (!claim.task) return;
          expectType((await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken! })).completeTask, "CompleteTaskPayload");
        }
      }),
    );
    return (performance.now() - start) / 1000;
  }

  async function allocate(api: GraphQLClient, resource: string, callers: number): Promise<number> {
    await api.request(SetQuotaDocument, { resource, limit: 1_000_000 });
    const perCaller = Math.ceil(TASKS / callers);
    const start = performance.now();
    await Promise.all(
      Array.from({ length: callers }, async (_, c) => {
        for (let i = 0; i < perCaller; i++) {
          await api.request(AllocateResourcesDocument, { resource, holder: { type: "EXTERNAL", id: `c${c}-${i}` }, amount: 1 });
        }
      }),
    );
    return (performance.now() - start) / 1000;
  }

  /** Creates TASKS tasks with `subscribers` open taskEvents subscriptions; seconds until each got every task.created. */
  async function fanOut(workspace: string, subscribers: number): Promise<number> {
    const clients = Array.from({ length: subscribers }, (_, i) => wsClient(server.wsUrl, server.token({ workspace, subject: `watcher-${i}`, scopes: ["tasks:read"] })));
    try {
      const subs = clients.map((client) => collect(client, TaskEventCursorsDocument, { after: "0" }));
      while (server.events.limiter.openInWorkspace(workspace) < subscribers) await new Promise((resolve) => setTimeout(resolve, 10));
      const api = server.client({ workspace });
      const start = performance.now();
      for (let i = 0; i < TASKS; i += 100) {
        const tasks = Array.from({ length: Math.min(100, TASKS - i) }, (_, j) => ({ description: `e${i + j}`, type: "fan-out" }));
        expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
      }
      await Promise.all(subs.map((sub) => sub.waitFor(TASKS)));
      return (performance.now() - start) / 1000;
    } finally {
      await Promise.all(clients.map((client) => client.dispose()));
    }
  }

  const api = server.client({ workspace: "bench" });
  results.push({ scenario: "claim+complete, 1 agent (baseline)", ops: TASKS, seconds: await drain(api, "solo", 1) });
  results.push({ scenario: "claim+complete, 10 agents", ops: TASKS, seconds: await drain(api, "crowd", 10) });
  results.push({ scenario: "allocate, 1 caller (baseline)", ops: TASKS, seconds: await allocate(api, "bench.solo", 1) });
  results.push({ scenario: "allocate, 10 callers", ops: TASKS, seconds: await allocate(api, "bench.crowd", 10) });
  results.push({ scenario: "events delivered, 1 subscriber (baseline)", ops: TASKS, seconds: await fanOut("fan-solo", 1) });
  results.push({ scenario: "events delivered, 50 subscribers", ops: TASKS * 50, seconds: await fanOut("fan-crowd", 50) });

  console.log(`\nswarmgraph bench on ${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"} (${TASKS} operations per scenario)\n`);
  for (const [i, r] of results.entries()) {
    const baseline = results[i - (i % 2)]!;
    const ratio = (r.ops / r.seconds) / (baseline.ops / baseline.seconds);
    console.log(`${r.scenario.padEnd(44)} ${(r.ops / r.seconds).toFixed(1).padStart(8)} ops/s   ×${ratio.toFixed(2)} vs baseline`);
  }
} finally {
  await server.stop();
}
