/**
 * What requests cost in Prisma statements: listing tasks with their relations and aggregates a
 * fixed number; a workspace's first claim, only the creation of its quota row.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ClaimNextTaskDocument, CreateSwarmDocument, CreateTaskGraphDocument, QuotaUsageDocument, RegisterAgentDocument, TasksDeepDocument } from "./generated/graphql.ts";
import { expectType } from "./support/client.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

let server: TestServer;
const statements: string[] = [];

beforeAll(async () => {
  // No lease sweeper: its background statements would be counted too.
  server = await startTestServer({ onQuery: (sql) => statements.push(sql), config: { leaseSweepIntervalMs: 0 } });
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
