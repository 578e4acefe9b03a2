/**
 * The example worker runs the work an operator gives its agent — assignTask, rebalanceSwarm —
 * pushed on `agentWork` with the lease, without claiming it; after a network cut that subscription
 * resumes from its cursor, so work given meanwhile is run once and nothing is repeated.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Scope } from "../src/auth/scopes.ts";
import { startWorker, type WorkerOptions } from "../src/worker/worker.ts";
import {
  AgentDocument,
  AssignTaskDocument,
  AuditTrailDocument,
  CreateSwarmWithWorkDocument,
  CreateTaskDocument,
  JoinSwarmDocument,
  RebalanceSwarmDocument,
  RegisterAgentDocument,
  TaskDocument,
} from "./generated/graphql.ts";
import { expectType, type GraphQLClient } from "./support/client.ts";
import { startProxy } from "./support/proxy.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const WS = "worker-assigned";
/** What a worker's own token may do: register, join a swarm, claim — not assign (no tasks:write). */
const WORKER_SCOPES: Scope[] = ["agents:write", "tasks:claim", "swarms:write"];

let server: TestServer;
const children: ChildProcess[] = [];
/** The variables of every agentWork subscription the worker opened, as the server received them. */
const workSubscriptions: { agentId: string; after?: string | null }[] = [];
const recordSubscriptions: Plugin = {
  onSubscribe: ({ args }) => {
    if (getOperationAST(args.document, args.operationName)?.name?.value === "WorkerAgentWork") workSubscriptions.push(args.variableValues as (typeof workSubscriptions)[number]);
  },
};

beforeAll(async () => {
  server = await startTestServer({ plugins: [recordSubscriptions], config: { leaseSweepIntervalMs: 0 } });
});
afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
  }
  await server?.stop();
});

const until = async (condition: () => boolean | Promise<boolean>, what: string) => {
  for (let i = 0; i < 1200; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
};

/**
 * Starts `swarmgraph worker` in its own process, following a task type nobody creates (so it can
 * claim nothing itself); resolves with its agent id once both its subscriptions are open.
 */
async function workerProcess(name: string, extra: string[] = []): Promise<{ agentId: string; output: string[] }> {
  const token = server.token({ workspace: WS, subject: name, scopes: WORKER_SCOPES });
  const child = spawn(process.execPath, [path.resolve("bin/swarmgraph.mjs"), "worker", "--url", server.url, "--token", token, "--name", name, "--types", "never-created", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "silent" },
  });
  children.push(child);
  const output: string[] = [];
  child.stdout!.on("data", (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean)));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<never>((_resolve, reject) => child.once("exit", (code) => reject(new Error(`worker ${name} exited with ${code}: ${output.join("\n")}`))));
  exited.catch(() => undefined);
  const registered = () => output.map((line) => /registered as (\S+)/.exec(line)?.[1]).find(Boolean);
  await Promise.race([exited, until(() => registered() !== undefined && workSubscriptions.some((v) => v.agentId === registered()), `${name} to subscribe to agentWork`)]);
  return { agentId: registered()!, output };
}

async function createTask(api: GraphQLClient, description: string, swarmId?: string): Promise<string> {
  return expectType((await api.request(CreateTaskDocument, { input: { description, type: "given", context: { description }, swarmId } })).createTask, "CreateTaskPayload").task.id;
}

const task = async (api: GraphQLClient, id: string) => (await api.request(TaskDocument, { id })).task!;

/**
 * An in-process worker with one slot whose handler holds every task until `open()` and reports
 * no progress (only the worker itself can then keep a lease alive); it claims nothing itself.
 */
async function gatedWorker(target: TestServer, name: string, options: Partial<WorkerOptions> = {}) {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const worker = await startWorker({
    url: target.url,
    token: target.token({ workspace: WS, subject: name, scopes: WORKER_SCOPES }),
    name,
    types: ["never-created"],
    concurrency: 1,
    work: async (t) => {
      await gate;
      return { ran: t.id };
    },
    ...options,
  });
  return { worker, open };
}

/** The task.claimed entries of a task's audit trail: who claimed for whom. */
async function claimsOf(api: GraphQLClient, taskId: string) {
  const trail = await api.request(AuditTrailDocument, { first: 50, filter: { domain: ["task"], entity: taskId } });
  return trail.auditTrail.edges.map((e) => e.node).filter((n) => n.action === "task.claimed").map((n) => n.details as Record<string, unknown>);
}

