/**
 * Scenario 1: claim + complete cycles through the public GraphQL API, C agents each looping
 * (HTTP keep-alive), single claims (claimNextTask + completeTask) and batched ones
 * (claimNextTasks + completeTasks), against a server in its own process. Verifies that every
 * task was completed exactly once. Each scenario also reports how fast its tasks were created
 * (createTasks, 100 per call, one client).
 */
import { ClaimNextTaskDocument, ClaimNextTasksDocument, CompleteTaskDocument, CompleteTasksDocument } from "../test/generated/graphql.ts";
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
