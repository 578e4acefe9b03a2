/**
 * The hot path's cost does not grow with a workspace's history. Every claim and completion looks
 * rows up by key; a plan that walks the workspace's tasks or allocations instead (what the
 * planner chose on unanalyzed tables before migration hot_path_history) reads every task the
 * workspace ever finished, on each call.
 *
 * The rows a claim and a completion read are counted by PostgreSQL itself
 * (pg_stat_xact_user_tables: this transaction's sequential and index reads per table), so the
 * two SQL functions are called directly here, in one transaction, after a history made through
 * the API.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClaimNextTasksDocument, CompleteTasksDocument, CreateTasksDocument, RegisterAgentDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WORKSPACE = "history-ws";
const HISTORY = 150;

let server: TestServer;
let api: GraphQLClient;
beforeAll(async () => {
  server = await startTestServer({ config: { leaseSeconds: 300 } });
  api = server.client({ workspace: WORKSPACE });
});
afterAll(() => server?.stop());

async function registerAgent(name: string): Promise<string> {
  return expectType((await api.request(RegisterAgentDocument, { input: { name, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent.id;
}

async function createTasks(type: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const tasks = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({ description: `${type} ${i + j}`, type }));
    expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
  }
}

interface Reads {
  table: string;
  rows: number;
}

describe(`the hot path in a workspace with a long history (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it(`a claim and a completion read a few rows, not the ${HISTORY} tasks the workspace finished before`, async () => {
    // The history: tasks claimed and completed through the API by three agents.
    const agents = [await registerAgent("history-0"), await registerAgent("history-1"), await registerAgent("history-2")];
    await createTasks("past", HISTORY);
    for (let round = 0; ; round++) {
      const agentId = agents[round % agents.length]!;
      const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 25, types: ["past"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
      if (claims.length === 0) break;
      const outcomes = expectType((await api.request(CompleteTasksDocument, { completions: claims.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })) })).completeTasks, "CompleteTasksPayload").outcomes;
      for (const outcome of outcomes) expect(expectType(outcome, "Task").status).toBe("COMPLETED");
    }
    await createTasks("next", 1);
    const agentId = decodeGlobalID(agents[0]!).id;

    const { completed, reads } = await server.db.sql.transaction(async (sql) => {
      // The view holds what this connection read and has not reported yet, so what the two
      // calls read is the difference; nothing is reported in the middle of a transaction.
      const readsSoFar = () =>
        sql.query<Reads>(
          `SELECT relname AS table, (COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0))::int AS rows
           FROM pg_stat_xact_user_tables WHERE relname IN ('Task', 'Allocation', 'Agent', 'TaskAttempt') ORDER BY relname`,
        );
      const before = await readsSoFar();
      const token = "history-test-lease-token";
      const claimed = await sql.query<{ id: string }>(`SELECT id FROM "swarmgraph_claim_tasks"($1, 'test', $2, NULL, ARRAY['next'], 1, 300, ARRAY[$3])`, [WORKSPACE, agentId, token]);
      expect(claimed).toHaveLength(1);
      const done = await sql.query<{ id: string; status: string }>(`SELECT id, status::text FROM "swarmgraph_complete_tasks"($1, 'test', ARRAY[$2], ARRAY[$3], ARRAY[NULL]::jsonb[])`, [WORKSPACE, claimed[0]!.id, token]);
      const after = await readsSoFar();
      return { completed: done, reads: after.map((r) => ({ table: r.table, rows: r.rows - (before.find((b) => b.table === r.table)?.rows ?? 0) })) };
    });

    expect(completed).toEqual([expect.objectContaining({ status: "COMPLETED" })]);
    // By key, a claim and a completion of one task read each of these tables' rows a handful of
    // times (the task about five, its allocation two); a walk of the history reads all of them.
    const byTable = Object.fromEntries(reads.map((r) => [r.table, r.rows]));
    expect(Object.keys(byTable).sort()).toEqual(["Agent", "Allocation", "Task", "TaskAttempt"]);
    for (const [table, rows] of Object.entries(byTable)) expect(rows, `${table} rows read`).toBeLessThan(20);
  });
});
