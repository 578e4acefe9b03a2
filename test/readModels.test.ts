/**
 * Seed 001's agent and swarm read models and seed 003's filters (issue 17): Agent.currentTasks
 * (objects), the agent's attempts as a connection, health counts (agentSummary.byHealth,
 * agentHealthCounts) with unresponsive agents counted, the swarm health roll-up, swarm
 * throughput; `health` on AgentFilter and `depth` on TaskFilter — each with bad input.
 * Heartbeat ages are set in the database (no sleeping): health is derived from them when read.
 */
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AgentHealthCountsDocument,
  AgentReadModelDocument,
  AgentsByHealthDocument,
  CancelTaskDocument,
  ClaimNextTaskDocument,
  CompleteTaskDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  FailTaskDocument,
  HeartbeatDocument,
  JoinSwarmDocument,
  RegisterAgentDocument,
  ReleaseTaskDocument,
  SwarmReadModelDocument,
  TasksByDepthDocument,
  TerminateAgentDocument,
} from "./generated/graphql.ts";
import { type GraphQLClient, expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ config: { heartbeatDegradedAfter: 60, heartbeatUnresponsiveAfter: 300, retryBaseSeconds: 0 } });
});
afterAll(() => server?.stop());

const raw = (globalId: string) => decodeGlobalID(globalId).id;

async function registerAgent(api: GraphQLClient, name: string) {
  return expectType((await api.request(RegisterAgentDocument, { input: { name, type: "worker" } })).registerAgent, "RegisterAgentPayload").agent;
}

async function createTask(api: GraphQLClient, description: string, type: string, extra: { swarmId?: string; parentId?: string } = {}) {
  return expectType((await api.request(CreateTaskDocument, { input: { description, type, ...extra } })).createTask, "CreateTaskPayload").task;
}

async function claim(api: GraphQLClient, agentId: string, type: string) {
  const claimed = expectType((await api.request(ClaimNextTaskDocument, { agentId, types: [type] })).claimNextTask, "ClaimNextTaskPayload");
  return { taskId: claimed.task!.id, leaseToken: claimed.leaseToken! };
}

/** Sets when the agent was last heard from, `secondsAgo` before now. */
async function lastSeen(agentId: string, secondsAgo: number) {
  await server.db.prisma.agent.update({ where: { id: raw(agentId) }, data: { lastHeartbeatAt: new Date(Date.now() - secondsAgo * 1000), createdAt: new Date(Date.now() - 86_400_000) } });
}

describe("Agent.currentTasks and Agent.attempts", () => {
  it("lists the tasks the agent holds now, and its attempt history newest first, filtered and paged", async () => {
    const api = server.client({ workspace: "rm-agent" });
    const agent = await registerAgent(api, "historian");
    for (const d of ["one", "two", "three", "four"]) await createTask(api, d, "hist");
    const one = await claim(api, agent.id, "hist");
    const two = await claim(api, agent.id, "hist");
    const three = await claim(api, agent.id, "hist");
    expectType((await api.request(CompleteTaskDocument, { taskId: one.taskId, leaseToken: one.leaseToken })).completeTask, "CompleteTaskPayload");
    expectType((await api.request(FailTaskDocument, { taskId: two.taskId, leaseToken: two.leaseToken, error: { message: "no" }, retryable: false })).failTask, "FailTaskPayload");
    expectType((await api.request(ReleaseTaskDocument, { taskId: three.taskId, leaseToken: three.leaseToken })).releaseTask, "ReleaseTaskPayload");
    const four = await claim(api, agent.id, "hist"); // "three" again (released) or "four": whichever is first in claim order
    const five = await claim(api, agent.id, "hist");

    const read = (await api.request(AgentReadModelDocument, { id: agent.id, first: 10 })).agent!;
    expect(read.currentTasks.map((t) => t.id)).toEqual([four.taskId, five.taskId]);
    expect(read.currentTasks.every((t) => ["CLAIMED", "RUNNING"].includes(t.status))).toBe(true);
    expect(read.performance.currentTasks).toBe(2);
    expect(read.attempts.totalCount).toBe(5);
    // Newest first: the two open attempts, then released, failed, completed.
    expect(read.attempts.edges.map((e) => [e.node.task.id, e.node.outcome])).toEqual([
      [five.taskId, null],
      [four.taskId, null],
      [three.taskId, "RELEASED"],
      [two.taskId, "FAILED"],
      [one.taskId, "COMPLETED"],
    ]);
    expect(read.attempts.edges.every((e) => e.node.agent.id === agent.id)).toBe(true);

    const page1 = (await api.request(AgentReadModelDocument, { id: agent.id, first: 2 })).agent!.attempts;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await api.request(AgentReadModelDocument, { id: agent.id, first: 10, after: page1.pageInfo.endCursor })).agent!.attempts;
    expect([...page1.edges, ...page2.edges].map((e) => e.node.task.id)).toEqual(read.attempts.edges.map((e) => e.node.task.id));

    const failed = (await api.request(AgentReadModelDocument, { id: agent.id, first: 10, outcomes: ["FAILED", "COMPLETED"] })).agent!.attempts;
    expect(failed.edges.map((e) => e.node.outcome)).toEqual(["FAILED", "COMPLETED"]);
    expect(failed.totalCount).toBe(2);
    const running = (await api.request(AgentReadModelDocument, { id: agent.id, first: 10, running: true })).agent!.attempts;
    expect(running.edges.map((e) => e.node.task.id)).toEqual([five.taskId, four.taskId]);
    expect((await api.request(AgentReadModelDocument, { id: agent.id, first: 10, running: false })).agent!.attempts.totalCount).toBe(3);
    expect((await api.request(AgentReadModelDocument, { id: agent.id, first: 10, outcomes: [] })).agent!.attempts.totalCount).toBe(0);

    // Bad input: an unknown outcome, a negative page size.
    const unknownOutcome = await api.raw(AgentReadModelDocument, { id: agent.id, first: 10, outcomes: ["EXPLODED" as "FAILED"] });
    expect(unknownOutcome.errors?.[0]?.message).toContain("EXPLODED");
    const negative = await api.raw(AgentReadModelDocument, { id: agent.id, first: -1 });
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });

    // Another workspace sees no such agent.
    expect((await server.client({ workspace: "rm-elsewhere" }).request(AgentReadModelDocument, { id: agent.id, first: 10 })).agent).toBeNull();
  });
});

