/**
 * Scenario 1: claim + complete cycles through the public GraphQL API, C agents each looping
 * (HTTP keep-alive), single claims (claimNextTask + completeTask) and batched ones
 * (claimNextTasks + completeTasks), against a server in its own process. Verifies that every
 * task was completed exactly once. Each scenario also reports how fast its tasks were created
 * (createTasks, 100 per call, one client).
 *
 * `giveBackCycles`: the holder's other ways out, claimNextTask + releaseTask (pending again at
 * once) and claimNextTask + failTask (retryable, retried at once: the server runs with
 * TASK_RETRY_BASE_SECONDS=0), each verified (every release and failure took effect, each task
 * failed exactly maxAttempts times, the last for good).
 *
 * `functionCycles` is the ceiling the GraphQL figures are read against: the same claim and
 * completion SQL functions the server's hot path calls (src/modules/tasks/hotPath.ts), called
 * straight through the pg driver with no server in the loop, through the same gate the server
 * puts them through (at most QUOTA_ROW_STATEMENTS of them in flight for the workspace).
 */
import { randomBytes } from "node:crypto";
import { decodeGlobalID } from "@pothos/plugin-relay";
import pLimit from "p-limit";
import pg from "pg";
import { QUOTA_ROW_STATEMENTS } from "../src/modules/tasks/hotPath.ts";
import { ClaimNextTaskDocument, ClaimNextTasksDocument, CompleteTaskDocument, CompleteTasksDocument, FailTaskDocument, ReleaseTaskDocument } from "../test/generated/graphql.ts";
import { expectType } from "../test/support/client.ts";
import type { BenchServer } from "./serverProcess.ts";
import { createTasks, record, registerAgents, type Result, timed } from "./support.ts";

export async function claimCycles(server: BenchServer, label: string, concurrency: number, tasks: number, batch = 0): Promise<Result> {
  const workspace = `bench-${label}-${concurrency}-${batch}`.toLowerCase().replace(/[^a-z0-9-]/g, "");
  const api = server.client({ workspace });
  const type = "cycle";
  // Seeding is itself a figure: createTasks in batches of 100.
  const seeding = await timed(() => createTasks(api, type, tasks));
  const agents = await registerAgents(api, "agent", concurrency);
  const completed = new Map<string, number>();
  const seconds = await timed(async () => {
    await Promise.all(
      agents.map(async (agentId) => {
        for (;;) {
          if (batch > 0) {
            const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: batch, types: [type] })).claimNextTasks, "ClaimNextTasksPayload").claims;
            if (claims.length === 0) return;
            const outcomes = expectType((await api.request(CompleteTasksDocument, { completions: claims.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })) })).completeTasks, "CompleteTasksPayload").outcomes;
            for (const outcome of outcomes) {
              const task = expectType(outcome, "Task");
              completed.set(task.id, (completed.get(task.id) ?? 0) + 1);
            }
          } else {
            const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: [type] })).claimNextTask, "ClaimNextTaskPayload");
            if (!claim.task) return;
            expectType((await api.request(CompleteTaskDocument, { taskId: claim.task.id, leaseToken: claim.leaseToken! })).completeTask, "CompleteTaskPayload");
            completed.set(claim.task.id, (completed.get(claim.task.id) ?? 0) + 1);
          }
        }
      }),
    );
  });
  if (completed.size !== tasks || [...completed.values()].some((n) => n !== 1)) {
    throw new Error(`${label}: ${completed.size} of ${tasks} tasks completed, some more than once: the run is invalid`);
  }
  return record({ group: "claim+complete cycles", scenario: `${label} C=${concurrency}${batch ? ` batch ${batch}` : ""}`, ops: tasks, seconds, extra: { createdPerSecond: Math.round(tasks / seeding) } });
}

