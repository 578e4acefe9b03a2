/**
 * The hot path's cost does not grow with a workspace's size. Every claim, start, progress report,
 * completion, failure and release looks its rows up by key; a plan that walks an index of the whole workspace
 * instead (what the planner chose on unanalyzed tables before migration hot_path_history) reads
 * every task the workspace ever finished, or every task its agents hold, on each call.
 *
 * The rows each statement reads are counted by PostgreSQL itself (pg_stat_xact_user_tables: a
 * connection's sequential and index reads per table), so the statements (the SQL functions of
 * claims, completions, failures and releases, and the start and progress statements of
 * src/modules/tasks/hotPath.ts) are run directly here,
 * each in a transaction of the test's, after a history made through the API. So is the event
 * tailer's read (src/events/tailer.ts), which every replica runs after every change: it must
 * read the new events, not the log that history left.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retryAborted } from "../src/db/client.ts";
import type { SqlRunner } from "../src/db/sql.ts";
import { settleEvents } from "../src/events/sequencer.ts";
import { READ_EVENTS_SQL } from "../src/events/tailer.ts";
import { REPORT_PROGRESS_SQL, REPORT_PROGRESSES_SQL, START_TASK_SQL } from "../src/modules/tasks/hotPath.ts";
import { ClaimNextTasksDocument, CompleteTasksDocument, CreateTasksDocument, RegisterAgentDocument } from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { onPostgres } from "./support/database.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WORKSPACE = "history-ws";
const HISTORY = 1000;
const HELD_ELSEWHERE = 300;

let server: TestServer;
let api: GraphQLClient;
let agents: string[];
/** The event tailer's read while the log held little more than the history's task.created events. */
let smallLogRead: TailerRead;
beforeAll(async () => {
  server = await startTestServer({ config: { leaseSeconds: 300 } });
  api = server.client({ workspace: WORKSPACE });
  // The history: tasks claimed and completed through the API by three agents.
  agents = [await registerAgent("history-0"), await registerAgent("history-1"), await registerAgent("history-2")];
  await createTasks("past", HISTORY);
  // The planner's choice for the tailer's read depends on the log's length (scans on a small log,
  // the index on a long one), so it is measured at both sizes: here, and in the last test.
  smallLogRead = await tailerRead();
  for (let round = 0; ; round++) {
    const agentId = agents[round % agents.length]!;
    const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId, max: 100, types: ["past"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    if (claims.length === 0) break;
    const outcomes = expectType((await api.request(CompleteTasksDocument, { completions: claims.map((c) => ({ taskId: c.task.id, leaseToken: c.leaseToken })) })).completeTasks, "CompleteTasksPayload").outcomes;
    for (const outcome of outcomes) expect(expectType(outcome, "Task").status).toBe("COMPLETED");
  }
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

interface TailerRead {
  head: bigint;
  ids: bigint[];
  eventRowsRead: number;
}

/** The tailer's statement, reading the last 3 events of the log, and the Event rows it read. */
async function tailerRead(): Promise<TailerRead> {
  const head = await settleEvents(server.db.sql);
  const { result, reads } = await countingReads((sql) => sql.query<{ id: string }>(READ_EVENTS_SQL, [String(head - 3n), 500, String(head)]), ["Event"]);
  return { head, ids: result.map((r) => BigInt(r.id)), eventRowsRead: reads.Event! };
}

interface Reads {
  table: string;
  rows: number;
}

/**
 * Runs `fn` in a transaction and returns what it returned with the rows it read per table. A
 * transaction PostgreSQL aborted as a deadlock or serialization victim (the server's background
 * work shares the database) runs again, as the server's own hot path does.
 */
function countingReads<T>(fn: (sql: SqlRunner) => Promise<T>, tables = ["Task", "Allocation", "Agent", "TaskAttempt"]): Promise<{ result: T; reads: Record<string, number> }> {
  return retryAborted(() => server.db.sql.transaction(async (sql) => {
    // The view holds what this connection read and has not reported yet, so what `fn` read is
    // the difference; nothing is reported in the middle of a transaction.
    const readsSoFar = () =>
      sql.query<Reads>(
        `SELECT relname AS table, (COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0))::int AS rows
         FROM pg_stat_xact_user_tables WHERE relname = ANY ($1)`,
        [tables],
      );
    const before = await readsSoFar();
    const result = await fn(sql);
    const after = await readsSoFar();
    return { result, reads: Object.fromEntries(after.map((r) => [r.table, r.rows - (before.find((b) => b.table === r.table)?.rows ?? 0)])) };
  }));
}

describe(`the hot path in a workspace with a long history (${onPostgres ? "PostgreSQL" : "PGlite"})`, () => {
  it(`a claim and a completion read a few rows, not the ${HISTORY} tasks the workspace finished before`, async () => {
    await createTasks("next", 1);
    const agentId = decodeGlobalID(agents[0]!).id;
    const token = "history-test-lease-token";
    const { result: completed, reads } = await countingReads(async (sql) => {
      const claimed = await sql.query<{ id: string }>(`SELECT id FROM "swarmgraph_claim_tasks"($1, 'test', $2, NULL, ARRAY['next'], 1, 300, ARRAY[$3])`, [WORKSPACE, agentId, token]);
      expect(claimed, "the claim of the one task of type next").toHaveLength(1);
      return sql.query<{ id: string; status: string }>(`SELECT id, status::text FROM "swarmgraph_complete_tasks"($1, 'test', ARRAY[$2], ARRAY[$3], ARRAY[NULL]::jsonb[])`, [WORKSPACE, claimed[0]!.id, token]);
    });
    expect(completed).toEqual([expect.objectContaining({ status: "COMPLETED" })]);
    // By key, a claim and a completion of one task read each of these tables' rows a handful of
    // times (the task about ten, its allocation two); a walk of the history reads all of them.
    expect(Object.keys(reads).sort()).toEqual(["Agent", "Allocation", "Task", "TaskAttempt"]);
    for (const [table, rows] of Object.entries(reads)) expect(rows, `${table} rows read (all: ${JSON.stringify(reads)})`).toBeLessThan(20);
  });

  it(`a release and a failure read a few rows, not the ${HISTORY} tasks the workspace finished before`, async () => {
    await createTasks("given-back", 1);
    const agentId = decodeGlobalID(agents[0]!).id;
    const claim = async (token: string) => {
      const claimed = await server.db.sql.query<{ id: string }>(`SELECT id FROM "swarmgraph_claim_tasks"($1, 'test', $2, NULL, ARRAY['given-back'], 1, 300, ARRAY[$3])`, [WORKSPACE, agentId, token]);
      expect(claimed, "the claim of the one task of type given-back").toHaveLength(1);
      return claimed[0]!.id;
    };
    const giveBack = `SELECT id, status::text FROM "swarmgraph_give_back_task"($1, 'test', $2, $3, $4, $5::jsonb, false, 0)`;
    const id = await claim("history-release-token");
    const released = await countingReads((sql) => sql.query(giveBack, [WORKSPACE, id, "history-release-token", "RELEASED", null]));
    await claim("history-fail-token");
    const failed = await countingReads((sql) => sql.query(giveBack, [WORKSPACE, id, "history-fail-token", "FAILED", JSON.stringify({ message: "no" })]));
    expect([released.result, failed.result]).toEqual([[{ id, status: "PENDING" }], [{ id, status: "FAILED" }]]);
    for (const { reads } of [released, failed]) {
      for (const [table, rows] of Object.entries(reads)) expect(rows, `${table} rows read (all: ${JSON.stringify(reads)})`).toBeLessThan(20);
    }
  });

  it(`start, progress and a batch of progress reports read the tasks they name, not the ${HELD_ELSEWHERE} another agent holds`, async () => {
    await createTasks("elsewhere", HELD_ELSEWHERE);
    for (let held = 0; held < HELD_ELSEWHERE; ) {
      held += expectType((await api.request(ClaimNextTasksDocument, { agentId: agents[2]!, max: 100, types: ["elsewhere"] })).claimNextTasks, "ClaimNextTasksPayload").claims.length;
    }
    await createTasks("held", 2);
    const claims = expectType((await api.request(ClaimNextTasksDocument, { agentId: agents[1]!, max: 2, types: ["held"] })).claimNextTasks, "ClaimNextTasksPayload").claims;
    expect(claims).toHaveLength(2);
    const [first, second] = claims.map((c) => ({ id: decodeGlobalID(c.task.id).id, token: c.leaseToken }));
    const statements: [string, string, unknown[], number][] = [
      ["start", START_TASK_SQL, [first!.id, WORKSPACE, first!.token, 300, "test"], 1],
      ["progress", REPORT_PROGRESS_SQL, [first!.id, WORKSPACE, first!.token, 0.5, null, 300, "test"], 1],
      ["progress batch", REPORT_PROGRESSES_SQL, [[first!.id, second!.id], [first!.token, second!.token], [0.7, 0.2], [null, null], WORKSPACE, 300, "test"], 2],
    ];
    for (const [name, text, params, expected] of statements) {
      const { result: rows, reads } = await countingReads((sql) => sql.query(text, params));
      expect(rows, name).toHaveLength(expected);
      expect(reads.Task, `${name}: Task rows read`).toBeLessThan(10);
    }
  });

  it("the event tailer's read reads the events after its position, not the whole log", async () => {
    const longLogRead = await tailerRead();
    // The history's claims and completions logged several events per task.
    expect(longLogRead.head).toBeGreaterThan(BigInt(HISTORY * 4));
    for (const { head, ids, eventRowsRead } of [smallLogRead, longLogRead]) {
      expect(ids).toEqual([head - 2n, head - 1n, head]);
      expect(eventRowsRead, `Event rows read for 3 new events, of ${head} in the log`).toBeLessThan(20);
    }
  });
});