describe("health: AgentFilter.health, agentHealthCounts, agentSummary.byHealth, Swarm.health", () => {
  it("counts and filters agents by the health their last heartbeat gives, unresponsive ones included, and rolls it up per swarm", async () => {
    const api = server.client({ workspace: "rm-health" });
    const healthy = await registerAgent(api, "healthy");
    const degraded = await registerAgent(api, "degraded");
    const unresponsive = await registerAgent(api, "unresponsive");
    const gone = await registerAgent(api, "gone");
    expectType((await api.request(HeartbeatDocument, { input: { id: healthy.id } })).heartbeat, "HeartbeatPayload");
    await lastSeen(degraded.id, 120);
    await lastSeen(unresponsive.id, 3600);
    expectType((await api.request(TerminateAgentDocument, { id: gone.id })).terminateAgent, "TerminateAgentPayload");

    const counts = (await api.request(AgentHealthCountsDocument)).agentHealthCounts;
    expect(counts).toEqual([
      { status: "HEALTHY", count: 1 },
      { status: "DEGRADED", count: 1 },
      { status: "UNRESPONSIVE", count: 1 },
      { status: "OFFLINE", count: 1 },
    ]);

    const byHealth = async (health: ("HEALTHY" | "DEGRADED" | "UNRESPONSIVE" | "OFFLINE")[]) =>
      (await api.request(AgentsByHealthDocument, { filter: { health } })).agents;
    for (const [status, agent] of [["HEALTHY", healthy], ["DEGRADED", degraded], ["UNRESPONSIVE", unresponsive], ["OFFLINE", gone]] as const) {
      const listed = await byHealth([status]);
      expect(listed.edges.map((e) => e.node.id)).toEqual([agent.id]);
      // The filter and the field apply the same rule.
      expect(listed.edges[0]!.node.health.status).toBe(status);
    }
    expect((await byHealth(["DEGRADED", "UNRESPONSIVE"])).totalCount).toBe(2);
    expect((await byHealth([])).totalCount).toBe(0);
    const withStatus = await api.request(AgentsByHealthDocument, { filter: { health: ["UNRESPONSIVE"], status: ["IDLE"] } });
    expect(withStatus.agents.edges.map((e) => e.node.id)).toEqual([unresponsive.id]);
    const bad = await api.raw(AgentsByHealthDocument, { filter: { health: ["SICK" as "HEALTHY"] } });
    expect(bad.data).toBeFalsy();
    expect(bad.errors?.[0]?.message).toContain("SICK");

    // Swarms: one of each roll-up.
    const swarm = async (name: string, members: { id: string }[]) => {
      const created = expectType((await api.request(CreateSwarmDocument, { input: { name, objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
      for (const m of members) expectType((await api.request(JoinSwarmDocument, { swarmId: created.id, agentId: m.id })).joinSwarm, "JoinSwarmPayload");
      return created.id;
    };
    const mixed = await swarm("mixed", [healthy, degraded, unresponsive]);
    const allHealthy = await swarm("all healthy", [healthy]);
    const sick = await swarm("sick", [degraded, unresponsive]);
    const empty = await swarm("empty", []);
    const read = async (id: string) => (await api.request(SwarmReadModelDocument, { id })).swarm!;

    const mixedRead = await read(mixed);
    expect(mixedRead.agentSummary).toMatchObject({
      total: 3,
      unresponsive: 1,
      byHealth: [
        { status: "HEALTHY", count: 1 },
        { status: "DEGRADED", count: 1 },
        { status: "UNRESPONSIVE", count: 1 },
        { status: "OFFLINE", count: 0 },
      ],
    });
    expect(mixedRead.health).toEqual({ status: "DEGRADED", reason: "1 of 3 members healthy, 1 degraded, 1 unresponsive" });
    expect((await read(allHealthy)).health.status).toBe("HEALTHY");
    expect((await read(sick)).health.status).toBe("CRITICAL");
    expect((await read(sick)).agentSummary.unresponsive).toBe(1);
    expect((await read(empty)).health).toEqual({ status: "NO_AGENTS", reason: "no members" });

    // A heartbeat brings the unresponsive member back: the roll-up follows at once.
    expectType((await api.request(HeartbeatDocument, { input: { id: unresponsive.id } })).heartbeat, "HeartbeatPayload");
    expect((await read(mixed)).agentSummary.unresponsive).toBe(0);
    expect((await read(sick)).health.status).toBe("DEGRADED");
  });
});

describe("Swarm.throughput", () => {
  it("counts the swarm's tasks completed and failed in the window, with the hourly completion rate; a bad window is refused", async () => {
    const api = server.client({ workspace: "rm-throughput" });
    const swarmId = expectType((await api.request(CreateSwarmDocument, { input: { name: "busy", objective: "o", topology: "STAR" } })).createSwarm, "CreateSwarmPayload").swarm.id;
    const agent = await registerAgent(api, "throughput");
    for (const d of ["a", "b", "c", "d", "e"]) await createTask(api, d, "tp", { swarmId });
    await createTask(api, "outside the swarm", "tp-other");
    const done = [];
    for (let i = 0; i < 3; i++) {
      const c = await claim(api, agent.id, "tp");
      expectType((await api.request(CompleteTaskDocument, { taskId: c.taskId, leaseToken: c.leaseToken })).completeTask, "CompleteTaskPayload");
      done.push(c.taskId);
    }
    const failing = await claim(api, agent.id, "tp");
    expectType((await api.request(FailTaskDocument, { taskId: failing.taskId, leaseToken: failing.leaseToken, error: { message: "x" }, retryable: false })).failTask, "FailTaskPayload");
    const retried = await claim(api, agent.id, "tp");
    // A retry is not a failure, a cancellation neither.
    expectType((await api.request(FailTaskDocument, { taskId: retried.taskId, leaseToken: retried.leaseToken, error: { message: "again" }, retryable: true })).failTask, "FailTaskPayload");
    expectType((await api.request(CancelTaskDocument, { id: retried.taskId })).cancelTask, "CancelTaskPayload");
    // One completion two hours ago: outside the default window.
    await server.db.prisma.task.update({ where: { id: raw(done[0]!) }, data: { completedAt: new Date(Date.now() - 2 * 3_600_000) } });

    const hour = (await api.request(SwarmReadModelDocument, { id: swarmId })).swarm!.throughput;
    expect(hour).toMatchObject({ windowMinutes: 60, completed: 2, failed: 1, completedPerHour: 2 });
    expect(Date.now() - Date.parse(hour.since)).toBeGreaterThanOrEqual(3_600_000);
    expect((await api.request(SwarmReadModelDocument, { id: swarmId, windowMinutes: 30 })).swarm!.throughput).toMatchObject({ completed: 2, completedPerHour: 4 });
    expect((await api.request(SwarmReadModelDocument, { id: swarmId, windowMinutes: 180 })).swarm!.throughput).toMatchObject({ completed: 3, failed: 1, completedPerHour: 1 });

    for (const windowMinutes of [0, -5, 10_081]) {
      const refused = await api.raw(SwarmReadModelDocument, { id: swarmId, windowMinutes });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
      expect(refused.errors?.[0]?.message).toContain("windowMinutes");
    }
  });
});

describe("TaskFilter.depth", () => {
  it("lists the tasks at one depth of the tree; a negative depth is refused", async () => {
    const api = server.client({ workspace: "rm-depth" });
    const root = await createTask(api, "root", "job");
    const child = await createTask(api, "child", "job", { parentId: root.id });
    const otherChild = await createTask(api, "other child", "job", { parentId: root.id });
    const grandchild = await createTask(api, "grandchild", "job", { parentId: child.id });
    const atDepth = async (depth: number) => (await api.request(TasksByDepthDocument, { filter: { depth } })).tasks;
    expect((await atDepth(0)).edges.map((e) => e.node.id)).toEqual([root.id]);
    expect((await atDepth(1)).edges.map((e) => e.node.id).sort()).toEqual([child.id, otherChild.id].sort());
    expect((await atDepth(2)).edges.map((e) => [e.node.id, e.node.depth])).toEqual([[grandchild.id, 2]]);
    expect((await atDepth(7)).totalCount).toBe(0);
    expect((await api.request(TasksByDepthDocument, { filter: { depth: 1, parent: child.id } })).tasks.totalCount).toBe(0);

    const negative = await api.raw(TasksByDepthDocument, { filter: { depth: -1 } });
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(negative.errors?.[0]?.message).toContain("filter.depth");
    const notInt = await api.raw(TasksByDepthDocument, { filter: { depth: 1.5 } });
    expect(notInt.errors?.[0]?.message).toContain("Int");
  });
});