export async function functionCycles(server: BenchServer, concurrency: number, tasks: number): Promise<Result> {
  if (!server.databaseUrl) throw new Error("functionCycles needs the server on PostgreSQL");
  const workspace = `bench-functions-${concurrency}`;
  const api = server.client({ workspace });
  const type = "cycle";
  await createTasks(api, type, tasks + 1);
  const agents = await registerAgents(api, "agent", concurrency);
  // One claim through the API first: it creates the workspace's tasks.running quota row, which
  // the server does on a workspace's first claim and the functions, called directly, expect.
  const first = expectType((await api.request(ClaimNextTaskDocument, { agentId: agents[0]!, types: [type] })).claimNextTask, "ClaimNextTaskPayload");
  expectType((await api.request(CompleteTaskDocument, { taskId: first.task!.id, leaseToken: first.leaseToken! })).completeTask, "CompleteTaskPayload");
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: concurrency });
  const gate = pLimit(QUOTA_ROW_STATEMENTS);
  const completed = new Map<string, number>();
  try {
    const seconds = await timed(async () => {
      await Promise.all(
        agents.map(async (agentGlobalId) => {
          const agentId = decodeGlobalID(agentGlobalId).id;
          for (;;) {
            const token = randomBytes(24).toString("base64url");
            const claimed = await gate(() => pool.query<{ id: string }>(`SELECT id FROM "swarmgraph_claim_tasks"($1, $2, $3, NULL, $4::text[], 1, 300, $5::text[])`, [workspace, "bench", agentId, [type], [token]]));
            const taskId = claimed.rows[0]?.id;
            if (!taskId) return;
            const done = await gate(() => pool.query(`SELECT id FROM "swarmgraph_complete_tasks"($1, $2, $3::text[], $4::text[], $5::jsonb[])`, [workspace, "bench", [taskId], [token], [null]]));
            if (done.rowCount !== 1) throw new Error(`task ${taskId} was not completed`);
            completed.set(taskId, (completed.get(taskId) ?? 0) + 1);
          }
        }),
      );
    });
    if (completed.size !== tasks || [...completed.values()].some((n) => n !== 1)) {
      throw new Error(`SQL functions: ${completed.size} of ${tasks} tasks completed, some more than once: the run is invalid`);
    }
    return record({ group: "claim+complete cycles", scenario: `swarmgraph SQL functions C=${concurrency}`, ops: tasks, seconds });
  } finally {
    await pool.end();
  }
}

/** claimNextTask + releaseTask (`cycles` of them over a few tasks) or + failTask (every task until it failed for good). */
export async function giveBackCycles(server: BenchServer, kind: "release" | "fail", concurrency: number, cycles: number): Promise<Result> {
  const workspace = `bench-${kind}-${concurrency}`;
  const api = server.client({ workspace });
  const type = "give-back";
  const MAX_ATTEMPTS = 3; // the default
  const tasks = kind === "release" ? 100 : Math.ceil(cycles / MAX_ATTEMPTS);
  await createTasks(api, type, tasks);
  const agents = await registerAgents(api, "agent", concurrency);
  let left = kind === "release" ? cycles : Number.POSITIVE_INFINITY;
  let done = 0;
  const failures = new Map<string, string[]>();
  const seconds = await timed(async () => {
    await Promise.all(
      agents.map(async (agentId) => {
        while (left-- > 0) {
          const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: [type] })).claimNextTask, "ClaimNextTaskPayload");
          if (!claim.task) return;
          const taskId = claim.task.id;
          const leaseToken = claim.leaseToken!;
          if (kind === "release") {
            const task = expectType((await api.request(ReleaseTaskDocument, { taskId, leaseToken })).releaseTask, "ReleaseTaskPayload").task;
            if (task.status !== "PENDING" || task.attemptCount !== 0) throw new Error(`release of ${taskId} left it ${task.status} after ${task.attemptCount} attempts`);
          } else {
            const task = expectType((await api.request(FailTaskDocument, { taskId, leaseToken, error: { message: "bench" } })).failTask, "FailTaskPayload").task;
            failures.set(taskId, [...(failures.get(taskId) ?? []), task.status]);
          }
          done++;
        }
      }),
    );
  });
  const expectedFailures = [...Array(MAX_ATTEMPTS - 1).fill("PENDING"), "FAILED"].join();
  if (kind === "fail" && (failures.size !== tasks || [...failures.values()].some((statuses) => statuses.join() !== expectedFailures))) {
    throw new Error(`claim + fail: ${failures.size} of ${tasks} tasks failed ${MAX_ATTEMPTS} times ending FAILED: the run is invalid`);
  }
  if (kind === "release" && done !== cycles) throw new Error(`claim + release: ${done} of ${cycles} cycles: the run is invalid`);
  return record({ group: "claim+complete cycles", scenario: `swarmgraph claim + ${kind} C=${concurrency}`, ops: done, seconds });
}
