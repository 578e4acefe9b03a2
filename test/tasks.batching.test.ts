/** Listing tasks with their relations and aggregates costs a fixed number of SQL statements. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ClaimNextTaskDocument, CreateSwarmDocument, CreateTaskGraphDocument, RegisterAgentDocument, TasksDeepDocument } from "./generated/graphql.ts";
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
