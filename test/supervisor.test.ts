/**
 * The supervisor end to end with real processes: a swarm desires 3 coders, the supervisor starts
 * 3 `swarmgraph worker --swarm … --type coder` processes and the swarm's actual count reaches 3;
 * scaled to 1, it drains 2 of them, which finish the tasks they hold before they terminate their
 * agents and exit. Every wait is for an event (a subscription, a process's output or exit).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startSupervisor, type RunningSupervisor } from "../src/worker/supervisor.ts";
import {
  CreateSwarmWithWorkDocument,
  CreateTasksDocument,
  ScaleSwarmDocument,
  SwarmCompositionDocument,
  SwarmControlEventsDocument,
  SwarmTasksDocument,
  TaskAttemptsOfDocument,
  AgentDocument,
} from "./generated/graphql.ts";
import { collect, expectType, wsClient } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
let supervisor: RunningSupervisor | undefined;
const WS = "supervised-ws";
const gateDir = fs.mkdtempSync(path.join(os.tmpdir(), "swarmgraph-gate-"));

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  fs.writeFileSync(path.join(gateDir, "open"), "");
  await supervisor?.stop({ drain: false });
  await server?.stop();
  fs.rmSync(gateDir, { recursive: true, force: true });
});

/** Lines logged so far, and a way to wait for one that matches. */
function logBook() {
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  return {
    lines,
    log: (line: string) => {
      lines.push(line);
      waiters.splice(0).forEach((w) => w());
    },
    until: (matches: (lines: string[]) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => (matches(lines) ? resolve() : waiters.push(check));
        check();
      }),
  };
}

