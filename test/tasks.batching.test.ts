/**
 * What requests cost in Prisma statements: listing tasks with their relations and aggregates a
 * fixed number; a workspace's first claim, only the creation of its quota row; an ordinary
 * failure, release or heartbeat, none (the hot path's one statement goes straight through the
 * driver).
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  AgentReadModelDocument,
  AuditTrailDocument,
  ClaimNextTaskDocument,
  CreateSwarmDocument,
  CreateTaskDocument,
  CreateTaskGraphDocument,
  FailTaskDocument,
  HeartbeatDocument,
  QuotaUsageDocument,
  RegisterAgentDocument,
  ReleaseTaskDocument,
  TaskGivenBackDocument,
  TasksDeepDocument,
  TerminateAgentDocument,
} from "./generated/graphql.ts";
import { decodeGlobalID } from "@pothos/plugin-relay";
import { expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
const statements: string[] = [];

beforeAll(async () => {
  // No lease sweeper: its background statements would be counted too.
  // A fractional retry base (TASK_RETRY_BASE_SECONDS may be one) for the failure test below.
  server = await startTestServer({ onQuery: (sql) => statements.push(sql), config: { leaseSweepIntervalMs: 0, retryBaseSeconds: 2.5 } });
  const api = server.client();
  const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: "deep", objective: "o", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
  for (let g = 0; g < 8; g++) {
    const tasks = Array.from({ length: 5 }, (_, i) => ({ key: `t${i}`, description: `g${g}t${i}`, type: "deep", swarmId: swarm.id, dependsOnKeys: i > 0 ? [`t${i - 1}`] : [] }));
    expectType((await api.request(CreateTaskGraphDocument, { input: { tasks } })).createTaskGraph, "CreateTaskGraphPayload");
  }
  for (let a = 0; a < 4; a++) {
    const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: `a${a}`, type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
    await api.request(ClaimNextTaskDocument, { agentId: agent.id, types: ["deep"] });
    await api.request(ClaimNextTaskDocument, { agentId: agent.id, types: ["deep"] });
  }
});
afterAll(() => server?.stop());

async function countStatements(first: number): Promise<number> {
  statements.length = 0;
  const data = await server.client().request(TasksDeepDocument, { first });
  expect(data.tasks.edges).toHaveLength(first);
  expect(data.tasks.edges.some((e) => e.node.assignee !== null)).toBe(true);
  return statements.length;
}

it("costs the same number of statements for 5 tasks as for 40, all relations and aggregates included", async () => {
  const small = await countStatements(5);
  const large = await countStatements(40);
  console.log(`TasksDeep SQL statements: first: 5 → ${small}, first: 40 → ${large}`);
  expect(large).toBe(small);
  expect(large).toBeLessThanOrEqual(20);
});

it("takes the hot path from a workspace's first claim on: Prisma only creates its tasks.running quota row", async () => {
  const api = server.client({ workspace: "first-claim-ws" });
  const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "first", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
  expectType((await api.request(CreateTaskGraphDocument, { input: { tasks: [{ key: "only", description: "the first task", type: "first" }] } })).createTaskGraph, "CreateTaskGraphPayload");
  statements.length = 0;
  const claim = expectType((await api.request(ClaimNextTaskDocument, { agentId: agent.id, types: ["first"] })).claimNextTask, "ClaimNextTaskPayload");
  expect(claim.task?.status).toBe("CLAIMED");
  // The hot path's statements go straight through the driver; the general path's claim is a
  // Prisma transaction that updates the task.
  const prismaWrites = statements.filter((sql) => /^\s*(INSERT|UPDATE|DELETE)/i.test(sql));
  expect(prismaWrites, prismaWrites.join("\n")).toHaveLength(1);
  expect(prismaWrites[0]).toMatch(/^INSERT INTO "public"\."Quota"/);
  // The row has the default limit, and counts the claim.
  const usage = (await api.request(QuotaUsageDocument, { resources: ["tasks.running"] })).quotaUsage;
  expect(usage).toEqual([expect.objectContaining({ resource: "tasks.running", limit: 1000, allocated: 1, custom: false })]);
});

it("fails and releases on the hot path: Prisma sends nothing, and task, attempt, agent, quota and events end as the general path leaves them", async () => {
  const api = server.client({ workspace: "give-back-ws" });
  const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "giver", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
  const created = expectType((await api.request(CreateTaskDocument, { input: { description: "flaky", type: "give-back", maxAttempts: 2 } })).createTask, "CreateTaskPayload").task;
  const claim = async () => {
    const claimed = expectType((await api.request(ClaimNextTaskDocument, { agentId: agent.id, types: ["give-back"] })).claimNextTask, "ClaimNextTaskPayload");
    return claimed.leaseToken!;
  };
  const prismaWrites = async <T>(call: () => Promise<T>): Promise<T> => {
    statements.length = 0;
    const result = await call();
    const writes = statements.filter((sql) => /^\s*(INSERT|UPDATE|DELETE)/i.test(sql));
    expect(writes, writes.join("\n")).toEqual([]);
    return result;
  };
  const state = async () => {
    const task = (await api.request(TaskGivenBackDocument, { id: created.id })).task!;
    const agentStatus = (await api.request(AgentReadModelDocument, { id: agent.id, first: 10 })).agent!.status;
    const running = (await api.request(QuotaUsageDocument, { resources: ["tasks.running"] })).quotaUsage[0]!.allocated;
    return { task, agentStatus, running };
  };

  // Released: pending again at once, the attempt not counted, the slot given back, the agent idle.
  let token = await claim();
  const released = await prismaWrites(async () => expectType((await api.request(ReleaseTaskDocument, { taskId: created.id, leaseToken: token })).releaseTask, "ReleaseTaskPayload"));
  expect(released.task).toMatchObject({ status: "PENDING", attemptCount: 0 });
  let now = await state();
  expect(now).toMatchObject({ agentStatus: "IDLE", running: 0, task: { status: "PENDING", attemptCount: 0, assignee: null, error: null } });
  expect(now.task.attempts).toEqual([expect.objectContaining({ fence: 1, outcome: "RELEASED", error: null })]);
  expect(Date.parse(now.task.availableAt)).toBeLessThanOrEqual(Date.now());

  // A retryable failure with attempts left: pending again after the backoff (TASK_RETRY_BASE_SECONDS, 2.5 s here).
  token = await claim();
  const before = Date.now();
  const retried = await prismaWrites(async () => expectType((await api.request(FailTaskDocument, { taskId: created.id, leaseToken: token, error: { message: "boom" } })).failTask, "FailTaskPayload"));
  expect(retried.task).toMatchObject({ status: "PENDING", attemptCount: 1, error: { message: "boom" } });
  now = await state();
  expect(now).toMatchObject({ agentStatus: "IDLE", running: 0, task: { status: "PENDING", failedAt: null, assignee: null } });
  expect(Date.parse(now.task.availableAt) - before).toBeGreaterThan(2_000);
  expect(Date.parse(now.task.availableAt) - before).toBeLessThan(10_000);
  expect(now.task.attempts.at(-1)).toMatchObject({ fence: 2, outcome: "FAILED", error: { message: "boom" } });
  expect((await api.request(ClaimNextTaskDocument, { agentId: agent.id, types: ["give-back"] })).claimNextTask).toMatchObject({ task: null });

  // Its last attempt fails: FAILED for good.
  await server.db.prisma.task.update({ where: { id: decodeGlobalID(created.id).id }, data: { availableAt: new Date() } });
  token = await claim();
  const failed = await prismaWrites(async () => expectType((await api.request(FailTaskDocument, { taskId: created.id, leaseToken: token, error: { message: "boom again" } })).failTask, "FailTaskPayload"));
  expect(failed.task).toMatchObject({ status: "FAILED", attemptCount: 2 });
  now = await state();
  expect(now).toMatchObject({ agentStatus: "IDLE", running: 0, task: { status: "FAILED", assignee: null, error: { message: "boom again" } } });
  expect(now.task.failedAt).not.toBeNull();
  expect(now.task.attempts.map((a) => a.outcome)).toEqual(["RELEASED", "FAILED", "FAILED"]);

  // The audit trail holds each change's events in order, as the general path writes them.
  await server.events.tailer.drain();
  const trail = await api.request(AuditTrailDocument, { first: 50, filter: { domain: ["task", "agent", "quota"] } });
  const actions = trail.auditTrail.edges.map((e) => e.node.action).filter((a) => a !== "task.created" && a !== "agent.registered" && a !== "quota.allocated");
  expect(actions).toEqual([
    ...["task.claimed", "agent.status", "task.released", "agent.status", "quota.released"],
    ...["task.claimed", "agent.status", "task.retry_scheduled", "agent.status", "quota.released"],
    ...["task.claimed", "agent.status", "task.failed", "agent.status", "quota.released"],
  ]);
});

it("records heartbeats in one statement: no Prisma writes; metrics and the end of a silence are events, in order; a terminated or unknown agent is refused", async () => {
  const api = server.client({ workspace: "heartbeat-ws" });
  const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: "beater", type: "w" } })).registerAgent, "RegisterAgentPayload").agent;
  const beat = async (metrics?: Record<string, unknown>) => {
    statements.length = 0;
    const result = (await api.request(HeartbeatDocument, { input: { id: agent.id, metrics } })).heartbeat;
    const writes = statements.filter((sql) => /^\s*(INSERT|UPDATE|DELETE)/i.test(sql));
    expect(writes, writes.join("\n")).toEqual([]);
    return expectType(result, "HeartbeatPayload").agent;
  };
  const plain = await beat();
  expect(plain).toMatchObject({ status: "IDLE", health: { status: "HEALTHY", metrics: null } });
  expect(Date.now() - Date.parse(plain.lastHeartbeatAt!)).toBeLessThan(60_000);
  expect((await beat({ cpu: 0.5 })).health.metrics).toEqual({ cpu: 0.5 });
  // Silent past HEARTBEAT_UNRESPONSIVE_AFTER_SECONDS (fast-forwarded): the next heartbeat says since when.
  const silentSince = new Date(Date.now() - 3_600_000);
  await server.db.prisma.agent.update({ where: { id: decodeGlobalID(agent.id).id }, data: { lastHeartbeatAt: silentSince } });
  const resumed = await beat({ cpu: 0.75 });
  expect(resumed.health).toMatchObject({ status: "HEALTHY", metrics: { cpu: 0.75 } });
  expect((await beat()).health.metrics).toEqual({ cpu: 0.75 }); // kept until new metrics arrive

  await server.events.tailer.drain();
  const trail = await api.request(AuditTrailDocument, { first: 20, filter: { domain: ["agent"] } });
  expect(trail.auditTrail.edges.map((e) => [e.node.action, e.node.details])).toEqual([
    ["agent.registered", expect.anything()],
    ["agent.metrics", { metrics: { cpu: 0.5 } }],
    ["agent.heartbeat_resumed", { silentSince: silentSince.toISOString() }],
    ["agent.metrics", { metrics: { cpu: 0.75 } }],
  ]);

  expectType((await api.request(TerminateAgentDocument, { id: agent.id })).terminateAgent, "TerminateAgentPayload");
  const refused = expectType((await api.request(HeartbeatDocument, { input: { id: agent.id } })).heartbeat, "IllegalTransitionError");
  expect(refused.message).toMatch(/TERMINATED/);
  expect((await server.client({ workspace: "other-ws" }).request(HeartbeatDocument, { input: { id: agent.id } })).heartbeat).toMatchObject({ __typename: "NotFoundError" });
});
