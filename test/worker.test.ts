/** The example worker drains work pushed to it by `tasksAvailable`, with no polling at all. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import { startWorker } from "../src/worker/worker.ts";
import { CreateTasksDocument, FilteredTasksDocument, RevokeSubjectTokensDocument } from "./generated/graphql.ts";
import { expectType } from "./support/client.ts";
import { startProxy } from "./support/proxy.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
/** Claim calls the worker made (single or batched). */
const claims = () => operations.filter((name) => name === "WorkerClaim" || name === "WorkerClaimMany").length;
const operations: string[] = [];
/** The variables of every tasksAvailable subscription the server received, as it received them. */
const subscribed: { agentId: string; after: string | null }[] = [];
const recordSubscriptions: Plugin = {
  onExecute: ({ args }) => {
    const name = getOperationAST(args.document, args.operationName)?.name?.value;
    if (name) operations.push(name);
  },
  onSubscribe: ({ args }) => {
    if (getOperationAST(args.document, args.operationName)?.name?.value === "WorkerTasksAvailable") subscribed.push(args.variableValues as (typeof subscribed)[number]);
  },
};

beforeAll(async () => {
  server = await startTestServer({ plugins: [recordSubscriptions], config: { leaseSweepIntervalMs: 0 } });
});
afterAll(() => server?.stop());

const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 1200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
};

it("drains 200 tasks end to end, claiming only when told, and issues no claim while idle", async () => {
  const api = server.client();
  const worker = await startWorker({ url: server.url, token: server.token({ subject: "worker-1" }), name: "worker-1", types: ["pushed"], concurrency: 4 });
  try {
    for (let batch = 0; batch < 2; batch++) {
      const tasks = Array.from({ length: 100 }, (_, i) => ({ description: `job ${batch * 100 + i}`, type: "pushed", context: { n: batch * 100 + i } }));
      expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
    }
    await until(() => worker.completed === 200, "200 completed tasks");
    const done = await api.request(FilteredTasksDocument, { first: 1, filter: { type: ["pushed"], status: ["COMPLETED"] } });
    expect(done.tasks.totalCount).toBe(200);

    // Every claim answered an event or a freed slot: at most one empty claim per wake-up. With
    // concurrency 4 the worker claims in batches (claimNextTasks), up to 4 tasks per call.
    const afterDrain = claims();
    expect(operations.filter((name) => name === "WorkerClaim")).toHaveLength(0);
    expect(afterDrain).toBeGreaterThanOrEqual(200 / 4);
    expect(afterDrain).toBeLessThanOrEqual(2 * 200 + 4);
    expect(operations.filter((name) => name === "WorkerCompleteMany").length).toBeGreaterThan(0);
    // Idle: a polling agent would keep claiming; this one issues nothing until work appears.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(claims()).toBe(afterDrain);

    // New work is picked up at once, pushed by the subscription.
    expectType((await api.request(CreateTasksDocument, { input: { tasks: [{ description: "late", type: "pushed" }] } })).createTasks, "CreateTasksPayload");
    await until(() => worker.completed === 201, "the late task");
  } finally {
    await worker.stop();
  }
});

it("resumes tasksAvailable from its last cursor after a network cut, and runs what was created meanwhile", async () => {
  const api = server.client();
  const create = async (n: number, from: number) => {
    const tasks = Array.from({ length: n }, (_, i) => ({ description: `resumed ${from + i}`, type: "resumed" }));
    expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
  };
  const proxy = await startProxy(server.port);
  const log: string[] = [];
  const worker = await startWorker({ url: proxy.url, token: server.token({ subject: "worker-2" }), name: "worker-2", types: ["resumed"], log: (line) => log.push(line) });
  const mine = () => subscribed.filter((v) => v.agentId === worker.agentId);
  try {
    await create(3, 0);
    await until(() => worker.completed === 3, "the first 3 tasks");

    proxy.cut();
    await until(() => log.includes("disconnected; reconnecting"), "the worker to notice the cut");
    // Closed: nothing more reaches the worker, so this is the cursor it will resume from.
    const cursorAtCut = worker.cursor;
    expect(cursorAtCut).toMatch(/^\d+$/);
    await create(5, 3);
    expect(worker.completed).toBe(3);

    proxy.restore();
    await until(() => worker.completed === 8, "the 5 tasks created while cut off");
    expect(mine().map((v) => v.after)).toEqual([null, cursorAtCut]);
    expect(log).toContain(`connected; tasksAvailable resumes after cursor ${cursorAtCut}`);
    expect(BigInt(worker.cursor!)).toBeGreaterThan(BigInt(cursorAtCut!));
    const done = await api.request(FilteredTasksDocument, { first: 1, filter: { type: ["resumed"], status: ["COMPLETED"] } });
    expect(done.tasks.totalCount).toBe(8);
  } finally {
    await worker.stop();
    await proxy.close();
  }
});

it("stops for good, without reconnecting, when its token is revoked", async () => {
  const log: string[] = [];
  const worker = await startWorker({ url: server.url, token: server.token({ subject: "worker-3" }), name: "worker-3", types: ["never"], log: (line) => log.push(line) });
  const mine = () => subscribed.filter((v) => v.agentId === worker.agentId);
  try {
    await until(() => mine().length === 1, "the worker's subscription");
    await server.client().request(RevokeSubjectTokensDocument, { input: { subject: "worker-3", reason: "decommissioned" } });
    expect(await worker.ended).toMatch(/^access token revoked \(4403\); stopping/);
    // A reconnect would be refused anyway; the worker does not try (graphql-ws would retry within 1.3–4 s).
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(mine()).toHaveLength(1);
    expect(log.filter((line) => line.startsWith("connected"))).toHaveLength(1);
  } finally {
    await worker.stop();
  }
});