it("starts 3 coder processes for a desire of 3; scaled to 1, drains 2 after their current tasks", async () => {
  const api = server.client({ workspace: WS });
  const swarm = expectType(
    (await api.request(CreateSwarmWithWorkDocument, { input: { name: "supervised", objective: "o", topology: "MESH", initialAgents: [{ agentType: "coder", count: 3 }] } })).createSwarm,
    "CreateSwarmPayload",
  ).swarm;
  const socket = wsClient(server.wsUrl, server.token({ workspace: WS, scopes: ["swarms:read", "agents:read", "tasks:read"] }));
  const events = collect(socket, SwarmControlEventsDocument, {
    swarmId: swarm.id,
    types: ["swarm.member_joined", "swarm.member_left", "task.progress", "task.completed"],
    after: "0",
  });
  const ofType = (type: string) => events.events.filter((e) => e.swarmEvents.type === type).map((e) => e.swarmEvents);
  const waitForCount = async (type: string, n: number) => {
    while (ofType(type).length < n) await events.waitFor(events.events.length + 1);
  };
  const book = logBook();
  try {
    supervisor = await startSupervisor({
      url: server.url,
      token: server.token({ workspace: WS, scopes: ["swarms:write", "agents:write", "tasks:claim"], subject: "supervisor" }),
      swarmId: swarm.id,
      command: [path.resolve("bin/swarmgraph.mjs")],
      workerArgs: ["--work", path.resolve("test/support/gatedWork.ts")],
      env: { LOG_LEVEL: "silent" },
      log: book.log,
    });

    // Up: three processes, three members of type coder.
    await waitForCount("swarm.member_joined", 3);
    const joined = ofType("swarm.member_joined").map((e) => e.agent!);
    expect(joined.map((a) => a.type)).toEqual(["coder", "coder", "coder"]);
    expect(new Set(supervisor.started.map((w) => w.process.pid)).size).toBe(3);
    expect(supervisor.started.map((w) => w.name).sort()).toEqual(joined.map((a) => a.name).sort());
    expect((await api.request(SwarmCompositionDocument, { id: swarm.id })).swarm).toMatchObject({
      compositionSatisfied: true,
      composition: [{ agentType: "coder", desired: 3, actual: 3, difference: 0 }],
    });

    // Each coder takes one task and holds it until the gate opens.
    const gate = path.join(gateDir, "open");
    expectType(
      (await api.request(CreateTasksDocument, { input: { tasks: [0, 1, 2].map((i) => ({ description: `job ${i}`, type: "code", swarmId: swarm.id, context: { gate } })) } })).createTasks,
      "CreateTasksPayload",
    );
    while (new Set(ofType("task.progress").map((e) => e.task!.id)).size < 3) await events.waitFor(events.events.length + 1);

    // Down to 1: two workers are told to drain; both still hold a task.
    expectType((await api.request(ScaleSwarmDocument, { input: { swarmId: swarm.id, agents: [{ agentType: "coder", count: 1 }], reason: "quiet period" } })).scaleSwarm, "ScaleSwarmPayload");
    await book.until((lines) => lines.filter((l) => l.includes("draining: finishing 1 held task before stopping")).length === 2);
    const drained = supervisor.started.filter((w) => w.draining);
    const kept = supervisor.started.filter((w) => !w.draining);
    expect(drained).toHaveLength(2);
    expect(kept).toHaveLength(1);
    // They have not left: their tasks are still running, and the swarm still counts 3.
    expect((await api.request(SwarmCompositionDocument, { id: swarm.id })).swarm!.composition).toEqual([{ agentType: "coder", desired: 1, actual: 3, difference: -2 }]);
    const tasks = (await api.request(SwarmTasksDocument, { swarmId: swarm.id })).tasks.edges.map((e) => e.node);
    expect(tasks.map((t) => t.status)).toEqual(["RUNNING", "RUNNING", "RUNNING"]);
    expect(ofType("swarm.member_left")).toEqual([]);

    // The gate opens: every task completes, then the two drained workers leave and exit cleanly.
    fs.writeFileSync(gate, "");
    expect(await Promise.all(drained.map((w) => w.exited))).toEqual([0, 0]);
    await waitForCount("swarm.member_left", 2);
    await waitForCount("task.completed", 3);

    const agentOf = (name: string) => joined.find((a) => a.name === name)!.id;
    const order = events.events.map((e) => e.swarmEvents);
    for (const worker of drained) {
      const agentId = agentOf(worker.name);
      expect((await api.request(AgentDocument, { id: agentId })).agent?.status).toBe("TERMINATED");
      // Its task was completed by it, before it left the swarm.
      type Held = { id: string; status: string; attempts: { agent: { id: string }; outcome?: string | null }[] };
      const mine: Held[] = [];
      for (const task of tasks) {
        const node = (await api.request(TaskAttemptsOfDocument, { id: task.id })).node;
        if (node && "attempts" in node && node.attempts.some((a) => a.agent.id === agentId)) mine.push(node);
      }
      expect(mine).toHaveLength(1);
      expect(mine[0]!.status).toBe("COMPLETED");
      expect(mine[0]!.attempts.map((a) => [a.agent.id, a.outcome])).toEqual([[agentId, "COMPLETED"]]);
      const completedAt = order.findIndex((e) => e.type === "task.completed" && e.task?.id === mine[0]!.id);
      const leftAt = order.findIndex((e) => e.type === "swarm.member_left" && e.agent?.id === agentId);
      expect(completedAt).toBeGreaterThanOrEqual(0);
      expect(leftAt).toBeGreaterThan(completedAt);
    }
    expect(supervisor.workers.map((w) => w.name)).toEqual(kept.map((w) => w.name));
    expect((await api.request(SwarmCompositionDocument, { id: swarm.id })).swarm).toMatchObject({
      compositionSatisfied: true,
      composition: [{ agentType: "coder", desired: 1, actual: 1, difference: 0 }],
    });
    // The supervisor started no replacement for the drained workers.
    expect(supervisor.started).toHaveLength(3);

    // Stopping the supervisor drains the last one too.
    await supervisor.stop({ drain: true });
    expect(await kept[0]!.exited).toBe(0);
    supervisor = undefined;
  } finally {
    events.stop();
    await socket.dispose();
  }
});
