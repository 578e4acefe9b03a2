/**
 * Scenario 3: what a nested read costs. SQL statements per request of deep queries at page
 * sizes 10 and 50 (constant in page size means DataLoaders and Prisma's relation batching work:
 * at most one statement per nesting level), and requests/s of the deep query against a trivial
 * one on the same server.
 */
import { CreateSwarmDocument, JoinSwarmDocument, CreateTasksDocument, HealthDocument, RegisterAgentDocument, SwarmsWithMembersDocument, TasksDeepDocument } from "../test/generated/graphql.ts";
import { expectType, type GraphQLClient } from "../test/support/client.ts";
import { startTestServer } from "../test/support/server.ts";
import { record, timed } from "./support.ts";

export async function queryCost(requests: number): Promise<void> {
  let statements = 0;
  const server = await startTestServer({ onQuery: () => void statements++ });
  try {
    const api = server.client({ workspace: "query-cost" });
    await seed(api);
    const count = async (fn: () => Promise<unknown>) => {
      statements = 0;
      await fn();
      return statements;
    };
    for (const first of [10, 50]) {
      const deepTasks = await count(() => api.request(TasksDeepDocument, { first }));
      const deepSwarms = await count(() => api.request(SwarmsWithMembersDocument, { first }));
      console.log(`  statements per request at first: ${first}: tasks → assignee, attempts → agent, dependencies, swarm summary: ${deepTasks}; swarms → members → agents, summaries: ${deepSwarms}`);
      record({ group: "query cost", scenario: `TasksDeep first: ${first}`, ops: requests, seconds: await timed(() => repeat(requests, () => api.request(TasksDeepDocument, { first }))), extra: { statements: deepTasks } });
      record({ group: "query cost", scenario: `SwarmsWithMembers first: ${first}`, ops: requests, seconds: await timed(() => repeat(requests, () => api.request(SwarmsWithMembersDocument, { first }))), extra: { statements: deepSwarms } });
    }
    record({ group: "query cost", scenario: "trivial query (baseline)", ops: requests, seconds: await timed(() => repeat(requests, () => api.request(HealthDocument, {}))) });
  } finally {
    await server.stop();
  }
}

async function repeat(n: number, fn: () => Promise<unknown>): Promise<void> {
  const lanes = 8;
  await Promise.all(Array.from({ length: lanes }, async (_, lane) => {
    for (let i = lane; i < n; i += lanes) await fn();
  }));
}

async function seed(api: GraphQLClient): Promise<void> {
  const tasks = Array.from({ length: 60 }, (_, i) => ({ description: `deep ${i}`, type: "deep" }));
  expectType((await api.request(CreateTasksDocument, { input: { tasks } })).createTasks, "CreateTasksPayload");
  for (let s = 0; s < 60; s++) {
    const swarm = expectType((await api.request(CreateSwarmDocument, { input: { name: `swarm-${s}`, objective: "bench", topology: "MESH" } })).createSwarm, "CreateSwarmPayload").swarm;
    for (let a = 0; a < 3; a++) {
      const agent = expectType((await api.request(RegisterAgentDocument, { input: { name: `s${s}-a${a}`, type: "bench" } })).registerAgent, "RegisterAgentPayload").agent;
      expectType((await api.request(JoinSwarmDocument, { swarmId: swarm.id, agentId: agent.id })).joinSwarm, "JoinSwarmPayload");
    }
  }
}