it("a task an operator assigns to a running worker's agent is run and completed under the assigned claim", async () => {
  const api = server.client({ workspace: WS });
  const worker = await workerProcess("assigned-worker");
  const id = await createTask(api, "assigned to the worker");
  expectType((await api.request(AssignTaskDocument, { taskId: id, agentId: worker.agentId })).assignTask, "AssignTaskPayload");

  await until(async () => (await task(api, id)).status === "COMPLETED", "the assigned task to be completed");
  const done = await task(api, id);
  // The worker's default handler echoes the context: it ran the task; one attempt, the assigned one.
  expect(done.result).toEqual({ echo: { description: "assigned to the worker" }, by: "assigned-worker" });
  expect(done.attempts.map((a) => [a.agent.id, a.fence, a.outcome])).toEqual([[worker.agentId, 1, "COMPLETED"]]);
  const claims = await claimsOf(api, id);
  expect(claims).toHaveLength(1);
  expect(claims[0]).toMatchObject({ agentId: expect.any(String), fence: 1, assignedBy: expect.any(String) });
  expect(worker.output.some((line) => line.includes(`task ${id}`) && /assigned|holding/.test(line))).toBe(true);
});

it("a held task rebalanced from another member to the worker's agent is completed by the worker", async () => {
  const api = server.client({ workspace: WS });
  const swarmId = expectType((await api.request(CreateSwarmWithWorkDocument, { input: { name: "rebalanced", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm.id;
  const other = expectType((await api.request(RegisterAgentDocument, { input: { name: "slow", type: "worker", capabilities: [] } })).registerAgent, "RegisterAgentPayload").agent.id;
  expectType((await api.request(JoinSwarmDocument, { swarmId, agentId: other })).joinSwarm, "JoinSwarmPayload");
  const worker = await workerProcess("swarm-worker", ["--swarm", swarmId]);
  const id = await createTask(api, "moved to the worker", swarmId);
  expectType((await api.request(AssignTaskDocument, { taskId: id, agentId: other })).assignTask, "AssignTaskPayload");

  expectType((await api.request(RebalanceSwarmDocument, { input: { swarmId, moves: [{ taskId: id, toAgentId: worker.agentId }] } })).rebalanceSwarm, "RebalanceSwarmPayload");
  await until(async () => (await task(api, id)).status === "COMPLETED", "the rebalanced task to be completed");
  const done = await task(api, id);
  expect(done.result).toEqual({ echo: { description: "moved to the worker" }, by: "swarm-worker" });
  expect(done.attempts.map((a) => [a.agent.id, a.fence, a.outcome])).toEqual([
    [other, 1, "RELEASED"],
    [worker.agentId, 2, "COMPLETED"],
  ]);
  const claims = await claimsOf(api, id);
  expect(claims.map((c) => [c.fence, c.rebalanced ?? false, typeof c.assignedBy])).toEqual([
    [1, false, "string"],
    [2, true, "string"],
  ]);
});

it("resumes agentWork from its cursor after a network cut: work given meanwhile runs once, nothing repeats", async () => {
  const api = server.client({ workspace: WS });
  const proxy = await startProxy(server.port);
  const log: string[] = [];
  const worker = await startWorker({
    url: proxy.url,
    token: server.token({ workspace: WS, subject: "resuming-worker", scopes: WORKER_SCOPES }),
    name: "resuming-worker",
    types: ["never-created"],
    log: (line) => log.push(line),
  });
  const mine = () => workSubscriptions.filter((v) => v.agentId === worker.agentId);
  try {
    await until(() => mine().length === 1, "the agentWork subscription");
    const first = await createTask(api, "before the cut");
    expectType((await api.request(AssignTaskDocument, { taskId: first, agentId: worker.agentId })).assignTask, "AssignTaskPayload");
    await until(() => worker.completed === 1, "the first assigned task");

    proxy.cut();
    await until(() => log.includes("disconnected; reconnecting"), "the worker to notice the cut");
    const cursorAtCut = worker.workCursor;
    expect(cursorAtCut).toMatch(/^\d+$/);
    const second = await createTask(api, "during the cut");
    expectType((await api.request(AssignTaskDocument, { taskId: second, agentId: worker.agentId })).assignTask, "AssignTaskPayload");
    expect(worker.completed).toBe(1);

    proxy.restore();
    await until(() => worker.completed === 2, "the task assigned while cut off");
    expect(mine().map((v) => v.after ?? null)).toEqual([null, cursorAtCut]);
    expect(log).toContain(`agentWork resumes after cursor ${cursorAtCut}`);
    for (const id of [first, second]) {
      const done = await task(api, id);
      expect([done.status, done.attempts.map((a) => [a.agent.id, a.outcome])]).toEqual(["COMPLETED", [[worker.agentId, "COMPLETED"]]]);
    }
    // Each task reached the worker once: nothing was replayed into a second run. (The first may
    // come as HELD, if the assignment beat the subscription's start; the second is the replay.)
    const given = log.filter((line) => /^(assigned|holding) task /.test(line));
    expect(given).toHaveLength(2);
    expect(given[0]).toMatch(new RegExp(`^(assigned|holding) task ${first}$`));
    expect(given[1]).toBe(`assigned task ${second}`);
    // A claim the worker tried while the proxy was cut fails to reach the server (it retries): that
    // is the network, not the work. Nothing else may have failed.
    const networkDuringCut = (line: string) => line === "claiming failed: TypeError: fetch failed";
    expect(log.filter((line) => (line.includes("failed") || line.includes("not completed")) && !networkDuringCut(line))).toEqual([]);
  } finally {
    await worker.stop();
    await proxy.close();
  }
});

it("keeps the leases of what it holds alive: a handler longer than the lease, and given work waiting for its slot, each run once", async () => {
  // Leases of 2 s, swept every 250 ms: a lease the worker let lapse would be re-queued at once.
  const short = await startTestServer({ config: { leaseSeconds: 2, leaseSweepIntervalMs: 250 } });
  const api = short.client({ workspace: WS });
  const { worker, open } = await gatedWorker(short, "slow-worker", { heartbeatSeconds: 0.5 });
  try {
    const running = await createTask(api, "longer than its lease");
    expectType((await api.request(AssignTaskDocument, { taskId: running, agentId: worker.agentId })).assignTask, "AssignTaskPayload");
    await until(async () => (await task(api, running)).status === "RUNNING", "the first task to start");
    const waiting = await createTask(api, "waits for the only slot");
    expectType((await api.request(AssignTaskDocument, { taskId: waiting, agentId: worker.agentId })).assignTask, "AssignTaskPayload");
    await until(() => worker.active === 2, "the second task to wait in the worker");

    // Three lease lengths later, both are still the worker's, on their first attempt.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    for (const id of [running, waiting]) {
      const held = await task(api, id);
      expect(held.assignee?.id).toBe(worker.agentId);
      expect(held.attempts.map((a) => a.fence)).toEqual([1]);
    }

    open();
    await until(async () => (await task(api, running)).status === "COMPLETED" && (await task(api, waiting)).status === "COMPLETED", "both tasks to complete");
    for (const id of [running, waiting]) {
      const done = await task(api, id);
      expect(done.result).toEqual({ ran: id });
      expect(done.attempts.map((a) => [a.agent.id, a.fence, a.outcome])).toEqual([[worker.agentId, 1, "COMPLETED"]]);
    }
  } finally {
    open();
    await worker.stop();
    await short.stop();
  }
});

it("drains given work too: a running task and one waiting for the slot both finish before the agent is terminated", async () => {
  const api = server.client({ workspace: WS });
  const { worker, open } = await gatedWorker(server, "draining-worker");
  try {
    const ids = [await createTask(api, "running when the drain starts"), await createTask(api, "waiting when the drain starts")];
    for (const id of ids) expectType((await api.request(AssignTaskDocument, { taskId: id, agentId: worker.agentId })).assignTask, "AssignTaskPayload");
    await until(() => worker.active === 2, "one task running and one waiting");

    let drained = false;
    const draining = worker.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(drained).toBe(false);
    expect((await api.request(AgentDocument, { id: worker.agentId })).agent?.status).not.toBe("TERMINATED");

    open();
    await until(() => drained, "the drain to finish both tasks");
    await draining;
    for (const id of ids) {
      const done = await task(api, id);
      expect(done.status).toBe("COMPLETED");
      expect(done.result).toEqual({ ran: id });
    }
    expect((await api.request(AgentDocument, { id: worker.agentId })).agent?.status).toBe("TERMINATED");
  } finally {
    open();
    await worker.stop();
  }
});
